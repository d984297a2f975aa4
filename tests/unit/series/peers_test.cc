#include "anomaly/series/peers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace anomaly::series {
namespace {

constexpr int64_t kStepMs = 60'000;

PeerOptions Options(int min_members = 3) {
  PeerOptions o;
  o.min_members = min_members;
  o.step = std::chrono::milliseconds(kStepMs);
  o.history_points = 2000;
  o.refit_interval = std::chrono::hours(1);
  o.episode = {.persistence = 1, .resolve_ms = 10 * kStepMs};
  o.calibration.long_window = 2000;
  o.calibration.log_threshold = scoring::ThresholdFor(std::chrono::minutes(1), std::chrono::days(100));  // the default budget
  return o;
}

std::string Pod(int i) { return "pod-" + std::to_string(i); }

// A fleet of pods following one daily curve (period 288 slots, x1.5 at its peak), each with its own
// constant offset and noise.
struct Fleet {
  explicit Fleet(int pods) : offset(static_cast<size_t>(pods)) {
    for (int i = 0; i < pods; ++i) offset[static_cast<size_t>(i)] = 0.3 * (i % 5) - 0.6;
    offset[0] = 6;  // pod-0 always runs well above the rest
  }
  std::vector<double> At(int64_t slot) {
    const double level = 100 * (1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(slot) / 288));
    std::vector<double> v;
    for (double o : offset) v.push_back(level + o + noise(rng));
    return v;
  }
  std::vector<double> offset;
  std::mt19937 rng{11};
  std::normal_distribution<double> noise{0, 1};
};

void Feed(PeerGroupDetector& g, int64_t slot, const std::vector<double>& values) {
  for (size_t m = 0; m < values.size(); ++m) {
    if (std::isnan(values[m])) continue;
    SlotZ s{slot, values[m], 0};
    g.Add(Pod(static_cast<int>(m)), std::span(&s, 1));
  }
}

// The fleet's normal behaviour over slots [from, to), each fed and judged.
void RunNormal(PeerGroupDetector& g, Fleet& fleet, int64_t from, int64_t to) {
  for (int64_t slot = from; slot < to; ++slot) {
    Feed(g, slot, fleet.At(slot));
    g.Evaluate(slot);
  }
}

TEST(PeerGroupDetectorTest, FlagsTheDriftingPodOnlyAndNamesIt) {
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g) << g.error().message;
  Fleet fleet(10);
  int64_t slot = 0;
  int flagged_normal = 0;
  for (; slot < 1500; ++slot) {
    Feed(*g, slot, fleet.At(slot));
    const PeerGroupVerdict& v = g->Evaluate(slot);
    if (slot >= 400) {
      EXPECT_EQ(v.state, scoring::SeriesState::kOk) << slot;
    }
    // Counted once the calibrators have more than their first 300 short means (a cold start without the
    // members' stored windows; the daemon seeds them from their history: the next test).
    if (slot < 400) continue;
    for (int m = 0; m < 10; ++m) flagged_normal += g->member(Pod(m))->anomalous;
  }
  EXPECT_EQ(flagged_normal, 0);  // pod-0's offset is its usual place; the daily curve is everyone's
  EXPECT_EQ(g->member(Pod(0))->state, scoring::SeriesState::kOk);
  // pod-7 drifts up, 0.05 a step (the group's spread is about 1), for two hours.
  int64_t since = 0;
  for (int i = 0; i < 120; ++i, ++slot) {
    std::vector<double> v = fleet.At(slot);
    v[7] += 0.05 * i;
    Feed(*g, slot, v);
    g->Evaluate(slot);
    for (int m = 0; m < 10; ++m) {
      if (m != 7) {
        ASSERT_FALSE(g->member(Pod(m))->anomalous) << "pod " << m << " at step " << i;
      }
    }
    if (since == 0 && g->member(Pod(7))->anomalous) since = g->member(Pod(7))->anomalous_since_ms;
  }
  // Flagged during the drift (about 3 spreads out, an hour in); its own calibrator goes on learning a drift
  // that is not flagged yet, so the flag need not last to the end, but it stays the farthest out.
  const PeerVerdict* p7 = g->member(Pod(7));
  EXPECT_GT(p7->zscore, 3);
  EXPECT_GT(since, 1500 * kStepMs);
  ASSERT_FALSE(g->verdict().top.empty());
  EXPECT_EQ(g->verdict().top.front().member, Pod(7));
}

