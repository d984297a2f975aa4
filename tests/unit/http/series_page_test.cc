#include "exporter/http/series_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "anomaly/base/html.h"
#include "anomaly/exposition/anomaly_collector.h"
#include "exporter/http/pages.h"
#include "exporter/http/router.h"
#include "support/result_matchers.h"

namespace anomaly::http {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

exposition::SeriesReport Report(std::string detector, Labels labels, bool flagged = false) {
  exposition::SeriesReport r;
  r.detector = std::move(detector);
  r.labels = std::move(labels);
  r.verdict.state = scoring::SeriesState::kOk;
  r.verdict.model = scoring::ModelKind::kStl;
  r.verdict.timestamp_ms = 1'704'300'000'000;
  r.verdict.value = 151.2;
  r.verdict.expected = 99.8;
  r.verdict.lower = 93.1;
  r.verdict.upper = 106.5;
  r.verdict.threshold = 4.25;
  r.verdict.score = flagged ? 3.5 : 0.2;
  r.verdict.anomalous = flagged;
  r.verdict.anomalous_since_ms = flagged ? 1'704'299'400'000 : 0;
  r.verdict.peak_score = flagged ? 4.0 : 0;
  r.periods = "1d";
  return r;
}

// A day of 5-minute points: a daily wave, a band around it, a spike flagged at the end.
SeriesPage Page() {
  SeriesPage page;
  page.step_ms = 300'000;
  const int64_t start = 1'704'300'000'000 - 287 * 300'000;
  for (int i = 0; i < 288; ++i) {
    SeriesPoint p;
    p.timestamp_ms = start + i * 300'000LL;
    p.expected = 100 + 10 * std::sin(i * 2 * M_PI / 288);
    p.value = i == 100 ? kNaN : (i >= 280 ? p.expected + 50 : p.expected + (i % 7 - 3) * 0.5);
    p.lower = p.expected - 6;
    p.upper = p.expected + 6;
    p.anomalous = i >= 280;
    page.points.push_back(p);
  }
  page.episodes.push_back({start + 10 * 300'000LL, start + 20 * 300'000LL, 2.5});
  page.episodes.push_back({start + 280 * 300'000LL, 0, 4.0});
  return page;
}

TEST(SeriesPageTest, ParsesTheQueryDecodingEscapes) {
  Result<SeriesSelector> s = ParseSeriesQuery("detector=api%20latency&job=node&metric_name=x%2By&path=%2Fa+b");
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->detector, "api latency");
  ASSERT_EQ(s->labels.size(), 3u);
  EXPECT_EQ(s->labels[1], (std::pair<std::string, std::string>("metric_name", "x+y")));
  EXPECT_EQ(s->labels[2], (std::pair<std::string, std::string>("path", "/a b")));
}

TEST(SeriesPageTest, RefusesABadQueryNamingTheProblem) {
  const struct {
    const char* query;
    const char* message;
  } cases[] = {
      {"", "the detector is missing"},
      {"job=x", "the detector is missing"},
      {"detector=a&detector=b", "detector is given twice"},
      {"detector=a&job=x&job=y", "label job is given twice"},
      {"detector=a&job", "\"job\" is not NAME=VALUE"},
      {"detector=a&job=%zz", "bad percent-escape"},
      {"detector=a&=x", "a label name is empty"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ParseSeriesQuery(c.query), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message))) << c.query;
  }
}

TEST(SeriesPageTest, PathNamesEveryExportedLabelAndRoundTrips) {
  const exposition::SeriesReport r =
      Report("cpu", MakeLabels({{"__name__", "node_load1"}, {"detector", "theirs"}, {"path", "/a b&c=d"}}));
  const std::string path = SeriesPath(r);
  EXPECT_EQ(path, "/series?detector=cpu&exported_detector=theirs&metric_name=node_load1&path=%2Fa%20b%26c%3Dd");
  Result<SeriesSelector> s = ParseSeriesQuery(path.substr(path.find('?') + 1));
  ASSERT_THAT(s, IsOk());
  exposition::Snapshot snapshot;
  snapshot.series = {r, Report("cpu", MakeLabels({{"__name__", "node_load1"}, {"path", "/"}}))};
  const auto matches = MatchSeries(&snapshot, *s);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0], &snapshot.series[0]);
}

