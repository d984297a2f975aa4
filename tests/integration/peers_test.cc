// kind: peers (issue 17) end to end: the real anomaly_exporter binary against a real Prometheus backfilled
// with a fleet of pods that follow one daily curve, each at its own offset. One pod of checkout drifts away
// from the others over the newest half hour; a pod joins checkout two hours before the end; search has two
// pods only. One exporter and one Prometheus serve the suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/free_port.h"
#include "support/http_fetch.h"
#include "support/metrics_text.h"
#include "support/prometheus_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr int kCheckoutPods = 10;
constexpr int kDriftingPod = 7;

// Two days of 1-minute latencies ending at `end_s`: checkout-0..9 and search-0..1 on one daily curve
// (x1.6 at its peak), pod i at 0.5 i ms above the curve with 1 ms of noise; checkout-7 drifts 25 ms above
// its usual place over the newest 30 minutes (the group spreads about 2 ms); checkout-new joins 2 h
// before the end.
std::string Fleet(int64_t end_s) {
  std::mt19937 rng(17);
  std::normal_distribution<double> noise(0, 1);
  std::string om = "# TYPE demo_pod_latency_ms gauge\n";
  const int64_t start_s = end_s - 2 * 86400;
  auto pod = [&](const std::string& service, const std::string& name, double offset, int64_t from_s,
                 double drift) {
    for (int64_t t = from_s; t <= end_s; t += 60) {
      const double curve = 100 * (1 + 0.6 * std::sin(2 * M_PI * static_cast<double>(t % 86400) / 86400));
      double v = curve + offset + noise(rng);
      const int64_t into = t - (end_s - 30 * 60);
      if (into >= 0) v += drift * static_cast<double>(into) / (30 * 60);
      om += "demo_pod_latency_ms{service=\"" + service + "\",pod=\"" + name + "\"} " + std::to_string(v) +
            " " + std::to_string(t) + "\n";
    }
  };
  for (int i = 0; i < kCheckoutPods; ++i) {
    pod("checkout", "checkout-" + std::to_string(i), 0.5 * i, start_s, i == kDriftingPod ? 25 : 0);
  }
  pod("checkout", "checkout-new", 1.5, end_s - 2 * 3600, 0);
  pod("search", "search-0", 0, start_s, 0);
  pod("search", "search-1", 0.5, start_s, 0);
  return om + "# EOF\n";
}

class PeersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_peers_test");
    const int64_t end_s = std::time(nullptr) / 60 * 60 - 60;
    PrometheusOptions popts;
    popts.openmetrics = Fleet(end_s);
    auto prom = PrometheusProcess::Start(popts);
    ASSERT_TRUE(prom.has_value()) << prom.error().message;
    prometheus_ = prom->release();

    const std::string config = dir_->File("config.yml");
    ASSERT_TRUE(WriteFile(config,
                          "prometheus:\n"
                          "  url: " +
                              prometheus_->url() +
                              "\n"
                              "detectors:\n"
                              "  - name: pods\n"
                              "    query: demo_pod_latency_ms\n"
                              "    step: 1m\n"
                              "    history: 2d\n"
                              "    interval: 2s\n"
                              "    seasonality: [1d]\n"
                              "    kind: peers\n"
                              "    group_by: [service]\n"));
    exporter_port_ = FreePort();
    ChildOptions exporter;
    exporter.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + config,
                     "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port_)};
    exporter.log_file = dir_->File("exporter.log");
    auto e = ChildProcess::Start(exporter);
    ASSERT_TRUE(e.has_value()) << e.error().message;
    exporter_ = e->release();
    ASSERT_TRUE(Eventually(
        [] {
          auto r = HttpGet(Url("/-/ready"));
          return r && r->status == 200;
        },
        seconds(120)))
        << exporter_->LogTail();
  }

  static void TearDownTestSuite() {
    delete exporter_;
    delete prometheus_;
    delete dir_;
  }

  void TearDown() override {
    if (HasFailure() && exporter_ != nullptr) std::cerr << "exporter log:\n" << exporter_->LogTail() << "\n";
  }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(exporter_port_) + path;
  }

  static std::vector<TextSample> Scrape() {
    auto r = HttpGet(Url("/metrics"));
    if (!r || r->status != 200) return {};
    return ParseMetricsText(r->body);
  }

  static std::map<std::string, std::string> Pod(const std::string& service, const std::string& pod) {
    return {{"detector", "pods"}, {"service", service}, {"pod", pod}};
  }

  static inline TempDir* dir_ = nullptr;
  static inline PrometheusProcess* prometheus_ = nullptr;
  static inline ChildProcess* exporter_ = nullptr;
  static inline int exporter_port_ = 0;
};