TEST(PeerGroupDetectorTest, AShiftOfTheWholeFleetFlagsNoPod) {
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g);
  Fleet fleet(8);
  RunNormal(*g, fleet, 0, 800);
  int64_t slot = 800;
  for (int i = 0; i < 100; ++i, ++slot) {
    std::vector<double> v = fleet.At(slot);
    for (double& x : v) x = 3 * x + 200;  // a surge every pod takes
    Feed(*g, slot, v);
    g->Evaluate(slot);
    for (int m = 0; m < 8; ++m) ASSERT_FALSE(g->member(Pod(m))->anomalous) << m;
  }
}

TEST(PeerGroupDetectorTest, HistoryFromTheMembersWindowsIsJudgedAtOnce) {
  DetectorOptions d;
  d.store.step = std::chrono::milliseconds(kStepMs);
  d.store.capacity_points = 2000;
  Result<Detector> core = Detector::Create(d);
  ASSERT_TRUE(core);
  Fleet fleet(6);
  std::vector<std::vector<Sample>> history(6);
  for (int64_t s = 1000; s < 2000; ++s) {
    std::vector<double> v = fleet.At(s);
    for (size_t m = 0; m < 6; ++m) history[m].push_back({s * kStepMs, v[m]});
  }
  history[3].back().value += 15;  // pod-3 is far off its peers at the newest slot
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g);
  core->BeginCycle();
  for (size_t m = 0; m < 6; ++m)
    core->Ingest(MakeLabels({{"pod", Pod(static_cast<int>(m))}}), history[m], 1999 * kStepMs);
  for (size_t m = 0; m < 6; ++m) {
    const SeriesEntry* e = core->store().Find(MakeLabels({{"pod", Pod(static_cast<int>(m))}}));
    ASSERT_NE(e, nullptr);
    SlotZ newest{1999, history[m].back().value, 0};
    g->Add(Pod(static_cast<int>(m)), std::span(&newest, 1), e);
  }
  const PeerGroupVerdict& v = g->Evaluate(1999);
  EXPECT_EQ(v.state, scoring::SeriesState::kOk);
  EXPECT_EQ(g->member(Pod(0))->state, scoring::SeriesState::kOk);
  EXPECT_FALSE(g->member(Pod(0))->anomalous);
  EXPECT_TRUE(g->member(Pod(3))->anomalous);
  EXPECT_EQ(v.top.front().member, Pod(3));
}

