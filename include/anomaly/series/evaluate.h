// Turns one series' stored window into its verdict at a cycle: scores every sample that arrived since the
// last one scored, in time order (so persistence counts samples, not cycles), against a model fitted on
// strictly earlier data, then refits when due. Same threading rule as the SeriesStore entry it mutates.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/scoring/model.h"
#include "anomaly/scoring/verdict.h"
#include "anomaly/series/series_store.h"

namespace anomaly::series {

struct EvaluateOptions {
  scoring::ModelParams model;
  // A model older than this is refitted after scoring (on everything in the window). 0: every cycle.
  std::chrono::milliseconds refit_interval{0};
  // An episode ends after this long without an anomalous sample (resolve_after in the config).
  std::chrono::milliseconds resolve_after{std::chrono::hours(1)};
  // An episode that has lasted this long, with its errors on one side, is taken as a new normal: the
  // model re-baselines on it (rebaseline_after in the config). 0: never.
  std::chrono::milliseconds rebaseline_after{std::chrono::hours(3)};
  // Report every scored sample's z-score in Evaluation::z_scores (a group of series judges its members'
  // z-scores together: group.h). Off for a detector of single series.
  bool report_z_scores = false;
};

// A series' sample scored at a grid slot: its value and forecast z-score.
struct SlotZ {
  int64_t slot = 0;
  double value = 0;
  float z = 0;
};

struct Evaluation {
  scoring::Verdict verdict;  // also stored in the entry
  int scored = 0;            // samples scored in this call
  bool fitted = false;       // a fit ran (successfully) in this call
  Status fit_status;         // a failed fit: the previous model (if any) is kept
  double fit_seconds = 0;    // Detector::Evaluate: the call's wall time when a fit ran (for the histogram)
  // With EvaluateOptions::report_z_scores: every sample scored in this call, oldest first.
  std::vector<SlotZ> z_scores;
};

// The verdict, by precedence:
//   stale              the store was marked stale and the series not ingested since: last verdict, kStale;
//   insufficient_data  fewer than model.min_points grid points before the newest sample;
//   gap                the newest sample is older than (max_gap_points + 1) * step at now_ms, or fewer than
//                      resume_points observed samples since a long gap;
//   warming_up         the first fit failed;
//   ok                 scored; score and flag come from the entry's calibrator and episode (likelihood.h).
// The first fit takes every point before the newest sample as history and scores the newest only; its
// in-sample z-scores are replayed through the calibrator and the episode first, in time order, so that a
// start (or a restart) begins with the spread, the episode and its start that a process running all along
// would have. Filled points are never scored. The verdict's timestamp is the scored sample's grid slot
// time (slot * step). A cycle without new samples keeps the last scored verdict (state ok).
// States other than ok end the episode. REQUIRES: options.model valid (ValidateModelParams).
Evaluation Evaluate(SeriesEntry& entry, const StoreOptions& store, const EvaluateOptions& options,
                    int64_t now_ms, scoring::ModelWorkspace& workspace);

// Feedback on a flagged episode (issue 18, docs/api.md). A false positive gives the series a margin: its
// calibrated score must reach 1 + margin to be anomalous. Evaluate applies it as a -log10 tail target
// (1 + margin) times the configured one, so the score keeps its meaning (the same on every series) and the
// verdict's threshold (the |z| needed, the band) rises. Capped at kMaxFeedbackMargin: the tail needed at
// most doubles; and it halves every kFeedbackHalfLife, so one false positive cannot silence a series.
inline constexpr double kMaxFeedbackMargin = 1.0;
inline constexpr std::chrono::hours kFeedbackHalfLife{24 * 7};
// The series' margin at t_ms: faded from feedback_margin_ms, rounded down to hundredths (0 below 0.01, so
// it ends), so that the calibration's per-target cache sees few distinct targets.
double FeedbackMarginAt(const SeriesEntry& entry, int64_t t_ms);
// A false positive given at now_ms on an episode that peaked at `peak_score`: the margin becomes at least
// what would have kept that peak below the decision (peak_score - 1 + 0.1) and at least 0.25 above its
// faded value, capped at kMaxFeedbackMargin. Returns the new margin.
double AddFalsePositive(SeriesEntry& entry, double peak_score, int64_t now_ms);

// Ends the series' episode, if any (maintenance, and every state without a score).
void EndEpisode(SeriesEntry& entry);

// seasonality: auto, shared by the daemon and backtest so that both choose the same periods at the same
// cycles. Detection is due at a series' first cycle (nothing detected yet) and again whenever its model is
// refitted (model older than refit_interval), so a seasonality that appears or changes is followed.
bool SeasonalityDetectionDue(const SeriesEntry& entry, bool detected_before, int64_t now_ms,
                             std::chrono::milliseconds refit_interval);
// The calendar periods (1h, 1d, 1w: SeasonalityOptions::calendar_only) scoring::DetectPeriods finds on the
// whole window (lags up to half of it); empty when the window holds too little or none stands out.
std::vector<int> DetectPeriodsOnWindow(const SeriesEntry& entry, std::chrono::milliseconds step);

// The periods a series uses under seasonality: auto, and a different answer detection has been giving.
struct PeriodChoice {
  std::vector<int> current;
  std::optional<std::vector<int>> candidate;
  int64_t candidate_since_ms = 0;  // when detection first gave the candidate without a break, in data time
};
// Folds a detection's answer at now_ms into the choice; true when the periods in use changed. The first
// answer is taken at once (`first`). A different answer must then hold at every detection for one cycle of
// the longest period either answer has (the autocorrelation at a lag moves meaningfully only as a cycle of
// new data comes in): a noisy series whose answer alternated refit by refit (NAB Twitter_volume_GOOG:
// none -> 1d -> none -> 1d ..., 25 changes, each re-seeding the calibrator) keeps its periods.
bool UpdatePeriodChoice(PeriodChoice& choice, std::vector<int> answer, bool first, int64_t now_ms,
                        std::chrono::milliseconds step);

}  // namespace anomaly::series