TEST(SeriesPageTest, MatchesSubsetsAndForgivesJobAndInstanceTheSeriesLacks) {
  exposition::Snapshot snapshot;
  snapshot.series = {Report("cpu", MakeLabels({{"host", "a"}})), Report("cpu", MakeLabels({{"host", "b"}})),
                     Report("mem", MakeLabels({{"host", "a"}}))};
  EXPECT_EQ(MatchSeries(&snapshot, {"cpu", {}}).size(), 2u);
  EXPECT_EQ(MatchSeries(&snapshot, {"cpu", {{"host", "a"}}}).size(), 1u);
  // An alert's labels carry the exporter's own job and instance when the series has none.
  EXPECT_EQ(MatchSeries(&snapshot, {"cpu", {{"host", "a"}, {"instance", "exp:10650"}, {"job", "anomaly"}}}).size(), 1u);
  EXPECT_EQ(MatchSeries(&snapshot, {"cpu", {{"host", "c"}}}).size(), 0u);
  EXPECT_EQ(MatchSeries(&snapshot, {"cpu", {{"zone", "x"}}}).size(), 0u);
  EXPECT_EQ(MatchSeries(&snapshot, {"disk", {}}).size(), 0u);
  EXPECT_EQ(MatchSeries(nullptr, {"cpu", {}}).size(), 0u);
}

TEST(SeriesPageTest, PageDrawsValueExpectedBandEpisodesAndMarkersInline) {
  const SeriesPage page = Page();
  const std::string html = RenderSeriesPage(Report("cpu", MakeLabels({{"host", "<a>"}}), true), &page, "");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("class=\"value\""));
  EXPECT_THAT(html, HasSubstr("class=\"expected\""));
  EXPECT_THAT(html, HasSubstr("class=\"band\""));
  EXPECT_THAT(html, HasSubstr("class=\"episode\""));
  EXPECT_THAT(html, HasSubstr("class=\"anomalous\""));
  EXPECT_THAT(html, HasSubstr("Flagged since 2024-01-03 16:30 UTC"));
  EXPECT_THAT(html, HasSubstr("&plusmn; 4.25 &times;"));  // the threshold
  EXPECT_THAT(html, HasSubstr("<td>stl</td>"));
  EXPECT_THAT(html, HasSubstr("<td>1d</td>"));
  EXPECT_THAT(html, HasSubstr("<td>open</td>"));
  EXPECT_THAT(html, HasSubstr("Flagged episodes (2)"));
  EXPECT_THAT(html, HasSubstr("host=&quot;&lt;a&gt;&quot;"));  // escaped
  EXPECT_THAT(html, Not(HasSubstr("<a>")));
  // Self-contained: no script, no external resource.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  // The gap at point 100 breaks the value line: two subpaths.
  const size_t start = html.find("class=\"value\" d=\"");
  ASSERT_NE(start, std::string::npos);
  const std::string d = html.substr(start, html.find('"', start + 17) - start);
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2);
}

