// A tiny blocking HTTP client for tests (libcurl): GET and POST on loopback, no
// retries.
#pragma once

#include <chrono>
#include <string>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::testing {

struct HttpResult {
  long status = 0;
  std::string body;
};

// kUpstreamUnavailable when no answer came (refused, reset), kTimeout after
// `timeout`.
[[nodiscard]] Result<HttpResult> HttpGet(const std::string& url, Duration timeout = std::chrono::seconds(5));
[[nodiscard]] Result<HttpResult> HttpPost(
    const std::string& url, const std::string& body,
    const std::string& content_type = "application/x-www-form-urlencoded",
    Duration timeout = std::chrono::seconds(5));

}  // namespace anomaly::testing
