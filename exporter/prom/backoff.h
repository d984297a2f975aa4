// Retry delays: exponential backoff with "full jitter" (M. Brooker,
// "Exponential Backoff And Jitter", AWS Architecture Blog, 2015), floored by a
// server's Retry-After. Private to the prom stage; pure.
#pragma once

#include <optional>
#include <string_view>

#include "anomaly/base/duration.h"

namespace anomaly::prom {

struct BackoffPolicy {
  Duration initial{250};
  Duration max{10000};
};

// min(max, initial * 2^retry), without overflow for any retry >= 0.
Duration BackoffCeiling(int retry, const BackoffPolicy& policy);

// The delay before retry number `retry` (0 = first retry): uniform in [0,
// BackoffCeiling] scaled by unit_random in [0, 1), but at least retry_after
// when the server sent one; never above policy.max.
Duration RetryDelay(int retry, const BackoffPolicy& policy, std::optional<Duration> retry_after,
                    double unit_random);

// A Retry-After header value in delta-seconds ("120"); nullopt for HTTP dates
// and anything else.
std::optional<Duration> ParseRetryAfter(std::string_view value);

}  // namespace anomaly::prom
