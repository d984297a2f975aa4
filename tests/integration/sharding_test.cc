// Sharded scale-out with real processes: three anomaly_exporter binaries (--shard.index=0..2
// --shard.count=3) on one config against one real Prometheus. Together they must score every series the
// query returns exactly once, each on the shard HashLabels(labels) % 3 names, and keep it there across a
// restart (docs/kubernetes.md, sharding). Each also says which shard it is in anomaly_exporter_shard_info.
// Feedback reaches the shard that owns the episode's series: the demo workload's newest minutes hold an
// incident, a second detector flags it, and a feedback posted to another shard is answered 421 naming the
// owner, which takes it (docs/api.md, "With shards").
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "anomaly/base/labels.h"
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
using SeriesSet = std::set<std::map<std::string, std::string>>;

constexpr int kShards = 3;
constexpr int kProbeSeries = 40;
// The workload's 8 demo_* series plus kProbeSeries more, so that every shard gets several.
constexpr char kQuery[] = "{__name__=~\"demo_.*|shard_probe\"}";

// kProbeSeries small gauges over the same two days as the workload, ending with it at `end`.
std::string ProbeOpenMetrics(long end) {
  std::string om = "# TYPE shard_probe gauge\n";
  for (int i = 0; i < kProbeSeries; ++i) {
    for (long t = end - 2 * 86400; t <= end; t += 60) {
      om += "shard_probe{probe=\"p" + std::to_string(i) + "\"} " + std::to_string(100 + i + (t / 60) % 7) + " " +
            std::to_string(t) + "\n";
    }
  }
  return om + "# EOF\n";
}

std::string Config(const std::string& upstream) {
  return "prometheus:\n"
         "  url: " +
         upstream +
         "\n"
         "  timeout: 10s\n"
         "detectors:\n"
         "  - name: all\n"
         "    query: '" +
         std::string(kQuery) +
         "'\n"
         "    step: 1m\n"
         "    history: 1d\n"
         "    interval: 2s\n"
         "    seasonality: none\n"
         // The workload's recent incident, flagged on the shard that owns each incident series.
         "  - name: requests\n"
         "    query: demo_http_requests_per_second\n"
         "    step: 1m\n"
         "    history: 3d\n"
         "    interval: 30s\n"
         "    seasonality: [1d]\n"
         "    threshold: {floor: 5}\n"
         // The file's own shard is overridden by the flags; a wrong one here shows the flags win.
         "shard:\n"
         "  index: 0\n"
         "  count: 1\n";
}

// The series' labels as the exporter shows them: __name__ becomes metric_name (docs/metrics.md).
std::map<std::string, std::string> Exposed(const nlohmann::json& metric) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : metric.items()) out[k == "__name__" ? "metric_name" : k] = v.get<std::string>();
  return out;
}

class ShardingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_sharding_test");
    const std::string om = dir_->File("history.om");
    end_ = static_cast<long>(std::time(nullptr)) - 60;
    std::string cmd = "python3 " ANOMALY_SOURCE_DIR
                      "/scripts/workload.py backfill --days 3 --step 60 "
                      "--recent-incident 15 --end " +
                      std::to_string(end_) + " --out " + om;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    PrometheusOptions popts;
    popts.openmetrics_file = om;
    popts.openmetrics = ProbeOpenMetrics(end_);
    auto prom = PrometheusProcess::Start(popts);
    ASSERT_TRUE(prom.has_value()) << prom.error().message;
    prometheus_ = prom->release();

    config_file_ = dir_->File("config.yml");
    ASSERT_TRUE(WriteFile(config_file_, Config(prometheus_->url())));
    for (int i = 0; i < kShards; ++i) {
      ports_[i] = FreePort();
      StartShard(i);
    }
    for (int i = 0; i < kShards; ++i) WaitReady(i);
  }

  static void TearDownTestSuite() {
    for (ChildProcess*& e : exporters_) {
      delete e;
      e = nullptr;
    }
    delete prometheus_;
    delete dir_;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (int i = 0; i < kShards; ++i) {
      if (exporters_[i] != nullptr) std::cerr << "shard " << i << " log:\n" << exporters_[i]->LogTail() << "\n";
    }
  }

  static void StartShard(int i) {
    ChildOptions exporter;
    exporter.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + config_file_,
                     "--web.listen-address=127.0.0.1:" + std::to_string(ports_[i]),
                     "--shard.index=" + std::to_string(i), "--shard.count=" + std::to_string(kShards)};
    exporter.log_file = dir_->File("exporter" + std::to_string(i) + ".log");
    auto e = ChildProcess::Start(exporter);
    ASSERT_TRUE(e.has_value()) << e.error().message;
    exporters_[i] = e->release();
  }

  static void WaitReady(int i) {
    ASSERT_TRUE(Eventually([i] {
      auto r = HttpGet(Url(i, "/-/ready"));
      return r && r->status == 200;
    }, seconds(120))) << "shard " << i << ":\n" << exporters_[i]->LogTail();
  }

  static std::string Url(int i, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(ports_[i]) + path;
  }

  static std::vector<TextSample> Scrape(int i) {
    auto r = HttpGet(Url(i, "/metrics"));
    if (!r || r->status != 200) return {};
    return ParseMetricsText(r->body);
  }

  // The series shard i scores: one anomaly_state per series, whatever its state; `detector` and `state`
  // are the exporter's own labels, not the series'.
  static SeriesSet Scored(int i) {
    SeriesSet out;
    for (TextSample s : FindSamples(Scrape(i), "anomaly_state", {{"detector", "all"}})) {
      s.labels.erase("detector");
      s.labels.erase("state");
      out.insert(s.labels);
    }
    return out;
  }

  // What the query returns from Prometheus itself, with the original labels (for the hash) and as exposed.
  static std::vector<nlohmann::json> UpstreamSeries(std::string* answer) {
    std::string q = prometheus_->url() + "/api/v1/query?query=" +
                    "%7B__name__%3D~%22demo_.%2A%7Cshard_probe%22%7D&time=" +
                    std::to_string(end_);
    auto r = HttpGet(q);
    *answer = r ? std::to_string(r->status) + " " + r->body : r.error().message;
    if (!r || r->status != 200) return {};
    std::vector<nlohmann::json> out;
    const nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
    if (doc.is_discarded()) return {};
    for (const auto& s : doc["data"]["result"]) out.push_back(s["metric"]);
    return out;
  }

  static inline TempDir* dir_ = nullptr;
  static inline PrometheusProcess* prometheus_ = nullptr;
  static inline ChildProcess* exporters_[kShards] = {};
  static inline int ports_[kShards] = {};
  static inline std::string config_file_;
  static inline long end_ = 0;  // the newest backfilled sample, Unix seconds
};

TEST_F(ShardingTest, ShardsCoverEverySeriesExactlyOnceOnItsHashShard) {
  std::string answer;
  std::vector<nlohmann::json> upstream = UpstreamSeries(&answer);
  ASSERT_EQ(upstream.size(), 8u + kProbeSeries) << answer.substr(0, 2000);

  SeriesSet want;
  std::map<std::map<std::string, std::string>, int> want_shard;
  for (const nlohmann::json& metric : upstream) {
    std::vector<Label> labels;
    for (const auto& [k, v] : metric.items()) labels.push_back({k, v.get<std::string>()});
    want.insert(Exposed(metric));
    want_shard[Exposed(metric)] = static_cast<int>(HashLabels(MakeLabels(labels)) % kShards);
  }

  // Every shard publishes its whole share from its first cycle; poll only to ride out a scrape racing it.
  SeriesSet scored[kShards];
  ASSERT_TRUE(Eventually([&] {
    size_t total = 0;
    for (int i = 0; i < kShards; ++i) total += (scored[i] = Scored(i)).size();
    return total == want.size();
  }, seconds(60)));

  SeriesSet all;
  for (int i = 0; i < kShards; ++i) {
    SCOPED_TRACE("shard " + std::to_string(i));
    EXPECT_FALSE(scored[i].empty()) << "a shard with nothing to score: the split is not spreading series";
    for (const auto& s : scored[i]) {
      EXPECT_TRUE(all.insert(s).second) << "scored by two shards";
      EXPECT_EQ(want_shard[s], i) << "on the wrong shard";
    }
  }
  EXPECT_EQ(all, want);
}

TEST_F(ShardingTest, SelfMetricsNameTheShard) {
  for (int i = 0; i < kShards; ++i) {
    std::vector<TextSample> m = Scrape(i);
    std::vector<TextSample> info = FindSamples(m, "anomaly_exporter_shard_info");
    ASSERT_EQ(info.size(), 1u) << "shard " << i;
    EXPECT_EQ(info[0].labels, (std::map<std::string, std::string>{{"index", std::to_string(i)}, {"count", "3"}}));
    EXPECT_EQ(info[0].value, 1.0);
    // The series gauge agrees with what is exposed.
    EXPECT_EQ(SampleValue(m, "anomaly_exporter_series", {{"detector", "all"}}), static_cast<double>(Scored(i).size()));
  }
}

