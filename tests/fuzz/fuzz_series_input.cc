// The backtest's series reader (include/anomaly/backtest/series_input.h): one-column or CSV files a
// user hands to `stl` and `backtest`, NAB's data among them. Checks the header's contract on every input
// it accepts: at least one value, all finite; timestamps either absent or one per value, finite and
// strictly increasing (non-decreasing with allow_repeated_timestamps), each with its text; a refusal is
// kInvalidInput naming the line. Allowing repeated timestamps only ever accepts more, and on input
// without repeats it reads the same series. ParseTimestamp is run on the first line as well.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/backtest/series_input.h"
#include "fuzz_check.h"

namespace {

using anomaly::backtest::ParseOptions;
using anomaly::backtest::SeriesInput;

void CheckContract(const anomaly::Result<SeriesInput>& r, bool allow_repeated) {
  if (!r) {
    FUZZ_CHECK(r.error().code == anomaly::ErrorCode::kInvalidInput, r.error().message);
    FUZZ_CHECK(r.error().message.starts_with("input "), r.error().message);
    return;
  }
  FUZZ_CHECK(!r->values.empty(), "accepted input with no values");
  for (double v : r->values) FUZZ_CHECK(std::isfinite(v), "non-finite value");
  if (r->timestamps_seconds.empty()) {
    FUZZ_CHECK(r->timestamp_texts.empty(), "timestamp texts without timestamps");
    return;
  }
  FUZZ_CHECK(r->timestamps_seconds.size() == r->values.size(), "one timestamp per value");
  FUZZ_CHECK(r->timestamp_texts.size() == r->values.size(), "one timestamp text per value");
  for (size_t i = 0; i < r->timestamps_seconds.size(); ++i) {
    FUZZ_CHECK(std::isfinite(r->timestamps_seconds[i]), r->timestamp_texts[i]);
    if (i == 0) continue;
    const double prev = r->timestamps_seconds[i - 1];
    const double cur = r->timestamps_seconds[i];
    FUZZ_CHECK(allow_repeated ? cur >= prev : cur > prev, r->timestamp_texts[i]);
  }
}

bool Same(const SeriesInput& a, const SeriesInput& b) {
  return a.values == b.values && a.timestamps_seconds == b.timestamps_seconds &&
         a.timestamp_texts == b.timestamp_texts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const anomaly::Result<SeriesInput> strict = anomaly::backtest::ParseSeries(text);
  CheckContract(strict, false);
  const anomaly::Result<SeriesInput> lenient = anomaly::backtest::ParseSeries(text, ParseOptions{true});
  CheckContract(lenient, true);
  if (strict) {
    FUZZ_CHECK(lenient.has_value(), "allow_repeated_timestamps refused what the default accepts");
    FUZZ_CHECK(Same(*strict, *lenient), "allow_repeated_timestamps read a series without repeats differently");
  }

  const std::string_view first_line = text.substr(0, text.find('\n'));
  const anomaly::Result<double> ts = anomaly::backtest::ParseTimestamp(first_line);
  if (ts) {
    FUZZ_CHECK(std::isfinite(*ts), std::string(first_line));
  } else {
    FUZZ_CHECK(ts.error().code == anomaly::ErrorCode::kInvalidInput, ts.error().message);
  }
  return 0;
}
