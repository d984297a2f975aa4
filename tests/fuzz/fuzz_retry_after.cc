// ParseRetryAfter (exporter/prom/backoff.h): the Retry-After header of a 429/503 from Prometheus or a
// proxy in front of it. A delay it accepts is never negative and at most 999,999,999 s (9 digits), and
// RetryDelay honours it without going over the policy's maximum.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/prom/backoff.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<anomaly::Duration> delay = anomaly::prom::ParseRetryAfter(text);
  if (!delay) return 0;
  FUZZ_CHECK(delay->count() >= 0 && delay->count() <= 999'999'999'000LL, std::string(text));
  const anomaly::prom::BackoffPolicy policy;
  const anomaly::Duration wait = anomaly::prom::RetryDelay(size % 70, policy, delay, 0.5);
  FUZZ_CHECK(wait.count() >= 0 && wait <= policy.max, std::string(text));
  return 0;
}
