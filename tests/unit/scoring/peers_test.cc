#include "anomaly/scoring/peers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "anomaly/scoring/robust_stats.h"

namespace anomaly::scoring {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// n slots of k members following one daily-like curve (level * (1 + 0.5 sin)), each member with its own
// constant offset (member j sits at offset[j] spreads) and a little noise. Row-major: slot * k + member.
std::vector<double> Fleet(int n, int k, const std::vector<double>& offset, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> rows(static_cast<size_t>(n * k));
  for (int t = 0; t < n; ++t) {
    const double level = 100 * (1 + 0.5 * std::sin(2 * M_PI * t / 288.0));
    for (int j = 0; j < k; ++j)
      rows[static_cast<size_t>(t * k + j)] = level + offset[static_cast<size_t>(j)] + noise(rng);
  }
  return rows;
}

// The peer z of every member at every slot (spreads pooled over the window), each member standardised by
// its deviations over the first `fit` slots.
std::vector<double> PeerZs(const std::vector<double>& rows, int k, int fit) {
  const int n = static_cast<int>(rows.size()) / k;
  PeerParams params;
  std::vector<double> scratch, dev(static_cast<size_t>(k)), past(static_cast<size_t>(n * k)), spreads;
  for (int t = 0; t < n; ++t) {
    std::span<const double> row = std::span(rows).subspan(static_cast<size_t>(t * k), static_cast<size_t>(k));
    PeerSlot s = PeerCentre(row, params, scratch);
    spreads.push_back(s.spread);
    const size_t w = std::min<size_t>(spreads.size(), static_cast<size_t>(params.spread_window));
    PeerDeviations(row, s.center, PooledSpread(std::span(spreads).last(w), s.center, params, scratch), dev);
    for (int j = 0; j < k; ++j) past[static_cast<size_t>(j * n + t)] = dev[static_cast<size_t>(j)];
  }
  std::vector<double> z(rows.size());
  for (int j = 0; j < k; ++j) {
    std::span<const double> own = std::span(past).subspan(static_cast<size_t>(j * n), static_cast<size_t>(n));
    OwnBaseline b = FitOwnBaseline(own.first(static_cast<size_t>(fit)), params, scratch);
    for (int t = 0; t < n; ++t) z[static_cast<size_t>(t * k + j)] = PeerZ(own[static_cast<size_t>(t)], b);
  }
  return z;
}

TEST(PeersTest, DeviationsAreFromTheMedianInTheScaledMad) {
  std::vector<double> values{1, 2, 3, 4, 100}, dev(5), scratch;
  PeerSlot s = PeerDeviations(values, PeerParams{}, dev, scratch);
  EXPECT_EQ(s.present, 5);
  EXPECT_DOUBLE_EQ(s.center, 3);
  EXPECT_DOUBLE_EQ(s.spread, 1.4826);  // MAD 1: the outlier does not widen the spread
  EXPECT_DOUBLE_EQ(dev[0], -2 / 1.4826);
  EXPECT_DOUBLE_EQ(dev[4], 97 / 1.4826);
}

TEST(PeersTest, AMemberWithoutASampleEntersNeitherCentreNorSpread) {
  std::vector<double> values{1, kNaN, 3, 5}, dev(4), scratch;
  PeerSlot s = PeerDeviations(values, PeerParams{}, dev, scratch);
  EXPECT_EQ(s.present, 3);
  EXPECT_DOUBLE_EQ(s.center, 3);
  EXPECT_TRUE(std::isnan(dev[1]));
  EXPECT_DOUBLE_EQ(dev[2], 0);
  std::vector<double> none{kNaN, kNaN};
  std::vector<double> dev2(2);
  PeerSlot empty = PeerDeviations(none, PeerParams{}, dev2, scratch);
  EXPECT_EQ(empty.present, 0);
  EXPECT_TRUE(std::isnan(empty.center));
  EXPECT_TRUE(std::isnan(dev2[0]));
}

TEST(PeersTest, IdenticalMembersAreNoDeviationAndTheSpreadIsFloored) {
  std::vector<double> values(8, 250.0), dev(8), scratch;
  PeerSlot s = PeerDeviations(values, PeerParams{}, dev, scratch);
  EXPECT_DOUBLE_EQ(s.spread, 0.25);  // 0.1% of the centre
  for (double d : dev) EXPECT_EQ(d, 0);
  values[3] = 250.0001;  // a rounding difference is far below one spread
  PeerDeviations(values, PeerParams{}, dev, scratch);
  EXPECT_LT(std::abs(dev[3]), 0.001);
  std::vector<double> zeros(5, 0.0), dz(5);
  EXPECT_GT(PeerDeviations(zeros, PeerParams{}, dz, scratch).spread, 0);  // the absolute floor
  EXPECT_EQ(dz[0], 0);
}

TEST(PeersTest, AShiftOfTheWholeGroupIsNoPeerDeviation) {
  // (A shift that raised the spread's floor, 1% of the centre, above the spread would not be invariant.)
  std::vector<double> values{10, 12, 9, 11, 30}, shifted, scaled, dev(5), dev_shifted(5), dev_scaled(5),
      scratch;
  for (double v : values) shifted.push_back(v + 50);
  for (double v : values) scaled.push_back(v * 3);
  PeerDeviations(values, PeerParams{}, dev, scratch);
  PeerDeviations(shifted, PeerParams{}, dev_shifted, scratch);
  PeerDeviations(scaled, PeerParams{}, dev_scaled, scratch);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(dev_shifted[i], dev[i], 1e-9);
    EXPECT_NEAR(dev_scaled[i], dev[i], 1e-9);  // a multiplicative curve (a daily swing) too
  }
}

