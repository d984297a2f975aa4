#include "exporter/app/series_page.h"

#include <cmath>

#include <gtest/gtest.h>

namespace anomaly::app {
namespace {

SeriesCopy Empty(size_t capacity) {
  return SeriesCopy{series::SampleWindow(capacity, 5), {}, {}, nullptr, {}, {}, std::chrono::minutes(1), {}};
}

SeriesCopy Copy(int points, double level) {
  SeriesCopy c = Empty(100);
  for (int i = 0; i < points; ++i) c.window.Append(1000 + i, level + (i % 2 == 0 ? 0.5 : -0.5));
  c.verdict.threshold = 4;
  c.params.baseline_window = 5;
  return c;
}

TEST(SeriesPageTest, WithoutAModelThePointsComeWithANote) {
  const SeriesCopy c = Copy(20, 10);
  scoring::ModelWorkspace ws;
  const http::SeriesPage page = BuildSeriesPage(c, ws);
  ASSERT_EQ(page.points.size(), 20u);
  EXPECT_EQ(page.points.front().timestamp_ms, 1000 * 60'000LL);
  EXPECT_TRUE(std::isnan(page.points.front().expected));
  EXPECT_NE(page.note.find("no model"), std::string::npos) << page.note;
  EXPECT_NE(BuildSeriesPage(Empty(10), ws).note, "");
}

TEST(SeriesPageTest, EpisodesKeepTheirIdsAndFeedbackAndTheMarginIsCarried) {
  SeriesCopy c = Copy(20, 10);
  c.margin = 0.75;
  http::EpisodeInfo old;  // ended before the window: left out
  old.id = "gone";
  old.start_ms = 1;
  old.end_ms = 2;
  http::EpisodeInfo open;
  open.id = "00000000000000aa00000000000000bb";
  open.start_ms = 1015 * 60'000LL;
  open.feedback = http::EpisodeFeedback{http::FeedbackVerdict::kFalsePositive, "deploy", 5};
  c.episodes = {old, open};
  scoring::ModelWorkspace ws;
  const http::SeriesPage page = BuildSeriesPage(c, ws);
  EXPECT_EQ(page.margin, 0.75);
  ASSERT_EQ(page.episodes.size(), 1u);
  EXPECT_EQ(page.episodes[0].id, "00000000000000aa00000000000000bb");
  EXPECT_EQ(page.episodes[0].start_ms, 1015 * 60'000LL);
  ASSERT_TRUE(page.episodes[0].feedback.has_value());
  EXPECT_EQ(page.episodes[0].feedback->comment, "deploy");
}

TEST(SeriesPageTest, LevelShiftsAreUndoneOnTheCurveDrawn) {
  // A re-baselined series: the fit sees the points before the shift raised by its delta; the curve is
  // drawn back at the level they were observed at.
  SeriesCopy c = Copy(20, 10);
  for (int i = 20; i < 40; ++i) c.window.Append(1000 + i, 110 + (i % 2 == 0 ? 0.5 : -0.5));
  c.level_shifts = {{.slot = 1020, .delta = 100}};
  scoring::ModelWorkspace ws;
  scoring::ModelParams p = c.params;
  c.model = std::make_shared<const scoring::FittedModel>(*scoring::FitModel(std::vector<double>(40, 110), p, ws));
  const http::SeriesPage page = BuildSeriesPage(c, ws);
  EXPECT_TRUE(page.note.empty()) << page.note;
  EXPECT_NEAR(page.points[10].expected, 10, 1);   // before the shift, at the old level
  EXPECT_NEAR(page.points[30].expected, 110, 1);  // after it
  EXPECT_LT(page.points[30].lower, page.points[30].expected);
}

}  // namespace
}  // namespace anomaly::app
