// Scores samples against a FittedModel (model.h), and the only state the verdict needs beyond that: the
// persistence counter and the start of the flagged episode (FlagState), advanced by a pure function. The
// series stage keeps one FlagState per series. Pure and thread-compatible.
//
//   PointScore s = ScorePoint(model, value, steps_since_fit_end);
//   FlagStep f = AdvanceFlag(state, s, params.persistence, timestamp_ms);  state = f.state;
#pragma once

#include <cstdint>

#include "anomaly/scoring/model.h"

namespace anomaly::scoring {

// Trend carried forward (damped, see ModelParams::trend_damping) plus each seasonal component continued
// by phase. steps_ahead = 1 is the first grid step after the last fitted point; 0 is that point itself.
double Expected(const FittedModel& model, int64_t steps_ahead);

struct PointScore {
  double expected = 0;
  double lower = 0;   // expected - threshold * scale (symmetric also for one-sided directions)
  double upper = 0;   // expected + threshold * scale
  double zscore = 0;  // (value - expected) / scale
  double score = 0;   // |zscore| / threshold; >= 1 is anomalous before direction and persistence
  bool anomalous_in_direction = false;  // score >= 1 and the sign of zscore matches model.direction
};

// REQUIRES: value finite, steps_since_fit_end >= 0.
PointScore ScorePoint(const FittedModel& model, double value, int64_t steps_since_fit_end);

struct FlagState {
  int consecutive = 0;         // anomalous points in a row, in the configured direction
  int64_t run_start_ms = 0;    // timestamp of the first point of that run; 0 when consecutive == 0
  friend bool operator==(const FlagState&, const FlagState&) = default;
};

struct FlagStep {
  FlagState state;
  bool flag = false;           // consecutive >= persistence
  int64_t anomalous_since_ms = 0;  // the run's first timestamp while flagged, else 0
};

// One scored point in time order. A normal point ends the run. REQUIRES: persistence >= 1.
FlagStep AdvanceFlag(const FlagState& state, const PointScore& score, int persistence, int64_t timestamp_ms);

}  // namespace anomaly::scoring
