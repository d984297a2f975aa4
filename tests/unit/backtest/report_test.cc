#include "anomaly/backtest/report.h"

#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace anomaly::backtest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

BacktestResult Result(int n, int spike) {
  BacktestResult r;
  for (int i = 0; i < n; ++i) {
    ScoredRow row;
    row.timestamp_ms = 1'700'000'000'000 + i * 60'000LL;
    row.value = std::sin(i / 10.0) + (i == spike ? 5 : 0);
    row.scored = i >= 10;
    row.verdict.state = row.scored ? scoring::SeriesState::kOk : scoring::SeriesState::kWarmingUp;
    row.verdict.expected = std::sin(i / 10.0);
    row.verdict.lower = row.verdict.expected - 0.5;
    row.verdict.upper = row.verdict.expected + 0.5;
    row.verdict.threshold = 3;
    row.verdict.score = i == spike ? 9 : 0.2;
    row.verdict.anomalous = i == spike;
    row.flag_rose = i == spike;
    r.rows.push_back(row);
  }
  r.flagged_rows = 1;
  r.episodes = 1;
  r.model = scoring::ModelKind::kStl;
  r.periods = {60};
  r.detected_periods = {{}, {60}};
  return r;
}

// Every opened element among those the renderer writes is closed, in order.
bool Balanced(const std::string& html) {
  std::vector<std::string> stack;
  for (size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    if (html.compare(i, 2, "<!") == 0) continue;
    const size_t end = html.find('>', i);
    if (end == std::string::npos) return false;
    const bool closing = html[i + 1] == '/';
    const bool self_closing = html[end - 1] == '/';
    std::string name = html.substr(i + (closing ? 2 : 1), end - i - (closing ? 2 : 1));
    name = name.substr(0, name.find_first_of(" /"));
    if (name == "meta") continue;  // a void element
    if (closing) {
      if (stack.empty() || stack.back() != name) return false;
      stack.pop_back();
    } else if (!self_closing) {
      stack.push_back(name);
    }
  }
  return stack.empty();
}

TEST(ReportTest, SelfContainedAndWellFormed) {
  const BacktestResult r = Result(500, 300);
  const std::vector<ReportSeries> series = {{"{job=\"a<b\"}", &r}};
  const std::string html = RenderReport({"cpu & more", {{"step", "1m"}, {"seasonality (configured)", "auto"}},
                                         std::chrono::minutes(1)},
                                        series);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(Balanced(html));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("class=\"band\""));
  EXPECT_THAT(html, HasSubstr("class=\"expected\""));
  EXPECT_THAT(html, HasSubstr("class=\"value\""));
  EXPECT_THAT(html, HasSubstr("class=\"onset\""));  // the flagged point is marked
  EXPECT_THAT(html, HasSubstr("cpu &amp; more"));
  EXPECT_THAT(html, HasSubstr("{job=&quot;a&lt;b&quot;}"));
  EXPECT_THAT(html, HasSubstr("<tr><th>points</th><td>500</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><th>flagged points</th><td>1</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><th>periods (at the end)</th><td>1h</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><th>seasonality auto chose</th><td>none &rarr; 1h</td></tr>"));
}

TEST(ReportTest, LongSeriesAreThinnedButKeepTheirExtremes) {
  const BacktestResult r = Result(100'000, 77'777);
  const std::vector<ReportSeries> series = {{"", &r}};
  const std::string html = RenderReport({"long", {}, std::chrono::minutes(1)}, series);
  EXPECT_LT(html.size(), 600'000u);
  EXPECT_TRUE(Balanced(html));
  EXPECT_THAT(html, HasSubstr("class=\"onset\""));
}

TEST(ReportTest, PeriodsText) {
  EXPECT_EQ(PeriodsText({}, std::chrono::minutes(5)), "none");
  EXPECT_EQ(PeriodsText({12, 288}, std::chrono::minutes(5)), "1h,1d");
}

}  // namespace
}  // namespace anomaly::backtest
