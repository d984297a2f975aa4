// The prom client against a real Prometheus 2.42 (backfilled with promtool) and
// against tests/support/fault_server.py for the faults a healthy Prometheus
// does not produce on demand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "anomaly/prom/range_query_client.h"
#include "support/child_process.h"
#include "support/fault_server.h"
#include "support/free_port.h"
#include "support/prometheus_process.h"
#include "support/result_matchers.h"

namespace anomaly::prom {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::FaultServer;
using ::anomaly::testing::IsOk;
using ::anomaly::testing::PrometheusProcess;
using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kStepMs = 60'000;
constexpr int kSeries = 3;

// 8 days at 1m ending 4h ago (backfill must stay older than now-3h): 11,521
// samples per series, more than one request may ask for.
struct Backfill {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<SeriesSamples> series;  // what was written, sorted by labels like the client's answer
  std::string openmetrics;
};

Backfill MakeBackfill() {
  Backfill b;
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  b.end_ms = (now_s / 60 * 60 - 4 * 3600) * 1000;
  b.start_ms = b.end_ms - 8 * 24 * 3600 * 1000LL;
  b.openmetrics = "# TYPE prom_client_test_gauge gauge\n";
  for (int k = 0; k < kSeries; ++k) {
    SeriesSamples s{MakeLabels({{"__name__", "prom_client_test_gauge"},
                                {"instance", "host-" + std::to_string(k)},
                                {"job", "itest"}}),
                    {}};
    int i = 0;
    for (int64_t t = b.start_ms; t <= b.end_ms; t += kStepMs, ++i) {
      double v = k * 1000 + i * 0.25 - 7.125;
      if (k == 0 && i == 100) v = std::nan("");
      if (k == 1 && i == 200) v = INFINITY;
      if (k == 1 && i == 201) v = -INFINITY;
      s.samples.push_back({t, v});
      char line[200];
      const char* text = std::isnan(v) ? "NaN" : (std::isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : nullptr);
      char number[40];
      if (!text) {
        std::snprintf(number, sizeof number, "%.17g", v);
        text = number;
      }
      std::snprintf(line, sizeof line,
                    "prom_client_test_gauge{instance=\"host-%d\",job=\"itest\"}"
                    " %s %lld.%03lld\n",
                    k, text, static_cast<long long>(t / 1000), static_cast<long long>(t % 1000));
      b.openmetrics += line;
    }
    b.series.push_back(std::move(s));
  }
  b.openmetrics += "# EOF\n";
  return b;
}

void ExpectSameSeries(const std::vector<SeriesSamples>& got, const std::vector<SeriesSamples>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t s = 0; s < want.size(); ++s) {
    EXPECT_EQ(LabelsToString(got[s].labels), LabelsToString(want[s].labels));
    ASSERT_EQ(got[s].samples.size(), want[s].samples.size()) << LabelsToString(want[s].labels);
    int mismatches = 0;
    for (size_t i = 0; i < want[s].samples.size() && mismatches < 5; ++i) {
      const Sample& g = got[s].samples[i];
      const Sample& w = want[s].samples[i];
      bool same = g.timestamp_ms == w.timestamp_ms &&
                  (std::isnan(w.value) ? std::isnan(g.value) : g.value == w.value);
      if (!same) {
        ++mismatches;
        ADD_FAILURE() << LabelsToString(want[s].labels) << " sample " << i << ": got (" << g.timestamp_ms
                      << ", " << g.value << ") want (" << w.timestamp_ms << ", " << w.value << ")";
      }
    }
  }
}

struct Recorder {
  std::vector<QueryEvent> events;
  QueryObserver Observer() {
    return [this](const QueryEvent& e) { events.push_back(e); };
  }
};

class PromClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backfill_ = new Backfill(MakeBackfill());
    auto prom = PrometheusProcess::Start({.openmetrics = backfill_->openmetrics});
    ASSERT_THAT(prom, IsOk());
    prometheus_ = prom->release();
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    prometheus_ = nullptr;
    delete backfill_;
    backfill_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(prometheus_, nullptr) << "prometheus did not start (see above)"; }

  static ClientOptions Options(const std::string& url) {
    ClientOptions o;
    o.url = url;
    o.timeout = 20s;
    o.initial_backoff = 10ms;
    o.max_backoff = 100ms;
    return o;
  }
  static std::unique_ptr<RangeQueryClient> Client(const ClientOptions& o) {
    auto client = NewHttpClient(o);
    EXPECT_THAT(client, IsOk());
    return client ? std::move(*client) : nullptr;
  }
  RangeQuery AllOfIt() const {
    return {"prom_client_test_gauge", backfill_->start_ms, backfill_->end_ms, Duration(kStepMs)};
  }

  static PrometheusProcess* prometheus_;
  static Backfill* backfill_;
};

PrometheusProcess* PromClientTest::prometheus_ = nullptr;
Backfill* PromClientTest::backfill_ = nullptr;

TEST_F(PromClientTest, PagesPastTheElevenThousandPointLimitAndReturnsExactlyTheBackfill) {
  Recorder recorder;
  ClientOptions o = Options(prometheus_->url());
  o.observer = recorder.Observer();
  auto client = Client(o);
  auto got = client->QueryRange(AllOfIt());
  ASSERT_THAT(got, IsOk());
  ExpectSameSeries(*got, backfill_->series);
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].requests, 2);  // 11,521 points: 11,000 + 521
  EXPECT_EQ(recorder.events[0].retries, 0);
}

TEST_F(PromClientTest, SmallPagesMergeToTheSameAnswer) {
  Recorder recorder;
  ClientOptions o = Options(prometheus_->url());
  o.max_points_per_request = 1000;
  o.observer = recorder.Observer();
  auto got = Client(o)->QueryRange(AllOfIt());
  ASSERT_THAT(got, IsOk());
  ExpectSameSeries(*got, backfill_->series);
  EXPECT_EQ(recorder.events.at(0).requests, 12);
}

TEST_F(PromClientTest, GzipAnswersDecodeToTheSameBackfill) {
  ClientOptions o = Options(prometheus_->url());
  o.compression = Compression::kGzip;
  auto got = Client(o)->QueryRange(AllOfIt());
  ASSERT_THAT(got, IsOk());
  ExpectSameSeries(*got, backfill_->series);
}

TEST_F(PromClientTest, WithoutPagingPrometheusRejectsTheRangeAsBadData) {
  ClientOptions o = Options(prometheus_->url());
  o.max_points_per_request = 20000;
  EXPECT_THAT(Client(o)->QueryRange(AllOfIt()),
              ErrorIs(ErrorCode::kUpstreamRejected, AllOf(HasSubstr("query \"prom_client_test_gauge\": "
                                                                    "prometheus answered 400: bad_data: "),
                                                          HasSubstr("exceeded maximum resolution of 11,000 "
                                                                    "points per timeseries"))));
}

TEST_F(PromClientTest, RateOverTheBackfillHasOneSeriesPerInstanceWithoutName) {
  RangeQuery q = AllOfIt();
  q.query = "rate(prom_client_test_gauge{instance=\"host-2\"}[5m])";
  q.start_ms = backfill_->end_ms - 3600 * 1000;
  auto got = Client(Options(prometheus_->url()))->QueryRange(q);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(LabelsToString((*got)[0].labels), R"({instance="host-2", job="itest"})");
  EXPECT_EQ((*got)[0].samples.size(), 61u);
}

