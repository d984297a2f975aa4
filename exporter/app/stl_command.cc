// `anomaly_exporter stl`: one series in, its STL decomposition out as CSV. Every R stl() parameter is a
// flag. The whole input is read, checked and decomposed before the first byte of output, so a failure
// never leaves partial CSV behind.
#include <charconv>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/app/commands.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/result.h"
#include "anomaly/scoring/stl.h"
#include "exporter/app/flags.h"

namespace anomaly::app {
namespace {

using backtest::ReadSeries;
using backtest::ReadSeriesFile;
using backtest::SeriesInput;

constexpr std::string_view kPrefix = "anomaly_exporter: stl: ";

struct StlFlags {
  std::optional<int> period;
  std::optional<std::string> seasonal;
  scoring::StlParams params;  // period, seasonal_window and periodic are filled from the two above
  std::string input = "-";
  bool help = false;
};

void DefineFlags(FlagSet& flags, StlFlags& f) {
  flags.AddInt("period", "P", "samples per season, >= 2 (R: frequency(x)); required", &f.period);
  flags.Add("seasonal", "S", "seasonal window, odd >= 3, or \"periodic\" (R: s.window); required",
            [&f](std::string_view v) -> Status {
              f.seasonal = std::string(v);
              return {};
            });
  flags.AddInt("seasonal-degree", "D", "degree of the seasonal loess, 0 or 1 (R: s.degree); default 0",
               &f.params.seasonal_degree);
  flags.AddInt("seasonal-jump", "J", "seasonal loess evaluated every J points (R: s.jump); default ceil(S/10)",
               &f.params.seasonal_jump);
  flags.AddInt("trend", "T",
               "trend window, odd (R: t.window);\ndefault the odd number >= 1.5*P / (1 - 1.5/S)",
               &f.params.trend_window);
  flags.AddInt("trend-degree", "D", "degree of the trend loess, 0 or 1 (R: t.degree); default 1",
               &f.params.trend_degree);
  flags.AddInt("trend-jump", "J", "trend loess evaluated every J points (R: t.jump); default ceil(T/10)",
               &f.params.trend_jump);
  flags.AddInt("lowpass", "L", "low-pass filter window, odd (R: l.window); default the odd number >= P",
               &f.params.lowpass_window);
  flags.AddInt("lowpass-degree", "D", "degree of the low-pass loess, 0 or 1 (R: l.degree); default the trend degree",
               &f.params.lowpass_degree);
  flags.AddInt("lowpass-jump", "J", "low-pass loess evaluated every J points (R: l.jump); default ceil(L/10)",
               &f.params.lowpass_jump);
  flags.AddBool("robust", "down-weight outliers with robustness iterations (R: robust = TRUE)", &f.params.robust);
  flags.AddInt("inner", "N", "inner (backfitting) iterations (R: inner); default 2, or 1 with --robust",
               &f.params.inner_iterations);
  flags.AddInt("outer", "N", "outer robustness iterations (R: outer); default 0, or 15 with --robust",
               &f.params.outer_iterations);
  flags.AddString("input", "FILE", "read the series from FILE; \"-\" is standard input (default)", &f.input);
  flags.AddBool("help", "show this help", &f.help);
}

std::string Usage(const FlagSet& flags) {
  return "usage: anomaly_exporter stl --period=P --seasonal=S|periodic [flags]\n"
         "\n"
         "Decomposes one evenly spaced series with STL (Cleveland et al. 1990, computed as R's stats::stl,\n"
         "with the exact median for the robustness weights) and writes CSV with a header:\n"
         "  [timestamp,]value,seasonal,trend,remainder[,weight]\n"
         "timestamp (Unix seconds) when the input has timestamps; weight, the robustness weight of each\n"
         "sample, with --robust or --outer > 0. value = seasonal + trend + remainder.\n"
         "\n"
         "Input: one number per line, or CSV timestamp,value with a header line; a timestamp is Unix\n"
         "seconds or YYYY-MM-DD HH:MM:SS (UTC). At least two full periods; no NaN or Inf. Blank lines\n"
         "are ignored.\n"
         "\n"
         "Flags (--name=value or --name value):\n" +
         flags.Usage() +
         "\n"
         "Exit status: 0 success, 1 I/O failure, 2 bad flags or bad input (one line on stderr).\n";
}

// Flags into StlParams; the ranges of windows, degrees and jumps are the scoring library's to check.
Result<scoring::StlParams> ResolveFlags(StlFlags& f) {
  if (!f.period) return MakeError(ErrorCode::kInvalidConfig, "flag --period is required");
  if (*f.period < 2) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "flag --period: must be at least 2 samples per season, got " + std::to_string(*f.period));
  }
  if (!f.seasonal) return MakeError(ErrorCode::kInvalidConfig, "flag --seasonal is required (a window or periodic)");
  scoring::StlParams params = f.params;
  params.period = *f.period;
  if (*f.seasonal == "periodic") {
    params.periodic = true;
  } else {
    int window = 0;
    const std::string& s = *f.seasonal;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), window);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "flag --seasonal: \"" + s + "\" is neither an integer nor \"periodic\"");
    }
    params.seasonal_window = window;
  }
  return params;
}

