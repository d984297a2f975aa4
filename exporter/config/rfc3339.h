// Private to the config stage: RFC 3339 timestamps for maintenance windows
// ("2024-05-01T22:00:00Z", "2024-05-01T23:30:00.5+02:00"). A zone is required, so a window never
// depends on the host's time zone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "anomaly/config/config.h"

namespace anomaly::config {

// nullopt unless `text` is YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM) with a valid date
// and time (second 60 is refused; fractions beyond milliseconds are truncated).
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// UTC, "Z", milliseconds only when non-zero: "2024-05-01T22:00:00Z", "2024-05-01T22:00:00.500Z".
std::string FormatRfc3339(TimePoint t);

}  // namespace anomaly::config
