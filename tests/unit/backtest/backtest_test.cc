#include "anomaly/backtest/backtest.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "anomaly/config/config_loader.h"
#include "anomaly/exposition/self_metrics.h"
#include "anomaly/prom/range_query_client.h"
#include "exporter/app/detector_runner.h"
#include "support/result_matchers.h"

namespace anomaly::backtest {
namespace {

using ::anomaly::testing::IsOk;
using namespace std::chrono_literals;

constexpr int64_t kStepMs = 300'000;          // 5 minutes
constexpr int64_t kStartMs = 1'700'000'100'000 / kStepMs * kStepMs;

// Daily pattern + noise, a spike at `spike` (index) when >= 0. Deterministic.
std::vector<series::Sample> MakeSeries(int n, int spike, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::vector<series::Sample> out;
  for (int i = 0; i < n; ++i) {
    double v = 50 + 10 * std::sin(2 * M_PI * i / 288.0) + noise(rng);
    if (i == spike) v += 25;
    out.push_back({kStartMs + i * kStepMs, v});
  }
  return out;
}

config::DetectorConfig Detector(const std::string& extra) {
  const std::string yaml = "prometheus: {url: \"http://127.0.0.1:9\"}\n"
                           "detectors:\n  - name: d\n    query: q\n    step: 5m\n    history: 3d\n"
                           "    interval: 5m\n    refit_interval: 1h\n" + extra;
  Result<config::Config> c = config::LoadConfigFromString(yaml, "test.yml");
  EXPECT_THAT(c, IsOk());
  return c->detectors.front();
}

BacktestParams Params(const std::string& extra) {
  Result<BacktestParams> p = ParamsFor(Detector(extra));
  EXPECT_THAT(p, IsOk());
  return *p;
}

TEST(BacktestTest, OneRowPerSampleAndFlagsTheSpike) {
  const std::vector<series::Sample> s = MakeSeries(288 * 4, 288 * 3 + 100);  // seasonal from 3 days
  Result<BacktestResult> r = RunBacktest(s, Params("    seasonality: [1d]\n"));
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->rows.size(), s.size());
  EXPECT_FALSE(r->rows.front().scored);  // nothing to fit on yet
  const ScoredRow& spike = r->rows[288 * 3 + 100];
  EXPECT_TRUE(spike.scored);
  EXPECT_TRUE(spike.verdict.anomalous);
  EXPECT_TRUE(spike.flag_rose);
  EXPECT_GE(spike.verdict.score, 1.0);
  EXPECT_EQ(r->model, scoring::ModelKind::kStl);
  EXPECT_THAT(r->periods, ::testing::ElementsAre(288));
  EXPECT_GE(r->episodes, 1);
  EXPECT_GT(r->fits, 4 * 24 - 5);  // hourly refits over four days of data time
}

// The verdict at time t depends only on data up to t: scoring a prefix, then the prefix plus a future that
// contains a huge incident, gives the same verdicts on the prefix, bit for bit.
TEST(BacktestTest, NoLookAhead) {
  const int n = 288 * 2 + 50;
  std::vector<series::Sample> full = MakeSeries(n + 200, -1);
  for (int i = n; i < n + 200; ++i) full[static_cast<size_t>(i)].value += 1000;  // the future: a wild level shift
  const std::vector<series::Sample> prefix(full.begin(), full.begin() + n);
  for (const char* seasonality : {"    seasonality: [1d]\n", "    seasonality: auto\n", "    seasonality: none\n"}) {
    Result<BacktestResult> a = RunBacktest(prefix, Params(seasonality));
    Result<BacktestResult> b = RunBacktest(full, Params(seasonality));
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    int scored = 0;
    for (int i = 0; i < n; ++i) {
      const ScoredRow& x = a->rows[static_cast<size_t>(i)];
      const ScoredRow& y = b->rows[static_cast<size_t>(i)];
      ASSERT_EQ(x.scored, y.scored) << seasonality << " row " << i;
      ASSERT_EQ(x.verdict.expected, y.verdict.expected) << seasonality << " row " << i;
      ASSERT_EQ(x.verdict.score, y.verdict.score) << seasonality << " row " << i;
      ASSERT_EQ(x.verdict.anomalous, y.verdict.anomalous) << seasonality << " row " << i;
      scored += x.scored;
    }
    EXPECT_GT(scored, n - 50) << seasonality;
    // And the future did change something: the test would notice a result computed on all the data.
    EXPECT_TRUE(b->rows[static_cast<size_t>(n)].verdict.anomalous) << seasonality;
  }
}

TEST(BacktestTest, RepeatedTimestampIsNotScoredTwice) {
  std::vector<series::Sample> s = MakeSeries(200, -1);
  s.insert(s.begin() + 150, s[149]);
  Result<BacktestResult> r = RunBacktest(s, Params(""));
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->rows.size(), 201u);
  EXPECT_TRUE(r->rows[149].scored);
  EXPECT_FALSE(r->rows[150].scored);
  EXPECT_TRUE(r->rows[151].scored);
}

TEST(BacktestTest, OutOfOrderAndRepeatedRowsGetNoVerdictAndAreCounted) {
  // NAB's daylight-saving hour: the clock goes back, so rows repeat or run backwards for a while.
  std::vector<series::Sample> s = MakeSeries(200, -1);
  std::swap(s[150], s[151]);
  s.insert(s.begin() + 100, s[99]);
  Result<BacktestResult> r = RunBacktest(s, Params(""));
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->rows.size(), 201u);
  EXPECT_EQ(r->repeated_rows, 1);
  EXPECT_EQ(r->out_of_order_rows, 1);
  EXPECT_EQ(r->rows[100].issue, RowIssue::kRepeated);
  EXPECT_FALSE(r->rows[100].scored);
  EXPECT_EQ(r->rows[152].issue, RowIssue::kOutOfOrder);  // s[150] after s[151], shifted by the insert
  EXPECT_FALSE(r->rows[152].scored);
  EXPECT_TRUE(r->rows[151].scored);
  EXPECT_TRUE(r->rows[153].scored);
}

