// Reads one series from text for the offline commands (`stl`, `backtest`). Two layouts:
//   - one number per line;
//   - CSV `timestamp,value` with a header line (any two names, e.g. "time,cpu"), detected by a comma on
//     the first non-blank line. A timestamp is Unix seconds (fractions allowed) or `YYYY-MM-DD HH:MM:SS`
//     in UTC (a `T` in place of the space and a trailing `Z` are accepted); timestamps strictly increase
//     (ParseOptions::allow_repeated_timestamps admits equal ones, as in some NAB files).
// Blank lines, surrounding spaces/tabs and CRLF line ends are ignored. NaN, Inf and non-numeric text are
// refused: the series is used as it is, and a gap must be explicit to the user, not guessed here.
// ParseSeriesJson reads the score API's JSON body (docs/api.md) with the same rules.
// Pure functions except ReadSeriesFile; thread-safe.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::backtest {

struct SeriesInput {
  std::vector<double> values;
  std::vector<double> timestamps_seconds;  // Unix seconds; empty for one-column input, else values' size
  // Each timestamp exactly as written (trimmed), same size; empty for one-column input and JSON.
  std::vector<std::string> timestamp_texts;
};

struct ParseOptions {
  // Accept a timestamp equal to the previous one (a decreasing one is still refused). The rows are kept:
  // the consumer decides what a repeated timestamp means.
  bool allow_repeated_timestamps = false;
};

// kInvalidInput naming the 1-based line and the problem, e.g.
//   input line 17: "abc" is not a number
//   input line 3: "nan" is not a finite number
//   input line 5: expected 2 fields (timestamp,value), got 3
//   input line 1: CSV input needs a header line such as "timestamp,value"
//   input line 9: timestamp "1700000000" is not after the previous one
//   input has no values
[[nodiscard]] Result<SeriesInput> ParseSeries(std::string_view text, const ParseOptions& options = {});

// The score API's JSON body, `{"samples": [[unix_seconds, value], ...]}`: each timestamp a number or a
// string ParseTimestamp reads, each value a number or a numeric string (Prometheus' API writes values as
// strings, so a query_range answer's `values` can be pasted). Same order rule as ParseSeries; keys other
// than "samples" are refused (a misspelt key must not go unnoticed). timestamp_texts stays empty: the
// output writes Unix seconds. kInvalidInput naming the sample, e.g.
//   the body is not JSON: parse error at line 1, column 9: ...
//   the body needs a key "samples" holding an array of [timestamp, value]
//   samples[3]: value "abc" is not a number
//   samples[7]: timestamp 1700000000 is not after the previous one
[[nodiscard]] Result<SeriesInput> ParseSeriesJson(std::string_view text, const ParseOptions& options = {});

// Reads all of `in`, then ParseSeries. kInternal if the stream fails before its end.
[[nodiscard]] Result<SeriesInput> ReadSeries(std::istream& in, const ParseOptions& options = {});

// Reads the file at `path` ("-" is standard input). kInvalidInput if it cannot be opened.
[[nodiscard]] Result<SeriesInput> ReadSeriesFile(const std::string& path, const ParseOptions& options = {});

// A group of series in one wide CSV, `timestamp,<name1>,<name2>,...` with that header (the header names the
// series; at least two, names unique and non-empty). An empty field is a missing sample of that series; any
// other field must be a finite number. Timestamps strictly increase. For `backtest --kind multivariate`.
struct WideInput {
  std::vector<std::string> columns;          // the series' names, in header order
  std::vector<double> timestamps_seconds;    // one per row
  std::vector<std::string> timestamp_texts;  // each as written
  std::vector<double> values;                // rows x columns, row-major; NaN where the field was empty
};
// kInvalidInput naming the 1-based line: a missing or numeric header, a row with another field count, a
// bad number or timestamp, a timestamp not after the previous one, no rows.
[[nodiscard]] Result<WideInput> ParseWideSeries(std::string_view text);
[[nodiscard]] Result<WideInput> ReadWideSeriesFile(const std::string& path);

// Unix seconds from "1700000000", "1700000000.5" or "2023-11-14 22:13:20" (UTC). kInvalidInput
// ("\"x\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)") otherwise, including an
// impossible date such as 2023-02-30 and a non-finite number.
[[nodiscard]] Result<double> ParseTimestamp(std::string_view text);

}  // namespace anomaly::backtest
