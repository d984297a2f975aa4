#include "anomaly/backtest/series_input.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace anomaly::backtest {
namespace {

// Built by appends: g++ 12 at -O3 reports a false -Wrestrict on `"literal" + std::string&&` (GCC bug 105329).
std::string Quote(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.append(1, '"').append(text).append(1, '"');
  return quoted;
}

std::string_view Trim(std::string_view s) {
  const char* kSpace = " \t\r";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

enum class NumberError { kNone, kNotANumber, kNotFinite, kOutOfRange };

// The whole of `text` as a double. from_chars reads "nan", "inf" and overflow, which are not finite.
NumberError ParseNumber(std::string_view text, double& out) {
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || end != text.data() + text.size()) return NumberError::kNotANumber;
  if (ec == std::errc::result_out_of_range) return NumberError::kOutOfRange;
  if (ec != std::errc()) return NumberError::kNotANumber;
  if (!std::isfinite(out)) return NumberError::kNotFinite;
  return NumberError::kNone;
}

Result<double> ParseValue(std::string_view text) {
  if (text.empty()) return MakeError(ErrorCode::kInvalidInput, "empty value");
  double value = 0;
  switch (ParseNumber(text, value)) {
    case NumberError::kNone:
      return value;
    case NumberError::kNotFinite:
      return MakeError(ErrorCode::kInvalidInput, Quote(text) + " is not a finite number");
    case NumberError::kOutOfRange:
      return MakeError(ErrorCode::kInvalidInput, Quote(text) + " is out of range for a double");
    case NumberError::kNotANumber:
      break;
  }
  return MakeError(ErrorCode::kInvalidInput, Quote(text) + " is not a number");
}

// Digits at `pos`, `count` of them, or nullopt.
std::optional<int> Digits(std::string_view s, size_t pos, size_t count) {
  int value = 0;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + count, value);
  if (ec != std::errc() || end != s.data() + pos + count || s[pos] == '-' || s[pos] == '+') return {};
  return value;
}

// "YYYY-MM-DD HH:MM:SS" (or with T, optional Z) as Unix seconds in UTC.
std::optional<double> ParseDateTime(std::string_view s) {
  if (s.size() == 20 && s.back() == 'Z') s.remove_suffix(1);
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
      s[16] != ':') {
    return {};
  }
  auto year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  auto hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return {};
  const std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return {};
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return static_cast<double>(days) * 86400.0 + *hour * 3600.0 + *minute * 60.0 + *second;
}

tl::unexpected<Error> LineError(int line, const Error& error) {
  return MakeError(error.code, "input line " + std::to_string(line) + ": " + error.message);
}

}  // namespace

Result<double> ParseTimestamp(std::string_view text) {
  if (text.empty()) return MakeError(ErrorCode::kInvalidInput, "empty timestamp");
  if (std::optional<double> t = ParseDateTime(text)) return *t;
  double seconds = 0;
  if (ParseNumber(text, seconds) == NumberError::kNone) return seconds;
  return MakeError(ErrorCode::kInvalidInput,
                   Quote(text) + " is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)");
}

Result<SeriesInput> ParseSeries(std::string_view text, const ParseOptions& options) {
  SeriesInput series;
  std::optional<bool> csv;  // decided by the first non-blank line
  int line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = Trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.empty()) continue;

    if (!csv) {
      csv = line.find(',') != std::string_view::npos;
      if (*csv) {
        const size_t comma = line.find(',');
        if (ParseTimestamp(Trim(line.substr(0, comma))) && ParseValue(Trim(line.substr(comma + 1)))) {
          return LineError(line_number, Error{ErrorCode::kInvalidInput,
                                              "CSV input needs a header line such as \"timestamp,value\""});
        }
        continue;  // the header; its names are free
      }
    }
    if (!*csv) {
      Result<double> value = ParseValue(line);
      if (!value) return LineError(line_number, value.error());
      series.values.push_back(*value);
      continue;
    }

    const size_t comma = line.find(',');
    const size_t fields = comma == std::string_view::npos ? 1 : 2 + std::count(line.begin() + comma + 1, line.end(), ',');
    if (fields != 2) {
      return LineError(line_number, Error{ErrorCode::kInvalidInput, "expected 2 fields (timestamp,value), got " +
                                                                        std::to_string(fields)});
    }
    const std::string_view timestamp_text = Trim(line.substr(0, comma));
    Result<double> timestamp = ParseTimestamp(timestamp_text);
    if (!timestamp) return LineError(line_number, timestamp.error());
    Result<double> value = ParseValue(Trim(line.substr(comma + 1)));
    if (!value) return LineError(line_number, value.error());
    if (!series.timestamps_seconds.empty() &&
        (*timestamp < series.timestamps_seconds.back() ||
         (*timestamp == series.timestamps_seconds.back() && !options.allow_repeated_timestamps))) {
      return LineError(line_number, Error{ErrorCode::kInvalidInput, "timestamp " + Quote(timestamp_text) +
                                                                        " is not after the previous one"});
    }
    series.timestamps_seconds.push_back(*timestamp);
    series.timestamp_texts.emplace_back(timestamp_text);
    series.values.push_back(*value);
  }
  if (series.values.empty()) return MakeError(ErrorCode::kInvalidInput, "input has no values");
  return series;
}

