#include "exporter/app/daemon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "anomaly/base/log.h"
#include "support/eventually.h"
#include "support/http_fetch.h"
#include "support/metrics_text.h"
#include "support/temp_dir.h"

namespace anomaly::app {
namespace {

using ::testing::HasSubstr;

// What the fake upstream does, shared between the test and the client the daemon owns.
struct Upstream {
  std::atomic<int> throws_left{0};  // QueryRange throws while this is positive
  std::atomic<int> calls{0};
};

// The RangeQueryClient seam (STYLE.md B8): an empty answer, or an exception while throws_left > 0 (what a
// bug or std::bad_alloc inside a cycle looks like to the daemon).
class ThrowingClient : public prom::RangeQueryClient {
 public:
  explicit ThrowingClient(std::shared_ptr<Upstream> upstream) : upstream_(std::move(upstream)) {}
  Result<std::vector<prom::SeriesSamples>> QueryRange(const prom::RangeQuery&) override {
    ++upstream_->calls;
    if (upstream_->throws_left.fetch_sub(1) > 0) throw std::runtime_error("injected cycle failure");
    return std::vector<prom::SeriesSamples>{};
  }
  Status CheckQuery(std::string_view) override { return {}; }

 private:
  std::shared_ptr<Upstream> upstream_;
};

constexpr char kConfig[] = R"(prometheus:
  url: http://127.0.0.1:1
detectors:
  - name: load
    query: load
    step: 1m
    history: 1d
    interval: 1s
)";

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() : upstream_(std::make_shared<Upstream>()) {
    log::Configure(log::Level::kInfo, log::Format::kLogfmt, &log_);
  }
  ~DaemonTest() override { log::Configure(log::Level::kInfo, log::Format::kLogfmt, nullptr); }

  std::unique_ptr<Daemon> Start(int shard_index = -1, int shard_count = -1, std::string storage_path = "",
                                std::string shard_url_template = "") {
    const std::string config = dir_.File("anomaly.yml");
    EXPECT_TRUE(testing::WriteFile(config, kConfig));
    DaemonOptions options;
    options.config_file = config;
    options.listen_addresses = {"127.0.0.1:0"};
    options.shard_index = shard_index;
    options.shard_count = shard_count;
    options.storage_path = storage_path;
    options.shard_url_template = shard_url_template;
    std::shared_ptr<Upstream> upstream = upstream_;
    options.new_client = [upstream](const prom::ClientOptions&) {
      return Result<std::unique_ptr<prom::RangeQueryClient>>(std::make_unique<ThrowingClient>(upstream));
    };
    Result<std::unique_ptr<Daemon>> daemon = Daemon::Create(options);
    EXPECT_TRUE(daemon.has_value()) << daemon.error().message;
    return daemon ? std::move(*daemon) : nullptr;
  }

  // anomaly_exporter_cycle_failures_total{detector="load"} as /metrics serves it; -1 when absent.
  double CycleFailures(const Daemon& daemon) {
    const std::string url = "http://127.0.0.1:" + std::to_string(daemon.listening_ports().at(0)) + "/metrics";
    Result<testing::HttpResult> scrape = testing::HttpGet(url);
    if (!scrape || scrape->status != 200) return -1;
    const std::vector<testing::TextSample> samples = testing::ParseMetricsText(scrape->body);
    return testing::SampleValue(samples, "anomaly_exporter_cycle_failures_total", {{"detector", "load"}})
        .value_or(-1);
  }

  testing::TempDir dir_;
  std::shared_ptr<Upstream> upstream_;
  std::ostringstream log_;  // written by the daemon's threads; read once the daemon is gone
};

