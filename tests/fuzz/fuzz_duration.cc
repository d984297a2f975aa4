// ParseDuration (include/anomaly/base/duration.h): every YAML duration and the CLI's duration flags.
// Beyond "no crash, no UB": a parsed duration is never negative, and FormatDuration writes a string
// that ParseDuration reads back to the same value (the header's contract).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/base/duration.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  anomaly::Result<anomaly::Duration> parsed = anomaly::ParseDuration(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == anomaly::ErrorCode::kInvalidInput, parsed.error().message);
    return 0;
  }
  FUZZ_CHECK(parsed->count() >= 0, std::string(text));
  const std::string formatted = anomaly::FormatDuration(*parsed);
  anomaly::Result<anomaly::Duration> again = anomaly::ParseDuration(formatted);
  FUZZ_CHECK(again.has_value(), std::string(text) + " -> " + formatted);
  FUZZ_CHECK(*again == *parsed, std::string(text) + " -> " + formatted);
  return 0;
}
