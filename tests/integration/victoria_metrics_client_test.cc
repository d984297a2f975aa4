// The prom client against a real single-node VictoriaMetrics (Debian's 1.79), where it answers the
// query_range API differently from Prometheus: it moves a long range's start onto the step grid, carries
// a sample forward about one sample interval instead of Prometheus' 5m lookback, answers a bad query
// with 422 and errorType "422", and has its own limits (-search.maxPointsPerTimeseries,
// -search.maxUniqueTimeseries). docs/configuration.md ("VictoriaMetrics") says what that means for a
// detector; these tests keep it true.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "anomaly/prom/range_query_client.h"
#include "support/result_matchers.h"
#include "support/victoria_metrics_process.h"

namespace anomaly::prom {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::anomaly::testing::VictoriaMetricsProcess;
using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kStepMs = 60'000;
constexpr int kSeries = 3;
// The gap series: a sample every minute for 2h, then none for 30 minutes, then 1h more.
constexpr int64_t kHoleMs = 30 * kStepMs;

// 2 days at 1m ending an hour ago, past VictoriaMetrics' -search.latencyOffset (30s) and its response
// cache's -search.cacheTimestampOffset (5m), so every answer comes from the stored samples.
struct Import {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t hole_start_ms = 0;  // first missing sample of the gap series
  std::vector<SeriesSamples> series;  // what was written, sorted by labels like the client's answer
  std::string text;                   // Prometheus text exposition, millisecond timestamps
};

Import MakeImport() {
  Import b;
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  b.end_ms = (now_s / 60 * 60 - 3600) * 1000;
  b.start_ms = b.end_ms - 2 * 24 * 3600 * 1000LL;
  char line[200];
  for (int k = 0; k < kSeries; ++k) {
    SeriesSamples s{MakeLabels({{"__name__", "vm_client_test_gauge"},
                                {"instance", "host-" + std::to_string(k)},
                                {"job", "itest"}}),
                    {}};
    int i = 0;
    for (int64_t t = b.start_ms; t <= b.end_ms; t += kStepMs, ++i) {
      const double v = k * 1000 + i * 0.25 - 7.125;  // exact in binary and in %.17g
      s.samples.push_back({t, v});
      std::snprintf(line, sizeof line,
                    "vm_client_test_gauge{instance=\"host-%d\",job=\"itest\"} %.17g %lld\n", k, v,
                    static_cast<long long>(t));
      b.text += line;
    }
    b.series.push_back(std::move(s));
  }
  const int64_t gap_start = b.end_ms - 210 * kStepMs;
  b.hole_start_ms = gap_start + 120 * kStepMs;
  for (int64_t t = gap_start; t <= b.end_ms; t += kStepMs) {
    if (t >= b.hole_start_ms && t < b.hole_start_ms + kHoleMs) continue;
    std::snprintf(line, sizeof line, "vm_client_test_gap 1 %lld\n", static_cast<long long>(t));
    b.text += line;
  }
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
      if (g.timestamp_ms != w.timestamp_ms || g.value != w.value) {
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

ClientOptions Options(const std::string& url) {
  ClientOptions o;
  o.url = url;
  o.timeout = 20s;
  o.initial_backoff = 10ms;
  o.max_backoff = 100ms;
  return o;
}

std::unique_ptr<RangeQueryClient> Client(const ClientOptions& o) {
  auto client = NewHttpClient(o);
  EXPECT_THAT(client, IsOk());
  return client ? std::move(*client) : nullptr;
}

class VictoriaMetricsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    import_ = new Import(MakeImport());
    auto vm = VictoriaMetricsProcess::Start({});
    ASSERT_THAT(vm, IsOk());
    vm_ = vm->release();
    ASSERT_THAT(vm_->Import(import_->text), IsOk());
  }
  static void TearDownTestSuite() {
    delete vm_;
    vm_ = nullptr;
    delete import_;
    import_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(vm_, nullptr) << "victoria-metrics did not start (see above)"; }

  static RangeQuery AllOfIt() {
    return {"vm_client_test_gauge", import_->start_ms, import_->end_ms, Duration(kStepMs)};
  }

  static inline VictoriaMetricsProcess* vm_ = nullptr;
  static inline Import* import_ = nullptr;
};

TEST_F(VictoriaMetricsClientTest, AlignedRangeReturnsExactlyTheImportInOnePageOrMany) {
  for (int max_points : {11000, 500}) {
    SCOPED_TRACE(max_points);
    Recorder recorder;
    ClientOptions o = Options(vm_->url());
    o.max_points_per_request = max_points;
    o.observer = recorder.Observer();
    auto got = Client(o)->QueryRange(AllOfIt());
    ASSERT_THAT(got, IsOk());
    ExpectSameSeries(*got, import_->series);
    // 2,881 points per series: one page, or 6 of at most 500.
    EXPECT_EQ(recorder.events.at(0).requests, max_points == 500 ? 6 : 1);
  }
}

TEST_F(VictoriaMetricsClientTest, MovesALongOffGridRangeOntoTheStepGrid) {
  // Prometheus would answer at start + 10s + k x step, each carrying the sample 10s before it.
  // VictoriaMetrics rounds start and end down to multiples of step (for its response cache) once a
  // range has 50 points or more, keeping the number of points: the answer is the stored samples.
  RangeQuery q = AllOfIt();
  q.start_ms += 10'000;
  q.end_ms += 10'000;
  auto got = Client(Options(vm_->url()))->QueryRange(q);
  ASSERT_THAT(got, IsOk());
  ExpectSameSeries(*got, import_->series);
  // The first sample is before the start asked for: a caller must not assume start <= timestamp.
  EXPECT_LT(got->at(0).samples.front().timestamp_ms, q.start_ms);
}

TEST_F(VictoriaMetricsClientTest, LeavesAShortOffGridRangeWhereItWas) {
  // Under 50 points there is nothing to cache, and the range is answered as asked, as Prometheus does.
  RangeQuery q = AllOfIt();
  q.start_ms = import_->end_ms - 20 * kStepMs + 10'000;
  q.end_ms = import_->end_ms - 10 * kStepMs + 10'000;
  auto got = Client(Options(vm_->url()))->QueryRange(q);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), static_cast<size_t>(kSeries));
  const std::vector<Sample>& samples = got->at(0).samples;
  ASSERT_EQ(samples.size(), 11u);
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].timestamp_ms, q.start_ms + static_cast<int64_t>(i) * kStepMs) << i;
    // Each carries the stored sample 10s before it.
    const size_t stored = import_->series[0].samples.size() - 21 + i;
    EXPECT_EQ(samples[i].value, import_->series[0].samples[stored].value) << i;
  }
}

