#include "exporter/app/detector_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "anomaly/config/detector_params.h"

namespace anomaly::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr int64_t kStepMs = 60'000;
const int64_t kNowMs = 1'800'000'000'000 / kStepMs * kStepMs;  // on the step grid

// The RangeQueryClient seam (STYLE.md B8): answers each PromQL string with fixed series, or fails.
class FakeRangeQueryClient : public prom::RangeQueryClient {
 public:
  Result<std::vector<prom::SeriesSamples>> QueryRange(const prom::RangeQuery& q) override {
    ++calls;
    if (fail) return MakeError(ErrorCode::kUpstreamUnavailable, "injected");
    std::vector<prom::SeriesSamples> out;
    for (const prom::SeriesSamples& s : answers[q.query]) {
      prom::SeriesSamples cut{s.labels, {}};
      for (const prom::Sample& p : s.samples) {
        if (p.timestamp_ms >= q.start_ms && p.timestamp_ms <= q.end_ms) cut.samples.push_back(p);
      }
      out.push_back(std::move(cut));
    }
    return out;
  }
  Status CheckQuery(std::string_view) override { return {}; }
  // With fail_after_series >= 0: hands over that many series of the answer, then fails as an answer
  // broken mid-way does.
  Status QueryRangeStreamed(const prom::RangeQuery& q,
                            const std::function<void(prom::SeriesSamples&&)>& sink) override {
    if (fail_after_series < 0) return RangeQueryClient::QueryRangeStreamed(q, sink);
    Result<std::vector<prom::SeriesSamples>> answer = QueryRange(q);
    if (!answer) return tl::unexpected(answer.error());
    for (int i = 0; i < fail_after_series && i < static_cast<int>(answer->size()); ++i) {
      sink(std::move((*answer)[static_cast<size_t>(i)]));
    }
    return MakeError(ErrorCode::kUpstreamMalformed, "prometheus answered 200: the answer is cut short");
  }

  std::map<std::string, std::vector<prom::SeriesSamples>> answers;
  bool fail = false;
  int fail_after_series = -1;
  int calls = 0;
};

// One day of 1-minute samples with an hourly pattern and a little Gaussian noise (seeded, so the same on
// every run); `spike` is added to the newest sample. (The noise was sin(12.9898 k) / 2: not noise but a
// 14.8-minute cycle that beats against the hourly one, so its remainder grew tenfold over the last three
// hours, which a calibrator that does not learn the history's own episodes rightly flags.)
prom::SeriesSamples Series(const std::string& name, double spike) {
  prom::SeriesSamples s{MakeLabels({{"__name__", "load"}, {"host", name}}), {}};
  std::mt19937 rng(name.empty() ? 1u : static_cast<uint32_t>(name[0]));
  std::normal_distribution<double> noise(0, 0.5);
  for (int64_t t = kNowMs - 24 * 60 * kStepMs; t <= kNowMs; t += kStepMs) {
    double v = 100 + 10 * std::sin(2 * M_PI * static_cast<double>(t / kStepMs % 60) / 60) + noise(rng);
    if (t == kNowMs) v += spike;
    s.samples.push_back({t, v});
  }
  return s;
}

config::DetectorConfig Detector() {
  config::DetectorConfig c;
  c.name = "load";
  c.query = "load";
  c.step = milliseconds(kStepMs);
  c.history = std::chrono::hours(24);
  c.interval = minutes(1);
  c.seasonality.mode = config::SeasonalityMode::kFixed;
  c.seasonality.periods = {std::chrono::hours(1)};
  c.threshold.window = c.history;
  c.max_gap = 5 * c.step;
  return c;
}

class DetectorRunnerTest : public ::testing::Test {
 protected:
  DetectorRunnerTest() : metrics_("test", "test") {
    client_ = std::make_shared<FakeRangeQueryClient>();
    client_->answers["load"] = {Series("a", 0), Series("b", 80)};
  }

