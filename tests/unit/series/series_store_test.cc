#include "anomaly/series/series_store.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "anomaly/series/evaluate.h"
#include "support/result_matchers.h"

namespace anomaly::series {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kStep = 60'000;

StoreOptions Options() {
  StoreOptions o;
  o.step = std::chrono::milliseconds(kStep);
  o.capacity_points = 1000;
  o.max_gap_points = 2;
  o.series_ttl = 10min;
  o.max_series = 3;
  return o;
}

std::vector<Sample> Ramp(int64_t first_slot, int64_t count, double start = 0) {
  std::vector<Sample> out;
  for (int64_t i = 0; i < count; ++i) out.push_back({(first_slot + i) * kStep, start + static_cast<double>(i)});
  return out;
}

Labels L(const char* instance) { return MakeLabels({{"instance", instance}, {"job", "api"}}); }

TEST(SeriesStoreTest, SlotOfRoundsToTheNearestGridPoint) {
  const std::pair<int64_t, int64_t> cases[] = {
      {0, 0}, {29'999, 0}, {30'000, 1}, {60'000, 1}, {89'999, 1}, {-1, 0}, {-30'001, -1}};
  for (auto [ts, slot] : cases) EXPECT_EQ(SlotOf(ts, std::chrono::milliseconds(kStep)), slot) << ts;
}

TEST(SeriesStoreTest, OverlappingFetchesAddNoDuplicates) {
  Result<SeriesStore> store = SeriesStore::Create(Options());
  ASSERT_THAT(store, IsOk());
  IngestResult first = store->Ingest(L("a"), Ramp(100, 10), 0);
  EXPECT_EQ(first.appended, 10u);
  // The next fetch overlaps the last 3 samples.
  IngestResult second = store->Ingest(L("a"), Ramp(107, 6, 7), 0);
  EXPECT_EQ(second.duplicates, 3u);
  EXPECT_EQ(second.appended, 3u);
  const SeriesEntry* e = store->Find(L("a"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->window.size(), 13u);
  EXPECT_EQ(e->window.first_slot(), 100);
  for (size_t i = 0; i < 13; ++i) EXPECT_DOUBLE_EQ(e->window.value(i), static_cast<double>(i)) << i;
}

TEST(SeriesStoreTest, OffGridTimestampsLandOnTheNearestSlot) {
  Result<SeriesStore> store = SeriesStore::Create(Options());
  ASSERT_THAT(store, IsOk());
  std::vector<Sample> s = {{10 * kStep + 1'000, 1}, {11 * kStep - 2'000, 2}, {12 * kStep + 29'000, 3}};
  store->Ingest(L("a"), s, 0);
  const SeriesEntry* e = store->Find(L("a"));
  EXPECT_EQ(e->window.first_slot(), 10);
  EXPECT_EQ(e->window.last_slot(), 12);
  EXPECT_EQ(e->window.observed_count(), 3u);
}

TEST(SeriesStoreTest, NanAndInfAreMissingAndShortGapsAreFilled) {
  Result<SeriesStore> store = SeriesStore::Create(Options());
  ASSERT_THAT(store, IsOk());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Sample> s = {{0, 0}, {kStep, nan}, {2 * kStep, inf}, {3 * kStep, 3}};
  IngestResult r = store->Ingest(L("a"), s, 0);
  EXPECT_EQ(r.missing, 2u);
  EXPECT_EQ(r.appended, 2u);
  const SeriesEntry* e = store->Find(L("a"));
  ASSERT_EQ(e->window.size(), 4u);
  EXPECT_EQ(e->window.kind(1), PointKind::kFilled);
  EXPECT_DOUBLE_EQ(e->window.value(1), 1);
  EXPECT_DOUBLE_EQ(e->window.value(2), 2);
  EXPECT_EQ(*e->last_observed_ms, 3 * kStep);
}

TEST(SeriesStoreTest, MaxSeriesRefusesNewSeriesAndKeepsTheFirst) {
  Result<SeriesStore> store = SeriesStore::Create(Options());  // max_series 3
  ASSERT_THAT(store, IsOk());
  store->BeginCycle();
  for (const char* i : {"a", "b", "c", "d", "e"}) store->Ingest(L(i), Ramp(0, 1), 0);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->refused_in_cycle(), 2u);
  EXPECT_NE(store->Find(L("c")), nullptr);
  EXPECT_EQ(store->Find(L("d")), nullptr);
  // Existing series keep ingesting; the count is per cycle.
  store->BeginCycle();
  EXPECT_FALSE(store->Ingest(L("a"), Ramp(1, 1), 0).refused);
  EXPECT_TRUE(store->Ingest(L("e"), Ramp(1, 1), 0).refused);
  EXPECT_EQ(store->refused_in_cycle(), 1u);
}

TEST(SeriesStoreTest, ExpireDropsSeriesNotSeenForTheTtl) {
  Result<SeriesStore> store = SeriesStore::Create(Options());  // series_ttl 10 min
  ASSERT_THAT(store, IsOk());
  const int64_t t0 = 1'000'000'000;
  store->Ingest(L("a"), Ramp(0, 1), t0);
  store->Ingest(L("b"), Ramp(0, 1), t0);
  store->Ingest(L("a"), {}, t0 + 9 * kStep);  // "a" is still returned by the query, without new samples
  EXPECT_EQ(store->Expire(t0 + 10 * kStep), 0u);
  EXPECT_EQ(store->Expire(t0 + 10 * kStep + 1), 1u);
  EXPECT_NE(store->Find(L("a")), nullptr);
  EXPECT_EQ(store->Find(L("b")), nullptr);
  std::vector<Labels> seen;
  store->ForEach([&](const Labels& l, const SeriesEntry&) { seen.push_back(l); });
  EXPECT_EQ(seen, std::vector<Labels>{L("a")});
}

TEST(SeriesStoreTest, MarkAllStaleKeepsTheLastVerdictUntilTheNextIngest) {
  Result<SeriesStore> store = SeriesStore::Create(Options());
  ASSERT_THAT(store, IsOk());
  store->Ingest(L("a"), Ramp(0, 40), 40 * kStep);
  SeriesEntry* e = store->Find(L("a"));
  scoring::ModelWorkspace ws;
  EvaluateOptions eval;
  Evaluation ok = Evaluate(*e, store->options(), eval, 40 * kStep, ws);
  ASSERT_EQ(ok.verdict.state, scoring::SeriesState::kOk);

  store->MarkAllStale();
  Evaluation stale = Evaluate(*e, store->options(), eval, 40 * kStep + 1, ws);
  EXPECT_EQ(stale.verdict.state, scoring::SeriesState::kStale);
  EXPECT_EQ(stale.verdict.timestamp_ms, ok.verdict.timestamp_ms);
  EXPECT_EQ(stale.verdict.expected, ok.verdict.expected);
  EXPECT_EQ(stale.verdict.score, ok.verdict.score);
  EXPECT_EQ(stale.scored, 0);

  // The upstream answers again but has no new sample yet: the last scored verdict is ok again.
  store->Ingest(L("a"), {}, 41 * kStep);
  Evaluation back = Evaluate(*e, store->options(), eval, 41 * kStep, ws);
  EXPECT_EQ(back.verdict.state, scoring::SeriesState::kOk);
  EXPECT_EQ(back.verdict.timestamp_ms, ok.verdict.timestamp_ms);

  store->Ingest(L("a"), Ramp(40, 1, 40), 42 * kStep);
  Evaluation fresh = Evaluate(*e, store->options(), eval, 42 * kStep, ws);
  EXPECT_EQ(fresh.verdict.state, scoring::SeriesState::kOk);
  EXPECT_EQ(fresh.scored, 1);
}

TEST(SeriesStoreTest, RejectsInvalidOptions) {
  struct Case {
    const char* field;
    void (*mutate)(StoreOptions&);
  };
  const Case cases[] = {
      {"step", [](StoreOptions& o) { o.step = 0ms; }},
      {"capacity_points", [](StoreOptions& o) { o.capacity_points = 0; }},
      {"max_gap_points", [](StoreOptions& o) { o.max_gap_points = -1; }},
      {"resume_points", [](StoreOptions& o) { o.resume_points = 0; }},
      {"series_ttl", [](StoreOptions& o) { o.series_ttl = 0ms; }},
      {"max_series", [](StoreOptions& o) { o.max_series = 0; }},
  };
  for (const Case& c : cases) {
    StoreOptions o = Options();
    c.mutate(o);
    EXPECT_THAT(SeriesStore::Create(o), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.field))) << c.field;
  }
}

}  // namespace
}  // namespace anomaly::series
