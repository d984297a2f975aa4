#include "exporter/http/pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace anomaly::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PagesTest, LandingPageWithoutSnapshotSaysSo) {
  const std::string html = RenderLandingPage(LandingInfo{}, nullptr, "/m\"x");
  EXPECT_THAT(html, HasSubstr("No cycle has published yet."));
  EXPECT_THAT(html, HasSubstr("<a href=\"/m&quot;x\">"));
  EXPECT_THAT(html, HasSubstr("Version unknown"));
}

TEST(PagesTest, AnomaliesJsonWritesNonFiniteAsNullAndHandlesBadUtf8) {
  exposition::Snapshot s;
  exposition::SeriesReport r;
  r.detector = "d";
  r.labels = MakeLabels({{"job", std::string("\xff\xfe", 2)}});
  r.verdict.state = scoring::SeriesState::kOk;
  r.verdict.anomalous = true;
  r.verdict.zscore = std::numeric_limits<double>::infinity();
  r.verdict.score = std::numeric_limits<double>::quiet_NaN();
  s.series.push_back(r);
  nlohmann::json body = nlohmann::json::parse(RenderAnomaliesJson(&s, false));
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["zscore"], nullptr);
  EXPECT_EQ(body["data"][0]["score"], nullptr);
  EXPECT_EQ(body["data"][0]["anomalous_since"], nullptr);  // flagged, but no start time recorded
}

TEST(PagesTest, AnomaliesJsonEmptyWithoutSnapshot) {
  EXPECT_EQ(RenderAnomaliesJson(nullptr, true), "{\"data\":[],\"status\":\"success\"}\n");
}

}  // namespace
}  // namespace anomaly::http