TEST_F(PromClientTest, CheckQueryAcceptsValidAndRejectsInvalidWithPrometheusMessage) {
  auto client = Client(Options(prometheus_->url()));
  EXPECT_THAT(client->CheckQuery("rate(x[5m])"), IsOk());
  EXPECT_THAT(client->CheckQuery("rate(x[5m]"), ErrorIs(ErrorCode::kUpstreamRejected,
                                                        "query \"rate(x[5m]\": prometheus answered 400: "
                                                        "bad_data: invalid parameter \"query\": 1:11: "
                                                        "parse error: unclosed left parenthesis"));
  EXPECT_THAT(client->QueryRange({"rate(x[5m]", 0, 60'000, 60s}),
              ErrorIs(ErrorCode::kUpstreamRejected, HasSubstr("parse error: unclosed left parenthesis")));
}

TEST_F(PromClientTest, ConcurrentCallersShareTheClient) {
  auto client = Client(Options(prometheus_->url()));
  std::vector<std::thread> threads;
  std::vector<int> ok(6, 0);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        auto r = client->QueryRange(AllOfIt());
        if (r && r->size() == static_cast<size_t>(kSeries) && (*r)[2].samples.size() == 11521) ++ok[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 6; ++t) EXPECT_EQ(ok[t], 3) << "thread " << t;
}

TEST_F(PromClientTest, RestartKeepsTheDataOnTheSamePort) {
  const std::string url = prometheus_->url();
  ASSERT_THAT(prometheus_->Restart(), IsOk()) << prometheus_->LogTail();
  EXPECT_EQ(prometheus_->url(), url);
  auto got = Client(Options(url))->QueryRange(AllOfIt());
  ASSERT_THAT(got, IsOk());
  ExpectSameSeries(*got, backfill_->series);
}

TEST(PromClientFaultTest, DownServerIsUnavailableAfterRetries) {
  Recorder recorder;
  ClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  o.max_retries = 2;
  o.initial_backoff = 10ms;
  o.max_backoff = 50ms;
  o.observer = recorder.Observer();
  auto client = NewHttpClient(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->QueryRange({"up", 0, 60'000, 60s}),
              ErrorIs(ErrorCode::kUpstreamUnavailable,
                      AllOf(HasSubstr("query \"up\" (3 requests): POST http://127.0.0.1:"),
                            HasSubstr("/api/v1/query_range: "))));
  EXPECT_EQ(recorder.events.at(0).requests, 3);
  EXPECT_EQ(recorder.events.at(0).retries, 2);
}

TEST(PromClientFaultTest, BreakerFailsFastAfterConsecutiveFailures) {
  ClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  o.max_retries = 0;
  o.breaker_failure_threshold = 2;
  o.breaker_cooldown = 60s;
  auto client = NewHttpClient(o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->QueryRange({"up", 0, 0, 60s}),
              ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("POST")));
  EXPECT_THAT((*client)->QueryRange({"up", 0, 0, 60s}),
              ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("POST")));
  EXPECT_THAT((*client)->QueryRange({"up", 0, 0, 60s}),
              ErrorIs(ErrorCode::kCancelled, HasSubstr("circuit open")));
  EXPECT_THAT((*client)->CheckQuery("up"), ErrorIs(ErrorCode::kCancelled, HasSubstr("circuit open")));
}

class PromClientFaultServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = FaultServer::Start();
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
  }
  ClientOptions Options(const std::string& fault) {
    ClientOptions o;
    o.url = server_->url() + "/" + fault;
    o.timeout = 5s;
    o.initial_backoff = 10ms;
    o.max_backoff = 100ms;
    o.observer = recorder_.Observer();
    return o;
  }
  Result<std::vector<SeriesSamples>> Query(const ClientOptions& o) {
    auto client = NewHttpClient(o);
    if (!client) return tl::unexpected(client.error());
    return (*client)->QueryRange({"up", 0, 120'000, 60s});
  }
  std::unique_ptr<FaultServer> server_;
  Recorder recorder_;
};

TEST_F(PromClientFaultServerTest, AsksForGzipOnlyWhenConfiguredAndDecodesIt) {
  ClientOptions o = Options("encoding");
  auto plain = Query(o);  // the default
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(server_->RequestCount("encoding/identity"), 1);
  EXPECT_EQ(server_->RequestCount("encoding/gzip"), 0);
  o.compression = Compression::kGzip;
  auto compressed = Query(o);
  ASSERT_THAT(compressed, IsOk());
  EXPECT_EQ(server_->RequestCount("encoding/gzip"), 1);
  ASSERT_EQ(plain->size(), 1u);
  ASSERT_EQ(compressed->size(), 1u);
  EXPECT_EQ((*plain)[0].samples, (*compressed)[0].samples);
  EXPECT_EQ((*compressed)[0].samples.size(), 3u);
}

TEST_F(PromClientFaultServerTest, SlowServerTimesOutAfterRetries) {
  ClientOptions o = Options("slow/3000");
  o.timeout = 300ms;
  o.max_retries = 1;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(Query(o), ErrorIs(ErrorCode::kTimeout, HasSubstr("query \"up\" (2 requests): POST")));
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            2500ms);  // two 300ms timeouts, not 3s waits
  EXPECT_EQ(server_->RequestCount("slow/3000"), 2);
}

TEST_F(PromClientFaultServerTest, BodyCutMidJsonIsMalformedAndNotRetried) {
  EXPECT_THAT(Query(Options("cut")), ErrorIs(ErrorCode::kUpstreamMalformed,
                                             HasSubstr("prometheus answered 200: body is not valid JSON at "
                                                       "byte offset")));
  EXPECT_EQ(server_->RequestCount("cut"), 1);
}

TEST_F(PromClientFaultServerTest, BodyShortOfItsContentLengthIsRetried) {
  ClientOptions o = Options("short");
  o.max_retries = 1;
  EXPECT_THAT(Query(o), ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("(2 requests)")));
  EXPECT_EQ(server_->RequestCount("short"), 2);
}

