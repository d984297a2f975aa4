#include "anomaly/scoring/scorer.h"

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

PointScore ScorePoint(const FittedModel& model, double value, int64_t steps_since_fit_end) {
  PointScore s;
  s.expected = Expected(model, steps_since_fit_end);
  const double half_band = model.threshold * model.scale.scale;
  s.lower = s.expected - half_band;
  s.upper = s.expected + half_band;
  s.zscore = (value - s.expected) / model.scale.scale;
  s.score = std::abs(s.zscore) / model.threshold;
  bool in_direction = model.direction == Direction::kBoth ||
                      (model.direction == Direction::kUp && s.zscore > 0) ||
                      (model.direction == Direction::kDown && s.zscore < 0);
  s.anomalous_in_direction = s.score >= 1 && in_direction;
  return s;
}

FlagStep AdvanceFlag(const FlagState& state, const PointScore& score, int persistence, int64_t timestamp_ms) {
  FlagStep step;
  if (!score.anomalous_in_direction) return step;  // a normal point ends the run
  step.state.consecutive = state.consecutive + 1;
  step.state.run_start_ms = state.consecutive == 0 ? timestamp_ms : state.run_start_ms;
  step.flag = step.state.consecutive >= persistence;
  step.anomalous_since_ms = step.flag ? step.state.run_start_ms : 0;
  return step;
}

}  // namespace anomaly::scoring
