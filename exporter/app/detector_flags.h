// The detector settings given one by one, outside a config file: `anomaly_exporter backtest`'s flags
// (--false-alarm-interval=100d) and POST /api/v1/score's query parameters (false_alarm_interval=100d).
// One list of names and one mapping to a detector, shared by both, which goes through the config loader:
// the same defaults and the same validation as a detector in the config (docs/configuration.md).
// Plain values and pure functions; thread-safe.
//
//   DetectorFlags f;
//   if (std::optional<std::string>* slot = f.Find("history")) *slot = "3d";
//   Result<config::Config> c = ConfigFromDetectorFlags(f, "1m", "<backtest flags>");
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/config/config.h"

namespace anomaly::app {

// Each setting as given; nullopt: the config's default.
struct DetectorFlags {
  std::optional<std::string> step, history, seasonality, false_alarm_interval, threshold_floor, threshold_window,
      direction, persistence, refit_interval, max_gap, stl_periodic, stl_robust, resolve_after, rebaseline_after;

  // The setting called `name`, with dashes or underscores ("max-gap", "max_gap"); null for no such one.
  std::optional<std::string>* Find(std::string_view name);
  bool Any() const;
};

// One setting: its flag name (dashes), the placeholder and help the backtest's --help shows.
struct DetectorFlagInfo {
  std::string_view name;
  std::string_view value_name;
  std::string_view help;
  std::optional<std::string> DetectorFlags::*field;
};

// Every setting, in the order --help lists them.
std::span<const DetectorFlagInfo> DetectorFlagInfos();

// The settings as a one-detector config (detector `backtest`, query "csv"), loaded by the config loader
// under the name `source` with `step` as the step (the caller's default when the step is not given).
// kInvalidConfig with the loader's message ("<source>:LINE: key: message", one per line), or for a
// --stl-periodic that is not true or false.
[[nodiscard]] Result<config::Config> ConfigFromDetectorFlags(const DetectorFlags& flags, const std::string& step,
                                                             std::string_view source);

// A series' median spacing in whole seconds, at least 1s ("60s"); "1m" when it has fewer than two distinct
// timestamps. The default step of a CSV or a score request.
std::string MedianStep(std::span<const double> timestamps_seconds);

}  // namespace anomaly::app
