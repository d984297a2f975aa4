#include "anomaly/scoring/scorer.h"

#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"
#include "synthetic.h"

namespace anomaly::scoring {
namespace {

using ::anomaly::testing::IsOk;

FittedModel HandModel() {
  FittedModel m;
  m.kind = ModelKind::kStl;
  m.periods = {3};
  m.seasonal_cycles = {{1, 2, 3}};  // phases of the last 3 fitted points; 3 is the last one
  m.level = 10;
  m.scale = {0.5, ScaleSource::kMad};
  return m;
}

TEST(ScorerTest, ExpectedContinuesTheSeasonByPhase) {
  FittedModel m = HandModel();
  const double want[] = {13, 11, 12, 13, 11, 12, 13};  // steps 0..6
  for (int64_t h = 0; h <= 6; ++h) EXPECT_DOUBLE_EQ(Expected(m, h), want[h]) << "h=" << h;
  m.seasonal_cycles.push_back({0, 100});  // a second period of 2
  EXPECT_DOUBLE_EQ(Expected(m, 1), 11 + 0);
  EXPECT_DOUBLE_EQ(Expected(m, 2), 12 + 100);
}

TEST(ScorerTest, TrendIsDampedSoItCannotOvershoot) {
  FittedModel m;
  m.level = 0;
  m.slope = 1;
  m.trend_damping = 0.5;
  EXPECT_DOUBLE_EQ(Expected(m, 1), 0.5);
  EXPECT_DOUBLE_EQ(Expected(m, 2), 0.75);
  EXPECT_LT(Expected(m, 1000), 1.0 + 1e-12);  // bounded by slope * phi / (1 - phi)
  m.trend_damping = 0;
  EXPECT_DOUBLE_EQ(Expected(m, 50), 0);  // flat: level only
}

TEST(ScorerTest, ZScoreIsTheErrorInUnitsOfTheScale) {
  // Expected at step 1 is 11, scale 0.5.
  for (double value : {13.5, 8.5, 11.0}) {
    PointScore s = ScorePoint(HandModel(), value, 1);
    EXPECT_DOUBLE_EQ(s.expected, 11);
    EXPECT_DOUBLE_EQ(s.zscore, (value - 11) / 0.5);
  }
}

TEST(ScorerTest, InjectedSpikeIsFarOutAndNormalPointsAreNot) {
  for (uint32_t seed : {21u, 22u, 23u}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    const size_t n = 24 * 14;
    std::vector<double> all = testing::Generate(n + 24, 50, 0, {{24, 5.0}}, 0.5, seed);
    ModelParams p;
    p.periods = {24};
    ModelWorkspace ws;
    Result<FittedModel> m = FitModel(std::span<const double>(all).first(n), p, ws);
    ASSERT_THAT(m, IsOk());
    // The scale is a forecast error's (model.h), so normal points of the next day stay within ~3 sigma.
    int above = 0;
    for (int64_t h = 1; h <= 24; ++h) above += std::abs(ScorePoint(*m, all[n - 1 + h], h).zscore) >= 3;
    EXPECT_LE(above, 1);
    // A spike of 10 noise sigmas.
    EXPECT_GE(ScorePoint(*m, all[n] + 5, 1).zscore, 6);
    EXPECT_LE(ScorePoint(*m, all[n] - 5, 1).zscore, -6);
  }
}

FittedModel CountModel(double level, double bias) {
  FittedModel m;
  m.kind = ModelKind::kBaseline;
  m.level = level;
  m.count_dispersion = 1;
  m.count_bias = bias;
  // Below the Poisson floor: the count noise is Poisson.
  m.scale = {0.01, ScaleSource::kMeanAbsoluteDeviation};
  return m;
}

// P(X >= k) for X ~ Poisson(lambda), summed directly.
double PoissonUpperTail(double lambda, int k) {
  double term = std::exp(-lambda), cdf = 0;
  for (int j = 0; j < k; ++j) {
    cdf += term;
    term *= lambda / (j + 1);
  }
  return 1 - cdf;
}

TEST(ScorerTest, CountTailIsThePoissonTailAtEveryInteger) {
  // A median baseline of sparse counts expects 0 where the rate (its bias) is 0.3.
  const FittedModel m = CountModel(0, 0.3);
  for (int k = 1; k <= 8; ++k) {
    EXPECT_NEAR(CountNegLog10Tail(m, k, 0), -std::log10(PoissonUpperTail(0.3, k)), 1e-6) << "k=" << k;
  }
  // At a high rate the normal approximation takes over, within a few per cent of the exact tail.
  const FittedModel busy = CountModel(400, 0);
  EXPECT_NEAR(CountNegLog10Tail(busy, 480, 400), -std::log10(PoissonUpperTail(400, 480)), 0.1);
  // No evidence against values at or below the rate, and none for a series that is not counts.
  EXPECT_TRUE(std::isinf(CountNegLog10Tail(m, 0.2, 0)));
  // Nor for a value below the expected one, whatever the rate: a negative bias puts the rate below it.
  EXPECT_TRUE(std::isinf(CountNegLog10Tail(CountModel(5, -2), 4, 5)));
  FittedModel not_counts = m;
  not_counts.count_dispersion = 0;
  EXPECT_TRUE(std::isinf(CountNegLog10Tail(not_counts, 8, 0)));
  EXPECT_EQ(CountQuantileZ(not_counts, 0, 6), 0);
}

TEST(ScorerTest, CountQuantileIsTheZWhereTheTailReachesTheTarget) {
  for (double rate : {0.05, 0.3, 3.0, 40.0, 900.0}) {
    SCOPED_TRACE("rate=" + std::to_string(rate));
    const FittedModel m = CountModel(rate, 0);
    const double z = CountQuantileZ(m, rate, 6.5);
    const double value = rate + z * ScaleAt(m, rate);
    EXPECT_NEAR(CountNegLog10Tail(m, value, rate), 6.5, 1e-3);
    // Sparse counts need a larger |z| than Gaussian noise would (z = 5.0 for 10^-6.5): their tail is
    // skewed up.
    if (rate < 1) {
      EXPECT_GT(z, 5.5);
    }
  }
}

}  // namespace
}  // namespace anomaly::scoring
