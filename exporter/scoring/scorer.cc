#include "anomaly/scoring/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "incomplete_gamma.h"

namespace anomaly::scoring {

namespace {

// phi + phi^2 + ... + phi^h for h >= 1; the trend moves linearly for h <= 0 (in-sample or backwards).
double DampedSteps(double phi, int64_t h) {
  if (h <= 0) return static_cast<double>(h);
  if (phi <= 0) return 0;
  return phi * (1 - std::pow(phi, static_cast<double>(h))) / (1 - phi);
}

// Past this rate (in units of the dispersion) the Wilson-Hilferty normal approximation of the gamma tail is
// within a few per cent of the exact one, and the exact series would need hundreds of terms.
constexpr double kExactTailMaxRate = 100;

// -log10 of the regularised lower incomplete gamma P(a, x), for a > x > 0: the chance that a Poisson(x)
// reaches a. The series sum_n x^n / ((a+1)...(a+n)) converges with ratio below x / a < 1.
double NegLog10GammaP(double a, double x) {
  if (x > kExactTailMaxRate) {
    // Wilson-Hilferty: (G_a / a)^(1/3) is about normal with mean 1 - 1/(9a) and variance 1/(9a).
    const double w = 3 * std::sqrt(a) * (std::cbrt(x / a) - 1 + 1 / (9 * a));
    const double tail = 0.5 * std::erfc(-w / std::numbers::sqrt2);
    if (tail > 1e-300) return -std::log10(tail);
    // Q(t) ~ phi(t) / t far out, t = -w.
    return (0.5 * w * w + std::log(-w * std::sqrt(2 * std::numbers::pi))) / std::numbers::ln10;
  }
  const double ln_p = a * std::log(x) - x - LogGamma(a + 1) + LogLowerGammaSeries(a, x);
  return std::max(0.0, -ln_p / std::numbers::ln10);
}

struct CountNoise {
  double rate = 0;        // expected + count_bias, >= 0
  double dispersion = 1;  // d: the value is d times a Poisson(rate / d)
  double scale = 0;
};

CountNoise CountNoiseAt(const FittedModel& model, double expected) {
  CountNoise n;
  n.rate = std::max(expected + model.count_bias, 0.0);
  n.scale = ScaleAt(model, expected);
  n.dispersion = n.scale * n.scale / (n.rate + 0.375);
  return n;
}

}  // namespace

double CountNegLog10Tail(const FittedModel& model, double value, double expected) {
  constexpr double kNone = std::numeric_limits<double>::infinity();
  if (!(model.count_dispersion > 0)) return kNone;
  const CountNoise n = CountNoiseAt(model, expected);
  if (!(n.rate > 0) || !(n.dispersion > 0) || !(value > n.rate) || !(value > expected)) return kNone;
  return NegLog10GammaP(value / n.dispersion, n.rate / n.dispersion);
}

double CountQuantileZ(const FittedModel& model, double expected, double target) {
  if (!(model.count_dispersion > 0)) return 0;
  const CountNoise n = CountNoiseAt(model, expected);
  if (!(n.rate > 0) || !(n.dispersion > 0) || !(n.scale > 0)) return 0;
  const double mu = n.rate / n.dispersion;
  // Bisection on a (the value over d): the tail falls monotonically as a rises past mu.
  double lo = mu, hi = mu + 1 + 4 * std::sqrt(mu + 1);
  for (int i = 0; i < 60 && NegLog10GammaP(hi, mu) < target; ++i) hi = mu + 2 * (hi - mu);
  for (int i = 0; i < 30; ++i) {
    const double mid = 0.5 * (lo + hi);
    (NegLog10GammaP(mid, mu) < target ? lo : hi) = mid;
  }
  return (hi * n.dispersion - expected) / n.scale;
}

double SeasonalAt(const FittedModel& model, int64_t steps_ahead) {
  double seasonal = 0;
  for (const std::vector<float>& cycle : model.seasonal_cycles) {
    // cycle.back() is the last fitted point (steps_ahead 0); steps_ahead 1 continues with cycle.front().
    const auto p = static_cast<int64_t>(cycle.size());
    int64_t phase = ((steps_ahead - 1) % p + p) % p;
    seasonal += static_cast<double>(cycle[static_cast<size_t>(phase)]);
  }
  return seasonal;
}

double Expected(const FittedModel& model, int64_t steps_ahead) {
  return model.level + model.slope * DampedSteps(model.trend_damping, steps_ahead) + SeasonalAt(model, steps_ahead);
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
