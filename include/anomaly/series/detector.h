// The detector core: everything one configured detector does from samples to verdicts, with no I/O: the
// series store, maintenance masking, seasonality auto, and per series the model, the calibrated score and
// the episode (evaluate.h). The daemon's DetectorRunner feeds it query answers; the backtest feeds it a
// series' history sample by sample. Both get the same verdicts from the same samples, because this is the
// only path from one to the other. Later kinds (groups of series, on-demand scoring, feedback, state that
// survives restarts) plug in here: they see every series' entry in Evaluate's callback.
// Thread-compatible: one thread at a time (the cycle that owns the detector), which may lend Evaluate a
// ParallelPool.
//
//   Result<Detector> d = Detector::Create(options);         // config::DetectorOptionsFor(detector_config)
//   d->BeginCycle();
//   d->Ingest(labels, samples, now_ms, condition_times);
//   d->Evaluate(now_ms, d->InMaintenance(now_ms, condition_times), [&](const Labels& l, const SeriesEntry& e,
//                                                                  const Evaluation& ev) { ... });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/scoring/model.h"
#include "anomaly/series/evaluate.h"
#include "anomaly/series/series_store.h"

namespace anomaly::series {

// A fixed maintenance range [start_ms, end_ms).
struct TimeRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  friend bool operator==(const TimeRange&, const TimeRange&) = default;
};

struct DetectorOptions {
  StoreOptions store;
  EvaluateOptions evaluate;  // evaluate.model.periods is used unless auto_seasonality
  // seasonality: auto: scoring::DetectPeriods on each series' window at its first cycle and whenever its
  // refit is due (SeasonalityDetectionDue), the chosen periods held per series.
  bool auto_seasonality = false;
  std::vector<TimeRange> maintenance;  // the config's fixed maintenance windows
};

class Detector {
 public:
  // kInvalidInput naming the field when the options cannot make a store or a model.
  [[nodiscard]] static Result<Detector> Create(DetectorOptions options);

  void BeginCycle() { store_.BeginCycle(); }
  // One series' samples (sorted by time). A sample inside a maintenance window, or at one of
  // `condition_times` (sorted: the times the maintenance condition held), enters as missing: it is
  // neither fitted nor scored.
  IngestResult Ingest(const Labels& labels, std::span<const Sample> samples, int64_t now_ms,
                      std::span<const int64_t> condition_times = {});
  void MarkAllStale() { store_.MarkAllStale(); }
  size_t Expire(int64_t now_ms);
  bool InMaintenance(int64_t t_ms, std::span<const int64_t> condition_times) const;

  using SeriesFn = std::function<void(const Labels&, const SeriesEntry&, const Evaluation&)>;
  // Evaluates every series at now_ms and passes each one's result to `fn`, in label order, on the calling
  // thread. With `pool`, the series are fitted and scored on the pool's threads (each series is
  // independent, so the verdicts are the same as without one); seasonality auto's choices are reported
  // (OnPeriodsChosen) in label order too. With maintenance_now nothing is scored: each series reports its
  // last verdict in state maintenance, unflagged, and its episode ends.
  void Evaluate(int64_t now_ms, bool maintenance_now, const SeriesFn& fn, ParallelPool* pool = nullptr);

  // The streamed first cycle (the daemon's DetectorRunner): a series is evaluated on another thread as soon
  // as it is ingested, while the thread that owns the detector ingests the next ones from a download still
  // running; Evaluate then takes each one's result instead of evaluating it again, so the verdicts are the
  // same as without. The calls:
  //   ReserveWorkers(n)         the owner, before any RunPrepared: workers numbered [0, n);
  //   PrepareEvaluation(l, t)   the owner, after Ingest(l, ...): the series' task for Evaluate(t, ...), or
  //                             nullptr when the detector holds no such series (refused: max_series). At
  //                             most once per series per cycle: it must not be ingested again before
  //                             Evaluate;
  //   RunPrepared(task, w)      any thread, once per task, on worker w's scratch (no two at once on one w).
  //                             It touches the task's entry only, so Ingest of other series (a new node in
  //                             the store's map; no entry moves) may run at the same time;
  //   DropPrepared()            the owner, when no RunPrepared is running: forget them all (the answer
  //                             failed), e.g. before Forget.
  // Evaluate (no RunPrepared running) uses and then forgets the tasks run for its now_ms and maintenance_now
  // false; it evaluates every other series itself.
  struct PreparedEvaluation {
    SeriesEntry* entry = nullptr;
    PeriodChoice* choice = nullptr;  // seasonality auto only
    bool detected_before = false;
    bool periods_changed = false;
    int64_t now_ms = 0;
    bool done = false;  // RunPrepared ran
    Evaluation ev;
  };
  void ReserveWorkers(size_t workers);
  PreparedEvaluation* PrepareEvaluation(const Labels& labels, int64_t now_ms);
  void RunPrepared(PreparedEvaluation& task, size_t worker);
  void DropPrepared() { prepared_.clear(); }
  // Removes the series and all it holds (the rollback of a series a failed answer created). False when the
  // detector holds no such series. REQUIRES: no prepared evaluation of it.
  bool Forget(const Labels& labels);

  const SeriesStore& store() const { return store_; }
  // A false positive on an episode of `labels` that peaked at `peak_score` (evaluate.h AddFalsePositive):
  // the series' new margin, or nullopt when the detector holds no such series.
  std::optional<double> AddFalsePositive(const Labels& labels, double peak_score, int64_t now_ms);
  // A stored margin (--storage.path) raised at at_ms; false when the detector holds no such series.
  bool SetFeedbackMargin(const Labels& labels, double margin, int64_t at_ms);
  const DetectorOptions& options() const { return options_; }
  // seasonality auto: every change of a series' chosen periods so far, for the backtest's report.
  using PeriodsFn = std::function<void(const Labels&, const std::vector<int>&)>;
  void OnPeriodsChosen(PeriodsFn fn) { on_periods_ = std::move(fn); }

 private:
  Detector(DetectorOptions options, SeriesStore store) : options_(std::move(options)), store_(std::move(store)) {}
  // Sets up `task` to evaluate `entry` (of `labels`) at now_ms: its period choice with seasonality auto.
  void Prepare(PreparedEvaluation& task, const Labels& labels, SeriesEntry& entry, int64_t now_ms);

  DetectorOptions options_;  // constant after construction
  SeriesStore store_;
  std::vector<scoring::ModelWorkspace> workspaces_;  // one per worker of the pool in use (at least one)
  // PrepareEvaluation's tasks, until Evaluate or DropPrepared; each one's address is stable.
  std::vector<std::unique_ptr<PreparedEvaluation>> prepared_;
  // seasonality: auto, per series: the periods in use, and a different answer detection has been giving
  // (UpdatePeriodChoice: a change needs the new answer for one cycle of the longest period).
  std::map<Labels, PeriodChoice> detected_periods_;
  PeriodsFn on_periods_;
};

}  // namespace anomaly::series