Result<SeriesInput> ParseSeriesJson(std::string_view text, const ParseOptions& options) {
  using Json = nlohmann::json;
  Json body;
  try {
    body = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ..."; the bracket is noise.
    std::string_view what = e.what();
    if (const size_t bracket = what.find("] "); what.starts_with("[") && bracket != std::string_view::npos) {
      what.remove_prefix(bracket + 2);
    }
    return MakeError(ErrorCode::kInvalidInput, "the body is not JSON: " + std::string(what));
  }
  const std::string kShape = "the body needs a key \"samples\" holding an array of [timestamp, value]";
  if (!body.is_object() || !body.contains("samples") || !body["samples"].is_array()) {
    return MakeError(ErrorCode::kInvalidInput, kShape);
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "samples") return MakeError(ErrorCode::kInvalidInput, "unknown key " + Quote(key) + " in the body");
  }
  const Json& samples = body["samples"];
  SeriesInput series;
  series.values.reserve(samples.size());
  series.timestamps_seconds.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const Json& sample = samples[i];
    auto fail = [i](const std::string& message) {
      return MakeError(ErrorCode::kInvalidInput, "samples[" + std::to_string(i) + "]: " + message);
    };
    if (!sample.is_array() || sample.size() != 2) return fail("expected [timestamp, value], got " + sample.dump());
    // A number as JSON wrote it, or a string's content: the text the CSV reader's rules apply to.
    auto text_of = [](const Json& j) -> std::optional<std::string> {
      if (j.is_string()) return j.get<std::string>();
      if (j.is_number()) return j.dump();
      return std::nullopt;
    };
    const std::optional<std::string> timestamp_text = text_of(sample[0]);
    if (!timestamp_text) return fail("timestamp " + sample[0].dump() + " is not a number or a string");
    Result<double> timestamp = ParseTimestamp(*timestamp_text);
    if (!timestamp) return fail(timestamp.error().message);
    const std::optional<std::string> value_text = text_of(sample[1]);
    if (!value_text) return fail("value " + sample[1].dump() + " is not a number");
    Result<double> value = ParseValue(*value_text);
    if (!value) return fail("value " + value.error().message);
    if (!series.timestamps_seconds.empty() &&
        (*timestamp < series.timestamps_seconds.back() ||
         (*timestamp == series.timestamps_seconds.back() && !options.allow_repeated_timestamps))) {
      return fail("timestamp " + *timestamp_text + " is not after the previous one");
    }
    series.timestamps_seconds.push_back(*timestamp);
    series.values.push_back(*value);
  }
  if (series.values.empty()) return MakeError(ErrorCode::kInvalidInput, "the body has no samples");
  return series;
}

Result<SeriesInput> ReadSeries(std::istream& in, const ParseOptions& options) {
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return MakeError(ErrorCode::kInternal, "reading input failed");
  return ParseSeries(text, options);
}

Result<SeriesInput> ReadSeriesFile(const std::string& path, const ParseOptions& options) {
  if (path == "-") return ReadSeries(std::cin, options);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return MakeError(ErrorCode::kInvalidInput, "cannot open input file " + Quote(path) + ": " + std::strerror(errno));
  }
  return ReadSeries(file, options);
}

namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    const size_t comma = line.find(',', begin);
    fields.push_back(Trim(line.substr(begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin)));
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return fields;
}

}  // namespace

Result<WideInput> ParseWideSeries(std::string_view text) {
  WideInput wide;
  int line_number = 0;
  bool header = false;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = Trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.empty()) continue;
    const std::vector<std::string_view> fields = SplitFields(line);
    if (!header) {
      header = true;
      if (fields.size() < 3) {
        return LineError(line_number, Error{ErrorCode::kInvalidInput,
                                            "a group needs a header \"timestamp,<series>,<series>,...\" naming at "
                                            "least two series"});
      }
      if (ParseTimestamp(fields[0])) {
        return LineError(line_number, Error{ErrorCode::kInvalidInput,
                                            "CSV input needs a header line such as \"timestamp,cpu,memory\""});
      }
      for (size_t i = 1; i < fields.size(); ++i) {
        if (fields[i].empty()) {
          return LineError(line_number, Error{ErrorCode::kInvalidInput, "column " + std::to_string(i + 1) +
                                                                            " has no name"});
        }
        if (std::find(wide.columns.begin(), wide.columns.end(), fields[i]) != wide.columns.end()) {
          return LineError(line_number, Error{ErrorCode::kInvalidInput, "column " + Quote(fields[i]) +
                                                                            " is named twice"});
        }
        wide.columns.emplace_back(fields[i]);
      }
      continue;
    }
    if (fields.size() != wide.columns.size() + 1) {
      return LineError(line_number, Error{ErrorCode::kInvalidInput,
                                          "expected " + std::to_string(wide.columns.size() + 1) + " fields, got " +
                                              std::to_string(fields.size())});
    }
    Result<double> timestamp = ParseTimestamp(fields[0]);
    if (!timestamp) return LineError(line_number, timestamp.error());
    if (!wide.timestamps_seconds.empty() && *timestamp <= wide.timestamps_seconds.back()) {
      return LineError(line_number, Error{ErrorCode::kInvalidInput, "timestamp " + Quote(fields[0]) +
                                                                        " is not after the previous one"});
    }
    for (size_t i = 1; i < fields.size(); ++i) {
      if (fields[i].empty()) {
        wide.values.push_back(std::nan(""));
        continue;
      }
      Result<double> value = ParseValue(fields[i]);
      if (!value) return LineError(line_number, value.error().WithContext(wide.columns[i - 1]));
      wide.values.push_back(*value);
    }
    wide.timestamps_seconds.push_back(*timestamp);
    wide.timestamp_texts.emplace_back(fields[0]);
  }
  if (wide.timestamps_seconds.empty()) return MakeError(ErrorCode::kInvalidInput, "input has no rows");
  return wide;
}

Result<WideInput> ReadWideSeriesFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return MakeError(ErrorCode::kInvalidInput, "cannot open input file " + Quote(path) + ": " + std::strerror(errno));
    }
    text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  return ParseWideSeries(text);
}

}  // namespace anomaly::backtest
