#include "anomaly/backtest/backtest.h"

#include <algorithm>
#include <string>
#include <utility>

#include "anomaly/config/detector_params.h"
#include "anomaly/series/detector.h"

namespace anomaly::backtest {
namespace {

constexpr size_t kProgressEvery = 256;

}  // namespace

Result<BacktestParams> ParamsFor(const config::DetectorConfig& detector) {
  Result<series::DetectorOptions> options = config::DetectorOptionsFor(detector);
  if (!options) return tl::unexpected(options.error());
  BacktestParams p;
  p.detector = std::move(*options);
  return p;
}

Result<BacktestResult> RunBacktest(std::span<const series::Sample> all, const BacktestParams& params,
                                   const ProgressFn& progress, const StopFn& stop) {
  Result<series::Detector> core = series::Detector::Create(params.detector);
  if (!core) return tl::unexpected(core.error());

  BacktestResult result;
  result.rows.resize(all.size());
  // Rows that are not newer than every row before them get no verdict; the rest are the stream.
  std::vector<series::Sample> samples;
  std::vector<size_t> row_of;  // samples[j] is all[row_of[j]]
  samples.reserve(all.size());
  row_of.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    ScoredRow& row = result.rows[i];
    row.timestamp_ms = all[i].timestamp_ms;
    row.value = all[i].value;
    if (!samples.empty() && all[i].timestamp_ms <= samples.back().timestamp_ms) {
      const bool repeated = all[i].timestamp_ms == samples.back().timestamp_ms;
      row.issue = repeated ? RowIssue::kRepeated : RowIssue::kOutOfOrder;
      ++(repeated ? result.repeated_rows : result.out_of_order_rows);
      continue;
    }
    samples.push_back(all[i]);
    row_of.push_back(i);
  }

  const Labels& labels = params.labels;  // one series
  core->OnPeriodsChosen([&](const Labels&, const std::vector<int>& periods) {
    result.detected_periods.push_back(periods);
  });
  const std::chrono::milliseconds step = params.detector.store.step;
  bool was_flagged = false;

  // The first cycle takes everything up to its time at once; later cycles one sample each.
  size_t i = 0;
  const int64_t first_cycle_ms =
      samples.empty() ? 0 : std::max(samples.front().timestamp_ms, params.start_ms.value_or(INT64_MIN));
  while (i < samples.size()) {
    if (stop && stop()) {
      return MakeError(ErrorCode::kCancelled, "stopped after " + std::to_string(i) + " of " +
                                                  std::to_string(samples.size()) + " samples");
    }
    size_t end = i + 1;
    if (i == 0) {
      while (end < samples.size() && samples[end].timestamp_ms <= first_cycle_ms) ++end;
    }
    const int64_t now_ms = std::max(samples[end - 1].timestamp_ms, i == 0 ? first_cycle_ms : INT64_MIN);
    core->BeginCycle();
    core->Ingest(labels, std::span(samples).subspan(i, end - i), now_ms, params.condition_times);
    series::Evaluation ev;
    core->Evaluate(now_ms, core->InMaintenance(now_ms, params.condition_times),
                   [&](const Labels&, const series::SeriesEntry&, const series::Evaluation& e) { ev = e; });
    if (ev.fitted) ++result.fits;

    // Only the newest sample of a cycle can be scored by it (the first cycle's older ones are history).
    ScoredRow& row = result.rows[row_of[end - 1]];
    row.verdict = ev.verdict;
    row.scored = ev.scored > 0 && ev.verdict.state == scoring::SeriesState::kOk &&
                 ev.verdict.timestamp_ms == series::SlotOf(row.timestamp_ms, step) * step.count();
    if (!row.scored) {
      row.verdict.anomalous = false;
      row.verdict.anomalous_since_ms = 0;
    }
    const bool flagged = row.scored && row.verdict.anomalous;
    row.flag_rose = flagged && !was_flagged;
    if (row.scored || ev.verdict.state != scoring::SeriesState::kOk) was_flagged = flagged;
    if (flagged) ++result.flagged_rows;
    if (row.flag_rose) ++result.episodes;

    const size_t before = i;
    i = end;
    if (progress && (i / kProgressEvery != before / kProgressEvery || i == samples.size())) {
      progress(row_of[i - 1] + 1, all.size());
    }
  }
  if (progress && samples.size() < all.size()) progress(all.size(), all.size());
  if (const series::SeriesEntry* entry = core->store().Find(labels); entry != nullptr && entry->model) {
    result.model = entry->model->kind;
    result.periods = entry->model->periods;
  }
  return result;
}

}  // namespace anomaly::backtest