TEST_F(PromClientFaultServerTest, HonoursRetryAfterOn429) {
  ClientOptions o = Options("retry-after/1/1");
  o.max_backoff = 2s;
  const auto started = std::chrono::steady_clock::now();
  auto got = Query(o);
  ASSERT_THAT(got, IsOk());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(server_->RequestCount("retry-after/1/1"), 2);
  EXPECT_EQ(got->at(0).samples.size(), 3u);
}

TEST_F(PromClientFaultServerTest, Recovers503ThenSuccess) {
  auto got = Query(Options("flaky/2"));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(server_->RequestCount("flaky/2"), 3);
  EXPECT_EQ(recorder_.events.at(0).retries, 2);
}

TEST_F(PromClientFaultServerTest, PersistentServerErrorIsUnavailableWithItsMessage) {
  ClientOptions o = Options("status/500");
  o.max_retries = 1;
  EXPECT_THAT(Query(o), ErrorIs(ErrorCode::kUpstreamUnavailable,
                                "query \"up\" (2 requests): prometheus "
                                "answered 500: unavailable: fault server "
                                "answered 500"));
}

TEST(HarnessTest, MissingExecutableIsAnErrorNotASkip) {
  testing::TempDir dir;
  auto child =
      testing::ChildProcess::Start({.argv = {"/nonexistent/prometheus"}, .log_file = dir.File("log")});
  EXPECT_THAT(child, ErrorIs(ErrorCode::kInternal, HasSubstr("cannot execute /nonexistent/prometheus")));
}

TEST(HarnessTest, StopEndsAChildThatIgnoresNothingAndKillEndsOneThatIgnoresTerm) {
  testing::TempDir dir;
  auto sleeper = testing::ChildProcess::Start({.argv = {"/bin/sleep", "60"}, .log_file = dir.File("log")});
  ASSERT_THAT(sleeper, IsOk());
  EXPECT_TRUE((*sleeper)->Running());
  EXPECT_EQ(testing::DescribeWaitStatus((*sleeper)->Stop(5s)), "killed by signal 15");
  auto stubborn =
      testing::ChildProcess::Start({.argv = {"/bin/sh", "-c", "trap '' TERM; echo started; sleep 60 & wait"},
                                    .log_file = dir.File("log2")});
  ASSERT_THAT(stubborn, IsOk());
  // Wait until the trap is installed, so SIGTERM really is ignored.
  for (int i = 0; i < 200 && (*stubborn)->LogTail().find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(testing::DescribeWaitStatus((*stubborn)->Stop(200ms)), "killed by signal 9");
}

}  // namespace
}  // namespace anomaly::prom
