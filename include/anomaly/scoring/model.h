// The per-series model the scorer carries forward: a fit of STL (one period), MSTL (several) or a robust
// non-seasonal baseline, reduced to what scoring the next samples needs (the last cycle of each seasonal
// component, the trend level and slope at the end, the z-score scale and the learned |z| threshold).
// Pure: spans and parameter structs in, values out; no I/O, clock, globals or locks. Thread-compatible:
// one ModelWorkspace per thread; a FittedModel is immutable once returned and may be shared.
//
//   ModelParams p{.periods = {288}};
//   ModelWorkspace ws;
//   Result<FittedModel> m = FitModel(window_values, p, ws);
//   PointScore s = ScorePoint(*m, new_value, /*steps_since_fit_end=*/1);   // scorer.h
//   Judgement j = Judge(calibrator, s.zscore, p.calibration);             // likelihood.h
//
// Seam for later detectors: the series stage consumes only a z-score (scorer.h), the calibrator and the
// episode state (likelihood.h); a multivariate GroupDetector (Mahalanobis distance over several series'
// remainders) would add its own FitGroupModel/ScoreGroupPoint and reuse Judge, AdvanceEpisode and Verdict.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/scoring/stl.h"
#include "anomaly/scoring/likelihood.h"
#include "anomaly/scoring/thresholds.h"
#include "anomaly/scoring/verdict.h"