TEST(PeerGroupDetectorTest, FromTheWindowsAPodIsJudgedBeforeItsOwnSeriesIsScored) {
  // The daemon's feed (AddWindow): the first sight takes the windows as past and judges the newest slot;
  // two pods that start later, with three samples each (too few for any model of their own), are judged
  // against their peers at their first sample: the one at its peers' level is not flagged, the one far off
  // is.
  DetectorOptions d;
  d.store.step = std::chrono::milliseconds(kStepMs);
  d.store.capacity_points = 2000;
  Result<Detector> core = Detector::Create(d);
  ASSERT_TRUE(core);
  Fleet fleet(6);
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g);
  auto labels = [](const std::string& name) { return MakeLabels({{"pod", name}}); };
  auto cycle = [&](int64_t from, int64_t to, const std::vector<std::string>& late) {
    core->BeginCycle();
    std::vector<std::vector<Sample>> samples(6 + late.size());
    for (int64_t s = from; s <= to; ++s) {
      std::vector<double> v = fleet.At(s);
      for (size_t m = 0; m < 6; ++m) samples[m].push_back({s * kStepMs, v[m]});
      for (size_t l = 0; l < late.size(); ++l) {
        if (s >= 2000) samples[6 + l].push_back({s * kStepMs, v[2] + (late[l] == "far" ? 25 : 0.3)});
      }
    }
    for (size_t m = 0; m < 6; ++m) core->Ingest(labels(Pod(static_cast<int>(m))), samples[m], to * kStepMs);
    for (size_t l = 0; l < late.size(); ++l) core->Ingest(labels(late[l]), samples[6 + l], to * kStepMs);
    for (size_t m = 0; m < 6; ++m)
      g->AddWindow(Pod(static_cast<int>(m)), *core->store().Find(labels(Pod(static_cast<int>(m)))));
    for (const std::string& l : late) g->AddWindow(l, *core->store().Find(labels(l)));
    return g->Evaluate(to);
  };
  EXPECT_EQ(cycle(1000, 1999, {}).state, scoring::SeriesState::kOk);
  EXPECT_EQ(g->member(Pod(0))->state, scoring::SeriesState::kOk);
  cycle(2000, 2002, {"near", "far"});
  ASSERT_NE(g->member("near"), nullptr);
  EXPECT_EQ(g->member("near")->state, scoring::SeriesState::kOk);
  EXPECT_FALSE(g->member("near")->anomalous) << g->member("near")->zscore;
  EXPECT_EQ(g->member("far")->state, scoring::SeriesState::kOk);
  EXPECT_TRUE(g->member("far")->anomalous) << g->member("far")->zscore;
  for (int m = 0; m < 6; ++m) {
    EXPECT_FALSE(g->member(Pod(m))->anomalous)
        << m << " z " << g->member(Pod(m))->zscore << " dev " << g->member(Pod(m))->deviation << " score "
        << g->member(Pod(m))->score << " since " << g->member(Pod(m))->anomalous_since_ms / kStepMs;
  }
}

TEST(PeerGroupDetectorTest, ASlotWithTooFewPeersIsInsufficientPeers) {
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options(4));
  ASSERT_TRUE(g);
  Fleet fleet(3);
  for (int64_t slot = 0; slot < 50; ++slot) {
    Feed(*g, slot, fleet.At(slot));
    EXPECT_EQ(g->Evaluate(slot).state, scoring::SeriesState::kInsufficientPeers);
  }
  EXPECT_EQ(g->member(Pod(1))->state, scoring::SeriesState::kInsufficientPeers);
  EXPECT_EQ(g->member(Pod(1))->score, 0);
  EXPECT_EQ(g->verdict().members_present, 3);
}

TEST(PeerGroupDetectorTest, ANewPodIsJudgedAtOnceAndADepartedOneDisturbsNoOne) {
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g);
  Fleet fleet(9);
  int64_t slot = 0;
  std::vector<std::string> first8;
  for (int m = 0; m < 8; ++m) first8.push_back(Pod(m));
  for (; slot < 800; ++slot) {
    std::vector<double> v = fleet.At(slot);
    v[8] = std::nan("");  // pod-8 is not there yet
    Feed(*g, slot, v);
    g->Evaluate(slot);
  }
  // pod-8 starts, already far above its peers: judged against them at its first sample.
  std::vector<double> v = fleet.At(slot);
  v[8] += 20;
  Feed(*g, slot, v);
  g->Evaluate(slot);
  const PeerVerdict* p8 = g->member(Pod(8));
  ASSERT_NE(p8, nullptr);
  EXPECT_EQ(p8->state, scoring::SeriesState::kOk);
  EXPECT_TRUE(p8->anomalous);
  // pod-8 leaves again and pod-2 stops reporting: the rest go on unflagged.
  g->Retain(first8);
  EXPECT_EQ(g->member(Pod(8)), nullptr);
  for (++slot; slot < 900; ++slot) {
    std::vector<double> w = fleet.At(slot);
    w.resize(8);
    w[2] = std::nan("");
    Feed(*g, slot, w);
    EXPECT_EQ(g->Evaluate(slot).state, scoring::SeriesState::kOk);
    for (int m = 0; m < 8; ++m) ASSERT_FALSE(g->member(Pod(m))->anomalous) << m;
  }
  EXPECT_EQ(g->verdict().members_present, 7);
}

