#include "exporter/prom/paging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace anomaly::prom {
namespace {

using ::testing::ElementsAre;

int64_t PointsIn(const PageRange& p, int64_t step_ms) { return (p.end_ms - p.start_ms) / step_ms + 1; }

TEST(SplitRangeTest, SmallRangeIsOnePage) {
  EXPECT_THAT(SplitRange(0, 600'000, 60'000, 11000), ElementsAre(PageRange{0, 600'000}));
  EXPECT_THAT(SplitRange(5, 5, 60'000, 11000), ElementsAre(PageRange{5, 5}));
}

TEST(SplitRangeTest, ExactlyMaxPointsIsOnePageAndOneMoreIsTwo) {
  const int64_t step = 60'000;
  // 11,000 points: 10,999 steps.
  EXPECT_THAT(SplitRange(0, 10'999 * step, step, 11000), ElementsAre(PageRange{0, 10'999 * step}));
  EXPECT_THAT(SplitRange(0, 11'000 * step, step, 11000),
              ElementsAre(PageRange{0, 10'999 * step}, PageRange{11'000 * step, 11'000 * step}));
}

TEST(SplitRangeTest, EightDaysAtOneMinuteNeedsTwoPagesOnTheGrid) {
  const int64_t step = 60'000;
  const int64_t start = 1'700'000'040'000;             // a multiple of the step
  const int64_t end = start + 8 * 24 * 3600 * 1000LL;  // 11,521 points
  auto pages = SplitRange(start, end, step, 11000);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].start_ms, start);
  EXPECT_EQ(PointsIn(pages[0], step), 11000);
  EXPECT_EQ(pages[1].start_ms, pages[0].end_ms + step);  // no shared timestamp
  EXPECT_EQ(pages[1].end_ms, end);
  EXPECT_EQ(PointsIn(pages[0], step) + PointsIn(pages[1], step), 11521);
  for (const PageRange& p : pages) EXPECT_EQ(p.start_ms % step, 0);
}

TEST(SplitRangeTest, CoversEveryGridPointOnceForManyShapes) {
  for (int64_t step : {1'000, 15'000, 60'000}) {
    for (int max_points : {1, 2, 3, 7, 100}) {
      for (int64_t steps : {0, 1, 2, 6, 7, 99, 100, 101, 700}) {
        const int64_t start = 42 * step;
        const int64_t end = start + steps * step + (steps % 2 ? step / 2 : 0);  // sometimes off grid
        auto pages = SplitRange(start, end, step, max_points);
        int64_t expected_next = start;
        int64_t covered = 0;
        for (const PageRange& p : pages) {
          ASSERT_EQ(p.start_ms, expected_next)
              << "step=" << step << " max=" << max_points << " steps=" << steps;
          ASSERT_LE(PointsIn(p, step), max_points);
          ASSERT_EQ((p.start_ms - start) % step, 0);
          covered += PointsIn(p, step);
          expected_next = p.end_ms + step;
        }
        EXPECT_EQ(pages.back().end_ms, end);
        EXPECT_EQ(covered, (end - start) / step + 1);
      }
    }
  }
}

SeriesSamples Series(std::string job, std::vector<Sample> samples) {
  return SeriesSamples{MakeLabels({{"job", std::move(job)}, {"__name__", "up"}}), std::move(samples)};
}

TEST(SeriesMergerTest, MergesPagesByLabelSetSortedAndUnique) {
  SeriesMerger merger;
  merger.Add({Series("b", {{0, 1}, {60, 2}}), Series("a", {{0, 10}})});
  // The next page shares its boundary timestamp 60 (a backend that shifts page
  // ends): the later wins.
  merger.Add({Series("a", {{60, 11}, {120, 12}}), Series("b", {{60, 2.5}, {120, 3}})});
  merger.Add({Series("c", {{180, 7}})});
  auto merged = std::move(merger).Finish();
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(LabelValue(merged[0].labels, "job"), "a");
  EXPECT_THAT(merged[0].samples, ElementsAre(Sample{0, 10}, Sample{60, 11}, Sample{120, 12}));
  EXPECT_EQ(LabelValue(merged[1].labels, "job"), "b");
  EXPECT_THAT(merged[1].samples, ElementsAre(Sample{0, 1}, Sample{60, 2.5}, Sample{120, 3}));
  EXPECT_THAT(merged[2].samples, ElementsAre(Sample{180, 7}));
}

TEST(SeriesMergerTest, SortsPagesThatArriveOutOfOrder) {
  SeriesMerger merger;
  merger.Add({Series("a", {{120, 3}, {180, 4}})});
  merger.Add({Series("a", {{0, 1}, {60, 2}})});
  auto merged = std::move(merger).Finish();
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_THAT(merged[0].samples, ElementsAre(Sample{0, 1}, Sample{60, 2}, Sample{120, 3}, Sample{180, 4}));
}

}  // namespace
}  // namespace anomaly::prom
