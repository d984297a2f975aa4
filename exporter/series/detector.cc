#include "anomaly/series/detector.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace anomaly::series {

Result<Detector> Detector::Create(DetectorOptions options) {
  if (Status s = scoring::ValidateModelParams(options.evaluate.model); !s) return tl::unexpected(s.error());
  Result<SeriesStore> store = SeriesStore::Create(options.store);
  if (!store) return tl::unexpected(store.error());
  return Detector(std::move(options), std::move(*store));
}

bool Detector::InMaintenance(int64_t t_ms, std::span<const int64_t> condition_times) const {
  for (const TimeRange& w : options_.maintenance) {
    if (t_ms >= w.start_ms && t_ms < w.end_ms) return true;
  }
  return std::binary_search(condition_times.begin(), condition_times.end(), t_ms);
}

IngestResult Detector::Ingest(const Labels& labels, std::span<const Sample> samples, int64_t now_ms,
                              std::span<const int64_t> condition_times) {
  if (options_.maintenance.empty() && condition_times.empty()) return store_.Ingest(labels, samples, now_ms);
  std::vector<Sample> masked(samples.begin(), samples.end());
  for (Sample& s : masked) {
    if (InMaintenance(s.timestamp_ms, condition_times)) s.value = std::numeric_limits<double>::quiet_NaN();
  }
  return store_.Ingest(labels, masked, now_ms);
}

size_t Detector::Expire(int64_t now_ms) {
  const size_t dropped = store_.Expire(now_ms);
  if (dropped > 0) {
    std::erase_if(detected_periods_, [this](const auto& kv) { return store_.Find(kv.first) == nullptr; });
  }
  return dropped;
}

void Detector::Evaluate(int64_t now_ms, bool maintenance_now, const SeriesFn& fn) {
  store_.ForEach([&](const Labels& labels, SeriesEntry& entry) {
    Evaluation ev;
    if (maintenance_now) {
      ev.verdict = entry.verdict;
      ev.verdict.state = scoring::SeriesState::kMaintenance;
      ev.verdict.anomalous = false;
      ev.verdict.anomalous_since_ms = 0;
      ev.verdict.peak_score = 0;
      ev.verdict.relearning = false;
      EndEpisode(entry);
      fn(labels, entry, ev);
      return;
    }
    EvaluateOptions options = options_.evaluate;
    if (options_.auto_seasonality) {
      auto it = detected_periods_.find(labels);
      const bool detected_before = it != detected_periods_.end();
      if (SeasonalityDetectionDue(entry, detected_before, now_ms, options.refit_interval)) {
        std::vector<int> periods = DetectPeriodsOnWindow(entry, options_.store.step);
        if (!detected_before) it = detected_periods_.emplace(labels, PeriodChoice{}).first;
        const bool changed =
            UpdatePeriodChoice(it->second, std::move(periods), !detected_before, now_ms, options_.store.step);
        if (changed && on_periods_) on_periods_(labels, it->second.current);
      }
      options.model.periods = it->second.current;
    }
    const auto t0 = std::chrono::steady_clock::now();
    ev = series::Evaluate(entry, options_.store, options, now_ms, workspace_);
    if (ev.fitted) ev.fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fn(labels, entry, ev);
  });
}

}  // namespace anomaly::series