TEST(SeriesPageTest, PageShowsEachEpisodesFeedbackAndPlainFormsToGiveIt) {
  SeriesPage page = Page();
  page.episodes[0].id = "00000000000000aa00000000000000bb";
  page.episodes[0].feedback =
      EpisodeFeedback{FeedbackVerdict::kFalsePositive, "a <deploy>", 1'704'300'000'000};
  page.episodes[1].id = "00000000000000aa00000000000000cc";
  page.margin = 1.5;
  const exposition::SeriesReport report = Report("cpu", MakeLabels({{"host", "a\"b"}}), true);
  const std::string html = RenderSeriesPage(report, &page, "");
  EXPECT_THAT(html, HasSubstr("<code>00000000000000aa00000000000000bb</code>"));
  EXPECT_THAT(html,
              HasSubstr("<span class=\"fb-false_positive\">false positive</span>, 2024-01-03 16:40 UTC: "
                        "&ldquo;a &lt;deploy&gt;&rdquo;"));
  EXPECT_THAT(html, HasSubstr("<td>none</td>"));  // the open episode has none yet
  // The margin's effect on the decision.
  EXPECT_THAT(html, HasSubstr("<th>feedback margin</th><td>+1.5: the score needs to reach 2.5"));
  // One form per episode, posting to its feedback endpoint, coming back to this page; no script.
  EXPECT_THAT(html, HasSubstr("<form class=\"feedback\" method=\"post\" "
                              "action=\"/api/v1/episodes/00000000000000aa00000000000000cc/feedback\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"return\" value=\"" +
                              EscapeHtml(SeriesPath(report)) + "\">"));
  EXPECT_THAT(html, HasSubstr("name=\"verdict\" value=\"false_positive\">False positive</button>"));
  EXPECT_THAT(html, HasSubstr("name=\"verdict\" value=\"true_positive\">True positive</button>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("a\"b")));  // the label value is escaped in the form's return path too
}

TEST(SeriesPageTest, PageWithoutAMarginSaysTheScoreNeedsToReachOne) {
  const SeriesPage page = Page();
  const std::string html = RenderSeriesPage(Report("cpu", MakeLabels({{"host", "a"}}), true), &page, "");
  EXPECT_THAT(html, HasSubstr("<th>feedback margin</th><td>0: the score needs to reach 1"));
}

TEST(SeriesPageTest, PageWithoutDataShowsTheVerdictAndTheNote) {
  exposition::SeriesReport r = Report("cpu", MakeLabels({{"host", "a"}}));
  r.verdict.state = scoring::SeriesState::kWarmingUp;
  const std::string html = RenderSeriesPage(r, nullptr, "no chart: busy");
  EXPECT_THAT(html, Not(HasSubstr("<svg")));
  EXPECT_THAT(html, HasSubstr("state warming_up"));
  EXPECT_THAT(html, HasSubstr("no chart: busy"));
}

TEST(SeriesPageTest, ChoiceListsLinksUpToTheLimit) {
  exposition::Snapshot snapshot;
  for (int i = 0; i < 5; ++i) snapshot.series.push_back(Report("cpu", MakeLabels({{"host", std::to_string(i)}})));
  std::vector<const exposition::SeriesReport*> all;
  for (const auto& r : snapshot.series) all.push_back(&r);
  const std::string html = RenderSeriesChoice("Several series match", "pick one", all, 3);
  EXPECT_THAT(html, HasSubstr("<a href=\"/series?detector=cpu&amp;host=0\">"));
  EXPECT_THAT(html, Not(HasSubstr("host=3\"")));
  EXPECT_THAT(html, HasSubstr("and 2 more"));
}

TEST(SeriesPageTest, AnomaliesJsonAndLandingPageLinkToThePage) {
  exposition::Snapshot s;
  s.series.push_back(Report("cpu", MakeLabels({{"host", "a b"}}), true));
  nlohmann::json body = nlohmann::json::parse(RenderAnomaliesJson(&s, false, "https://x.example/anomaly"));
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["url"], "https://x.example/anomaly/series?detector=cpu&host=a%20b");
  body = nlohmann::json::parse(RenderAnomaliesJson(&s, false));
  EXPECT_EQ(body["data"][0]["url"], "/series?detector=cpu&host=a%20b");
  EXPECT_THAT(RenderLandingPage(LandingInfo{}, &s, "/metrics"), HasSubstr("<a href=\"/series?detector=cpu&amp;host=a%20b\">"));
}

