#include "anomaly/series/group.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly::series {
namespace {

constexpr int64_t kStepMs = 60'000;

GroupOptions Options(int members) {
  GroupOptions o;
  o.members = members;
  o.step = std::chrono::milliseconds(kStepMs);
  o.history_points = 2000;
  o.refit_interval = std::chrono::hours(1);
  o.episode = {.persistence = 1, .resolve_ms = 10 * kStepMs};
  o.calibration.long_window = 2000;
  o.calibration.log_threshold = 6;
  return o;
}

// Four metrics of one server that move together around their levels (a shared load factor plus their own
// noise, each with its own level and unit).
struct Server {
  std::mt19937 rng{7};
  std::normal_distribution<double> noise{0, 1};
  std::vector<double> Next(double break_member0 = 0) {
    const double load = noise(rng);
    std::vector<double> v = {100 + 10 * (0.9 * load + 0.44 * noise(rng)), 5 + 0.5 * (0.9 * load + 0.44 * noise(rng)),
                             2000 + 300 * (0.9 * load + 0.44 * noise(rng)), 40 + 2 * noise(rng)};
    v[0] += break_member0;
    return v;
  }
};

void Feed(GroupDetector& g, int64_t slot, const std::vector<double>& values) {
  for (size_t m = 0; m < values.size(); ++m) {
    SlotZ s{slot, values[m], 0};
    g.Add(static_cast<int>(m), std::span(&s, 1));
  }
}

TEST(GroupDetectorTest, LearnsThenFlagsAMemberThatLeavesItsPeersAndNamesIt) {
  Result<GroupDetector> g = GroupDetector::Create(Options(4));
  ASSERT_TRUE(g) << g.error().message;
  Server server;
  int64_t slot = 1000;
  int flagged_normal = 0;
  for (int i = 0; i < 1500; ++i, ++slot) {
    Feed(*g, slot, server.Next());
    const GroupVerdict& v = g->Evaluate(slot);
    if (i < 299) {
      EXPECT_EQ(v.state, scoring::SeriesState::kWarmingUp) << i;
    } else if (i >= 300) {
      EXPECT_EQ(v.state, scoring::SeriesState::kOk) << i;
    }
    flagged_normal += v.anomalous;
  }
  EXPECT_EQ(flagged_normal, 0);
  // Member 0 moves up by 3 of its own sigmas while the load it follows does not: alone within a 4-sigma
  // band, against its peers far out. A combination this rare flags within a few rows (the short mean).
  bool flagged = false;
  for (int i = 0; i < 8; ++i, ++slot) {
    Feed(*g, slot, server.Next(30));
    const GroupVerdict& v = g->Evaluate(slot);
    if (v.anomalous) {
      flagged = true;
      ASSERT_FALSE(v.top.empty());
      EXPECT_EQ(v.top.front().member, 0);
      EXPECT_GE(v.score, 1);
      EXPECT_GE(v.anomalous_since_ms, v.timestamp_ms - i * kStepMs);  // not before the break
      EXPECT_LE(v.anomalous_since_ms, v.timestamp_ms);
      break;
    }
  }
  EXPECT_TRUE(flagged);
}

TEST(GroupDetectorTest, HistoryFromTheMembersWindowsIsLearnedAtOnce) {
  // The members' stored windows (the daemon's first cycle) are the group's history: judged at once.
  DetectorOptions d;
  d.store.step = std::chrono::milliseconds(kStepMs);
  d.store.capacity_points = 2000;
  Result<Detector> core = Detector::Create(d);
  ASSERT_TRUE(core);
  Server server;
  std::vector<std::vector<Sample>> history(4);
  for (int i = 0; i < 1000; ++i) {
    std::vector<double> v = server.Next();
    for (size_t m = 0; m < 4; ++m) history[m].push_back({(1000 + i) * kStepMs, v[m]});
  }
  Result<GroupDetector> g = GroupDetector::Create(Options(4));
  ASSERT_TRUE(g);
  core->BeginCycle();
  for (size_t m = 0; m < 4; ++m) {
    core->Ingest(MakeLabels({{"m", std::to_string(m)}}), history[m], 1999 * kStepMs);
  }
  for (size_t m = 0; m < 4; ++m) {
    const SeriesEntry* e = core->store().Find(MakeLabels({{"m", std::to_string(m)}}));
    ASSERT_NE(e, nullptr);
    SlotZ newest{1999, history[m].back().value, 0};
    g->Add(static_cast<int>(m), std::span(&newest, 1), e);
  }
  const GroupVerdict& v = g->Evaluate(1999);
  EXPECT_EQ(v.state, scoring::SeriesState::kOk);
  EXPECT_FALSE(v.anomalous);
  ASSERT_NE(g->fit(), nullptr);
  EXPECT_EQ(g->fit()->dims, 4);
}

TEST(GroupDetectorTest, ARowWithFewerThanTwoMembersIsNotJudged) {
  Result<GroupDetector> g = GroupDetector::Create(Options(3));
  ASSERT_TRUE(g);
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  int64_t slot = 0;
  for (; slot < 400; ++slot) Feed(*g, slot, {noise(rng), noise(rng), noise(rng)});
  g->Evaluate(slot - 1);
  SlotZ only{slot, 0.1, 0};
  g->Add(1, std::span(&only, 1));
  EXPECT_EQ(g->Evaluate(slot).state, scoring::SeriesState::kInsufficientData);
  EXPECT_EQ(g->verdict().members_present, 1);
}

TEST(GroupDetectorTest, RejectsAGroupOfOne) {
  EXPECT_FALSE(GroupDetector::Create(Options(1)));
  GroupOptions o = Options(2);
  o.step = std::chrono::milliseconds(0);
  EXPECT_FALSE(GroupDetector::Create(o));
}

}  // namespace
}  // namespace anomaly::series
