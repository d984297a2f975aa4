#include "exporter/app/episode_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string_view>

namespace anomaly::app {
namespace {

scoring::Verdict At(int64_t t, bool flagged, int64_t since = 0, double score = 0,
                    scoring::SeriesState state = scoring::SeriesState::kOk) {
  scoring::Verdict v;
  v.state = state;
  v.timestamp_ms = t;
  v.anomalous = flagged;
  v.anomalous_since_ms = since;
  v.score = score;
  v.value = 10 * score;
  v.expected = 1;
  return v;
}

TEST(EpisodeLogTest, OpensExtendsAndEndsAnEpisodeKeepingItsPeak) {
  EpisodeLog log;
  const Labels a = MakeLabels({{"host", "a"}});
  log.Observe(a, At(100, false));
  EXPECT_EQ(log.size(), 0u);  // never flagged: nothing kept
  log.Observe(a, At(200, true, 190, 2));
  log.Observe(a, At(300, true, 190, 5));
  log.Observe(a, At(400, true, 190, 3));
  std::vector<EpisodeRecord> e = log.Of(a);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].start_ms, 190);
  EXPECT_EQ(e[0].end_ms, 0);
  EXPECT_EQ(e[0].peak_score, 5);
  EXPECT_EQ(e[0].peak_ms, 300);
  EXPECT_EQ(e[0].peak_value, 50);
  log.Observe(a, At(500, false, 0, 0, scoring::SeriesState::kStale));  // nothing known: still open
  EXPECT_EQ(log.Of(a)[0].end_ms, 0);
  log.Observe(a, At(600, false));
  EXPECT_EQ(log.Of(a)[0].end_ms, 600);
  log.Observe(a, At(700, true, 700, 1.5));
  e = log.Of(a);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].start_ms, 700);
}

TEST(EpisodeLogTest, KeepsTheNewestEpisodesAndForgetsSeriesThatLeft) {
  EpisodeLog log;
  const Labels a = MakeLabels({{"host", "a"}}), b = MakeLabels({{"host", "b"}});
  for (int i = 0; i < 40; ++i) {
    log.Observe(a, At(i * 100, true, i * 100, 2));
    log.Observe(a, At(i * 100 + 50, false));
  }
  std::vector<EpisodeRecord> e = log.Of(a);
  ASSERT_EQ(e.size(), EpisodeLog::kMaxPerSeries);
  EXPECT_EQ(e.back().start_ms, 3900);
  log.Observe(b, At(5000, true, 5000, 2));
  log.Sweep();
  EXPECT_EQ(log.size(), 2u);
  log.Observe(b, At(5100, true, 5000, 2));  // only b reported in this cycle: a expired
  log.Sweep();
  EXPECT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.Of(a).empty());
}

TEST(EpisodeLogTest, EpisodeIdIsTheShardKeysHashThenAStableHashOfDetectorLabelsAndStart) {
  const Labels a = MakeLabels({{"host", "a"}});
  const std::string id = EpisodeId("rps", a, a, 1'700'000'000'000);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Fixed: the same episode must keep its id across restarts and builds (feedback links use it).
  EXPECT_EQ(id, EpisodeId("rps", a, MakeLabels({{"host", "a"}}), 1'700'000'000'000));
  char shard_hash[17];
  std::snprintf(shard_hash, sizeof shard_hash, "%016llx", static_cast<unsigned long long>(HashLabels(a)));
  EXPECT_EQ(id, std::string(shard_hash) + "3c863a5ddb775d57");
  EXPECT_NE(id, EpisodeId("rps", a, a, 1'700'000'060'000));
  EXPECT_NE(id, EpisodeId("rps2", a, a, 1'700'000'000'000));
  EXPECT_NE(id, EpisodeId("rps", a, MakeLabels({{"host", "b"}}), 1'700'000'000'000));
}

TEST(EpisodeLogTest, EpisodeShardHashReadsTheShardKeysHashBackFromAnId) {
  const Labels series = MakeLabels({{"host", "a"}, {"cpu", "3"}});
  const Labels group = MakeLabels({{"host", "a"}});  // a multivariate detector shards by group
  EXPECT_EQ(EpisodeShardHash(EpisodeId("rps", group, series, 1'700'000'000'000)), HashLabels(group));
  EXPECT_EQ(EpisodeShardHash(EpisodeId("rps", series, series, 1)), HashLabels(series));
  for (std::string_view bad : {"", "0123456789abcdef", "0123456789ABCDEF0123456789abcdef",
                               "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef0"}) {
    EXPECT_EQ(EpisodeShardHash(bad), std::nullopt) << bad;
  }
}

TEST(EpisodeLogTest, FindsAnEpisodeByItsSeriesAndStart) {
  EpisodeLog log;
  const Labels a = MakeLabels({{"host", "a"}});
  log.Observe(a, At(200, true, 190, 2));
  log.Observe(a, At(300, false));
  log.Observe(a, At(400, true, 400, 2));
  ASSERT_NE(log.Find(a, 190), nullptr);
  log.Find(a, 190)->feedback = http::EpisodeFeedback{http::FeedbackVerdict::kFalsePositive, "x", 500};
  EXPECT_EQ(log.Of(a)[0].feedback->comment, "x");
  EXPECT_FALSE(log.Of(a)[1].feedback.has_value());
  EXPECT_EQ(log.Find(a, 191), nullptr);
  EXPECT_EQ(log.Find(MakeLabels({{"host", "b"}}), 190), nullptr);
  std::vector<int64_t> starts;
  log.ForEach([&](const Labels&, const EpisodeRecord& e) { starts.push_back(e.start_ms); });
  EXPECT_EQ(starts, (std::vector<int64_t>{190, 400}));
}

}  // namespace
}  // namespace anomaly::app
