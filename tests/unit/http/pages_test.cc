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


TEST(PagesTest, GroupsAreListedWithTheirContributorsInTheJsonAndOnTheLandingPage) {
  exposition::Snapshot s;
  exposition::GroupReport flagged;
  flagged.detector = "servers";
  flagged.labels = MakeLabels({{"instance", "db-1"}});
  flagged.state = scoring::SeriesState::kOk;
  flagged.members = 3;
  flagged.score = 2.5;
  flagged.anomalous = true;
  flagged.anomalous_since_ms = 1767225600000;
  flagged.top = {{"cpu", 0.72}, {"memory", 0.2}};
  exposition::GroupReport quiet = flagged;
  quiet.labels = MakeLabels({{"instance", "db-2"}});
  quiet.anomalous = false;
  quiet.score = 0.1;
  s.groups = {flagged, quiet};
  nlohmann::json body = nlohmann::json::parse(RenderAnomaliesJson(&s, false));
  ASSERT_EQ(body["data"].size(), 1u);
  const nlohmann::json& g = body["data"][0];
  EXPECT_EQ(g["kind"], "group");
  EXPECT_EQ(g["labels"]["instance"], "db-1");
  EXPECT_EQ(g["members"], 3);
  EXPECT_EQ(g["anomalous_since"], 1767225600.0);
  ASSERT_EQ(g["top"].size(), 2u);
  EXPECT_EQ(g["top"][0]["member"], "cpu");
  EXPECT_EQ(g["top"][0]["share"], 0.72);
  EXPECT_EQ(nlohmann::json::parse(RenderAnomaliesJson(&s, true))["data"].size(), 2u);
  const std::string html = RenderLandingPage(LandingInfo{}, &s, "/metrics");
  EXPECT_THAT(html, HasSubstr("Groups in anomaly (1 of 2)"));
  EXPECT_THAT(html, HasSubstr("cpu 72%, memory 20%"));
  EXPECT_THAT(html, Not(HasSubstr("db-2")));
}

TEST(PagesTest, PeerOutliersAreListedAndTheirGroupIsNot) {
  exposition::Snapshot s;
  exposition::PeerReport slow;
  slow.detector = "pods";
  slow.labels = MakeLabels({{"pod", "checkout-7"}, {"service", "checkout"}});
  slow.state = scoring::SeriesState::kOk;
  slow.deviation = 6.5;
  slow.zscore = 5.25;
  slow.score = 3;
  slow.anomalous = true;
  slow.anomalous_since_ms = 1767225600000;
  exposition::PeerReport fine = slow;
  fine.labels = MakeLabels({{"pod", "checkout-1"}, {"service", "checkout"}});
  fine.anomalous = false;
  fine.score = 0.2;
  exposition::PeerReport lonely = fine;
  lonely.labels = MakeLabels({{"pod", "search-1"}, {"service", "search"}});
  lonely.state = scoring::SeriesState::kInsufficientPeers;
  s.peers = {fine, slow, lonely};
  exposition::GroupReport group;
  group.detector = "pods";
  group.labels = MakeLabels({{"service", "checkout"}});
  group.state = scoring::SeriesState::kOk;
  group.peers = true;
  group.members = 2;
  group.top = {{"{pod=\"checkout-7\"}", 0.9}};
  s.groups = {group};
  nlohmann::json body = nlohmann::json::parse(RenderAnomaliesJson(&s, false));
  ASSERT_EQ(body["data"].size(), 1u);
  const nlohmann::json& p = body["data"][0];
  EXPECT_EQ(p["kind"], "peer");
  EXPECT_EQ(p["labels"]["pod"], "checkout-7");
  EXPECT_EQ(p["deviation"], 6.5);
  EXPECT_EQ(p["zscore"], 5.25);
  EXPECT_EQ(p["anomalous_since"], 1767225600.0);
  nlohmann::json every = nlohmann::json::parse(RenderAnomaliesJson(&s, true))["data"];
  ASSERT_EQ(every.size(), 2u);  // both checkout pods in state ok; not the group, not search's pod
  EXPECT_EQ(every[0]["labels"]["pod"], "checkout-7");  // highest score first
  const std::string html = RenderLandingPage(LandingInfo{}, &s, "/metrics");
  EXPECT_THAT(html, HasSubstr("Peer outliers (1 of 3)"));
  EXPECT_THAT(html, HasSubstr("checkout-7"));
  EXPECT_THAT(html, Not(HasSubstr("checkout-1")));
  EXPECT_THAT(html, HasSubstr("Groups in anomaly (0 of 1)"));
}

}  // namespace
}  // namespace anomaly::http
