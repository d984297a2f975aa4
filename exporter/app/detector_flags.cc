#include "exporter/app/detector_flags.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "anomaly/config/config_loader.h"

namespace anomaly::app {
namespace {

constexpr DetectorFlagInfo kInfos[] = {
    {"step", "D", "grid step (default: the CSV's median spacing)", &DetectorFlags::step},
    {"history", "D", "fit window (default 7d)", &DetectorFlags::history},
    {"seasonality", "S", "auto (default: 1h, 1d or 1w when found), none, or periods such as 1d or 1h,1d",
     &DetectorFlags::seasonality},
    {"false-alarm-interval", "D", "false-alarm budget per series as a time (default 100d)",
     &DetectorFlags::false_alarm_interval},
    {"threshold-floor", "Z", "lowest |z| that can be anomalous (default 3)", &DetectorFlags::threshold_floor},
    {"threshold-window", "D", "span of past errors the calibration learns from (default: history)",
     &DetectorFlags::threshold_window},
    {"resolve-after", "D", "an episode ends after this long without an anomalous sample (default 1h)",
     &DetectorFlags::resolve_after},
    {"rebaseline-after", "D", "a one-sided episode this long re-baselines the model (default 3h; 0 never)",
     &DetectorFlags::rebaseline_after},
    {"direction", "D", "both (default), up or down", &DetectorFlags::direction},
    {"persistence", "N", "consecutive anomalous samples before the flag (default 1)", &DetectorFlags::persistence},
    {"refit-interval", "D", "how often the model is refitted, in data time (default 1h)",
     &DetectorFlags::refit_interval},
    {"max-gap", "D", "gaps up to this long are interpolated (default 5 steps)", &DetectorFlags::max_gap},
    {"stl-periodic", "B", "true: the seasonal shape is the same in every period (default false)",
     &DetectorFlags::stl_periodic},
    {"stl-robust", "B", "robustness iterations (default true)", &DetectorFlags::stl_robust},
};

std::string YamlQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A number written plainly, as the config loader wants it; a value with any character YAML could read as
// structure is quoted (and then refused as a number), so that no value adds YAML of its own: a score
// request's query parameter is remote input ("3, window: ..." must stay one value).
std::string YamlNumber(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' || c == '_';
  });
  return plain ? std::string(s) : YamlQuote(s);
}

}  // namespace

std::span<const DetectorFlagInfo> DetectorFlagInfos() { return kInfos; }

std::optional<std::string>* DetectorFlags::Find(std::string_view name) {
  std::string dashed(name);
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  for (const DetectorFlagInfo& info : kInfos) {
    if (info.name == dashed) return &(this->*info.field);
  }
  return nullptr;
}

bool DetectorFlags::Any() const {
  for (const DetectorFlagInfo& info : kInfos) {
    if ((this->*info.field).has_value()) return true;
  }
  return false;
}

Result<config::Config> ConfigFromDetectorFlags(const DetectorFlags& f, const std::string& step,
                                               std::string_view source) {
  for (const DetectorFlagInfo& info : kInfos) {
    const std::optional<std::string>& v = f.*info.field;
    if (v && std::any_of(v->begin(), v->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return MakeError(ErrorCode::kInvalidConfig, "--" + std::string(info.name) + ": holds a control character");
    }
  }
  std::string y = "prometheus:\n  url: \"http://127.0.0.1:9\"\ndetectors:\n  - name: backtest\n    query: \"csv\"\n";
  y += "    step: " + YamlQuote(step) + "\n";
  auto put = [&y](std::string_view key, const std::optional<std::string>& v, std::string_view indent = "    ") {
    if (v) y += std::string(indent) + std::string(key) + ": " + YamlQuote(*v) + "\n";
  };
  put("history", f.history);
  put("refit_interval", f.refit_interval);
  if (f.seasonality) {
    if (*f.seasonality == "auto" || *f.seasonality == "none") {
      y += "    seasonality: " + *f.seasonality + "\n";
    } else {
      y += "    seasonality: [";
      std::string_view rest = *f.seasonality;
      for (bool first = true; !rest.empty(); first = false) {
        const size_t comma = rest.find(',');
        y += (first ? "" : ", ") + YamlQuote(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      y += "]\n";
    }
  }
  if (f.stl_periodic && *f.stl_periodic != "true" && *f.stl_periodic != "false") {
    return MakeError(ErrorCode::kInvalidConfig,
                     "--stl-periodic: must be true or false, got " + YamlQuote(*f.stl_periodic));
  }
  const bool periodic = f.stl_periodic && *f.stl_periodic == "true";
  if (periodic || f.stl_robust) {
    y += "    stl:\n";
    // The config spells R's s.window = "periodic" as seasonal_window: periodic.
    if (periodic) y += "      seasonal_window: periodic\n";
    put("robust", f.stl_robust, "      ");
  }
  if (f.false_alarm_interval || f.threshold_floor || f.threshold_window) {
    y += "    threshold:\n";
    put("false_alarm_interval", f.false_alarm_interval, "      ");
    if (f.threshold_floor) y += "      floor: " + YamlNumber(*f.threshold_floor) + "\n";
    put("window", f.threshold_window, "      ");
  }
  put("direction", f.direction);
  put("resolve_after", f.resolve_after);
  put("rebaseline_after", f.rebaseline_after);
  if (f.persistence) y += "    persistence: " + YamlNumber(*f.persistence) + "\n";
  put("max_gap", f.max_gap);
  return config::LoadConfigFromString(y, source);
}

std::string MedianStep(std::span<const double> timestamps_seconds) {
  std::vector<double> d;
  for (size_t i = 1; i < timestamps_seconds.size(); ++i) {
    if (timestamps_seconds[i] > timestamps_seconds[i - 1]) d.push_back(timestamps_seconds[i] - timestamps_seconds[i - 1]);
  }
  if (d.empty()) return "1m";
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return std::to_string(std::max<long long>(1, std::llround(d[d.size() / 2]))) + "s";
}

}  // namespace anomaly::app
