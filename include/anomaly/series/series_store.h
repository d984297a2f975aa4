// The series stage: for one detector, every series' rolling window on the step grid, its fitted model and
// its verdict state (persistence counter, episode start, last verdict). The app ingests each cycle's query
// result, then evaluates every series (evaluate.h) and copies the verdicts into the snapshot.
// Thread-compatible, not thread-safe: owned by the one cycle worker that runs the detector. Scoring
// workers may evaluate disjoint entries concurrently (entries are independent), but never while the map
// itself changes (Ingest, Expire).
//
//   Result<SeriesStore> store = SeriesStore::Create({.step = 60s, .capacity_points = 10080, ...});
//   store->Ingest(labels, samples, now_ms);
//   store->ForEach([&](const Labels& l, SeriesEntry& e) { Evaluate(e, store->options(), eval, now_ms, ws); });
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/result.h"
#include "anomaly/scoring/likelihood.h"
#include "anomaly/scoring/model.h"
#include "anomaly/scoring/scorer.h"
#include "anomaly/scoring/verdict.h"
#include "anomaly/series/sample_window.h"

namespace anomaly::series {

// One sample as the series stage sees it. prom has its own identical struct; the app converts, so that
// series does not depend on prom.
struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

struct StoreOptions {
  std::chrono::milliseconds step{60'000};  // the grid; the detector's query step (> 0)
  // Grid points kept per series (>= 1): the detector's history / step. Bounds memory per series at about
  // 4.25 bytes per point (sample_window.h).
  size_t capacity_points = 10'080;
  // Gaps of at most this many missing grid points are interpolated (>= 0); longer ones are recorded as a
  // gap. Also sets how old the newest sample may be: older than (max_gap_points + 1) * step is a gap.
  int max_gap_points = 5;
  // Observed points needed after a long gap before the series is scored again (>= 1).
  int resume_points = 3;
  // Series not named by any Ingest for this long are dropped by Expire (> 0).
  std::chrono::milliseconds series_ttl{std::chrono::minutes(10)};
  // Most series kept (>= 1); new series beyond it are refused and counted, existing ones are kept.
  size_t max_series = 10'000;
};

[[nodiscard]] Status ValidateStoreOptions(const StoreOptions& options);  // kInvalidInput naming the field

struct SeriesEntry {
  explicit SeriesEntry(SampleWindow w) : window(std::move(w)) {}

  SampleWindow window;
  std::optional<int64_t> last_sample_ms;  // newest timestamp ingested (NaN samples included): overlap cut
  int64_t last_seen_ms = 0;               // cycle time of the last Ingest that named this series
  std::optional<int64_t> last_observed_ms;  // newest finite sample's timestamp
  std::optional<int64_t> last_scored_slot;  // newest grid slot scored, or taken as history by the first fit
  std::shared_ptr<const scoring::FittedModel> model;  // null until the first fit
  int64_t model_end_slot = 0;             // the slot of the last point the model was fitted on
  int64_t last_fit_ms = 0;                // cycle time of that fit (see refit_phase)
  // In [0, 1), from the series' labels (RefitPhase). The first fit counts as refit_phase x refit_interval
  // old, so the series' refits run at their own phase of the interval: a fleet whose series all first
  // fitted in one cycle does not refit them all in one cycle again every refit_interval (issue 16).
  double refit_phase = 0;
  scoring::CalibratorState calibrator;    // the stream of this series' forecast z-scores (likelihood.h)
  scoring::EpisodeState episode;          // the incident in progress, if any
  // Forecast errors (value - expected) of the open episode's samples, for re-baselining (evaluate.h).
  std::vector<double> episode_errors;
  bool relearning = false;                // the open episode re-baselined the model
  bool rebaseline_judged = false;         // the open episode was judged for re-baselining already
  // Level shifts taken as the new normal: every fit adds `delta` to the points before `slot`, so that a
  // lasting change is learned at once instead of after a whole history window. Oldest first.
  struct LevelShift {
    int64_t slot = 0;
    double delta = 0;
  };
  std::vector<LevelShift> level_shifts;
  // Slots of the samples scored anomalous, ascending, inside the window: a baseline model's trailing
  // median leaves them out (evaluate.cc), so a lasting incident does not become the expected value after
  // half a baseline window; re-baselining learns a lasting change instead.
  std::vector<int64_t> baseline_excluded;
  scoring::Verdict verdict;               // the last verdict published
  bool stale = false;                     // the upstream failed since the last Ingest of this series
  // Feedback (issue 18): false positives raise the calibrated score this series needs to be anomalous to
  // 1 + margin, the margin fading from feedback_margin_ms on (evaluate.h, FeedbackMarginAt).
  double feedback_margin = 0;
  int64_t feedback_margin_ms = 0;  // when feedback_margin was last raised (Unix ms)
};

struct IngestResult {
  bool refused = false;   // a new series over max_series: nothing stored
  size_t appended = 0;    // samples placed on the grid (new slots or a newer sample on the newest slot)
  size_t duplicates = 0;  // samples not newer than the last one ingested (the fetch overlap)
  size_t missing = 0;     // NaN or infinite samples: treated as missing
};

class SeriesStore {
 public:
  [[nodiscard]] static Result<SeriesStore> Create(const StoreOptions& options);

  // Appends the samples (sorted by time) newer than the last one ingested for `labels`, on the step grid.
  // Creates the series if new and under max_series. Marks the series seen at now_ms and not stale.
  IngestResult Ingest(const Labels& labels, std::span<const Sample> samples, int64_t now_ms);

  // nullptr when absent. The pointer stays valid until Expire removes the series.
  SeriesEntry* Find(const Labels& labels);
  const SeriesEntry* Find(const Labels& labels) const;

  // Removes the series; false when absent.
  bool Erase(const Labels& labels) { return series_.erase(labels) > 0; }

  // In label order (deterministic output).
  void ForEach(const std::function<void(const Labels&, SeriesEntry&)>& fn);
  void ForEach(const std::function<void(const Labels&, const SeriesEntry&)>& fn) const;

  // The upstream failed: every series keeps its last verdict and is evaluated as stale until ingested again.
  void MarkAllStale();
  // Drops the series last seen more than series_ttl before now_ms, so vanished series leave /metrics.
  // Returns how many were dropped.
  size_t Expire(int64_t now_ms);

  // Resets the refused-series count (the anomaly_exporter_series_dropped gauge) at a cycle's start.
  void BeginCycle() { refused_in_cycle_ = 0; }
  size_t refused_in_cycle() const { return refused_in_cycle_; }
  size_t size() const { return series_.size(); }
  const StoreOptions& options() const { return options_; }

 private:
  explicit SeriesStore(const StoreOptions& options) : options_(options) {}

  StoreOptions options_;  // constant after construction
  std::map<Labels, SeriesEntry> series_;
  size_t refused_in_cycle_ = 0;  // Ingest calls refused since BeginCycle (one per series per cycle)
};

// The series' refit phase in [0, 1), a stable hash of its labels (SeriesEntry::refit_phase); 0 for a
// series without labels (a backtest's CSV), whose refits fall a whole interval after its first fit.
double RefitPhase(const Labels& labels);

// The grid slot nearest to timestamp_ms: round(timestamp_ms / step).
int64_t SlotOf(int64_t timestamp_ms, std::chrono::milliseconds step);

}  // namespace anomaly::series