TEST(PeersTest, AMemberWithAConstantOffsetIsNotAnOutlier) {
  // Member 0 always sits 8 above the rest (several group spreads); it is its usual place.
  std::vector<double> offset{8, 0, 0.5, -0.5, 1, -1, 0.2, -0.2};
  std::vector<double> rows = Fleet(2000, 8, offset, 1);
  std::vector<double> z = PeerZs(rows, 8, 1000);
  // Raw peer z-scores (the calibrator learns their tails): member 0's are as small as anyone's.
  std::vector<double> member0, scratch;
  int beyond4 = 0;
  for (size_t i = 0; i < z.size(); i += 8) {
    member0.push_back(std::abs(z[i]));
    beyond4 += std::abs(z[i]) >= 4;
  }
  EXPECT_LT(Median(member0, scratch).value(), 1);
  // Its deviation is 8 pooled spreads, so the spread's own noise moves it more than a central member's:
  // a heavier tail (0.5% at 4), which its calibrator learns (series/peers_test.cc judges it).
  EXPECT_LE(beyond4, 20);  // of 2000
}

TEST(PeersTest, ADriftingMemberIsFlaggedAndTheOthersAreNot) {
  std::vector<double> offset{0, 0, 0.5, -0.5, 1, -1, 0.2, -0.2};
  std::vector<double> rows = Fleet(2000, 8, offset, 2);
  for (int t = 1500; t < 2000; ++t) rows[static_cast<size_t>(t * 8 + 5)] += 0.02 * (t - 1500);  // up to +10
  std::vector<double> z = PeerZs(rows, 8, 1000);
  int drifted = 0, others = 0;  // slots of the last 100 at |z| >= 4
  for (int t = 1900; t < 2000; ++t) {
    drifted += z[static_cast<size_t>(t * 8 + 5)] >= 4;
    for (int j = 0; j < 8; ++j) {
      if (j != 5) others += std::abs(z[static_cast<size_t>(t * 8 + j)]) >= 4;
    }
  }
  EXPECT_EQ(drifted, 100);
  EXPECT_LE(others, 3);  // of 700
}

TEST(PeersTest, ThePooledSpreadIsTheMedianOfTheRecentSpreadsOrTheNewestIfLarger) {
  std::vector<double> scratch, recent{1.0, 0.1, 1.2, kNaN, 0.9};
  EXPECT_DOUBLE_EQ(PooledSpread(recent, 10, PeerParams{}, scratch), 0.95);
  recent.push_back(3);  // a spread that grows is taken at once
  EXPECT_DOUBLE_EQ(PooledSpread(recent, 10, PeerParams{}, scratch), 3);
  EXPECT_DOUBLE_EQ(PooledSpread(recent, 10000, PeerParams{}, scratch), 10);  // floored at 0.1% of the centre
  std::vector<double> none{kNaN};
  EXPECT_TRUE(std::isnan(PooledSpread(none, 10, PeerParams{}, scratch)));
}

TEST(PeersTest, TheOwnBaselineSkipsNaNsAndFloorsItsScale) {
  std::vector<double> scratch;
  std::vector<double> past{2, 2, kNaN, 2, 2};
  OwnBaseline b = FitOwnBaseline(past, PeerParams{}, scratch);
  EXPECT_EQ(b.count, 4);
  EXPECT_DOUBLE_EQ(b.location, 2);
  EXPECT_DOUBLE_EQ(b.scale, 0.5);
  EXPECT_DOUBLE_EQ(PeerZ(3.5, b), 3);
  EXPECT_TRUE(std::isnan(PeerZ(kNaN, b)));
  std::vector<double> nothing{kNaN};
  OwnBaseline none = FitOwnBaseline(nothing, PeerParams{}, scratch);
  EXPECT_EQ(none.count, 0);
  EXPECT_DOUBLE_EQ(PeerZ(2, none), 2);
}

TEST(PeersTest, ParamsAreChecked) {
  EXPECT_STREQ(CheckPeerParams(PeerParams{}), "");
  EXPECT_STRNE(CheckPeerParams(PeerParams{.min_spread_ratio = 0}), "");
  EXPECT_STRNE(CheckPeerParams(PeerParams{.min_own_scale = -1}), "");
  EXPECT_STRNE(CheckPeerParams(PeerParams{.spread_window = 0}), "");
}

}  // namespace
}  // namespace anomaly::scoring