// A flagged pod that stops reporting but stays in the answer (its older samples are still in the window)
// must not stay flagged on its last sample: after the store's gap tolerance it is in a gap, unflagged, and
// it is judged again, with no episode left open, when it comes back.
TEST(PeerGroupDetectorTest, APodMissingLongerThanTheGapToleranceIsAGapNotAFlag) {
  PeerOptions o = Options();
  o.max_gap_points = 5;
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(o);
  ASSERT_TRUE(g);
  Fleet fleet(8);
  RunNormal(*g, fleet, 0, 800);
  int64_t slot = 800;
  // pod-3 jumps far from its peers and is flagged.
  for (int i = 0; i < 5; ++i, ++slot) {
    std::vector<double> v = fleet.At(slot);
    v[3] += 40;
    Feed(*g, slot, v);
    g->Evaluate(slot);
  }
  ASSERT_TRUE(g->member(Pod(3))->anomalous);
  // Then it reports nothing: within the tolerance it keeps its verdict, past it the state is gap.
  for (int i = 1; i <= 10; ++i, ++slot) {
    std::vector<double> v = fleet.At(slot);
    v[3] = std::nan("");
    Feed(*g, slot, v);
    g->Evaluate(slot);
    const PeerVerdict* p3 = g->member(Pod(3));
    if (i <= 6) {
      EXPECT_EQ(p3->state, scoring::SeriesState::kOk) << i;
    } else {
      EXPECT_EQ(p3->state, scoring::SeriesState::kGap) << i;
      EXPECT_FALSE(p3->anomalous) << i;
      EXPECT_EQ(p3->score, 0) << i;
    }
    for (int m = 0; m < 8; ++m) {
      if (m != 3) {
        EXPECT_EQ(g->member(Pod(m))->state, scoring::SeriesState::kOk) << m;
      }
    }
  }
  // Back in line with its peers: judged again, not flagged.
  for (int i = 0; i < 5; ++i, ++slot) {
    Feed(*g, slot, fleet.At(slot));
    g->Evaluate(slot);
  }
  EXPECT_EQ(g->member(Pod(3))->state, scoring::SeriesState::kOk);
  EXPECT_FALSE(g->member(Pod(3))->anomalous);
}

TEST(PeerGroupDetectorTest, IdenticalPodsAreNeverOutliers) {
  Result<PeerGroupDetector> g = PeerGroupDetector::Create(Options());
  ASSERT_TRUE(g);
  for (int64_t slot = 0; slot < 600; ++slot) {
    Feed(*g, slot, std::vector<double>(5, 42.0));
    g->Evaluate(slot);
  }
  for (int m = 0; m < 5; ++m) {
    EXPECT_EQ(g->member(Pod(m))->zscore, 0);
    EXPECT_FALSE(g->member(Pod(m))->anomalous);
  }
  EXPECT_TRUE(g->verdict().top.empty());
}

TEST(PeerGroupDetectorTest, RejectsBadOptions) {
  EXPECT_FALSE(PeerGroupDetector::Create(Options(2)));
  PeerOptions o = Options();
  o.step = std::chrono::milliseconds(0);
  EXPECT_FALSE(PeerGroupDetector::Create(o));
  o = Options();
  o.peer.min_own_scale = 0;
  EXPECT_FALSE(PeerGroupDetector::Create(o));
  o = Options();
  o.max_gap_points = -1;
  EXPECT_FALSE(PeerGroupDetector::Create(o));
}

}  // namespace
}  // namespace anomaly::series
