#include "anomaly/scoring/seasonality.h"

#include <chrono>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"
#include "synthetic.h"

namespace anomaly::scoring {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(SeasonalityTest, FindsKnownPeriods) {
  struct Case {
    const char* name;
    std::vector<testing::Seasonality> seasons;
    size_t n;
    std::chrono::milliseconds step;
    int max_period;
    std::vector<int> want;
  };
  const Case cases[] = {
      {"daily_hourly", {{24, 3}}, 24 * 14, 1h, 24 * 8, {24}},
      {"uncommon_17", {{17, 2}}, 17 * 20, 1min, 100, {17}},
      {"hourly_at_5m", {{12, 2}}, 12 * 30, 5min, 100, {12}},
      {"daily_and_weekly", {{24, 2}, {168, 4}}, 168 * 4, 1h, 168 * 2, {24, 168}},
      // 25 samples at 1h is within 5% of a day: the common period is preferred.
      {"snaps_to_day", {{25, 3}}, 25 * 12, 1h, 100, {24}},
  };
  for (const Case& c : cases) {
    for (uint32_t seed : {31u, 32u, 33u}) {
      SCOPED_TRACE(std::string(c.name) + " seed=" + std::to_string(seed));
      std::vector<double> y = testing::Generate(c.n, 10, 0.002, c.seasons, 1.0, seed);
      EXPECT_THAT(DetectPeriods(y, c.step, c.max_period), IsOkAndHolds(ElementsAreArray(c.want)));
    }
  }
}

TEST(SeasonalityTest, FindsNoneInNoiseTrendsOrConstants) {
  for (uint32_t seed = 41; seed < 51; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::vector<double> noise = testing::Generate(24 * 14, 5, 0, {}, 1.0, seed);
    EXPECT_THAT(DetectPeriods(noise, 1h, 24 * 7), IsOkAndHolds(::testing::IsEmpty()));
    std::vector<double> trend = testing::Generate(24 * 14, 5, 0.5, {}, 1.0, seed);
    EXPECT_THAT(DetectPeriods(trend, 1h, 24 * 7), IsOkAndHolds(::testing::IsEmpty()));
  }
  std::vector<double> flat(500, 3.25);
  EXPECT_THAT(DetectPeriods(flat, 1min, 200), IsOkAndHolds(::testing::IsEmpty()));
  std::vector<double> tiny(3, 1.0);
  EXPECT_THAT(DetectPeriods(tiny, 1min, 200), IsOkAndHolds(::testing::IsEmpty()));
}

TEST(SeasonalityTest, RejectsBadInput) {
  std::vector<double> y(100, 1.0);
  y[42] = std::numeric_limits<double>::infinity();
  EXPECT_THAT(DetectPeriods(y, 1min, 10), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("index 42")));
  y[42] = 1;
  EXPECT_THAT(DetectPeriods(y, 0ms, 10), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("step")));
  EXPECT_THAT(DetectPeriods(y, 1min, 1), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("max_period")));
}

}  // namespace
}  // namespace anomaly::scoring
