#include "anomaly/config/detector_params.h"

#include <algorithm>
#include <chrono>

#include "anomaly/base/duration.h"

namespace anomaly::config {
namespace {

scoring::Direction ToScoring(Direction d) {
  switch (d) {
    case Direction::kUp: return scoring::Direction::kUp;
    case Direction::kDown: return scoring::Direction::kDown;
    case Direction::kBoth: return scoring::Direction::kBoth;
  }
  return scoring::Direction::kBoth;
}

}  // namespace

Result<scoring::ModelParams> ModelParamsFor(const DetectorConfig& c) {
  const int64_t step = c.step.count();
  scoring::ModelParams p;
  if (c.seasonality.mode == SeasonalityMode::kFixed) {
    for (Duration period : c.seasonality.periods) p.periods.push_back(static_cast<int>(period.count() / step));
  }
  p.stl.seasonal_window = c.stl.seasonal_window;
  p.stl.periodic = c.stl.periodic;
  p.stl.robust = c.stl.robust;
  p.stl.trend_window = c.stl.trend_window;
  p.stl.lowpass_window = c.stl.lowpass_window;
  p.stl.inner_iterations = c.stl.inner_iterations;
  p.stl.outer_iterations = c.stl.outer_iterations;
  p.calibration.log_threshold = scoring::ThresholdFor(c.step, c.threshold.false_alarm_interval);
  p.calibration.min_abs_z = c.threshold.floor;
  p.calibration.long_window = static_cast<int>(std::max<int64_t>(1, c.threshold.window.count() / step));
  // 30 short windows' worth of short means, or half the window where it is shorter (a short history).
  p.calibration.min_history =
      std::max(1, std::min(30 * p.calibration.short_window, p.calibration.long_window / 2));
  p.calibration.direction = ToScoring(c.direction);
  p.direction = ToScoring(c.direction);
  p.persistence = c.persistence;
  if (Status s = scoring::ValidateModelParams(p); !s) {
    return MakeError(ErrorCode::kInvalidConfig, "detector \"" + c.name + "\": " + s.error().message);
  }
  return p;
}

Duration DefaultSeriesTtl(const DetectorConfig& c) {
  return std::max({Duration(std::chrono::minutes(5)), 5 * c.interval, 5 * c.step});
}

Result<series::StoreOptions> StoreOptionsFor(const DetectorConfig& c) {
  series::StoreOptions o;
  o.step = c.step;
  o.capacity_points = static_cast<size_t>(c.history.count() / c.step.count()) + 1;
  o.max_gap_points = static_cast<int>(std::max<int64_t>(0, c.max_gap.count() / c.step.count()));
  // A series absent from the answers for series_ttl leaves /metrics (config.h; the loader fills it in).
  o.series_ttl = c.series_ttl > Duration(0) ? c.series_ttl : DefaultSeriesTtl(c);
  o.max_series = static_cast<size_t>(c.max_series);
  if (Status s = series::ValidateStoreOptions(o); !s) {
    return MakeError(ErrorCode::kInvalidConfig, "detector \"" + c.name + "\": " + s.error().message);
  }
  return o;
}

Result<series::DetectorOptions> DetectorOptionsFor(const DetectorConfig& c) {
  Result<scoring::ModelParams> model = ModelParamsFor(c);
  if (!model) return tl::unexpected(model.error());
  Result<series::StoreOptions> store = StoreOptionsFor(c);
  if (!store) return tl::unexpected(store.error());
  series::DetectorOptions o;
  o.store = *store;
  o.evaluate.model = std::move(*model);
  o.evaluate.refit_interval = c.refit_interval;
  o.evaluate.resolve_after = c.resolve_after;
  o.evaluate.rebaseline_after = c.rebaseline_after;
  o.auto_seasonality = c.seasonality.mode == SeasonalityMode::kAuto;
  // A group judges its members' samples together (series/group.h, series/peers.h).
  o.evaluate.report_z_scores = c.kind != DetectorKind::kSeries;
  for (const MaintenanceWindow& w : c.maintenance.windows) {
    o.maintenance.push_back({w.start.time_since_epoch().count(), w.end.time_since_epoch().count()});
  }
  return o;
}

prom::ClientOptions ClientOptionsFor(const PrometheusConfig& p, std::string user_agent) {
  prom::ClientOptions o;
  o.url = p.url;
  o.timeout = p.timeout;
  o.compression = p.compression;
  o.bearer_token_file = p.bearer_token_file;
  if (p.basic_auth) {
    o.basic_auth_username = p.basic_auth->username;
    o.basic_auth_password_file = p.basic_auth->password_file;
  }
  o.tls_ca_file = p.tls.ca_file;
  o.tls_cert_file = p.tls.cert_file;
  o.tls_key_file = p.tls.key_file;
  o.tls_insecure_skip_verify = p.tls.insecure_skip_verify;
  for (const auto& [name, value] : p.headers) o.headers.emplace_back(name, value);
  o.user_agent = std::move(user_agent);
  return o;
}

}  // namespace anomaly::config
