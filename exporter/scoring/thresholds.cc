#include "anomaly/scoring/thresholds.h"

#include <algorithm>
#include <cmath>

#include "anomaly/scoring/robust_stats.h"

namespace anomaly::scoring {

namespace {

// sqrt(pi / 2): for a normal distribution, sigma = sqrt(pi / 2) * E|X - mu|.
constexpr double kMeanAbsDevToSigma = 1.2533141373155003;
// The fraction of |level| used as the scale of an exactly constant remainder (see the header).
constexpr double kLevelFraction = 1e-3;
// Scales below this fraction of |level| are rounding noise, not variation.
constexpr double kRoundingNoise = 1e-9;

}  // namespace

std::string_view ScaleSourceName(ScaleSource source) {
  switch (source) {
    case ScaleSource::kMad:
      return "mad";
    case ScaleSource::kMeanAbsoluteDeviation:
      return "mean_absolute_deviation";
    case ScaleSource::kLevelFraction:
      return "level_fraction";
    case ScaleSource::kAbsoluteFloor:
      return "absolute_floor";
  }
  return "unknown";
}

ScaleEstimate RobustScale(std::span<const double> remainder, double level, double min_scale,
                          std::vector<double>& scratch) {
  // A decomposition of an exactly flat series leaves rounding noise (~1e-16 relative) in its remainder;
  // a scale at that size is zero in disguise and would flag the next bit of jitter.
  const double negligible = std::max(min_scale, kRoundingNoise * std::abs(level));
  if (!remainder.empty()) {
    Result<double> median = Median(remainder, scratch);
    Result<double> mad = ScaledMad(remainder, scratch);
    if (median && mad && *mad >= negligible) return {*mad, ScaleSource::kMad};
    if (median) {
      double sum = 0;
      for (double r : remainder) sum += std::abs(r - *median);
      double mean_abs = kMeanAbsDevToSigma * sum / static_cast<double>(remainder.size());
      if (mean_abs >= negligible) return {mean_abs, ScaleSource::kMeanAbsoluteDeviation};
    }
  }
  double from_level = kLevelFraction * std::abs(level);
  if (std::isfinite(from_level) && from_level >= min_scale) return {from_level, ScaleSource::kLevelFraction};
  return {min_scale, ScaleSource::kAbsoluteFloor};
}

}  // namespace anomaly::scoring
