// Scores samples against a FittedModel (model.h): the expected value and the signed forecast z-score.
// What a z-score means for the verdict (calibration, episodes) is likelihood.h's. Pure and thread-compatible.
//
//   PointScore s = ScorePoint(model, value, steps_since_fit_end);
#pragma once

#include <cstdint>

#include "anomaly/scoring/model.h"

namespace anomaly::scoring {

// Trend carried forward (damped, see ModelParams::trend_damping) plus each seasonal component continued
// by phase. steps_ahead = 1 is the first grid step after the last fitted point; 0 is that point itself.
double Expected(const FittedModel& model, int64_t steps_ahead);

struct PointScore {
  double expected = 0;
  double zscore = 0;  // (value - expected) / scale
};

// REQUIRES: value finite, steps_since_fit_end >= 0.
PointScore ScorePoint(const FittedModel& model, double value, int64_t steps_since_fit_end);

}  // namespace anomaly::scoring
