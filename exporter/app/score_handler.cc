#include "exporter/app/score_handler.h"

#include <chrono>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/backtest/backtest.h"
#include "anomaly/backtest/output.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/duration.h"
#include "anomaly/base/url.h"
#include "anomaly/scoring/model.h"
#include "exporter/app/detector_flags.h"

namespace anomaly::app {
namespace {

tl::unexpected<Error> Bad(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

std::string ParameterNames() {
  std::string out;
  for (const DetectorFlagInfo& info : DetectorFlagInfos()) {
    std::string name(info.name);
    for (char& c : name) c = c == '-' ? '_' : c;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// The query string as detector settings: each name once, and known.
Result<DetectorFlags> ParseParameters(std::string_view query) {
  DetectorFlags flags;
  std::set<std::string> seen;
  Result<std::vector<FormField>> fields = DecodeForm(query);
  if (!fields) return tl::unexpected(fields.error().WithContext("the query string"));
  for (FormField& f : *fields) {
    std::optional<std::string>* slot = flags.Find(f.name);
    if (slot == nullptr || f.name.find('-') != std::string::npos) {
      return Bad("unknown parameter \"" + f.name + "\"; the detector settings are: " + ParameterNames());
    }
    if (!seen.insert(f.name).second) return Bad("parameter \"" + f.name + "\" given twice");
    *slot = std::move(f.value);
  }
  if (flags.stl_periodic && *flags.stl_periodic != "true" && *flags.stl_periodic != "false") {
    return Bad("stl_periodic: must be true or false, got \"" + *flags.stl_periodic + "\"");
  }
  return flags;
}

// The config loader's key paths, as the parameters that set them.
constexpr std::pair<std::string_view, std::string_view> kKeyNames[] = {
    {"threshold.false_alarm_interval", "false_alarm_interval"},
    {"threshold.floor", "threshold_floor"},
    {"threshold.window", "threshold_window"},
    {"stl.seasonal_window", "stl_periodic"},
    {"stl.robust", "stl_robust"},
};

// "query parameters:8: detectors[0].threshold.floor: must be > 0" -> "threshold_floor: must be > 0": the
// lines of the synthesized YAML mean nothing to the client.
std::string ParameterMessage(const std::string& loader_message) {
  std::string out;
  std::istringstream lines(loader_message);
  for (std::string line; std::getline(lines, line);) {
    const std::string_view kDetector = "detectors[0].";
    if (const size_t at = line.find(kDetector); at != std::string::npos) {
      line = line.substr(at + kDetector.size());
      for (const auto& [key, name] : kKeyNames) {
        if (line.starts_with(key)) line = std::string(name) + line.substr(key.size());
      }
      if (line.starts_with("seasonality[")) line = "seasonality" + line.substr(line.find(']') + 1);
    }
    out += (out.empty() ? "" : "; ") + line;
  }
  return out;
}

// Fixed seasonality the series can never be fitted with: the model fits a period only where its window
// holds it scoring::kMinSeasonalCycles times, and the window is at most the series (and the history).
Status CheckSeasonality(const config::DetectorConfig& d, const backtest::SeriesInput& in) {
  if (d.seasonality.mode != config::SeasonalityMode::kFixed || d.seasonality.periods.empty()) return {};
  const Duration longest = d.seasonality.periods.back();
  const auto cycles = static_cast<int64_t>(scoring::kMinSeasonalCycles);
  const Duration span = Duration(std::llround((in.timestamps_seconds.back() - in.timestamps_seconds.front()) * 1000)) + d.step;
  if (span >= cycles * longest) return {};
  return Bad("seasonality " + FormatDuration(longest) + " needs " + std::to_string(cycles) + " periods (" +
             FormatDuration(cycles * longest) + ") of samples to be fitted; the series spans " + FormatDuration(span) +
             " (" + std::to_string(in.values.size()) + " samples at step " + FormatDuration(d.step) +
             "): send more samples, a shorter seasonality, or seasonality=none");
}

}  // namespace

Result<http::ScoreAnswer> Score(const http::ScoreRequest& request, const ScoreLimits& limits) {
  Result<DetectorFlags> flags = ParseParameters(request.query);
  if (!flags) return tl::unexpected(flags.error());

  const backtest::ParseOptions parse{.allow_repeated_timestamps = true};
  Result<backtest::SeriesInput> in = request.body_format == http::ScoreFormat::kCsv
                                         ? backtest::ParseSeries(request.body, parse)
                                         : backtest::ParseSeriesJson(request.body, parse);
  if (!in) return tl::unexpected(in.error());
  if (in->timestamps_seconds.empty()) {
    return Bad("text/csv needs a header line and timestamp,value rows (one value per line has no timestamps)");
  }
  if (in->values.size() > limits.max_samples) {
    return Bad(std::to_string(in->values.size()) + " samples; at most " + std::to_string(limits.max_samples) +
               " are scored per request (--web.score-max-samples)");
  }

  Result<config::Config> cfg = ConfigFromDetectorFlags(
      *flags, flags->step.value_or(MedianStep(in->timestamps_seconds)), "query parameters");
  if (!cfg) return Bad(ParameterMessage(cfg.error().message));
  const config::DetectorConfig& detector = cfg->detectors.front();
  if (Status s = CheckSeasonality(detector, *in); !s) return tl::unexpected(s.error());
  Result<backtest::BacktestParams> params = backtest::ParamsFor(detector);
  if (!params) return Bad(params.error().message);

  std::vector<series::Sample> samples(in->values.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = series::Sample{std::llround(in->timestamps_seconds[i] * 1000.0), in->values[i]};
  }
  const auto deadline = request.deadline;
  Result<backtest::BacktestResult> result = backtest::RunBacktest(
      samples, *params, {}, [deadline] { return std::chrono::steady_clock::now() >= deadline; });
  if (!result && result.error().code == ErrorCode::kCancelled) {
    return MakeError(ErrorCode::kTimeout, "scoring took longer than --web.score-timeout allows (" +
                                              result.error().message + "); send fewer samples");
  }
  if (!result) return tl::unexpected(result.error());

  std::ostringstream out;
  if (request.answer_format == http::ScoreFormat::kCsv) {
    backtest::WriteCsv(*result, in->timestamp_texts, out);
  } else {
    out << "{\"status\":\"success\",\"data\":";
    backtest::WriteJson(*result, detector.step, out);
    out << "}\n";
  }
  return http::ScoreAnswer{std::move(out).str()};
}

}  // namespace anomaly::app
