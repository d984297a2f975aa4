#include "anomaly/scoring/robust_stats.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::scoring {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::DoubleEq;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

// Expected values computed by hand, as numpy.median / numpy.quantile (method "linear") and R's
// median / mad / quantile(type = 7) define them.
TEST(RobustStatsTest, MedianMatchesHandComputedValues) {
  struct Case {
    std::vector<double> x;
    double median;
  };
  const std::vector<Case> table = {
      {{5.0}, 5.0},          {{3.0, 1.0, 2.0}, 2.0},       {{4.0, 1.0, 3.0, 2.0}, 2.5},
      {{-1.0, -1.0}, -1.0},  {{3.5, -2, 8, 1, 0, 12}, 2.25}, {{7, 7, 7, 1, 100}, 7.0},
  };
  for (const Case& c : table) {
    EXPECT_THAT(Median(c.x), IsOkAndHolds(DoubleEq(c.median)));
  }
}

TEST(RobustStatsTest, MadIsAboutTheMedian) {
  // median 2; |x - 2| = 1 1 0 0 2 4 7, median 1. R: mad(c(1,1,2,2,4,6,9)) = 1.4826.
  const std::vector<double> a = {1, 1, 2, 2, 4, 6, 9};
  EXPECT_THAT(Mad(a), IsOkAndHolds(DoubleEq(1.0)));
  EXPECT_THAT(ScaledMad(a), IsOkAndHolds(DoubleEq(1.4826)));
  // median 2.25; |x - 2.25| = 1.25 4.25 5.75 1.25 2.25 9.75, median (2.25 + 4.25) / 2.
  const std::vector<double> b = {3.5, -2, 8, 1, 0, 12};
  EXPECT_THAT(Mad(b), IsOkAndHolds(DoubleEq(3.25)));
  EXPECT_THAT(ScaledMad(b), IsOkAndHolds(DoubleEq(3.25 * 1.4826)));
  // An outlier moves neither statistic: median 3, |x - 3| = 2 1 0 1 997, median 1.
  EXPECT_THAT(Mad(std::vector<double>{1, 2, 3, 4, 1000}), IsOkAndHolds(DoubleEq(1.0)));
  EXPECT_THAT(Mad(std::vector<double>{4, 4, 4}), IsOkAndHolds(DoubleEq(0.0)));
}

TEST(RobustStatsTest, QuantileIsType7) {
  struct Case {
    std::vector<double> x;
    double p;
    double want;
  };
  const std::vector<double> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const std::vector<double> six = {2.5, -1, 4, 8, 0.5, 3};  // sorted: -1 0.5 2.5 3 4 8
  const std::vector<Case> table = {
      {ten, 0.0, 1.0},   {ten, 0.25, 3.25},    {ten, 0.5, 5.5},   {ten, 0.9, 9.1},
      {ten, 1.0, 10.0},  {{10, 1, 7, 3}, 0.99, 9.91},             {six, 0.1, -0.25},
      {six, 0.33, 1.8},  {six, 0.75, 3.75},    {{42}, 0.3, 42.0},
  };
  std::vector<double> scratch;
  for (const Case& c : table) {
    SCOPED_TRACE("p " + std::to_string(c.p));
    EXPECT_THAT(Quantile(c.x, c.p, scratch), IsOkAndHolds(DoubleNear(c.want, 1e-12)));
  }
}

TEST(RobustStatsTest, RejectsEmptyNonFiniteAndBadProbability) {
  const std::vector<double> empty;
  const std::vector<double> with_nan = {1.0, 2.0, std::nan("")};
  const std::vector<double> with_inf = {INFINITY, 2.0};
  EXPECT_THAT(Median(empty), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("empty")));
  EXPECT_THAT(Mad(with_nan), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("x[2]: value is NaN")));
  EXPECT_THAT(ScaledMad(with_inf), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("x[0]")));
  EXPECT_THAT(Quantile(with_inf, 0.5), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("x[0]")));
  EXPECT_THAT(Quantile(std::vector<double>{1.0}, 1.5), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("p:")));
  EXPECT_THAT(Quantile(std::vector<double>{1.0}, std::nan("")), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("p:")));
}

// Against a full sort, on random inputs with ties, with one scratch buffer reused throughout; the input
// must be left untouched.
TEST(RobustStatsTest, AgreesWithFullSort) {
  const unsigned seed = 7;
  std::mt19937 rng(seed);
  std::vector<double> scratch;
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    std::vector<double> x(std::uniform_int_distribution<size_t>(1, 60)(rng));
    for (double& v : x) v = std::uniform_int_distribution<int>(-20, 20)(rng) * 0.5;
    const std::vector<double> original = x;
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = (sorted[(n - 1) / 2] + sorted[n / 2]) / 2.0;
    ASSERT_THAT(Median(x, scratch), IsOkAndHolds(DoubleEq(median)));
    const double p = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double h = (n - 1) * p;
    const size_t lo = static_cast<size_t>(std::floor(h));
    const double want = lo + 1 < n ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
    ASSERT_THAT(Quantile(x, p, scratch), IsOkAndHolds(DoubleNear(want, 1e-12)));
    std::vector<double> dev(n);
    for (size_t i = 0; i < n; ++i) dev[i] = std::abs(x[i] - median);
    std::sort(dev.begin(), dev.end());
    ASSERT_THAT(Mad(x, scratch), IsOkAndHolds(DoubleEq((dev[(n - 1) / 2] + dev[n / 2]) / 2.0)));
    ASSERT_EQ(x, original);
  }
}

}  // namespace
}  // namespace anomaly::scoring
