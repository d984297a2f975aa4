// ParseRfc3339 (exporter/config/rfc3339.h): maintenance windows' start and end in the YAML config.
// A parsed time formats (FormatRfc3339) to a string that parses back to the same instant.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/config/rfc3339.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<anomaly::config::TimePoint> parsed = anomaly::config::ParseRfc3339(text);
  if (!parsed) return 0;
  const std::string formatted = anomaly::config::FormatRfc3339(*parsed);
  const std::optional<anomaly::config::TimePoint> again = anomaly::config::ParseRfc3339(formatted);
  FUZZ_CHECK(again.has_value(), std::string(text) + " -> " + formatted);
  FUZZ_CHECK(*again == *parsed, std::string(text) + " -> " + formatted);
  return 0;
}