  std::unique_ptr<DetectorRunner> Runner(const config::DetectorConfig& c, ShardFilter shard = {}) {
    auto r = DetectorRunner::Create(c, client_, &metrics_, shard);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? std::move(*r) : nullptr;
  }

  static std::map<std::string, scoring::Verdict> ByHost(const std::vector<exposition::SeriesReport>& reports) {
    std::map<std::string, scoring::Verdict> out;
    for (const auto& r : reports) out[std::string(LabelValue(r.labels, "host"))] = r.verdict;
    return out;
  }

  static std::chrono::system_clock::time_point Now() {
    return std::chrono::system_clock::time_point(milliseconds(kNowMs + 5000));
  }

  exposition::SelfMetrics metrics_;
  std::shared_ptr<FakeRangeQueryClient> client_;
};

TEST_F(DetectorRunnerTest, FlagsTheSpikeAndNotTheNormalSeries) {
  auto runner = Runner(Detector());
  auto v = ByHost(runner->RunCycle(Now()));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v["a"].state, scoring::SeriesState::kOk);
  EXPECT_FALSE(v["a"].anomalous) << v["a"].score << " z " << v["a"].zscore << " thr " << v["a"].threshold;
  EXPECT_EQ(v["b"].state, scoring::SeriesState::kOk);
  EXPECT_TRUE(v["b"].anomalous) << v["b"].score;
  EXPECT_EQ(v["b"].model, scoring::ModelKind::kStl);
  EXPECT_TRUE(runner->first_cycle_done());
  EXPECT_EQ(runner->series_count(), 2);
}

TEST_F(DetectorRunnerTest, FixedMaintenanceWindowCoveringNowReportsMaintenanceWithoutAFlag) {
  config::DetectorConfig c = Detector();
  c.maintenance.windows.push_back({config::TimePoint(milliseconds(kNowMs - 10 * kStepMs)),
                                   config::TimePoint(milliseconds(kNowMs + 10 * kStepMs))});
  auto v = ByHost(Runner(c)->RunCycle(Now()));
  EXPECT_EQ(v["b"].state, scoring::SeriesState::kMaintenance);
  EXPECT_FALSE(v["b"].anomalous);
}

TEST_F(DetectorRunnerTest, MaintenanceConditionCoveringNowReportsMaintenance) {
  config::DetectorConfig c = Detector();
  c.maintenance.condition = "deploying";
  client_->answers["deploying"] = {prom::SeriesSamples{MakeLabels({{"job", "deploy"}}), {{kNowMs, 1}}}};
  auto runner = Runner(c);
  auto v = ByHost(runner->RunCycle(Now()));
  EXPECT_EQ(v["b"].state, scoring::SeriesState::kMaintenance);
  EXPECT_FALSE(v["b"].anomalous);
  // Without the condition holding, the same data is scored.
  client_->answers["deploying"].clear();
  EXPECT_EQ(ByHost(Runner(c)->RunCycle(Now()))["b"].state, scoring::SeriesState::kOk);
}

TEST_F(DetectorRunnerTest, UpstreamFailureKeepsTheSeriesMarkedStale) {
  auto runner = Runner(Detector());
  (void)runner->RunCycle(Now());
  client_->fail = true;
  auto v = ByHost(runner->RunCycle(Now() + minutes(1)));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v["a"].state, scoring::SeriesState::kStale);
  EXPECT_EQ(v["b"].state, scoring::SeriesState::kStale);
  EXPECT_GT(v["b"].score, 1.0);  // the last good verdict is kept underneath the stale state
  client_->fail = false;
  EXPECT_EQ(ByHost(runner->RunCycle(Now() + minutes(1)))["a"].state, scoring::SeriesState::kOk);
}