// The episodes of detector "requests" a shard lists.
nlohmann::json RequestsEpisodes(const std::string& url) {
  auto r = HttpGet(url);
  nlohmann::json out = nlohmann::json::array();
  if (!r || r->status != 200) return out;
  const nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
  if (doc.is_discarded()) return out;
  for (const auto& e : doc["data"]) {
    if (e["detector"] == "requests") out.push_back(e);
  }
  return out;
}

TEST_F(ShardingTest, FeedbackSentToAnotherShardIs421NamingTheOwnerWhichTakesIt) {
  // The incident's episode, listed by the one shard that scores its series.
  nlohmann::json episode;
  int owner = -1;
  ASSERT_TRUE(Eventually(
      [&] {
        for (int i = 0; i < kShards; ++i) {
          const nlohmann::json listed = RequestsEpisodes(Url(i, "/api/v1/episodes"));
          if (listed.empty()) continue;
          episode = listed[0];
          owner = i;
          return true;
        }
        return false;
      },
      seconds(60)))
      << "no shard flagged the workload's incident";
  std::vector<Label> labels;
  for (const auto& [k, v] : episode["labels"].items()) labels.push_back({k, v.get<std::string>()});
  EXPECT_EQ(static_cast<int>(HashLabels(MakeLabels(labels)) % kShards), owner) << episode.dump();
  const std::string id = episode["id"];
  for (int i = 0; i < kShards; ++i) {
    if (i == owner) continue;
    for (const auto& e : RequestsEpisodes(Url(i, "/api/v1/episodes")))
      EXPECT_NE(e["id"], id) << "shard " << i;
  }

  const std::string path = "/api/v1/episodes/" + id + "/feedback";
  const std::string body = R"({"verdict":"false_positive","comment":"load test"})";
  const int wrong = (owner + 1) % kShards;
  auto misdirected = HttpPost(Url(wrong, path), body, "application/json");
  ASSERT_TRUE(misdirected.has_value()) << misdirected.error().message;
  EXPECT_EQ(misdirected->status, 421) << misdirected->body;
  const nlohmann::json error = nlohmann::json::parse(misdirected->body, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << misdirected->body;
  EXPECT_EQ(error["status"], "error");
  EXPECT_EQ(error["errorType"], "misdirected");
  EXPECT_EQ(error["data"]["shard"], owner);
  EXPECT_EQ(error["data"]["this_shard"], wrong);
  EXPECT_THAT(error["error"].get<std::string>(),
              ::testing::HasSubstr("send the feedback to shard " + std::to_string(owner)));

  auto taken = HttpPost(Url(owner, path), body, "application/json");
  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  ASSERT_EQ(taken->status, 200) << taken->body;
  const nlohmann::json answer = nlohmann::json::parse(taken->body);
  EXPECT_EQ(answer["data"]["feedback"]["verdict"], "false_positive");
  EXPECT_GT(answer["data"]["margin"].get<double>(), 0);
  bool shown = false;
  for (const auto& e : RequestsEpisodes(Url(owner, "/api/v1/episodes"))) {
    if (e["id"] != id) continue;
    shown = true;
    EXPECT_EQ(e["feedback"]["verdict"], "false_positive");
    EXPECT_EQ(e["feedback"]["comment"], "load test");
  }
  EXPECT_TRUE(shown) << "the owner lists the episode with its feedback";
}

TEST_F(ShardingTest, RestartKeepsEverySeriesOnItsShard) {
  for (int i = 0; i < kShards; ++i) {
    SCOPED_TRACE("shard " + std::to_string(i));
    SeriesSet before = Scored(i);
    ASSERT_FALSE(before.empty());
    exporters_[i]->Stop(seconds(10));
    delete exporters_[i];
    exporters_[i] = nullptr;
    StartShard(i);
    WaitReady(i);
    SeriesSet after;
    EXPECT_TRUE(Eventually([&] { return (after = Scored(i)) == before; }, seconds(60)))
        << before.size() << " series before the restart, " << after.size() << " after";
  }
}

}  // namespace
}  // namespace anomaly::testing
