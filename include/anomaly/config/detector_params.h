// What a detector's config means to the scoring and series stages: the ModelParams and StoreOptions it
// implies. One mapping, used by the daemon (app/detector_runner) and the backtest, so that a backtest
// scores history with exactly the parameters the daemon would use. Pure functions; thread-safe.
//
//   Result<scoring::ModelParams> model = ModelParamsFor(detector);
//   Result<series::StoreOptions> store = StoreOptionsFor(detector);
//   Result<series::DetectorOptions> core = DetectorOptionsFor(detector);   // all of it, for series::Detector
#pragma once

#include "anomaly/base/result.h"
#include "anomaly/config/config.h"
#include "anomaly/prom/range_query_client.h"
#include "anomaly/scoring/model.h"
#include "anomaly/series/detector.h"
#include "anomaly/series/series_store.h"

namespace anomaly::config {

// Periods (kFixed only; kAuto leaves them empty for the caller to detect), STL options, threshold,
// direction and persistence. kInvalidConfig naming the detector when the result is not a valid model.
[[nodiscard]] Result<scoring::ModelParams> ModelParamsFor(const DetectorConfig& config);

// series_ttl when the YAML leaves it out: max(5m, 5 * interval, 5 * step).
Duration DefaultSeriesTtl(const DetectorConfig& config);

// Grid step, capacity (history / step + 1), the gap tolerance, the series TTL (series_ttl) and max_series.
// kInvalidConfig naming the detector when the result is not valid.
[[nodiscard]] Result<series::StoreOptions> StoreOptionsFor(const DetectorConfig& config);

// Everything the detector core needs: the two above, the refit interval, resolve_after, rebaseline_after,
// seasonality auto and the fixed maintenance windows (the maintenance condition is a query: the caller
// evaluates it and passes the times to Detector::Ingest).
[[nodiscard]] Result<series::DetectorOptions> DetectorOptionsFor(const DetectorConfig& config);

// The query client's options for the `prometheus` block (secrets stay file paths; the client reads them).
// Retries, backoff and the breaker keep the client's defaults.
prom::ClientOptions ClientOptionsFor(const PrometheusConfig& config, std::string user_agent);

}  // namespace anomaly::config
