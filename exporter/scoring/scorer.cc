#include "anomaly/scoring/scorer.h"

#include <algorithm>
#include <cmath>

namespace anomaly::scoring {

namespace {

// phi + phi^2 + ... + phi^h for h >= 1; the trend moves linearly for h <= 0 (in-sample or backwards).
double DampedSteps(double phi, int64_t h) {
  if (h <= 0) return static_cast<double>(h);
  if (phi <= 0) return 0;
  return phi * (1 - std::pow(phi, static_cast<double>(h))) / (1 - phi);
}

}  // namespace

double Expected(const FittedModel& model, int64_t steps_ahead) {
  double expected = model.level + model.slope * DampedSteps(model.trend_damping, steps_ahead);
  for (const std::vector<double>& cycle : model.seasonal_cycles) {
    // cycle.back() is the last fitted point (steps_ahead 0); steps_ahead 1 continues with cycle.front().
    const auto p = static_cast<int64_t>(cycle.size());
    int64_t phase = ((steps_ahead - 1) % p + p) % p;
    expected += cycle[static_cast<size_t>(phase)];
  }
  return expected;
}

double ScaleAt(const FittedModel& model, double expected) {
  if (model.level_exponent > 0) {
    const double f = std::clamp(expected, model.level_low, model.level_high);
    return model.scale.scale * std::pow(f / model.level_reference, model.level_exponent);
  }
  if (!(model.count_dispersion > 0)) return model.scale.scale;
  const double rate = std::max(expected + model.count_bias, 0.0);
  return std::max(model.scale.scale, std::sqrt(model.count_dispersion * (rate + 0.375)));
}

PointScore ScorePoint(const FittedModel& model, double value, int64_t steps_since_fit_end) {
  return ScoreAgainst(model, value, Expected(model, steps_since_fit_end));
}

PointScore ScoreAgainst(const FittedModel& model, double value, double expected) {
  PointScore s;
  s.expected = expected;
  s.scale = ScaleAt(model, s.expected);
  s.zscore = (value - s.expected) / s.scale;
  return s;
}

}  // namespace anomaly::scoring
