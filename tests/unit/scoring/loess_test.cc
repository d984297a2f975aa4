// White-box tests of the scoring stage's private loess smoother (exporter/scoring/loess.h).
#include "loess.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly::scoring::internal {
namespace {

TEST(LoessTest, EndKernelSumOfSquaresByHand) {
  // Last of 5 points, window 3, local constant: tricube weights at distances 0, 1, 2 with h = 2 are
  // 1, (1 - 1/8)^3 and 0 (the far end of the window is cut off at 0.999 h).
  const double w1 = std::pow(1 - 0.125, 3);
  const double sum = 1 + w1;
  EXPECT_NEAR(EndKernelSumOfSquares(5, 3, 0), (1 + w1 * w1) / (sum * sum), 1e-12);
  // A window of one point: the smooth is the value itself.
  EXPECT_NEAR(EndKernelSumOfSquares(5, 1, 1), 1.0, 1e-12);
}

TEST(LoessTest, EndKernelSumOfSquaresIsTheVarianceOfTheSmoothsLastValue) {
  // Independent N(0, 1) inputs: the variance of stless' value at N - 1 over many draws must be the sum
  // of squares of its end kernel, for every geometry (window inside the series, window wider than it).
  struct Case {
    int n, window, degree, jump;
  };
  for (const Case c : {Case{200, 37, 1, 4}, Case{200, 37, 0, 4}, Case{30, 37, 1, 4}, Case{500, 433, 1, 44}}) {
    SCOPED_TRACE("n=" + std::to_string(c.n) + " window=" + std::to_string(c.window) +
                 " degree=" + std::to_string(c.degree));
    LoessPlan plan;
    BuildLoessPlan(c.n, c.window, c.degree, c.jump, false, plan);
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 1);
    std::vector<double> v(static_cast<size_t>(c.n)), out(static_cast<size_t>(c.n)), scratch;
    const int kDraws = 4000;
    double sum_sq = 0;
    for (int d = 0; d < kDraws; ++d) {
      for (double& x : v) x = noise(rng);
      Smooth(plan, v.data(), nullptr, scratch, out.data());
      sum_sq += out.back() * out.back();
    }
    const double expected = EndKernelSumOfSquares(c.n, c.window, c.degree);
    EXPECT_GT(expected, 0);
    EXPECT_NEAR(sum_sq / kDraws / expected, 1.0, 0.1) << "expected " << expected;  // sd of the estimate: 2%
  }
}

}  // namespace
}  // namespace anomaly::scoring::internal