// Issue 15: a cycle that threw left its slot marked running, so the detector was never scheduled again
// and the exporter never became ready. Now the slot is freed, the failure counted and logged once per
// streak, and the next interval's cycle publishes.
TEST_F(DaemonTest, Issue15ThrowingCycleIsCountedAndScheduledAgain) {
  upstream_->throws_left = 2;
  std::unique_ptr<Daemon> daemon = Start();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::Eventually([&] { return daemon->ready(); }, std::chrono::seconds(20)))
      << "the detector was not scheduled again after its cycles threw (" << upstream_->calls << " calls)";
  EXPECT_GE(upstream_->calls.load(), 3);
  EXPECT_EQ(CycleFailures(*daemon), 2);
  daemon.reset();

  const std::string log = log_.str();
  size_t failed_lines = 0;
  for (size_t at = log.find("cycle failed"); at != std::string::npos; at = log.find("cycle failed", at + 1)) {
    ++failed_lines;
  }
  EXPECT_EQ(failed_lines, 1u) << log;  // one line for the streak of two
  EXPECT_THAT(log, HasSubstr("injected cycle failure"));
  EXPECT_THAT(log, HasSubstr("detector=load"));
  EXPECT_THAT(log, HasSubstr("cycle succeeded again"));
}

TEST_F(DaemonTest, CycleFailuresStartAtZero) {
  std::unique_ptr<Daemon> daemon = Start();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::Eventually([&] { return daemon->ready(); }, std::chrono::seconds(20)));
  EXPECT_EQ(CycleFailures(*daemon), 0);
}

// An id whose shard key hash is `hash` (EpisodeId: 16 hex digits of it, then 16 of the episode's own).
std::string IdWithShardHash(uint64_t hash) {
  char id[33];
  std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(hash),
                0x0123456789abcdefULL);
  return id;
}

TEST_F(DaemonTest, FeedbackForAnotherShardsSeriesIs421NamingTheOwnerAndOursIs404) {
  std::unique_ptr<Daemon> daemon = Start(1, 3);
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::Eventually([&] { return daemon->ready(); }, std::chrono::seconds(20)));
  const std::string base = "http://127.0.0.1:" + std::to_string(daemon->listening_ports().at(0));
  Result<testing::HttpResult> list = testing::HttpGet(base + "/api/v1/episodes");
  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->body, "{\"status\":\"success\",\"data\":[]}\n");
  auto post = [&base](const std::string& id, const std::string& body) {
    return testing::HttpPost(base + "/api/v1/episodes/" + id + "/feedback", body, "application/json");
  };

  // 3 * 5 + 2: shard 2 owns it.
  Result<testing::HttpResult> elsewhere = post(IdWithShardHash(17), R"({"verdict":"false_positive"})");
  ASSERT_TRUE(elsewhere.has_value()) << elsewhere.error().message;
  EXPECT_EQ(elsewhere->status, 421);
  EXPECT_THAT(elsewhere->body, HasSubstr("\"errorType\":\"misdirected\""));
  EXPECT_THAT(elsewhere->body, HasSubstr("belongs to shard 2 of 3, not to this one (shard 1)"));
  EXPECT_THAT(elsewhere->body,
              HasSubstr("\"data\":{\"shard\":2,\"shard_count\":3,\"this_shard\":1,\"url\":null}"));

  // 3 * 5 + 1: this shard owns it, and keeps no such episode.
  Result<testing::HttpResult> ours = post(IdWithShardHash(16), R"({"verdict":"false_positive"})");
  ASSERT_TRUE(ours.has_value()) << ours.error().message;
  EXPECT_EQ(ours->status, 404);
  EXPECT_THAT(ours->body, HasSubstr("\"errorType\":\"not_found\""));
  EXPECT_THAT(ours->body, HasSubstr("this is shard 1 of 3, the one that scores its series"));

  // Not shaped like an id: no shard can own it.
  Result<testing::HttpResult> odd = post("0123456789abcdef", R"({"verdict":"false_positive"})");
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->status, 404);

  Result<testing::HttpResult> bad = post(IdWithShardHash(16), R"({"verdict":"maybe"})");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400);

  Result<testing::HttpResult> scrape = testing::HttpGet(base + "/metrics");
  ASSERT_TRUE(scrape.has_value());
  const std::vector<testing::TextSample> samples = testing::ParseMetricsText(scrape->body);
  EXPECT_EQ(testing::SampleValue(samples, "anomaly_exporter_feedback_total", {{"verdict", "false_positive"}}), 0)
      << "nothing was taken";
}

