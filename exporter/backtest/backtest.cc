#include "anomaly/backtest/backtest.h"

#include <algorithm>
#include <utility>

#include "anomaly/config/detector_params.h"
#include "anomaly/series/evaluate.h"

namespace anomaly::backtest {
namespace {

constexpr size_t kProgressEvery = 256;

}  // namespace

Result<BacktestParams> ParamsFor(const config::DetectorConfig& detector) {
  Result<scoring::ModelParams> model = config::ModelParamsFor(detector);
  if (!model) return tl::unexpected(model.error());
  Result<series::StoreOptions> store = config::StoreOptionsFor(detector);
  if (!store) return tl::unexpected(store.error());
  BacktestParams p;
  p.model = std::move(*model);
  p.store = *store;
  p.refit_interval = detector.refit_interval;
  p.auto_seasonality = detector.seasonality.mode == config::SeasonalityMode::kAuto;
  return p;
}

Result<BacktestResult> RunBacktest(std::span<const series::Sample> samples, const BacktestParams& params,
                                   const ProgressFn& progress) {
  if (Status s = scoring::ValidateModelParams(params.model); !s) return tl::unexpected(s.error());
  Result<series::SeriesStore> store = series::SeriesStore::Create(params.store);
  if (!store) return tl::unexpected(store.error());
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].timestamp_ms < samples[i - 1].timestamp_ms) {
      return MakeError(ErrorCode::kInvalidInput, "sample " + std::to_string(i + 1) + ": timestamp decreases");
    }
  }

  BacktestResult result;
  result.rows.resize(samples.size());
  const Labels labels;  // one series
  series::EvaluateOptions options;
  options.model = params.model;
  options.refit_interval = params.refit_interval;
  scoring::ModelWorkspace workspace;
  std::optional<std::vector<int>> detected;  // auto: the periods in use; nullopt before the first cycle
  bool was_flagged = false;

  // The first cycle takes everything up to its time at once; later cycles one sample each.
  size_t i = 0;
  const int64_t first_cycle_ms =
      samples.empty() ? 0 : std::max(samples.front().timestamp_ms, params.start_ms.value_or(INT64_MIN));
  while (i < samples.size()) {
    size_t end = i + 1;
    if (i == 0) {
      while (end < samples.size() && samples[end].timestamp_ms <= first_cycle_ms) ++end;
    }
    const int64_t now_ms = std::max(samples[end - 1].timestamp_ms, i == 0 ? first_cycle_ms : INT64_MIN);
    store->Ingest(labels, samples.subspan(i, end - i), now_ms);
    series::SeriesEntry* entry = store->Find(labels);

    if (params.auto_seasonality) {
      if (series::SeasonalityDetectionDue(*entry, detected.has_value(), now_ms, params.refit_interval)) {
        detected = series::DetectPeriodsOnWindow(*entry, params.store.step);
        if (result.detected_periods.empty() || result.detected_periods.back() != *detected) {
          result.detected_periods.push_back(*detected);
        }
      }
      options.model.periods = *detected;
    }
    const series::Evaluation ev = series::Evaluate(*entry, store->options(), options, now_ms, workspace);
    if (ev.fitted) ++result.fits;

    for (size_t k = i; k < end; ++k) {
      ScoredRow& row = result.rows[k];
      row.timestamp_ms = samples[k].timestamp_ms;
      row.value = samples[k].value;
    }
    // Only the newest sample of a cycle can be scored by it (the first cycle's older ones are history).
    ScoredRow& row = result.rows[end - 1];
    row.verdict = ev.verdict;
    row.scored = ev.scored > 0 && ev.verdict.state == scoring::SeriesState::kOk &&
                 ev.verdict.timestamp_ms == series::SlotOf(row.timestamp_ms, params.store.step) *
                                                params.store.step.count();
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
      progress(i, samples.size());
    }
  }
  if (const series::SeriesEntry* entry = store->Find(labels); entry != nullptr && entry->model) {
    result.model = entry->model->kind;
    result.periods = entry->model->periods;
  }
  return result;
}

}  // namespace anomaly::backtest