TEST(BacktestTest, StopEndsTheRunWithCancelled) {
  const std::vector<series::Sample> s = MakeSeries(600, -1);
  int asked = 0;
  Result<BacktestResult> r = RunBacktest(s, Params(""), {}, [&asked] { return ++asked > 100; });
  EXPECT_THAT(r, ::anomaly::testing::ErrorIs(ErrorCode::kCancelled, "stopped after 100 of 600 samples"));
  EXPECT_THAT(RunBacktest(s, Params(""), {}, [] { return false; }), IsOk());
}

TEST(BacktestTest, StartMsTakesTheHistoryAtOnceLikeTheDaemonsFirstCycle) {
  const std::vector<series::Sample> s = MakeSeries(600, -1);
  BacktestParams p = Params("");
  p.start_ms = s[400].timestamp_ms;
  Result<BacktestResult> r = RunBacktest(s, p);
  ASSERT_THAT(r, IsOk());
  for (int i = 0; i < 400; ++i) EXPECT_FALSE(r->rows[static_cast<size_t>(i)].scored) << i;
  EXPECT_TRUE(r->rows[400].scored);  // the first cycle fits on 0..399 and scores 400
  EXPECT_EQ(r->fits, 1 + (600 - 400) / 12);
}

// The daemon's path: a DetectorRunner polling a fake Prometheus every step.
class SeriesClient : public prom::RangeQueryClient {
 public:
  explicit SeriesClient(std::vector<series::Sample> s) : samples_(std::move(s)) {}
  Result<std::vector<prom::SeriesSamples>> QueryRange(const prom::RangeQuery& q) override {
    prom::SeriesSamples out;
    out.labels = MakeLabels({{"instance", "a"}});
    for (const series::Sample& s : samples_) {
      if (s.timestamp_ms >= q.start_ms && s.timestamp_ms <= q.end_ms) out.samples.push_back({s.timestamp_ms, s.value});
    }
    if (out.samples.empty()) return std::vector<prom::SeriesSamples>{};
    return std::vector<prom::SeriesSamples>{out};
  }
  Status CheckQuery(std::string_view) override { return {}; }

 private:
  std::vector<series::Sample> samples_;
};

TEST(BacktestTest, AgreesWithTheDaemonVerdictForVerdict) {
  std::vector<series::Sample> s = MakeSeries(288 * 3 + 150, 288 * 3 + 60);
  for (int i = 288 * 3 + 10; i < 288 * 3 + 14; ++i) s[static_cast<size_t>(i)].value -= 30;  // a dip of 4 steps
  for (int i = 288 * 3 + 100; i < 288 * 3 + 104; ++i) s[static_cast<size_t>(i)].value += 60;  // a burst
  for (const char* extra : {"    seasonality: [1d]\n    persistence: 2\n", "    seasonality: auto\n",
                            "    seasonality: none\n    direction: up\n"}) {
    const config::DetectorConfig d = Detector(extra);
    Result<BacktestParams> params = ParamsFor(d);
    ASSERT_THAT(params, IsOk());
    params->labels = MakeLabels({{"instance", "a"}});  // the daemon's series, as SeriesClient names it
    Result<BacktestResult> bt = RunBacktest(s, *params);
    ASSERT_THAT(bt, IsOk());

    exposition::SelfMetrics metrics("test", "test");
    auto runner = app::DetectorRunner::Create(d, std::make_shared<SeriesClient>(s), &metrics, {});
    ASSERT_THAT(runner, IsOk());
    int compared = 0, flagged = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(s[i].timestamp_ms));
      std::vector<exposition::SeriesReport> reports = (*runner)->RunCycle(now);
      ASSERT_EQ(reports.size(), 1u);
      const scoring::Verdict& daemon = reports[0].verdict;
      const ScoredRow& row = bt->rows[i];
      if (!row.scored) {
        EXPECT_NE(daemon.state == scoring::SeriesState::kOk && daemon.timestamp_ms == s[i].timestamp_ms, true)
            << extra << " row " << i;
        continue;
      }
      ASSERT_EQ(daemon.state, scoring::SeriesState::kOk) << extra << " row " << i;
      ASSERT_EQ(daemon.timestamp_ms, row.verdict.timestamp_ms) << extra << " row " << i;
      ASSERT_EQ(daemon.expected, row.verdict.expected) << extra << " row " << i;
      ASSERT_EQ(daemon.threshold, row.verdict.threshold) << extra << " row " << i;
      ASSERT_EQ(daemon.score, row.verdict.score) << extra << " row " << i;
      ASSERT_EQ(daemon.anomalous, row.verdict.anomalous) << extra << " row " << i;
      ASSERT_EQ(daemon.model, row.verdict.model) << extra << " row " << i;
      ++compared;
      flagged += daemon.anomalous;
    }
    EXPECT_GT(compared, static_cast<int>(s.size()) - 20) << extra;
    EXPECT_GT(flagged, 0) << extra;  // the comparison covered flagged points too
  }
}

}  // namespace
}  // namespace anomaly::backtest