// Shortest digits that read back to the same double: in fixed notation, or in whichever of fixed and
// scientific is shorter. 64 characters hold any double in either form except huge fixed ones, which
// the std::string fallback covers.
void AppendNumber(std::string& out, double x, bool fixed) {
  char buffer[64];
  auto [end, ec] = fixed ? std::to_chars(buffer, buffer + sizeof buffer, x, std::chars_format::fixed)
                         : std::to_chars(buffer, buffer + sizeof buffer, x);
  if (ec == std::errc()) {
    out.append(buffer, end);
  } else {
    std::string wide(400, '\0');
    auto [wide_end, wide_ec] = std::to_chars(wide.data(), wide.data() + wide.size(), x);
    out.append(wide.data(), wide_ec == std::errc() ? wide_end : wide.data());
  }
}

// Timestamps in fixed notation so that they never read as 1.7e+09.
std::string FormatCsv(const SeriesInput& input, const scoring::StlResult& stl, bool with_weight) {
  const bool with_timestamp = !input.timestamps_seconds.empty();
  std::string out;
  out.reserve(input.values.size() * 96);
  if (with_timestamp) out += "timestamp,";
  out += "value,seasonal,trend,remainder";
  if (with_weight) out += ",weight";
  out += '\n';
  for (size_t i = 0; i < input.values.size(); ++i) {
    if (with_timestamp) {
      AppendNumber(out, input.timestamps_seconds[i], /*fixed=*/true);
      out += ',';
    }
    for (double x : {input.values[i], stl.seasonal[i], stl.trend[i], stl.remainder[i]}) {
      AppendNumber(out, x, /*fixed=*/false);
      out += ',';
    }
    if (with_weight) {
      AppendNumber(out, stl.weights[i], /*fixed=*/false);
    } else {
      out.pop_back();
    }
    out += '\n';
  }
  return out;
}

// The scoring library names StlParams fields ("seasonal_window: must be an odd integer ..."); the user
// typed flags, so say "flag --seasonal: ..." instead. A message in any other form passes unchanged.
Error InTermsOfFlags(Error error) {
  static constexpr std::pair<std::string_view, std::string_view> kFlagOf[] = {
      {"period", "period"},           {"seasonal_window", "seasonal"},     {"seasonal_degree", "seasonal-degree"},
      {"seasonal_jump", "seasonal-jump"}, {"trend_window", "trend"},      {"trend_degree", "trend-degree"},
      {"trend_jump", "trend-jump"},   {"lowpass_window", "lowpass"},       {"lowpass_degree", "lowpass-degree"},
      {"lowpass_jump", "lowpass-jump"}, {"inner_iterations", "inner"},    {"outer_iterations", "outer"},
  };
  for (const auto& [field, flag] : kFlagOf) {
    if (error.message.starts_with(field) && std::string_view(error.message).substr(field.size()).starts_with(": ")) {
      error.message = "flag --" + std::string(flag) + error.message.substr(field.size());
      break;
    }
  }
  return error;
}

int Fail(std::ostream& err, const Error& error) {
  err << kPrefix << error.message << "\n";
  const bool user_error = error.code == ErrorCode::kInvalidConfig || error.code == ErrorCode::kInvalidInput;
  return user_error ? 2 : 1;
}

}  // namespace

int RunStlCommand(std::span<const std::string_view> args, std::istream& in, std::ostream& out,
                  std::ostream& err) {
  StlFlags f;
  FlagSet flags;
  DefineFlags(flags, f);
  Result<std::vector<std::string_view>> positionals = flags.Parse(args);
  if (!positionals) return Fail(err, positionals.error());
  if (f.help) {
    out << Usage(flags);
    return out.flush() ? 0 : 1;
  }
  if (!positionals->empty()) {
    return Fail(err, Error{ErrorCode::kInvalidConfig, "unexpected argument \"" + std::string(positionals->front()) +
                                                          "\" (the input is --input=FILE)"});
  }
  Result<scoring::StlParams> params = ResolveFlags(f);
  if (!params) return Fail(err, params.error());

  Result<SeriesInput> input = f.input == "-" ? ReadSeries(in) : ReadSeriesFile(f.input);
  if (!input) return Fail(err, input.error());
  const size_t n = input->values.size();
  if (n < 2 * static_cast<size_t>(params->period)) {
    return Fail(err, Error{ErrorCode::kInvalidInput,
                           "input has " + std::to_string(n) + (n == 1 ? " value" : " values") + "; --period " + std::to_string(params->period) +
                               " needs at least " + std::to_string(2 * params->period) + " (two full periods)"});
  }
  Result<scoring::StlResult> stl = scoring::Stl(input->values, *params);
  if (!stl) return Fail(err, InTermsOfFlags(stl.error()));

  const bool with_weight = params->robust || params->outer_iterations.value_or(0) > 0;
  out << FormatCsv(*input, *stl, with_weight);
  out.flush();
  if (!out) return Fail(err, Error{ErrorCode::kInternal, "writing the output failed"});
  return 0;
}

int RunStlCommand(std::span<const std::string_view> args) {
  return RunStlCommand(args, std::cin, std::cout, std::cerr);
}

}  // namespace anomaly::app