TEST_F(DetectorRunnerTest, VanishedSeriesLeaveAfterTheSeriesTtlAndNewOnesArePickedUp) {
  config::DetectorConfig c = Detector();
  c.series_ttl = minutes(3);
  auto runner = Runner(c);
  ASSERT_EQ(runner->RunCycle(Now()).size(), 2u);
  client_->answers["load"] = {Series("a", 0)};
  EXPECT_EQ(runner->RunCycle(Now() + minutes(3)).size(), 2u) << "b is kept until series_ttl has passed";
  client_->answers["load"] = {Series("a", 0), Series("c", 0)};
  auto v = ByHost(runner->RunCycle(Now() + minutes(3) + milliseconds(1)));
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(v.count("b"), 0u) << "b left once series_ttl had passed";
  EXPECT_EQ(v.count("c"), 1u) << "a new series is picked up at the next cycle";
}

TEST_F(DetectorRunnerTest, Issue8OutageLongerThanTheSeriesTtlKeepsEverySeries) {
  config::DetectorConfig c = Detector();
  c.series_ttl = minutes(2);
  auto runner = Runner(c);
  (void)runner->RunCycle(Now());
  client_->fail = true;
  for (int m = 1; m <= 4; ++m) {
    EXPECT_EQ(runner->RunCycle(Now() + minutes(m)).size(), 2u) << "failed queries never age series out";
  }
  client_->fail = false;
  // The fake's samples end at kNowMs: 4 minutes later is still within max_gap, so the kept model scores.
  auto v = ByHost(runner->RunCycle(Now() + minutes(4)));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v["a"].state, scoring::SeriesState::kOk) << "no warm-up after the outage";
}