TEST_F(PeersTest, TheDriftingPodIsFlaggedAndNoOtherWhileTheFleetFollowsItsCurve) {
  std::vector<TextSample> m = Scrape();
  for (int i = 0; i < kCheckoutPods; ++i) {
    const std::string name = "checkout-" + std::to_string(i);
    EXPECT_EQ(FindSamples(m, "anomaly_peer_state",
                          [&] {
                            auto l = Pod("checkout", name);
                            l["state"] = "ok";
                            return l;
                          }())
                  .size(),
              1u)
        << name;
    EXPECT_EQ(SampleValue(m, "anomaly_peer_flag", Pod("checkout", name)), i == kDriftingPod ? 1.0 : 0.0)
        << name << " peer z " << SampleValue(m, "anomaly_peer_zscore", Pod("checkout", name)).value_or(NAN)
        << " score " << SampleValue(m, "anomaly_peer_score", Pod("checkout", name)).value_or(NAN);
  }
  const std::string drifting = "checkout-" + std::to_string(kDriftingPod);
  EXPECT_GE(SampleValue(m, "anomaly_peer_score", Pod("checkout", drifting)).value_or(0), 1.0);
  EXPECT_GT(SampleValue(m, "anomaly_peer_zscore", Pod("checkout", drifting)).value_or(0), 3.0);
  EXPECT_GT(
      SampleValue(m, "anomaly_peer_anomalous_since_timestamp_seconds", Pod("checkout", drifting)).value_or(0),
      0);
  // The group names it first among its outliers, and its members count the pod that joined.
  std::vector<TextSample> first = FindSamples(m, "anomaly_group_contributor_share",
                                              {{"detector", "pods"}, {"service", "checkout"}, {"rank", "1"}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_THAT(first[0].labels.at("member"), HasSubstr(drifting));
  EXPECT_EQ(SampleValue(m, "anomaly_group_members", {{"detector", "pods"}, {"service", "checkout"}}), 11.0);
  EXPECT_TRUE(FindSamples(m, "anomaly_group_flag", {{"detector", "pods"}}).empty());

  auto api = HttpGet(Url("/api/v1/anomalies"));
  ASSERT_TRUE(api.has_value());
  nlohmann::json body = nlohmann::json::parse(api->body);
  int peers_listed = 0;
  for (const nlohmann::json& row : body["data"]) {
    if (row["kind"] != "peer") continue;
    ++peers_listed;
    EXPECT_EQ(row["labels"]["pod"], drifting);
  }
  EXPECT_EQ(peers_listed, 1);
  auto landing = HttpGet(Url("/"));
  ASSERT_TRUE(landing.has_value());
  EXPECT_THAT(landing->body, HasSubstr("Peer outliers (1 of 13)"));
}

TEST_F(PeersTest, APodThatJoinedIsJudgedAgainstItsPeersAtOnceAndNotFlagged) {
  std::vector<TextSample> m = Scrape();
  // Two hours of samples, too few to calibrate it on its own (300 steps): it starts from the group's
  // calibration and is judged against its peers (at their level: not an outlier).
  auto ok = Pod("checkout", "checkout-new");
  ok["state"] = "ok";
  EXPECT_EQ(FindSamples(m, "anomaly_peer_state", ok).size(), 1u);
  EXPECT_EQ(SampleValue(m, "anomaly_peer_flag", Pod("checkout", "checkout-new")), 0.0)
      << SampleValue(m, "anomaly_peer_zscore", Pod("checkout", "checkout-new")).value_or(NAN);
}

TEST_F(PeersTest, AGroupUnderTheMinimumSizeHasInsufficientPeersAndNoScore) {
  std::vector<TextSample> m = Scrape();
  for (const char* name : {"search-0", "search-1"}) {
    auto state = Pod("search", name);
    state["state"] = "insufficient_peers";
    EXPECT_EQ(FindSamples(m, "anomaly_peer_state", state).size(), 1u) << name;
    EXPECT_FALSE(SampleValue(m, "anomaly_peer_score", Pod("search", name)).has_value()) << name;
    // Each pod alone is still scored by its own model.
    EXPECT_EQ(FindSamples(m, "anomaly_state", {{"detector", "pods"}, {"pod", name}, {"state", "ok"}}).size(),
              1u);
  }
  EXPECT_EQ(FindSamples(m, "anomaly_group_state",
                        {{"detector", "pods"}, {"service", "search"}, {"state", "insufficient_peers"}})
                .size(),
            1u);
}

}  // namespace
}  // namespace anomaly::testing
