#include "backoff.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace anomaly::prom {

Duration BackoffCeiling(int retry, const BackoffPolicy& policy) {
  Duration ceiling = policy.initial;
  for (int i = 0; i < retry && ceiling < policy.max; ++i) ceiling *= 2;
  return std::min(ceiling, policy.max);
}

Duration RetryDelay(int retry, const BackoffPolicy& policy, std::optional<Duration> retry_after,
                    double unit_random) {
  double u = std::clamp(unit_random, 0.0, 1.0);
  auto ceiling_ms = static_cast<double>(BackoffCeiling(retry, policy).count());
  Duration delay(static_cast<int64_t>(std::floor(u * ceiling_ms)));
  if (retry_after) delay = std::max(delay, *retry_after);
  return std::clamp(delay, Duration(0), policy.max);
}

std::optional<Duration> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() &&
         (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n')) {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 9) return std::nullopt;  // > 9 digits: not a sane delay
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
  return Duration(seconds * 1000);
}

}  // namespace anomaly::prom
