// Turns one series' stored window into its verdict at a cycle: scores every sample that arrived since the
// last one scored, in time order (so persistence counts samples, not cycles), against a model fitted on
// strictly earlier data, then refits when due. Same threading rule as the SeriesStore entry it mutates.
#pragma once

#include <chrono>
#include <cstdint>
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
  // The app's fit budget for this series in this cycle. false: no fit now (a series without a model stays
  // warming_up, one with a model keeps using it).
  bool allow_fit = true;
};

struct Evaluation {
  scoring::Verdict verdict;  // also stored in the entry
  int scored = 0;            // samples scored in this call
  bool fitted = false;       // a fit ran (successfully) in this call
  Status fit_status;         // a failed fit: the previous model (if any) is kept
};

// The verdict, by precedence:
//   stale              the store was marked stale and the series not ingested since: last verdict, kStale;
//   insufficient_data  fewer than model.min_points grid points before the newest sample;
//   gap                the newest sample is older than (max_gap_points + 1) * step at now_ms, or fewer than
//                      resume_points observed samples since a long gap;
//   warming_up         no model yet and allow_fit is false;
//   ok                 scored; the flag comes from the entry's FlagState.
// The first fit takes every point before the newest sample as history and scores the newest only. Filled
// points are never scored. The verdict's timestamp is the scored sample's grid slot time (slot * step).
// A cycle without new samples keeps the last scored verdict (state ok).
// States other than ok reset the persistence run. REQUIRES: options.model valid (ValidateModelParams).
Evaluation Evaluate(SeriesEntry& entry, const StoreOptions& store, const EvaluateOptions& options,
                    int64_t now_ms, scoring::ModelWorkspace& workspace);

// seasonality: auto, shared by the daemon and backtest so that both choose the same periods at the same
// cycles. Detection is due at a series' first cycle (nothing detected yet) and again whenever its model is
// refitted (model older than refit_interval), so a seasonality that appears or changes is followed.
bool SeasonalityDetectionDue(const SeriesEntry& entry, bool detected_before, int64_t now_ms,
                             std::chrono::milliseconds refit_interval);
// The periods scoring::DetectPeriods finds on the whole window (lags up to half of it); empty when the
// window holds too little or none stands out.
std::vector<int> DetectPeriodsOnWindow(const SeriesEntry& entry, std::chrono::milliseconds step);

}  // namespace anomaly::series
