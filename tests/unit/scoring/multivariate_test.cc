#include "anomaly/scoring/multivariate.h"

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly::scoring {
namespace {

// n rows of k members' z-scores (each N(0, 1)), any two correlated by rho: a shared factor plus each one's own.
std::vector<float> Correlated(size_t n, int k, double rho, uint32_t seed) {
  const double shared = std::sqrt(rho), own = std::sqrt(1 - rho);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::vector<float> rows(n * static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    const double f = noise(rng);
    for (int j = 0; j < k; ++j) rows[i * k + j] = static_cast<float>(shared * f + own * noise(rng));
  }
  return rows;
}

TEST(MultivariateTest, NormalRowsScoreAroundTheChiSquareMeanAndSharesSumToOne) {
  const int k = 6;
  std::vector<float> rows = Correlated(4000, k, 0.5, 1);
  Result<GroupFit> fit = FitGroup(rows, k);
  ASSERT_TRUE(fit) << fit.error().message;
  EXPECT_EQ(fit->dims, k);
  std::vector<float> fresh = Correlated(2000, k, 0.5, 2);
  double sum_d2 = 0;
  int beyond3 = 0;
  for (size_t i = 0; i < 2000; ++i) {
    std::vector<double> z(fresh.begin() + static_cast<std::ptrdiff_t>(i * k),
                          fresh.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
    GroupScore s = ScoreGroup(*fit, z);
    sum_d2 += s.distance2;
    beyond3 += s.z >= 3;
    if (s.distance2 > 0) {
      EXPECT_NEAR(std::accumulate(s.share.begin(), s.share.end(), 0.0), 1.0, 1e-9);
    }
  }
  // psi-transformed normal rows: the reweighted estimate (97.5% kept) makes the mean a little above k.
  EXPECT_GT(sum_d2 / 2000, 0.8 * k);
  EXPECT_LT(sum_d2 / 2000, 1.4 * k);
  EXPECT_LT(beyond3, 20);  // ~0.13% of 2000 for exact chi-square rows
}

TEST(MultivariateTest, ABrokenCorrelationIsFarAlthoughEachMemberIsWithinItsBand) {
  // Two members that move together (correlation 0.9): z = (+2, -2) is within +-3 sigma for each, but
  // their combination never happened.
  std::vector<float> rows = Correlated(3000, 2, 0.9, 3);
  Result<GroupFit> fit = FitGroup(rows, 2);
  ASSERT_TRUE(fit);
  GroupScore together = ScoreGroup(*fit, std::vector<double>{2.0, 2.0});
  GroupScore apart = ScoreGroup(*fit, std::vector<double>{2.0, -2.0});
  EXPECT_LT(together.z, 2.0);
  EXPECT_GT(apart.z, 4.0);
  EXPECT_NEAR(apart.share[0], 0.5, 0.1);
  EXPECT_NEAR(apart.share[1], 0.5, 0.1);
}

TEST(MultivariateTest, TheMemberThatMovedTakesTheShareAndAQuietMemberIsNotTooRegular) {
  // Member 2 sat still through the window (a constant metric): its variance is floored at what its own
  // model promises, so an ordinary wiggle of it is not a distance of thousands.
  const int k = 4;
  std::vector<float> rows = Correlated(2000, k, 0.3, 4);
  for (size_t i = 0; i < 2000; ++i) rows[i * k + 2] = 0;
  Result<GroupFit> fit = FitGroup(rows, k);
  ASSERT_TRUE(fit);
  GroupScore wiggle = ScoreGroup(*fit, std::vector<double>{0, 0, 1.0, 0});
  EXPECT_LT(wiggle.z, 3.0);
  GroupScore moved = ScoreGroup(*fit, std::vector<double>{0.5, -0.3, 40.0, 0.2});
  EXPECT_GT(moved.z, 4.0);
  EXPECT_GT(moved.share[2], 0.8);
}

TEST(MultivariateTest, MissingScoresAreAtTheirExpectedValue) {
  std::vector<float> rows = Correlated(500, 3, 0.5, 5);
  rows[7] = std::nanf("");
  Result<GroupFit> fit = FitGroup(rows, 3);
  ASSERT_TRUE(fit);
  GroupScore s = ScoreGroup(*fit, std::vector<double>{std::nan(""), 0, 0});
  EXPECT_TRUE(std::isfinite(s.z));
  EXPECT_EQ(SquashZ(std::nan("")), 0);
  EXPECT_NEAR(SquashZ(-3), -std::log(4.0), 1e-12);
}

TEST(MultivariateTest, RejectsWhatCannotBeAGroup) {
  std::vector<float> rows(100, 0.5f);
  EXPECT_FALSE(FitGroup(rows, 1));
  EXPECT_FALSE(FitGroup(std::vector<float>(101, 0.5f), 2));
  EXPECT_FALSE(FitGroup(std::vector<float>(2 * (MinGroupRows(2) - 1), 0.5f), 2));
  EXPECT_TRUE(FitGroup(std::vector<float>(2 * MinGroupRows(2), 0.5f), 2));  // constant: still a fit
}

TEST(MultivariateTest, ChiSquareToNormalZMatchesKnownQuantiles) {
  // chi2_10: median 9.342, 0.99 quantile 23.209; chi2_38: 0.999 quantile 70.703.
  EXPECT_NEAR(ChiSquareToNormalZ(9.342, 10), 0.0, 0.01);
  EXPECT_NEAR(ChiSquareToNormalZ(23.209, 10), 2.326, 0.01);
  EXPECT_NEAR(ChiSquareToNormalZ(70.703, 38), 3.090, 0.01);
}

}  // namespace
}  // namespace anomaly::scoring
