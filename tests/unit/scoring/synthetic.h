// Synthetic series for the scoring model tests: a trend, sine seasonalities and seeded noise. The seed is
// part of every failure message (SCOPED_TRACE), so a failing case can be replayed.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

namespace anomaly::scoring::testing {

struct Seasonality {
  int period;
  double amplitude;
};

// The noise-free value at index t.
inline double Truth(int64_t t, double level, double slope, const std::vector<Seasonality>& seasons) {
  double y = level + slope * static_cast<double>(t);
  for (const Seasonality& s : seasons) {
    y += s.amplitude * std::sin(2 * std::numbers::pi * static_cast<double>(t) / s.period);
  }
  return y;
}

enum class Noise { kGaussian, kLaplace };

inline std::vector<double> Generate(size_t n, double level, double slope, const std::vector<Seasonality>& seasons,
                                    double noise_sigma, uint32_t seed, Noise kind = Noise::kGaussian) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, noise_sigma);
  std::exponential_distribution<double> expo(1 / noise_sigma);
  std::bernoulli_distribution coin(0.5);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t) {
    double e = kind == Noise::kGaussian ? gauss(rng) : (coin(rng) ? 1 : -1) * expo(rng);
    y[t] = Truth(static_cast<int64_t>(t), level, slope, seasons) + e;
  }
  return y;
}

}  // namespace anomaly::scoring::testing