TEST_F(VictoriaMetricsClientTest, CarriesASampleForwardAboutOneIntervalNotFiveMinutes) {
  // Prometheus' lookback (5m) would fill the first 5 steps of the 30-minute hole with the last value.
  // VictoriaMetrics derives its staleness from the series' own sample interval (1m here), so at most
  // the first step is filled and the rest of the hole has no samples: the detector sees a gap at once.
  RangeQuery q{"vm_client_test_gap", import_->hole_start_ms - 60 * kStepMs, import_->end_ms,
               Duration(kStepMs)};
  auto got = Client(Options(vm_->url()))->QueryRange(q);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 1u);
  int in_hole = 0;
  for (const Sample& s : got->at(0).samples) {
    in_hole += s.timestamp_ms >= import_->hole_start_ms && s.timestamp_ms < import_->hole_start_ms + kHoleMs;
  }
  EXPECT_LE(in_hole, 1);
  // 151 steps asked for, 30 of them in the hole: the 121 stored samples, plus what was filled.
  EXPECT_EQ(got->at(0).samples.size(), static_cast<size_t>(121 + in_hole));
}

TEST_F(VictoriaMetricsClientTest, CheckQueryFallsBackToAnInstantQueryAndReportsThe422) {
  // VictoriaMetrics has no /api/v1/format_query (400 "unsupported path"); the client checks through an
  // instant query at time 0 instead (the second request), which VictoriaMetrics answers 422 with
  // errorType "422".
  auto client = Client(Options(vm_->url()));
  EXPECT_THAT(client->CheckQuery("rate(vm_client_test_gauge[5m])"), IsOk());
  EXPECT_THAT(client->CheckQuery("rate(vm_client_test_gauge[5m]"),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      AllOf(HasSubstr("query \"rate(vm_client_test_gauge[5m]\" (2 requests): "),
                            HasSubstr("prometheus answered 422: 422: "), HasSubstr("unexpected token"))));
}

TEST_F(VictoriaMetricsClientTest, BadQueryRangeIsRejectedOnceWithVictoriaMetricsMessage) {
  Recorder recorder;
  ClientOptions o = Options(vm_->url());
  o.observer = recorder.Observer();
  EXPECT_THAT(Client(o)->QueryRange({"sum(vm_client_test_gauge", import_->start_ms, import_->end_ms, 60s}),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      AllOf(HasSubstr("prometheus answered 422: 422: error when executing query="),
                            HasSubstr("unexpected token"))));
  EXPECT_EQ(recorder.events.at(0).retries, 0);  // a 4xx is the store's verdict: never retried
}

TEST_F(VictoriaMetricsClientTest, PagesStayUnderItsPointLimitWhichRejectsALargerPage) {
  // -search.maxPointsPerTimeseries (default 30000) replaces Prometheus' 11,000: 9h at 1s is 32,401 points.
  RangeQuery q{"vm_client_test_gauge{instance=\"host-1\"}", import_->end_ms - 9 * 3600 * 1000,
               import_->end_ms, 1s};
  ClientOptions o = Options(vm_->url());
  o.max_points_per_request = 40000;
  EXPECT_THAT(Client(o)->QueryRange(q),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      AllOf(HasSubstr("prometheus answered 422: "),
                            HasSubstr("cannot exceed -search.maxPointsPerTimeseries=30000"))));
  auto paged = Client(Options(vm_->url()))->QueryRange(q);  // the default, 11,000 points a page
  ASSERT_THAT(paged, IsOk());
  ASSERT_EQ(paged->size(), 1u);
  EXPECT_EQ(paged->at(0).samples.size(), 32401u);
}

TEST(VictoriaMetricsLimitTest, SeriesLimitRejectsAQuerySelectingMoreSeries) {
  auto vm = VictoriaMetricsProcess::Start({.extra_flags = {"-search.maxUniqueTimeseries=2"}});
  ASSERT_THAT(vm, IsOk());
  const Import import = MakeImport();
  ASSERT_THAT((*vm)->Import(import.text), IsOk());
  auto client = Client(Options((*vm)->url()));
  RangeQuery q{"vm_client_test_gauge", import.end_ms - 3600 * 1000, import.end_ms, 60s};
  EXPECT_THAT(client->QueryRange(q),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      AllOf(HasSubstr("prometheus answered 422: "),
                            HasSubstr("the number of matching timeseries exceeds 2"))));
  q.query = "vm_client_test_gauge{instance=~\"host-[01]\"}";
  auto two = client->QueryRange(q);
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(two->size(), 2u);
}

}  // namespace
}  // namespace anomaly::prom
