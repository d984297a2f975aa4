#include "anomaly/series/sample_window.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly::series {
namespace {

std::vector<PointKind> Kinds(const SampleWindow& w) {
  std::vector<PointKind> out;
  for (size_t i = 0; i < w.size(); ++i) out.push_back(w.kind(i));
  return out;
}

constexpr PointKind O = PointKind::kObserved;
constexpr PointKind F = PointKind::kFilled;
constexpr PointKind M = PointKind::kMissing;

TEST(SampleWindowTest, ShortGapIsInterpolatedLinearly) {
  SampleWindow w(100, 3);
  EXPECT_EQ(w.Append(10, 1.0), SampleWindow::AppendOutcome::kAppended);
  EXPECT_EQ(w.Append(14, 5.0), SampleWindow::AppendOutcome::kAppended);  // slots 11..13 missing: 3 <= 3
  EXPECT_EQ(w.first_slot(), 10);
  EXPECT_EQ(w.last_slot(), 14);
  EXPECT_EQ(Kinds(w), (std::vector<PointKind>{O, F, F, F, O}));
  for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(w.value(i), 1.0 + static_cast<double>(i)) << i;
  EXPECT_EQ(w.observed_count(), 2u);
  EXPECT_EQ(w.observed_since_long_gap(), 2u);
}

TEST(SampleWindowTest, LongGapIsRecordedAndStartsAFreshSegment) {
  SampleWindow w(100, 3);
  for (int64_t s = 0; s < 5; ++s) ASSERT_EQ(w.Append(s, 1.0), SampleWindow::AppendOutcome::kAppended);
  w.Append(9, 9.0);  // 4 missing > 3
  EXPECT_EQ(Kinds(w), (std::vector<PointKind>{O, O, O, O, O, M, M, M, M, O}));
  EXPECT_TRUE(std::isnan(w.value(5)));
  EXPECT_EQ(w.observed_since_long_gap(), 1u);
  w.Append(10, 10.0);
  EXPECT_EQ(w.observed_since_long_gap(), 2u);
  EXPECT_EQ(w.observed_count(), 7u);

  FitInput in;
  ASSERT_TRUE(w.BuildFitInput(100, in));
  ASSERT_EQ(in.values.size(), 11u);
  EXPECT_EQ(in.last_slot, 10);
  EXPECT_EQ(in.observed, (std::vector<uint8_t>{1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1}));
  for (size_t i = 5; i < 9; ++i) EXPECT_DOUBLE_EQ(in.values[i], 1.0 + 8.0 * static_cast<double>(i - 4) / 5) << i;
  // Up to a slot inside the gap: ends at the last observed point before it.
  ASSERT_TRUE(w.BuildFitInput(7, in));
  EXPECT_EQ(in.values.size(), 5u);
  EXPECT_EQ(in.last_slot, 4);
  EXPECT_FALSE(w.BuildFitInput(-1, in));
}

TEST(SampleWindowTest, NewestSlotIsReplacedAndOlderSlotsRefused) {
  SampleWindow w(10, 0);
  w.Append(5, 1.0);
  w.Append(6, 2.0);
  EXPECT_EQ(w.Append(6, 3.0), SampleWindow::AppendOutcome::kReplaced);
  EXPECT_EQ(w.Append(5, 4.0), SampleWindow::AppendOutcome::kTooOld);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w.value(1), 3.0);
  EXPECT_DOUBLE_EQ(w.value(0), 1.0);
}

TEST(SampleWindowTest, CapacityBoundsTheWindow) {
  SampleWindow w(4, 0);
  for (int64_t s = 0; s < 10; ++s) w.Append(s, static_cast<double>(s));
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.first_slot(), 6);
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(w.value(i), 6.0 + static_cast<double>(i));
  // A jump longer than the capacity clears the window instead of filling it with missing points.
  w.Append(100, 7.0);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.first_slot(), 100);
  EXPECT_EQ(w.observed_since_long_gap(), 1u);
}

TEST(SampleWindowTest, KeepsASeriesOwnMovementAtAnyLevel) {
  // A gauge near 1e12 moving by a few units: a float32 of the value would round every one of these to
  // the same number (its spacing there is 65,536); the window keeps differences from its first value.
  SampleWindow w(8, 0);
  const double level = 1e12;
  const double moves[] = {0, 1.25, -3.5, 7.75, 2, -0.5};
  for (int64_t s = 0; s < 6; ++s) w.Append(s, level + moves[s]);
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(w.value(i) - level, moves[i], 1e-6) << i;
  // Far from the first value, movement keeps ~7 significant digits of that distance.
  w.Append(6, level + 1e6 + 0.5);
  EXPECT_NEAR(w.value(6) - level, 1e6 + 0.5, 0.1);
}

TEST(SampleWindowTest, KindsArePackedWithoutDisturbingTheirNeighbours) {
  // Every kind at every position of a packed byte, across the ring's wrap.
  SampleWindow w(7, 1);
  int64_t slot = 0;
  for (int round = 0; round < 6; ++round) {
    w.Append(slot, 1.0);      // observed
    w.Append(slot + 2, 2.0);  // one filled point, then observed
    w.Append(slot + 5, 3.0);  // two missing points (longer than max_gap_points 1), then observed
    slot += 6;
  }
  ASSERT_EQ(w.size(), 7u);
  // Each round of six slots b..b+5 is observed, filled, observed, missing, missing, observed; the window
  // holds slots 29..35, the end of the round at 24 and the whole round at 30.
  EXPECT_EQ(w.first_slot(), 29);
  const PointKind by_slot[] = {PointKind::kObserved, PointKind::kObserved, PointKind::kFilled,
                               PointKind::kObserved, PointKind::kMissing,  PointKind::kMissing,
                               PointKind::kObserved};
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(w.kind(i), by_slot[i]) << "slot " << 29 + static_cast<int>(i);
  EXPECT_DOUBLE_EQ(w.value(2), 1.5);
  EXPECT_TRUE(std::isnan(w.value(4)));
}

}  // namespace
}  // namespace anomaly::series