namespace anomaly::scoring {

// A seasonal period is fitted only where the history holds it this many times; shorter histories get the
// baseline. Robust STL rejects a past incident by outvoting it within its cycle-subseries (one value per
// cycle at each phase); with two cycles the two residuals are equal and opposite, so neither is rejected
// and half of the incident enters the seasonal component, to come back as a false anomaly a period later
// (measured: an x2.5 surge in a 2.5-day history at 1-minute steps was flagged again a day later, 79
// minutes). Three cycles is the fewest where one bad cycle is outvoted.
inline constexpr size_t kMinSeasonalCycles = 3;

// What the app fills from a detector's config. Defaults are those of the config reference.
struct ModelParams {
  // Seasonal periods in samples (each >= 2). Empty: non-seasonal (baseline). One: STL. Several: MSTL.
  // Periods the history does not hold kMinSeasonalCycles times are dropped for this fit; if none is left,
  // the baseline is used and the model says kBaseline.
  std::vector<int> periods;
  // STL options. `period` is ignored (taken from `periods`). Robust by default: a past incident must not
  // bend the seasonal pattern. Periodic by default (each phase's seasonal is its mean over the window, as
  // Twitter's AnomalyDetection and anomalize fit it): R's s.window = 7 lets the seasonal absorb about half
  // of the noise on a 14-cycle window (measured: remainder scale 0.55 sigma), which understates the scale
  // and carries that noise forward in the last cycle. The window is bounded and refitted, so a slowly
  // changing pattern is still followed. With several periods, periodic gives each MSTL component the
  // window 10 n + 1 (R's periodic window); otherwise MSTL's defaults (11, 15, ...) apply.
  StlParams stl = {.periodic = true, .robust = true};
  // How z-scores become calibrated scores and verdicts (likelihood.h). The fit fills the workspace's
  // history_z with its newest calibration.long_window in-sample z-scores, to seed a new series' calibrator.
  CalibrationParams calibration;
  Direction direction = Direction::kBoth;
  // Consecutive anomalous samples before an episode opens (>= 1). Used by AdvanceEpisode, not by the fit.
  int persistence = 1;
  // The fewest points any model is fitted on (>= 4). Fewer: the series is insufficient_data.
  int min_points = 10;
  // The baseline's trailing median window in samples (>= 3), clamped to half the history.
  int baseline_window = 30;
  // How the trend is carried forward: level + slope * (phi + phi^2 + ... + phi^h), phi = trend_damping in
  // [0, 1). 0 carries the level only (flat); the default 0.9 continues a slope for at most 9 steps' worth,
  // so a loess end effect or a ramp that just ended cannot overshoot for long (Gardner's damped trend).
  double trend_damping = 0.9;
  // The smallest z-score scale, in the query's unit (> 0): the last resort for an exactly flat series at 0.
  double min_scale = 1e-9;
};

// REQUIRES-style check of every field; kInvalidInput naming the field.
[[nodiscard]] Status ValidateModelParams(const ModelParams& params);

struct FittedModel {
  ModelKind kind = ModelKind::kBaseline;
  std::vector<int> periods;                          // the periods used, ascending; empty for kBaseline
  // Per period: its last fitted cycle, oldest first. float32 (~7 significant digits, far below any
  // series' noise): a model is kept per series, and at 1-minute steps a daily cycle is 1,440 values.
  std::vector<std::vector<float>> seasonal_cycles;
  double level = 0;         // trend at the last fitted point
  double slope = 0;         // trend change per step at the end (0 for kBaseline)
  // kBaseline: the trailing median's window w (params.baseline_window clamped to half the history). Its
  // expected value for a point is the median of the w points before it, so a scorer that holds the window
  // (series::Evaluate) follows the level between refits, as the fit's one-step remainders did; `level` is
  // that median at the end of the fit, the expected value for anyone who has only the model. 0 otherwise.
  int baseline_window = 0;
  double trend_damping = 0;
  ScaleEstimate scale;      // scale of the robust z-score: that of a forecast's error (see below)
  // Seasonal kinds: how much wider a forecast's error is than the in-sample remainder, measured by
  // forecasting the newest period from a fit without it, times sqrt(1 + the level's end-point variance
  // factor) (>= 1; 1 for kBaseline). `scale` includes it; the workspace's history_z is taken before it, so
  // that the in-sample remainders stand in for forecast errors of the same shape.
  double forecast_scale_ratio = 1;
  // Counts (every observed value fitted a non-negative integer): the dispersion phi in (0, 1] of their
  // remainder against Poisson noise, var(remainder) / mean(fitted + count_bias), capped at 1; no error
  // scale is then taken below sqrt(phi * (expected + count_bias + 3/8)) (ScaleAt, scorer.h). 0 for any other series, and for
  // integers that do not vary (a replica count: phi 0, a step of 1 is news).
  double count_dispersion = 0;
  // Counts: the remainder's mean, added to the expected value for the Poisson floor. A median baseline
  // of counts that are mostly 0 expects 0 where the rate is 0.7 (the mean, not the median, is Poisson's
  // variance). 0 for any other series.
  double count_bias = 0;
  // Noise that grows with the level (traffic: quieter nights are also less noisy): the error scale at an
  // expected value f is scale * (f / level_reference)^level_exponent, f held to [level_low, level_high],
  // the range of fitted values seen. The exponent in (0, 1] is measured per fit, the slope of log(median
  // |remainder|) on log(fitted) over eight bins of the fitted values; 0 (one scale) for counts, series
  // not strictly positive, or a fitted range narrower than 1.5x.
  double level_exponent = 0;
  double level_reference = 0;
  double level_low = 0;
  double level_high = 0;
  Direction direction = Direction::kBoth;
  int64_t points = 0;       // samples fitted
  int64_t observed_points = 0;  // of those, the ones really observed (not filled), whose remainder counted
};

// Reusable scratch memory: no allocation per fit once warmed up. One per thread.
struct ModelWorkspace {
  StlWorkspace stl;
  StlResult stl_result;
  std::vector<double> remainder;
  // After a successful fit: the newest observed in-sample remainders over the scale before the forecast
  // ratio (signed, oldest first, at most calibration.long_window), and the slot offset of each from the
  // end of the fitted values (values.size() - 1 - index), for seeding a calibrator in time order.
  std::vector<double> history_z;
  std::vector<int64_t> history_age;
  // Counts only (else empty): CountNegLog10Tail (scorer.h) of each of those samples, as the live path
  // bounds a spike's tail with it.
  std::vector<double> history_count_tail;
  std::vector<double> scratch;
  std::vector<double> holdout_errors;
  std::vector<double> holdout_remainder;
  std::vector<std::pair<double, double>> level_pairs;  // (fitted, |remainder|) for the level exponent
  std::vector<double> level_scaled;                    // the remainders brought to the reference level
};

// Fits `values` (a regular grid, oldest first, no NaN: gaps filled before). `observed`, when not empty,
// has one entry per value, 0 where the value was filled in: filled points shape the decomposition but are
// left out of the scale and the threshold history (STL.md §6, option 2).
// Errors: kInvalidInput when params are invalid, values.size() < min_points, a value is not finite, or
// observed has the wrong size. Decomposition errors are returned with context.
[[nodiscard]] Result<FittedModel> FitModel(std::span<const double> values, std::span<const uint8_t> observed,
                                           const ModelParams& params, ModelWorkspace& workspace);
[[nodiscard]] Result<FittedModel> FitModel(std::span<const double> values, const ModelParams& params,
                                           ModelWorkspace& workspace);

// The in-sample fit of `values` that FitModel decomposes them into (the same periods kept, the same STL,
// MSTL or trailing median): for each value, the value less its remainder, which is the trend plus the
// seasonal components, or the baseline's trailing median of the points before it. NaN where the
// decomposition has none (the baseline's first window). For drawing a series' expected value across its
// window (the series page); the forecast scale's hold-out fit is not run. Errors as FitModel's.
[[nodiscard]] Result<std::vector<double>> FittedValues(std::span<const double> values, const ModelParams& params,
                                                       ModelWorkspace& workspace);

}  // namespace anomaly::scoring