TEST_F(DetectorRunnerTest, ShardsSplitTheSeriesCompletelyAndDisjointly) {
  std::map<std::string, int> owners;
  for (int i = 0; i < 3; ++i) {
    for (const auto& [host, verdict] : ByHost(Runner(Detector(), ShardFilter{i, 3})->RunCycle(Now()))) {
      ++owners[host];
    }
  }
  EXPECT_EQ(owners, (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
}

TEST_F(DetectorRunnerTest, SeriesOverTheCapAreDroppedNotScored) {
  config::DetectorConfig c = Detector();
  c.max_series = 1;
  auto runner = Runner(c);
  EXPECT_EQ(runner->RunCycle(Now()).size(), 1u);
  EXPECT_EQ(runner->series_count(), 1);
}


// kind: multivariate (issue 17): the series of one instance are a group. Server "x" keeps its metrics
// moving together; on server "y" the newest cpu sample leaves its peers (within its own band) and the group
// flags, naming cpu; a server with two metrics is under min_group_size.
prom::SeriesSamples Metric(const std::string& name, const std::string& instance, double shift,
                           std::vector<double>& load) {
  prom::SeriesSamples s{MakeLabels({{"__name__", name}, {"instance", instance}}), {}};
  std::mt19937 rng(static_cast<uint32_t>(name.size() * 31 + instance[0]));
  std::normal_distribution<double> noise(0, 1);
  size_t i = 0;
  for (int64_t t = kNowMs - 24 * 60 * kStepMs; t <= kNowMs; t += kStepMs, ++i) {
    double v = 100 + 10 * (0.95 * load[i] + 0.31 * noise(rng));
    if (t >= kNowMs - 2 * kStepMs) v += shift;
    s.samples.push_back({t, v});
  }
  return s;
}

TEST_F(DetectorRunnerTest, MultivariateGroupsFlagTheServerWhoseMetricsParted) {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> load_x(24 * 60 + 1), load_y(24 * 60 + 1), load_z(24 * 60 + 1);
  for (size_t i = 0; i < load_x.size(); ++i) load_x[i] = noise(rng), load_y[i] = noise(rng), load_z[i] = noise(rng);
  client_->answers["servers"] = {Metric("cpu", "x", 0, load_x),    Metric("memory", "x", 0, load_x),
                                 Metric("io", "x", 0, load_x),     Metric("cpu", "y", 40, load_y),
                                 Metric("memory", "y", 0, load_y), Metric("io", "y", 0, load_y),
                                 Metric("cpu", "z", 0, load_z),    Metric("memory", "z", 0, load_z)};
  config::DetectorConfig c = Detector();
  c.name = "servers";
  c.query = "servers";
  c.seasonality.mode = config::SeasonalityMode::kNone;
  c.seasonality.periods.clear();
  c.kind = config::DetectorKind::kMultivariate;
  c.group_by = {"instance"};
  auto runner = Runner(c);
  std::vector<exposition::SeriesReport> series = runner->RunCycle(Now());
  EXPECT_EQ(series.size(), 8u);
  std::vector<exposition::GroupReport> groups = runner->TakeGroupReports();
  ASSERT_EQ(groups.size(), 3u);
  std::map<std::string, exposition::GroupReport> by;
  for (auto& g : groups) by[std::string(LabelValue(g.labels, "instance"))] = g;
  EXPECT_EQ(by["x"].state, scoring::SeriesState::kOk);
  EXPECT_EQ(by["x"].members, 3);
  EXPECT_FALSE(by["x"].anomalous) << by["x"].score;
  EXPECT_EQ(by["y"].state, scoring::SeriesState::kOk);
  EXPECT_TRUE(by["y"].anomalous) << by["y"].score << " z " << by["y"].zscore;
  ASSERT_FALSE(by["y"].top.empty());
  EXPECT_EQ(by["y"].top.front().first, "cpu");
  EXPECT_EQ(by["z"].state, scoring::SeriesState::kInsufficientData);
  EXPECT_EQ(by["z"].members, 2);
  // Each series alone: y's cpu moved 4 of its own sigmas, inside its band.
  for (const auto& r : series) {
    if (LabelValue(r.labels, "instance") == "y" && LabelValue(r.labels, "__name__") == "cpu") {
      EXPECT_FALSE(r.verdict.anomalous) << r.verdict.zscore;
    }
  }
  EXPECT_TRUE(runner->TakeGroupReports().empty());  // moved out
}

TEST_F(DetectorRunnerTest, MultivariateShardsKeepEachGroupWhole) {
  std::vector<double> load(24 * 60 + 1, 0.0);
  std::vector<prom::SeriesSamples> all;
  for (const char* instance : {"a", "b", "c", "d", "e", "f"}) {
    for (const char* metric : {"cpu", "memory", "io"}) all.push_back(Metric(metric, instance, 0, load));
  }
  client_->answers["servers"] = all;
  config::DetectorConfig c = Detector();
  c.name = "servers";
  c.query = "servers";
  c.kind = config::DetectorKind::kMultivariate;
  c.group_by = {"instance"};
  std::map<std::string, int> groups_seen;
  for (int index = 0; index < 2; ++index) {
    auto runner = Runner(c, ShardFilter{index, 2});
    std::map<std::string, int> members;
    for (const auto& r : runner->RunCycle(Now())) ++members[std::string(LabelValue(r.labels, "instance"))];
    for (const auto& [instance, n] : members) EXPECT_EQ(n, 3) << instance << " split across shards";
    for (const auto& g : runner->TakeGroupReports()) ++groups_seen[std::string(LabelValue(g.labels, "instance"))];
  }
  EXPECT_EQ(groups_seen.size(), 6u);
  for (const auto& [instance, n] : groups_seen) EXPECT_EQ(n, 1) << instance;
}

// kind: peers (issue 17): the pods of a service follow one daily-like curve, each at its own offset; over the
// last 20 minutes pod-3 of checkout drifts 12 above its usual place (the group spreads about 1); search has
// two pods, under min_group_size.
prom::SeriesSamples Pod(const std::string& service, int pod, double drift) {
  prom::SeriesSamples s{
      MakeLabels({{"__name__", "latency"}, {"pod", "pod-" + std::to_string(pod)}, {"service", service}}), {}};
  std::mt19937 rng(static_cast<uint32_t>(pod * 7 + service[0]));
  std::normal_distribution<double> noise(0, 1);
  for (int64_t t = kNowMs - 24 * 60 * kStepMs; t <= kNowMs; t += kStepMs) {
    const double curve = 100 + 40 * std::sin(2 * M_PI * static_cast<double>(t / kStepMs % 360) / 360);
    double v = curve + 0.5 * pod + noise(rng);
    const int64_t into = (t - (kNowMs - 20 * kStepMs)) / kStepMs;
    if (into >= 0) v += drift * static_cast<double>(into) / 20;
    s.samples.push_back({t, v});
  }
  return s;
}

TEST_F(DetectorRunnerTest, PeersFlagTheDriftingPodAloneAndASmallGroupHasInsufficientPeers) {
  std::vector<prom::SeriesSamples> all;
  for (int pod = 0; pod < 8; ++pod) all.push_back(Pod("checkout", pod, pod == 3 ? 12 : 0));
  all.push_back(Pod("search", 0, 0));
  all.push_back(Pod("search", 1, 0));
  client_->answers["pods"] = all;
  config::DetectorConfig c = Detector();
  c.name = "pods";
  c.query = "pods";
  c.kind = config::DetectorKind::kPeers;
  c.group_by = {"service"};
  auto runner = Runner(c);
  std::vector<exposition::SeriesReport> series = runner->RunCycle(Now());
  EXPECT_EQ(series.size(), 10u);
  std::vector<exposition::PeerReport> peers = runner->TakePeerReports();
  ASSERT_EQ(peers.size(), 10u);
  for (const exposition::PeerReport& p : peers) {
    const std::string who =
        std::string(LabelValue(p.labels, "service")) + "/" + std::string(LabelValue(p.labels, "pod"));
    if (LabelValue(p.labels, "service") == "search") {
      EXPECT_EQ(p.state, scoring::SeriesState::kInsufficientPeers) << who;
      continue;
    }
    EXPECT_EQ(p.state, scoring::SeriesState::kOk) << who;
    EXPECT_EQ(p.anomalous, who == "checkout/pod-3") << who << " score " << p.score << " z " << p.zscore;
  }
  std::vector<exposition::GroupReport> groups = runner->TakeGroupReports();
  ASSERT_EQ(groups.size(), 2u);
  std::map<std::string, exposition::GroupReport> by;
  for (auto& g : groups) by[std::string(LabelValue(g.labels, "service"))] = g;
  EXPECT_TRUE(by["checkout"].peers);
  EXPECT_EQ(by["checkout"].members, 8);
  ASSERT_FALSE(by["checkout"].top.empty());
  EXPECT_EQ(by["checkout"].top.front().first, "latency{pod=\"pod-3\"}");
  EXPECT_EQ(by["search"].state, scoring::SeriesState::kInsufficientPeers);
  EXPECT_TRUE(runner->TakePeerReports().empty());  // moved out
}

TEST_F(DetectorRunnerTest, CopySeriesGivesTheSeriesPageItsWindowModelAndEpisode) {
  auto runner = Runner(Detector());
  (void)runner->RunCycle(Now());
  const Labels b = MakeLabels({{"__name__", "load"}, {"host", "b"}});
  Result<SeriesCopy> copy = runner->CopySeries(b, kNowMs, std::chrono::seconds(1));
  ASSERT_TRUE(copy.has_value()) << copy.error().message;
  EXPECT_EQ(copy->window.size(), 24u * 60 + 1);
  ASSERT_NE(copy->model, nullptr);
  EXPECT_TRUE(copy->verdict.anomalous);
  ASSERT_EQ(copy->episodes.size(), 1u);
  EXPECT_EQ(copy->episodes[0].end_ms, 0);
  EXPECT_EQ(copy->step, milliseconds(kStepMs));

  scoring::ModelWorkspace ws;
  const http::SeriesPage page = BuildSeriesPage(*copy, ws);
  EXPECT_TRUE(page.note.empty()) << page.note;
  ASSERT_EQ(page.points.size(), copy->window.size());
  EXPECT_EQ(page.points.back().timestamp_ms, kNowMs);
  EXPECT_TRUE(page.points.back().anomalous);  // the spike
  size_t inside = 0, with_band = 0;
  for (const http::SeriesPoint& p : page.points) {
    if (!std::isfinite(p.expected)) continue;
    ++with_band;
    EXPECT_LT(p.lower, p.expected);
    EXPECT_GT(p.upper, p.expected);
    if (p.value >= p.lower && p.value <= p.upper) ++inside;
  }
  EXPECT_EQ(with_band, page.points.size());  // a seasonal fit: every point has its expected value
  EXPECT_GT(inside, page.points.size() * 99 / 100);
  EXPECT_GT(page.points.back().value, page.points.back().upper);
  ASSERT_EQ(page.episodes.size(), 1u);

  EXPECT_EQ(runner->CopySeries(MakeLabels({{"host", "zzz"}}), kNowMs, std::chrono::seconds(1)).error().code,
            ErrorCode::kInvalidInput);
}

TEST_F(DetectorRunnerTest, EpisodesListTheFlaggedEpisodeAndTakeFeedbackByItsId) {
  auto runner = Runner(Detector());
  (void)runner->RunCycle(Now());
  Result<std::vector<http::EpisodeInfo>> episodes = runner->Episodes(kNowMs, std::chrono::seconds(1));
  ASSERT_TRUE(episodes.has_value()) << episodes.error().message;
  ASSERT_EQ(episodes->size(), 1u);
  const http::EpisodeInfo& e = (*episodes)[0];
  const Labels b = MakeLabels({{"__name__", "load"}, {"host", "b"}});
  EXPECT_EQ(e.detector, "load");
  EXPECT_EQ(e.labels, b);
  EXPECT_EQ(e.id, EpisodeId("load", b, b, e.start_ms));
  EXPECT_EQ(e.end_ms, 0);
  EXPECT_EQ(e.peak_ms, kNowMs);
  EXPECT_GE(e.peak_score, 1);
  EXPECT_GT(e.peak_value, e.peak_expected + 50);
  EXPECT_FALSE(e.feedback.has_value());

  Result<http::EpisodeInfo> given = runner->GiveFeedback(
      http::FeedbackRequest{e.id, http::FeedbackVerdict::kTruePositive, "real"}, kNowMs + 1000, std::chrono::seconds(1));
  ASSERT_TRUE(given.has_value()) << given.error().message;
  ASSERT_TRUE(given->feedback.has_value());
  EXPECT_EQ(given->feedback->verdict, http::FeedbackVerdict::kTruePositive);
  EXPECT_EQ(given->feedback->comment, "real");
  EXPECT_EQ(given->feedback->at_ms, kNowMs + 1000);
  EXPECT_EQ(given->margin, 0) << "a true positive keeps the series as it is";
  EXPECT_EQ(runner->Episodes(kNowMs, std::chrono::seconds(1))->at(0).feedback->comment, "real");

  Result<http::EpisodeInfo> dismissed = runner->GiveFeedback(
      http::FeedbackRequest{e.id, http::FeedbackVerdict::kFalsePositive, "a test"}, kNowMs + 2000, std::chrono::seconds(1));
  ASSERT_TRUE(dismissed.has_value()) << dismissed.error().message;
  EXPECT_EQ(dismissed->feedback->verdict, http::FeedbackVerdict::kFalsePositive);
  const double expected_margin = std::min(series::kMaxFeedbackMargin, std::max(0.25, e.peak_score - 1 + 0.1));
  EXPECT_NEAR(dismissed->margin, expected_margin, 0.011);  // rounded down to hundredths
  // Saying it again is the same dismissal: the margin does not rise.
  Result<http::EpisodeInfo> again = runner->GiveFeedback(
      http::FeedbackRequest{e.id, http::FeedbackVerdict::kFalsePositive, "again"}, kNowMs + 3000, std::chrono::seconds(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_LE(again->margin, dismissed->margin);  // fading (hundredths), never raised again
  EXPECT_EQ(again->feedback->comment, "again");

  Result<http::EpisodeInfo> unknown = runner->GiveFeedback(
      http::FeedbackRequest{"0000000000000000", http::FeedbackVerdict::kFalsePositive, ""}, kNowMs, std::chrono::seconds(1));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidInput);
}

TEST_F(DetectorRunnerTest, RestoredStateKeepsEpisodeIdsFeedbackAndTheMarginAcrossARestart) {
  const Labels b = MakeLabels({{"__name__", "load"}, {"host", "b"}});
  std::vector<StoredSeries> stored;
  {
    auto runner = Runner(Detector());
    runner->RestoreState({});  // --storage.path set, nothing stored yet
    (void)runner->RunCycle(Now());
    const http::EpisodeInfo e = runner->Episodes(kNowMs, std::chrono::seconds(1))->at(0);
    ASSERT_TRUE(runner->GiveFeedback(http::FeedbackRequest{e.id, http::FeedbackVerdict::kFalsePositive, "x"},
                                     kNowMs, std::chrono::seconds(1)).has_value());
    stored = runner->StateToStore();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].labels, b);
    EXPECT_GT(stored[0].margin, 0);
    ASSERT_EQ(stored[0].episodes.size(), 1u);
    // Through the file format, as a restart reads it.
    Result<std::vector<StoredSeries>> decoded = DecodeState(EncodeState(stored));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    stored = std::move(*decoded);
  }
  auto restarted = Runner(Detector());
  restarted->RestoreState(stored);
  Result<std::vector<http::EpisodeInfo>> before = restarted->Episodes(kNowMs, std::chrono::seconds(1));
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->at(0).id, EpisodeId("load", b, b, stored[0].episodes[0].start_ms));
  ASSERT_TRUE(before->at(0).feedback.has_value());
  EXPECT_EQ(before->at(0).feedback->comment, "x");
  EXPECT_EQ(before->at(0).margin, 0) << "the series is not held before its first ingest";
  EXPECT_EQ(restarted->StateToStore().at(0).margin, stored[0].margin) << "a waiting margin is stored again";

  client_->fail = true;  // a first cycle whose query fails shows no series: the restored ones stay
  (void)restarted->RunCycle(Now());
  EXPECT_EQ(restarted->Episodes(kNowMs, std::chrono::seconds(1))->size(), 1u);
  client_->fail = false;
  (void)restarted->RunCycle(Now());
  Result<std::vector<http::EpisodeInfo>> after = restarted->Episodes(kNowMs, std::chrono::seconds(1));
  ASSERT_EQ(after->size(), 1u) << "the open episode rebuilt by the first cycle is the stored one";
  EXPECT_EQ(after->at(0).id, before->at(0).id);
  EXPECT_EQ(after->at(0).feedback->comment, "x");
  EXPECT_NEAR(after->at(0).margin, stored[0].margin, 0.011);
}

