// The backtest: replays one series' history through the daemon's own detector core (series::Detector:
// store, maintenance, seasonality auto, model, calibration, episodes), point by point in time order, so that the verdict at each sample is the one the
// daemon would have published when that sample was the newest: no look-ahead, refits on the refit
// interval of data time, persistence counted in samples. Pure computation over values in memory (the
// sources, series_input.h and the app's Prometheus fetch, are elsewhere); thread-compatible.
//
//   Result<BacktestResult> r = RunBacktest(samples, params);
//   for (const ScoredRow& row : r->rows) ...
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/result.h"
#include "anomaly/config/config.h"
#include "anomaly/scoring/model.h"
#include "anomaly/scoring/verdict.h"
#include "anomaly/series/detector.h"
#include "anomaly/series/series_store.h"

namespace anomaly::backtest {

// What the daemon's DetectorRunner takes from a detector's config (config/detector_params.h).
struct BacktestParams {
  series::DetectorOptions detector;  // the detector core's options, as the daemon builds them
  // The first cycle is at max(first sample, start_ms): every sample up to it is ingested at once (the
  // daemon's first query over its whole history) and only the newest of them is scored. nullopt: the
  // first sample (a pure stream from the start, as NAB scores).
  std::optional<int64_t> start_ms;
  // The times the maintenance condition held (sorted), where the source can tell (Prometheus); the fixed
  // maintenance windows are in `detector`.
  std::vector<int64_t> condition_times;
  // The series' labels where the source has them (Prometheus; none for a CSV). Its identity in the
  // detector core, which also sets its refit phase (series_store.h), so that the daemon and the backtest
  // refit a series at the same moments.
  Labels labels;
};

// The params a detector's config implies (the daemon's mapping) with start_ms unset.
[[nodiscard]] Result<BacktestParams> ParamsFor(const config::DetectorConfig& detector);

// Why a row has no verdict although it holds a value.
enum class RowIssue {
  kNone,
  kRepeated,    // same timestamp as the row before: the first one counts
  kOutOfOrder,  // older than a row before it (a clock set back, a daylight-saving hour)
};

// One input sample and what the daemon would have said right after it arrived.
struct ScoredRow {
  int64_t timestamp_ms = 0;
  double value = 0;
  // The verdict published at this sample. Meaningful scores only when `scored`.
  scoring::Verdict verdict;
  // This sample was scored itself (state ok, verdict.timestamp_ms is its slot): false before the first
  // cycle, while warming up / insufficient / in a gap, and for a repeated or out-of-order timestamp.
  bool scored = false;
  // The flag rose at this sample: the first flagged sample of an episode (where an alert would start).
  bool flag_rose = false;
  RowIssue issue = RowIssue::kNone;
};

struct BacktestResult {
  std::vector<ScoredRow> rows;  // one per input sample, in input order
  // The model in use at the end, and the periods (in samples) it was fitted with.
  scoring::ModelKind model = scoring::ModelKind::kBaseline;
  std::vector<int> periods;
  // seasonality auto: the periods each detection chose, in order (consecutive repeats merged).
  std::vector<std::vector<int>> detected_periods;
  int fits = 0;
  int flagged_rows = 0;
  int episodes = 0;
  int repeated_rows = 0;      // rows skipped as RowIssue::kRepeated
  int out_of_order_rows = 0;  // rows skipped as RowIssue::kOutOfOrder
};

// Called every few hundred samples and at the end with (done, total).
using ProgressFn = std::function<void(size_t done, size_t total)>;
// Asked before each sample is scored; true ends the run early (the score API's deadline). Must be cheap.
using StopFn = std::function<bool()>;

// REQUIRES nothing of the samples' spacing or order: they land on the store's step grid as in the daemon
// (a non-finite value is a missing sample); a row whose timestamp is not newer than every row before it gets
// no verdict and is counted (RowIssue). kInvalidInput when params are invalid; kCancelled ("stopped after N
// of M samples") when `stop` returned true.
[[nodiscard]] Result<BacktestResult> RunBacktest(std::span<const series::Sample> samples,
                                                 const BacktestParams& params, const ProgressFn& progress = {},
                                                 const StopFn& stop = {});

}  // namespace anomaly::backtest
