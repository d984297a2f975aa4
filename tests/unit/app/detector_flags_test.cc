#include "exporter/app/detector_flags.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::app {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;

TEST(DetectorFlagsTest, FindsASettingByItsFlagOrItsConfigSpelling) {
  DetectorFlags f;
  EXPECT_FALSE(f.Any());
  ASSERT_NE(f.Find("false-alarm-interval"), nullptr);
  EXPECT_EQ(f.Find("false-alarm-interval"), f.Find("false_alarm_interval"));
  EXPECT_EQ(f.Find("false_alarm_interval"), &f.false_alarm_interval);
  EXPECT_EQ(f.Find("histroy"), nullptr);
  EXPECT_EQ(f.Find("from"), nullptr) << "only detector settings";
  *f.Find("max_gap") = "10m";
  EXPECT_TRUE(f.Any());
  EXPECT_EQ(DetectorFlagInfos().size(), 14u);
}

TEST(DetectorFlagsTest, NoSettingMeansTheConfigsDefaults) {
  Result<config::Config> c = ConfigFromDetectorFlags({}, "5m", "<test>");
  ASSERT_THAT(c, IsOk());
  const config::DetectorConfig& d = c->detectors.front();
  EXPECT_EQ(d.step, std::chrono::minutes(5));
  EXPECT_EQ(d.history, std::chrono::days(7));
  EXPECT_EQ(d.seasonality.mode, config::SeasonalityMode::kAuto);
  EXPECT_EQ(d.persistence, 1);
}

TEST(DetectorFlagsTest, MapsEverySettingToItsConfigKey) {
  DetectorFlags f;
  f.history = "3d";
  f.seasonality = "1h,1d";
  f.threshold_floor = "4.5";
  f.threshold_window = "2d";
  f.persistence = "2";
  f.direction = "up";
  Result<config::Config> c = ConfigFromDetectorFlags(f, "5m", "<test>");
  ASSERT_THAT(c, IsOk());
  const config::DetectorConfig& d = c->detectors.front();
  EXPECT_EQ(d.history, std::chrono::days(3));
  EXPECT_EQ(d.seasonality.mode, config::SeasonalityMode::kFixed);
  EXPECT_THAT(d.seasonality.periods, ::testing::ElementsAre(std::chrono::hours(1), std::chrono::days(1)));
  EXPECT_EQ(d.threshold.floor, 4.5);
  EXPECT_EQ(d.threshold.window, std::chrono::days(2));
  EXPECT_EQ(d.persistence, 2);
}

// The score API passes remote input here: no value may add YAML of its own.
TEST(DetectorFlagsTest, AValueCannotAddYamlOfItsOwn) {
  DetectorFlags f;
  f.threshold_floor = "3, window: 1h";
  EXPECT_THAT(ConfigFromDetectorFlags(f, "5m", "<test>"),
              ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("threshold.floor: expected a number")));
  DetectorFlags g;
  g.persistence = "2\n    history: 1d";
  EXPECT_THAT(ConfigFromDetectorFlags(g, "5m", "<test>"),
              ErrorIs(ErrorCode::kInvalidConfig, "--persistence: holds a control character"));
  DetectorFlags h;
  h.history = "1d\"\n    max_gap: \"1h";
  EXPECT_THAT(ConfigFromDetectorFlags(h, "5m", "<test>"), ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("control")));
}

TEST(DetectorFlagsTest, MedianStepIsTheMedianSpacingInWholeSeconds) {
  EXPECT_EQ(MedianStep(std::vector<double>{0, 60, 120, 300, 360}), "60s");
  EXPECT_EQ(MedianStep(std::vector<double>{0, 0.4}), "1s");
  EXPECT_EQ(MedianStep(std::vector<double>{5}), "1m");
}

}  // namespace
}  // namespace anomaly::app