TEST_F(DetectorRunnerTest, CopySeriesWhileCyclesRunIsSafe) {
  // The copy and the cycle share the core under its mutex: copies taken while cycles run see a whole
  // series every time (run under the sanitizers' build, a race here is reported).
  auto runner = Runner(Detector());
  (void)runner->RunCycle(Now());
  const Labels a = MakeLabels({{"__name__", "load"}, {"host", "a"}});
  std::atomic<bool> stop{false};
  std::thread cycles([&] {
    for (int i = 1; i <= 5; ++i) (void)runner->RunCycle(Now() + minutes(i));
    stop.store(true);
  });
  int copies = 0;
  while (!stop.load() || copies == 0) {
    Result<SeriesCopy> copy = runner->CopySeries(a, kNowMs, std::chrono::seconds(5));
    ASSERT_TRUE(copy.has_value()) << copy.error().message;
    EXPECT_EQ(copy->window.size(), 24u * 60 + 1);
    ++copies;
  }
  cycles.join();
  EXPECT_GT(copies, 0);
}

// Issue 16: the first cycle fits each series on the pool as soon as the answer hands it over, while the
// rest downloads. The verdicts are those of the detector core fed the whole answer, then evaluated.
TEST_F(DetectorRunnerTest, Issue16StreamedFirstCycleOnAPoolScoresAsTheWholeAnswer) {
  client_->answers["load"].clear();
  for (const char* host : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
    client_->answers["load"].push_back(Series(host, host[0] == 'c' ? 80 : 0));
  }
  config::DetectorConfig c = Detector();
  c.seasonality.mode = config::SeasonalityMode::kAuto;  // the period choice is made ahead too
  ParallelPool pool(3);
  auto streamed = ByHost(Runner(c)->RunCycle(Now(), &pool));

  Result<series::DetectorOptions> options = config::DetectorOptionsFor(c);
  ASSERT_TRUE(options.has_value());
  Result<series::Detector> core = series::Detector::Create(*options);
  ASSERT_TRUE(core.has_value());
  const int64_t now_ms = kNowMs + 5000;
  for (const prom::SeriesSamples& s : client_->answers["load"]) {
    std::vector<series::Sample> samples;
    for (const prom::Sample& p : s.samples) samples.push_back({p.timestamp_ms, p.value});
    (void)core->Ingest(s.labels, samples, now_ms);
  }
  std::map<std::string, scoring::Verdict> whole;
  core->Evaluate(now_ms, false,
                 [&](const Labels& l, const series::SeriesEntry&, const series::Evaluation& ev) {
                   whole[std::string(LabelValue(l, "host"))] = ev.verdict;
                 });
  ASSERT_EQ(streamed.size(), whole.size());
  for (const auto& [host, v] : whole) {
    EXPECT_EQ(streamed[host].state, v.state) << host;
    EXPECT_EQ(streamed[host].score, v.score) << host;
    EXPECT_EQ(streamed[host].zscore, v.zscore) << host;
    EXPECT_EQ(streamed[host].anomalous, v.anomalous) << host;
  }
  EXPECT_TRUE(streamed["c"].anomalous);
}