// The handler: the snapshot decides which series, the callback supplies its data.
class SeriesHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snapshot = std::make_shared<exposition::Snapshot>();
    snapshot->series = {Report("cpu", MakeLabels({{"host", "a"}}), true), Report("cpu", MakeLabels({{"host", "b"}}))};
    collector_->Publish(snapshot);
  }
  Response Get(const Router& router, std::string query) { return router.Serve({"GET", "/series", std::move(query), ""}); }

  std::shared_ptr<exposition::AnomalyCollector> collector_ = std::make_shared<exposition::AnomalyCollector>();
};

TEST_F(SeriesHandlerTest, AnswersThePageOfTheOneSeriesMatched) {
  Callbacks callbacks;
  Labels asked;
  callbacks.series = [&asked](const std::string& detector, const Labels& labels) -> Result<SeriesPage> {
    EXPECT_EQ(detector, "cpu");
    asked = labels;
    return Page();
  };
  Router router(WebOptions{}, nullptr, collector_, callbacks);
  const Response r = Get(router, "detector=cpu&host=a&instance=exporter:1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("class=\"value\""));
  EXPECT_EQ(asked, MakeLabels({{"host", "a"}}));
  EXPECT_EQ(router.Serve({"POST", "/series", "detector=cpu&host=a", ""}).status, 405);
}

TEST_F(SeriesHandlerTest, UnknownSeries404AmbiguousSelector400BadQuery400) {
  Router router(WebOptions{}, nullptr, collector_, {});
  Response r = Get(router, "detector=mem");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("no detector &quot;mem&quot; scores any series now; the detectors with series are: cpu"));
  r = Get(router, "detector=cpu&host=z");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("scores no series with these labels"));
  r = Get(router, "detector=cpu");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("2 series of detector &quot;cpu&quot; match"));
  EXPECT_THAT(r.body, HasSubstr("href=\"/series?detector=cpu&amp;host=b\""));
  r = Get(router, "host=a");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("the detector is missing"));
  // No data callback: the verdict alone.
  r = Get(router, "detector=cpu&host=b");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, Not(HasSubstr("<svg")));
}

TEST_F(SeriesHandlerTest, BusyCycleIs503WithRetryAfterAndGoneSeries404) {
  Callbacks callbacks;
  ErrorCode code = ErrorCode::kTimeout;
  callbacks.series = [&code](const std::string&, const Labels&) -> Result<SeriesPage> {
    return MakeError(code, "the cycle is running");
  };
  Router router(WebOptions{}, nullptr, collector_, callbacks);
  Response r = Get(router, "detector=cpu&host=a");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "5")));
  code = ErrorCode::kInvalidInput;
  EXPECT_EQ(Get(router, "detector=cpu&host=a").status, 404);
  code = ErrorCode::kInternal;
  EXPECT_EQ(Get(router, "detector=cpu&host=a").status, 500);
}

TEST_F(SeriesHandlerTest, AtMostTwoPagesAreDrawnAtOnce) {
  Callbacks callbacks;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered{0};
  callbacks.series = [&](const std::string&, const Labels&) -> Result<SeriesPage> {
    entered.fetch_add(1);
    released.wait();
    return Page();
  };
  Router router(WebOptions{}, nullptr, collector_, callbacks);
  auto a = std::async(std::launch::async, [&] { return Get(router, "detector=cpu&host=a").status; });
  auto b = std::async(std::launch::async, [&] { return Get(router, "detector=cpu&host=a").status; });
  while (entered.load() < 2) std::this_thread::yield();
  const Response third = Get(router, "detector=cpu&host=a");
  EXPECT_EQ(third.status, 429);
  EXPECT_THAT(third.headers, ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "1")));
  release.set_value();
  EXPECT_EQ(a.get(), 200);
  EXPECT_EQ(b.get(), 200);
  EXPECT_EQ(Get(router, "detector=cpu&host=a").status, 200);
}

}  // namespace
}  // namespace anomaly::http
