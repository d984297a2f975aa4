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
// The seasonal part of Expected: the model's cycles at that phase (0 for kBaseline). Negative steps_ahead
// (points inside the fitted window) repeat the last fitted cycle backwards.
double SeasonalAt(const FittedModel& model, int64_t steps_ahead);

// The error scale at an expected value: model.scale, times (f / level_reference)^level_exponent where the
// noise grows with the level (f the expected value held to the fitted range; FittedModel), or for counts at
// least the Poisson scale
// sqrt(phi * (max(expected + bias, 0) + 3/8)), phi = FittedModel::count_dispersion and bias its
// count_bias (the 3/8 is Anscombe's).
// A series of low counts (mostly 0, sometimes 1 or 2) has a MAD of 0 and a mean-deviation scale of about
// 0.2, which read a single 1 as 5 sigma; Poisson noise at that rate is never narrower than its square root.
double ScaleAt(const FittedModel& model, double expected);

struct PointScore {
  double expected = 0;
  double scale = 0;   // ScaleAt(model, expected)
  double zscore = 0;  // (value - expected) / scale
};

// REQUIRES: value finite, steps_since_fit_end >= 0.
PointScore ScorePoint(const FittedModel& model, double value, int64_t steps_since_fit_end);
// The same against an expected value the caller computed: a kBaseline model's trailing median at the
// scored point (FittedModel::baseline_window), which needs the window the model has no copy of.
PointScore ScoreAgainst(const FittedModel& model, double value, double expected);

// Counts (model.count_dispersion > 0): -log10 of the chance, under the model's own count noise at
// `expected`, of a value at least this high: P(X >= value) for X ~ d * Poisson(rate / d), rate = expected +
// count_bias and d = ScaleAt(model, expected)^2 / (rate + 3/8), the dispersion the scale stands for (1 for
// Poisson noise, more where the fitted scale is wider). Continuous in value: the regularised incomplete
// gamma P(value / d, rate / d), which is the Poisson tail at every integer. +infinity (no evidence against
// the sample) for any other series, a value at or below the rate or the expected value (a deviation
// downward is not this tail's), or a rate of 0. The calibrator's learned
// spike tail cannot see this at low rates: there every |z| sits on a lattice of a few values whose spacing
// changes with the rate over the day (likelihood.h, NoiseTail).
double CountNegLog10Tail(const FittedModel& model, double value, double expected);

// The z-score, at `expected`, of the value whose CountNegLog10Tail is `target` (> 0); 0 for any series but
// counts.
double CountQuantileZ(const FittedModel& model, double expected, double target);

}  // namespace anomaly::scoring