TEST_F(DaemonTest, WithAShardUrlTemplateMisdirectedFeedbackIsRedirectedToTheOwner) {
  std::unique_ptr<Daemon> daemon = Start(0, 3, "", "http://exporter-{shard}.headless:10650/");
  ASSERT_NE(daemon, nullptr);
  const std::string path = "/api/v1/episodes/" + IdWithShardHash(17) + "/feedback";
  Result<testing::HttpResult> r =
      testing::HttpPost("http://127.0.0.1:" + std::to_string(daemon->listening_ports().at(0)) + path,
                        R"({"verdict":"true_positive"})", "application/json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 307) << r->body;
  EXPECT_EQ(r->location, "http://exporter-2.headless:10650" + path);
  EXPECT_THAT(r->body, HasSubstr("send the feedback to shard 2 at http://exporter-2.headless:10650"));
}

TEST(ShardUrlTest, ReplacesEveryPlaceholderAndDropsTheTrailingSlash) {
  EXPECT_EQ(ShardUrl("http://x-{shard}.h:1/", 12), "http://x-12.h:1");
  EXPECT_EQ(ShardUrl("https://{shard}.{shard}", 3), "https://3.3");
  EXPECT_EQ(ShardUrl("", 3), "");
}

TEST_F(DaemonTest, ACorruptStateFileIsMovedAsideAndTheDaemonStartsWithoutIt) {
  const std::string state = dir_.File("state");
  ASSERT_TRUE(testing::WriteFile(state, "anomaly_exporter_state 1\nseries load 0 0 0\n"));  // truncated
  std::unique_ptr<Daemon> daemon = Start(-1, -1, dir_.path());
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::Eventually([&] { return daemon->ready(); }, std::chrono::seconds(20)));
  // The first cycle stores a fresh, whole state file.
  EXPECT_TRUE(testing::Eventually([&] { return testing::ReadFile(state) == "anomaly_exporter_state 1\nend 0\n"; },
                                  std::chrono::seconds(20)));
  daemon.reset();
  const std::string log = log_.str();
  EXPECT_THAT(log, HasSubstr("state file unusable"));
  EXPECT_THAT(log, HasSubstr(state));
  EXPECT_THAT(log, HasSubstr("moved_to=" + state + ".corrupt-"));
}


TEST_F(DaemonTest, StoredEpisodesComeBackAtStartAndSurviveAReloadThatRebuildsTheDetector) {
  // Every cycle throws: no answer ever shows which series exist, so nothing is swept and the API shows
  // exactly what was restored.
  upstream_->throws_left = 1'000'000;
  const std::string state = dir_.File("state");
  StoredSeries s;
  s.detector = "load";
  s.labels = MakeLabels({{"host", "a"}});
  EpisodeRecord e{.start_ms = 1'700'000'000'000, .end_ms = 1'700'000'600'000, .peak_score = 2.5};
  e.feedback = http::EpisodeFeedback{http::FeedbackVerdict::kTruePositive, "real", 1'700'000'700'000};
  s.episodes.push_back(e);
  ASSERT_TRUE(testing::WriteFile(state, EncodeState({s})));
  std::unique_ptr<Daemon> daemon = Start(-1, -1, dir_.path());
  ASSERT_NE(daemon, nullptr);
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon->listening_ports().at(0)) + "/api/v1/episodes";
  const std::string id = EpisodeId("load", s.labels, s.labels, e.start_ms);
  auto listed = [&] {
    Result<testing::HttpResult> r = testing::HttpGet(url);
    return r && r->status == 200 && r->body.find("\"id\":\"" + id + "\"") != std::string::npos &&
           r->body.find("\"comment\":\"real\"") != std::string::npos;
  };
  EXPECT_TRUE(listed()) << "restored before the first cycle";

  // A changed setting rebuilds the detector's runner.
  std::string changed = kConfig;
  changed.replace(changed.find("interval: 1s"), 12, "interval: 2s");
  ASSERT_TRUE(testing::WriteFile(dir_.File("anomaly.yml"), changed));
  ASSERT_TRUE(daemon->Reload().has_value());
  EXPECT_TRUE(listed()) << "kept by the rebuilt detector";
  daemon.reset();
  EXPECT_THAT(log_.str(), HasSubstr("episodes and feedback are stored"));
}

}  // namespace
}  // namespace anomaly::app
