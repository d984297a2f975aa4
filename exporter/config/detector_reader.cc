#include "exporter/config/detector_reader.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/config/detector_params.h"
#include "anomaly/scoring/model.h"
#include "exporter/config/rfc3339.h"

namespace anomaly::config {
namespace {

using std::chrono::seconds;

// history / step must give at least this many samples: fewer cannot support any model, not even the
// robust baseline's median and MAD in a meaningful way.
constexpr int64_t kMinSamplesPerHistory = 10;

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsOddAtLeast3(int n) { return n >= 3 && n % 2 == 1; }

// Where to report a cross-field problem about `v` for the detector `view` reads. A value inherited from
// `defaults:` is reported on the detector (the rule broke there), naming the defaults line.
struct Site {
  YAML::Mark mark;
  std::string path;
  std::string note;
};

Site Locate(const MapView& view, const Value& v) {
  const std::string own = view.path();
  if (v.path.compare(0, own.size(), own) == 0) return Site{v.mark, v.path, ""};
  size_t dot = v.path.find('.');
  std::string rest = dot == std::string::npos ? std::string() : v.path.substr(dot);
  return Site{view.mark(), own + rest,
              " (inherited from defaults at line " + std::to_string(v.mark.line + 1) + ")"};
}

// Site of `key` in `view`: where it was found, or the detector itself when the default applies.
Site LocateKey(const MapView& view, std::string_view key) {
  if (std::optional<Value> v = view.Find(key)) return Locate(view, *v);
  return Site{view.mark(), view.PathOf(key), ""};
}

void AddAt(Diagnostics& diag, const Site& site, const std::string& message) {
  diag.AddError(site.mark, site.path, message + site.note);
}

// A duration that must be > 0 (and, for step, whole seconds).
std::optional<Duration> ReadPositiveDuration(const Value& v, Duration minimum, Diagnostics& diag) {
  std::optional<Duration> d = ReadDuration(v, diag);
  if (!d) return std::nullopt;
  if (*d <= Duration(0)) {
    diag.AddError(v.mark, v.path, "must be > 0, got " + v.node.Scalar());
    return std::nullopt;
  }
  if (*d < minimum) {
    diag.AddError(v.mark, v.path, "must be at least " + FormatDuration(minimum) + ", got " + v.node.Scalar());
    return std::nullopt;
  }
  return d;
}

void ReadSeasonality(const Value& v, Seasonality& out, Diagnostics& diag) {
  const std::string expected = "a list of durations such as [1d] or [1d, 1w], or auto, or none";
  if (v.node.IsScalar()) {
    if (v.node.Scalar() == "auto") {
      out = Seasonality{SeasonalityMode::kAuto, {}};
    } else if (v.node.Scalar() == "none") {
      out = Seasonality{SeasonalityMode::kNone, {}};
    } else {
      diag.AddError(v.mark, v.path, "expected " + expected + ", got \"" + v.node.Scalar() + "\"");
    }
    return;
  }
  if (!v.node.IsSequence()) {
    diag.AddError(v.mark, v.path, "expected " + expected + ", got " + std::string(KindName(v.node)));
    return;
  }
  Seasonality s{v.node.size() == 0 ? SeasonalityMode::kNone : SeasonalityMode::kFixed, {}};
  for (size_t i = 0; i < v.node.size(); ++i) {
    Value item = Item(v, i);
    std::optional<Duration> period = ReadPositiveDuration(item, Duration(1), diag);
    if (!period) continue;
    if (std::find(s.periods.begin(), s.periods.end(), *period) != s.periods.end()) {
      diag.AddError(item.mark, item.path, "duplicate period " + item.node.Scalar());
      continue;
    }
    s.periods.push_back(*period);
  }
  std::sort(s.periods.begin(), s.periods.end());
  out = std::move(s);
}

void ReadStl(const MapView& view, StlOptions& out, Diagnostics& diag) {
  view.CheckKeys(
      {"seasonal_window", "robust", "trend_window", "lowpass_window", "inner_iterations", "outer_iterations"},
      diag);
  if (std::optional<Value> v = view.Find("seasonal_window")) {
    if (v->node.IsScalar() && v->node.Scalar() == "periodic") {
      out.periodic = true;
    } else if (std::optional<int> n = ReadInt(*v, diag)) {
      if (IsOddAtLeast3(*n)) {
        out.seasonal_window = *n;
      } else {
        diag.AddError(v->mark, v->path,
                      "must be an odd integer >= 3 or \"periodic\", got " + std::to_string(*n));
      }
    }
  }
  if (std::optional<Value> v = view.Find("robust")) {
    if (std::optional<bool> b = ReadBool(*v, diag)) out.robust = *b;
  }
  using OptionalField = std::pair<const char*, std::optional<int>*>;
  for (auto [key, field] : {OptionalField{"trend_window", &out.trend_window},
                            OptionalField{"lowpass_window", &out.lowpass_window}}) {
    if (std::optional<Value> v = view.Find(key)) {
      std::optional<int> n = ReadInt(*v, diag);
      if (n && !IsOddAtLeast3(*n))
        diag.AddError(v->mark, v->path, "must be an odd integer >= 3, got " + std::to_string(*n));
      if (n && IsOddAtLeast3(*n)) *field = *n;
    }
  }
  using IterationField = std::tuple<const char*, std::optional<int>*, int>;
  for (auto [key, field, minimum] : {IterationField{"inner_iterations", &out.inner_iterations, 1},
                                     IterationField{"outer_iterations", &out.outer_iterations, 0}}) {
    if (std::optional<Value> v = view.Find(key)) {
      std::optional<int> n = ReadInt(*v, diag);
      if (n && *n < minimum) {
        diag.AddError(v->mark, v->path,
                      "must be >= " + std::to_string(minimum) + ", got " + std::to_string(*n));
      } else if (n) {
        *field = *n;
      }
    }
  }
}

void ReadThreshold(const MapView& view, ThresholdConfig& out, std::optional<Value>& window,
                   Diagnostics& diag) {
  view.CheckKeys({"false_alarm_interval", "floor", "window", "percentile"}, diag);
  if (std::optional<Value> v = view.Find("percentile")) {
    diag.AddError(v->mark, v->path, "replaced by threshold.false_alarm_interval, a time such as 1000d "
                                    "(docs/configuration.md)");
  }
  if (std::optional<Value> v = view.Find("false_alarm_interval")) {
    if (auto f = ReadPositiveDuration(*v, Duration(1), diag)) out.false_alarm_interval = *f;
  }
  if (std::optional<Value> v = view.Find("floor")) {
    std::optional<double> f = ReadDouble(*v, diag);
    if (f && *f <= 0) {
      diag.AddError(v->mark, v->path, "must be > 0, got " + v->node.Scalar());
    } else if (f) {
      out.floor = *f;
    }
  }
  window = view.Find("window");
  if (window) {
    if (std::optional<Duration> w = ReadPositiveDuration(*window, Duration(1), diag)) out.window = *w;
  }
}

void ReadMaintenance(const MapView& view, MaintenanceConfig& out, Diagnostics& diag) {
  view.CheckKeys({"windows", "condition"}, diag);
  if (std::optional<Value> v = view.Find("condition")) {
    std::optional<std::string> c = ReadString(*v, diag);
    if (c && c->find_first_not_of(" \t\r\n") == std::string::npos) {
      diag.AddError(v->mark, v->path, "must not be empty (remove the key for no condition)");
    } else if (c) {
      out.condition = *c;
    }
  }
  std::optional<Value> windows = view.Find("windows");
  if (!windows) return;
  if (!windows->node.IsSequence()) {
    diag.AddError(windows->mark, windows->path,
                  "expected a list of {start, end}, got " + std::string(KindName(windows->node)));
    return;
  }
  for (size_t i = 0; i < windows->node.size(); ++i) {
    Value item = Item(*windows, i);
    if (!item.node.IsMap()) {
      diag.AddError(item.mark, item.path,
                    "expected {start: ..., end: ...}, got " + std::string(KindName(item.node)));
      continue;
    }
    MapView range(item);
    range.CheckKeys({"start", "end"}, diag);
    std::optional<TimePoint> bounds[2];
    const char* keys[2] = {"start", "end"};
    for (int k = 0; k < 2; ++k) {
      std::optional<Value> b = range.Find(keys[k]);
      if (!b) {
        diag.AddError(item.mark, range.PathOf(keys[k]),
                      "required (an RFC 3339 time such as 2024-05-01T22:00:00Z)");
        continue;
      }
      std::optional<std::string> text = ReadString(*b, diag);
      if (!text) continue;
      bounds[k] = ParseRfc3339(*text);
      if (!bounds[k]) {
        diag.AddError(
            b->mark, b->path,
            "invalid time \"" + *text + "\": expected RFC 3339 with a zone, e.g. 2024-05-01T22:00:00Z");
      }
    }
    if (bounds[0] && bounds[1]) {
      if (*bounds[1] <= *bounds[0]) {
        diag.AddError(range.Find("end")->mark, range.PathOf("end"), "must be after start");
      } else {
        out.windows.push_back(MaintenanceWindow{*bounds[0], *bounds[1]});
      }
    }
  }
}

// Cross-field rules and derived defaults; runs only on a complete detector.
void CheckDetector(const MapView& view, DetectorConfig& d, bool window_given, Diagnostics& diag) {
  if (d.step <= Duration(0)) return;  // step missing or bad: already reported, nothing to compare
  // Durations as the user wrote them ("10d", not FormatDuration's "1w3d"), or the default's form.
  auto text_of = [&](const MapView& in, std::string_view key, Duration value) {
    std::optional<Value> v = in.Find(key);
    return v && v->node.IsScalar() ? v->node.Scalar() : FormatDuration(value);
  };
  const std::string step_text = text_of(view, "step", d.step);
  const std::string history_text = text_of(view, "history", d.history);
  if (d.history / d.step < kMinSamplesPerHistory) {
    AddAt(diag, view.Find("history") ? LocateKey(view, "history") : LocateKey(view, "step"),
          "history " + history_text + " holds only " + std::to_string(d.history / d.step) + " steps of " +
              step_text + "; need at least " + std::to_string(kMinSamplesPerHistory));
  }
  if (d.refit_interval < d.interval) {
    AddAt(diag, view.Find("refit_interval") ? LocateKey(view, "refit_interval") : LocateKey(view, "interval"),
          "refit_interval " + text_of(view, "refit_interval", d.refit_interval) + " must be >= interval " +
              text_of(view, "interval", d.interval));
  }
  if (std::optional<Value> seasonality = view.Find("seasonality");
      seasonality && d.seasonality.mode == SeasonalityMode::kFixed && seasonality->node.IsSequence()) {
    std::vector<Duration> checked;  // a duplicate is reported once, as a duplicate
    for (size_t i = 0; i < seasonality->node.size(); ++i) {
      Value item = Item(*seasonality, i);
      Result<Duration> period = item.node.IsScalar() ? ParseDuration(item.node.Scalar()) : Result<Duration>();
      if (!period || *period <= Duration(0)) continue;
      if (std::find(checked.begin(), checked.end(), *period) != checked.end()) continue;
      checked.push_back(*period);
      if (*period % d.step != Duration(0)) {
        AddAt(diag, Locate(view, item), item.node.Scalar() + " is not a whole multiple of step " + step_text);
      } else if (*period / d.step < 2) {
        AddAt(diag, Locate(view, item),
              item.node.Scalar() + " is shorter than 2 steps of " + step_text +
                  " (a period needs at least 2 samples)");
      }
    }
    // scoring::FitModel fits a period only where the window (history / step + 1 points) holds it
    // kMinSeasonalCycles times.
    constexpr auto kCycles = static_cast<int64_t>(scoring::kMinSeasonalCycles);
    const int64_t points = d.history / d.step + 1;
    auto fits = [&](Duration period) { return period / d.step * kCycles <= points; };
    Duration longest = d.seasonality.periods.empty() ? Duration(0) : d.seasonality.periods.back();
    if (longest > Duration(0) && d.step > Duration(0) && !fits(longest)) {
      Site site = LocateKey(view, "history");
      const bool none_fits = std::none_of(d.seasonality.periods.begin(), d.seasonality.periods.end(), fits);
      diag.AddWarning(site.mark, site.path,
                      "history " + history_text + " is shorter than " + std::to_string(kCycles) +
                          " periods of seasonality " + FormatDuration(longest) + " (" +
                          FormatDuration(kCycles * longest) + "): a seasonal fit needs " +
                          std::to_string(kCycles) + " cycles to outvote a past incident, so " +
                          (none_fits ? "the detector falls back to the baseline"
                                     : "that period is left out of the fit") +
                          site.note);
    }
  }
  if (!window_given) {
    d.threshold.window = d.history;
  } else if (d.threshold.window < d.step) {
    Site site = Locate(view, *view.Child("threshold").Find("window"));
    AddAt(diag, site,
          "window " + text_of(view.Child("threshold"), "window", d.threshold.window) + " must be >= step " +
              step_text);
  }
  if (d.threshold.false_alarm_interval <= 10 * d.step) {
    std::optional<Value> v = view.Child("threshold").Find("false_alarm_interval");
    AddAt(diag, v ? Locate(view, *v) : LocateKey(view, "step"),
          "false_alarm_interval " +
              text_of(view.Child("threshold"), "false_alarm_interval", d.threshold.false_alarm_interval) +
              " must be longer than 10 steps of " + step_text);
  }
  if (!view.Find("max_gap")) d.max_gap = 5 * d.step;
  if (!view.Find("series_ttl")) {
    d.series_ttl = DefaultSeriesTtl(d);
  } else if (d.series_ttl > Duration(0) && d.series_ttl < d.interval) {
    AddAt(diag, LocateKey(view, "series_ttl"),
          "series_ttl " + text_of(view, "series_ttl", d.series_ttl) + " must be >= interval " +
              text_of(view, "interval", d.interval));
  }
}

// kind, group_by, min_group_size: what a detector judges (single series or groups of them).
void ReadGroup(const MapView& view, DetectorConfig& d, Diagnostics& diag) {
  if (std::optional<Value> v = view.Find("kind")) {
    std::optional<std::string> kind = ReadString(*v, diag);
    if (kind == "series") {
      d.kind = DetectorKind::kSeries;
    } else if (kind == "multivariate") {
      d.kind = DetectorKind::kMultivariate;
    } else if (kind == "peers") {
      d.kind = DetectorKind::kPeers;
    } else if (kind) {
      diag.AddError(v->mark, v->path, "expected series, multivariate or peers, got \"" + *kind + "\"");
    }
  }
  std::optional<Value> group_by = view.Find("group_by");
  if (group_by) {
    if (!group_by->node.IsSequence()) {
      diag.AddError(group_by->mark, group_by->path,
                    "expected a list of label names, got " + std::string(KindName(group_by->node)));
    } else {
      for (size_t i = 0; i < group_by->node.size(); ++i) {
        Value item = Item(*group_by, i);
        std::optional<std::string> name = ReadString(item, diag);
        if (!name) continue;
        if (!IsValidName(*name)) {
          diag.AddError(item.mark, item.path, "invalid label name \"" + *name + "\"");
        } else if (std::find(d.group_by.begin(), d.group_by.end(), *name) != d.group_by.end()) {
          diag.AddError(item.mark, item.path, "label \"" + *name + "\" is named twice");
        } else {
          d.group_by.push_back(*name);
        }
      }
    }
  }
  std::optional<Value> min_size = view.Find("min_group_size");
  if (min_size) {
    std::optional<int> n = ReadInt(*min_size, diag);
    // Peers need a median and a spread of others: two members are each other's mirror image.
    const int least = d.kind == DetectorKind::kPeers ? 3 : 2;
    if (n && *n < least) {
      diag.AddError(min_size->mark, min_size->path,
                    "must be >= " + std::to_string(least) + ", got " + std::to_string(*n));
    } else if (n) {
      d.min_group_size = *n;
    }
  }
  if (d.kind == DetectorKind::kSeries) {
    if (group_by) diag.AddError(group_by->mark, group_by->path, "only for kind: multivariate or peers");
    if (min_size) diag.AddError(min_size->mark, min_size->path, "only for kind: multivariate or peers");
  }
}

}  // namespace

DetectorConfig ReadDetector(const MapView& view, DetectorBlock block, Diagnostics& diag) {
  const bool whole = block == DetectorBlock::kDetector;
  if (whole) {
    view.CheckKeys(
        {"name", "query", "step", "history", "interval", "refit_interval", "seasonality", "stl", "threshold",
         "direction", "resolve_after", "rebaseline_after", "persistence", "max_series", "max_gap", "series_ttl", "maintenance",
         "kind", "group_by", "min_group_size"},
        diag);
  } else {
    view.CheckKeys({"step", "history", "interval", "refit_interval", "seasonality", "stl", "threshold",
                    "direction", "resolve_after", "rebaseline_after", "persistence", "max_series", "max_gap", "series_ttl", "maintenance"},
                   diag);
  }
  DetectorConfig d;
  auto required = [&](std::string_view key, std::string_view what) {
    if (whole) diag.AddError(view.mark(), view.PathOf(key), "required (" + std::string(what) + ")");
  };
  if (whole) {
    if (std::optional<Value> v = view.Find("name")) {
      std::optional<std::string> name = ReadString(*v, diag);
      if (name && !IsValidName(*name)) {
        diag.AddError(v->mark, v->path, "invalid name \"" + *name + "\": must match [a-zA-Z_][a-zA-Z0-9_]*");
      } else if (name) {
        d.name = *name;
      }
    } else {
      required("name", "a unique name matching [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if (std::optional<Value> v = view.Find("query")) {
      std::optional<std::string> query = ReadString(*v, diag);
      if (query && query->find_first_not_of(" \t\r\n") == std::string::npos) {
        diag.AddError(v->mark, v->path, "must not be empty");
      } else if (query) {
        d.query = *query;
      }
    } else {
      required("query", "a PromQL expression");
    }
  }
  if (std::optional<Value> v = view.Find("step")) {
    std::optional<Duration> step = ReadPositiveDuration(*v, Duration(1), diag);
    if (step && *step % seconds(1) != Duration(0)) {
      diag.AddError(v->mark, v->path, "must be whole seconds, got " + v->node.Scalar());
    } else if (step) {
      d.step = *step;
    }
  } else {
    required("step", "the query resolution, e.g. 5m");
  }
  if (std::optional<Value> v = view.Find("history")) {
    if (auto h = ReadPositiveDuration(*v, Duration(1), diag)) d.history = *h;
  }
  if (std::optional<Value> v = view.Find("interval")) {
    if (auto i = ReadPositiveDuration(*v, seconds(1), diag)) d.interval = *i;
  }
  if (std::optional<Value> v = view.Find("refit_interval")) {
    if (auto r = ReadPositiveDuration(*v, Duration(1), diag)) d.refit_interval = *r;
  }
  if (std::optional<Value> v = view.Find("seasonality")) ReadSeasonality(*v, d.seasonality, diag);
  ReadStl(view.Child("stl"), d.stl, diag);
  std::optional<Value> window;
  ReadThreshold(view.Child("threshold"), d.threshold, window, diag);
  if (std::optional<Value> v = view.Find("direction")) {
    std::optional<std::string> dir = ReadString(*v, diag);
    if (dir == "both") {
      d.direction = Direction::kBoth;
    } else if (dir == "up") {
      d.direction = Direction::kUp;
    } else if (dir == "down") {
      d.direction = Direction::kDown;
    } else if (dir) {
      diag.AddError(v->mark, v->path, "expected both, up or down, got \"" + *dir + "\"");
    }
  }
  using IntField = std::pair<const char*, int*>;
  for (auto [key, field] : {IntField{"persistence", &d.persistence}, IntField{"max_series", &d.max_series}}) {
    if (std::optional<Value> v = view.Find(key)) {
      std::optional<int> n = ReadInt(*v, diag);
      if (n && *n < 1) {
        diag.AddError(v->mark, v->path, "must be >= 1, got " + std::to_string(*n));
      } else if (n) {
        *field = *n;
      }
    }
  }
  if (std::optional<Value> v = view.Find("max_gap")) {
    if (auto g = ReadDuration(*v, diag)) d.max_gap = *g;
  }
  if (std::optional<Value> v = view.Find("series_ttl")) {
    if (auto t = ReadPositiveDuration(*v, Duration(1), diag)) d.series_ttl = *t;
  }
  if (std::optional<Value> v = view.Find("resolve_after")) {
    if (auto t = ReadDuration(*v, diag)) d.resolve_after = *t;
  }
  if (std::optional<Value> v = view.Find("rebaseline_after")) {
    if (auto t = ReadDuration(*v, diag)) d.rebaseline_after = *t;
  }
  ReadMaintenance(view.Child("maintenance"), d.maintenance, diag);
  if (whole) ReadGroup(view, d, diag);
  if (whole) CheckDetector(view, d, window.has_value(), diag);
  return d;
}

}  // namespace anomaly::config
