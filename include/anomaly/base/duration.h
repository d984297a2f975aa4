// Prometheus duration strings ("30s", "5m", "1h30m", "7d", "1w", "250ms"), as in Prometheus' own
// model.ParseDuration: units ms, s, m, h, d (24h), w (7d), y (365d), each at most once, largest first.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "anomaly/base/result.h"

namespace anomaly {

using Duration = std::chrono::milliseconds;

// kInvalidInput on an empty string, an unknown unit, units out of order, or a duration over 2^63 - 1
// nanoseconds (about 292 years, Go's time.Duration: the longest Prometheus can hold), so that small
// multiples of any parsed duration still fit in int64 milliseconds.
[[nodiscard]] Result<Duration> ParseDuration(std::string_view text);

// The shortest form that ParseDuration reads back to the same value: 90000ms -> "1m30s", 0 -> "0s".
std::string FormatDuration(Duration d);

}  // namespace anomaly