// Issue 16: an answer that fails after some series were handed over (and ingested, and fitted) leaves
// nothing of them: no series is reported, and the next good answer scores as a first answer would.
TEST_F(DetectorRunnerTest, Issue16AnswerFailingMidWayLeavesNoHalfUpdate) {
  ParallelPool pool(2);
  auto runner = Runner(Detector());
  client_->fail_after_series = 1;
  EXPECT_TRUE(runner->RunCycle(Now(), &pool).empty());
  EXPECT_EQ(runner->series_count(), 0);
  EXPECT_FALSE(
      runner->CopySeries(MakeLabels({{"__name__", "load"}, {"host", "a"}}), kNowMs, std::chrono::seconds(1))
          .has_value());
  client_->fail_after_series = -1;
  auto after = ByHost(runner->RunCycle(Now() + minutes(1), &pool));
  auto fresh = ByHost(Runner(Detector())->RunCycle(Now() + minutes(1)));
  ASSERT_EQ(after.size(), 2u);
  for (const auto& [host, v] : fresh) {
    EXPECT_EQ(after[host].state, v.state) << host;
    EXPECT_EQ(after[host].score, v.score) << host;
    EXPECT_EQ(after[host].anomalous, v.anomalous) << host;
  }
}

}  // namespace
}  // namespace anomaly::app
