// The robust statistic that turns a fitted remainder into a verdict scale: the z-score scale (1.4826 * MAD,
// with a documented fallback for flat series). What a z-score means is calibrated per series by
// likelihood.h. Pure and thread-compatible; the `scratch` buffer is the caller's and is reused.
//
//   ScaleEstimate s = RobustScale(remainder, level, /*min_scale=*/1e-9, scratch);
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace anomaly::scoring {

// Which rule produced the scale, best first. Anything but kMad means the remainder is (mostly) exactly
// constant: a flat or step-like series.
enum class ScaleSource {
  kMad,                    // 1.4826 * median(|r - median(r)|)
  kMeanAbsoluteDeviation,  // 1.2533 * mean(|r - median(r)|): MAD is 0 but the remainder is not constant
  kLevelFraction,          // 1e-3 * |level|: the remainder is exactly constant
  kAbsoluteFloor,          // min_scale: constant remainder and a level of (almost) zero
};

std::string_view ScaleSourceName(ScaleSource source);  // mad, mean_absolute_deviation, level_fraction, ...

struct ScaleEstimate {
  double scale = 0;  // > 0 always
  ScaleSource source = ScaleSource::kMad;
};

// The scale of the robust z-score: 1.4826 * MAD(remainder) (R's mad()). When the MAD is 0 (more than half
// the remainder is one value, as in flat or mostly-zero series) it falls back, in order, to
// sqrt(pi/2) * mean absolute deviation about the median (the consistent sigma estimate from the mean
// absolute deviation, IBM SPSS's "modified z" fallback), then to 1e-3 * |level| (a flat series at 100 gets
// a band of +-0.3 with threshold 3: jitter in the 4th digit does not flag, a step of 1 does), then to
// `min_scale`. A MAD or mean deviation below max(min_scale, 1e-9 * |level|) counts as zero (rounding noise
// of a decomposed flat series). The result is never below `min_scale`: a z-score never divides by zero.
// REQUIRES: every value finite; min_scale > 0. An empty remainder gives the level/floor fallbacks.
ScaleEstimate RobustScale(std::span<const double> remainder, double level, double min_scale,
                          std::vector<double>& scratch);

}  // namespace anomaly::scoring
