#include "anomaly/scoring/thresholds.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly::scoring {
namespace {

TEST(ThresholdsTest, RobustScaleFallsBackInOrder) {
  struct Case {
    const char* name;
    std::vector<double> remainder;
    double level;
    ScaleSource source;
    double scale;
  };
  const Case cases[] = {
      // median 3, |r - 3| = {2, 1, 0, 1, 2} -> MAD 1.
      {"mad", {1, 2, 3, 4, 5}, 0, ScaleSource::kMad, 1.4826},
      // MAD 0 (most values equal), mean |r - 0| = 2 / 5.
      {"mean_abs_dev", {0, 0, 0, 0, 2}, 0, ScaleSource::kMeanAbsoluteDeviation, 1.2533141373155003 * 0.4},
      {"level_fraction", {0, 0, 0}, -250, ScaleSource::kLevelFraction, 0.25},
      {"absolute_floor", {0, 0, 0}, 0, ScaleSource::kAbsoluteFloor, 1e-9},
      {"empty_remainder", {}, 10, ScaleSource::kLevelFraction, 0.01},
      // Rounding noise of a decomposed flat series at 1e6 counts as zero.
      {"rounding_noise", {1e-10, -1e-10, 2e-10, 0, -3e-10}, 1e6, ScaleSource::kLevelFraction, 1e3},
  };
  std::vector<double> scratch;
  for (const Case& c : cases) {
    ScaleEstimate s = RobustScale(c.remainder, c.level, 1e-9, scratch);
    EXPECT_EQ(s.source, c.source) << c.name << ": " << ScaleSourceName(s.source);
    EXPECT_NEAR(s.scale, c.scale, 1e-12 * std::max(1.0, c.scale)) << c.name;
  }
}

}  // namespace
}  // namespace anomaly::scoring
