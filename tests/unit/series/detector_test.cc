#include "anomaly/series/detector.h"

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "anomaly/base/parallel.h"

namespace anomaly::series {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr int64_t kStepMs = 5 * 60'000;
constexpr size_t kSeries = 30;

DetectorOptions Options() {
  DetectorOptions o;
  o.store.step = minutes(5);
  o.store.capacity_points = 7 * 288;
  o.evaluate.refit_interval = hours(1);
  o.auto_seasonality = true;
  return o;
}

// Series i: a daily sine (every third one flat), noise, and from day 5 on a spike every 7 hours + i.
double Value(size_t i, int64_t k, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, 1 + i % 3);
  const double daily = i % 3 == 0 ? 0 : 20 * std::sin(2 * M_PI * static_cast<double>(k) / 288);
  const bool spike = k > 5 * 288 && k % (84 + static_cast<int64_t>(i)) == 0;
  return 100 + static_cast<double>(i) + daily + noise(rng) + (spike ? 25 : 0);
}

struct Seen {
  std::vector<std::pair<std::string, scoring::Verdict>> verdicts;
  std::vector<std::string> periods;  // "labels: periods", in callback order
};

// Runs a detector over kSeries series for six days of history and half a day of cycles, one per step, with
// or without a pool, and records everything it reports.
Seen RunDetector(ParallelPool* pool) {
  Result<Detector> d = Detector::Create(Options());
  EXPECT_TRUE(d.has_value());
  Seen seen;
  d->OnPeriodsChosen([&](const Labels& labels, const std::vector<int>& periods) {
    std::string p = LabelsToString(labels) + ":";
    for (int x : periods) p += " " + std::to_string(x);
    seen.periods.push_back(p);
  });
  std::vector<std::mt19937> rngs;
  for (size_t i = 0; i < kSeries; ++i) rngs.emplace_back(static_cast<unsigned>(i));
  const int64_t t0 = 1'700'000'000'000 / kStepMs * kStepMs;
  auto ingest = [&](int64_t from_k, int64_t to_k) {
    for (size_t i = 0; i < kSeries; ++i) {
      std::vector<Sample> samples;
      for (int64_t k = from_k; k < to_k; ++k) samples.push_back({t0 + k * kStepMs, Value(i, k, rngs[i])});
      d->Ingest(MakeLabels({{"series", std::to_string(i)}}), samples, t0 + (to_k - 1) * kStepMs);
    }
  };
  auto evaluate = [&](int64_t k) {
    d->Evaluate(t0 + k * kStepMs, false,
                [&](const Labels& labels, const SeriesEntry&, const Evaluation& ev) {
                  seen.verdicts.emplace_back(LabelsToString(labels), ev.verdict);
                },
                pool);
  };
  ingest(0, 6 * 288);
  evaluate(6 * 288 - 1);
  for (int64_t k = 6 * 288; k < 6 * 288 + 144; ++k) {
    ingest(k, k + 1);
    evaluate(k);
  }
  return seen;
}

TEST(DetectorTest, APoolGivesTheSameVerdictsInTheSameOrder) {
  const Seen alone = RunDetector(nullptr);
  ParallelPool pool(3);
  const Seen pooled = RunDetector(&pool);
  ASSERT_EQ(alone.verdicts.size(), pooled.verdicts.size());
  ASSERT_EQ(alone.verdicts.size(), kSeries * (144u + 1));
  int flagged = 0;
  for (size_t i = 0; i < alone.verdicts.size(); ++i) {
    const auto& [label_a, a] = alone.verdicts[i];
    const auto& [label_b, b] = pooled.verdicts[i];
    ASSERT_EQ(label_a, label_b) << "report " << i;
    ASSERT_EQ(a.state, b.state) << label_a << " report " << i;
    ASSERT_EQ(a.model, b.model) << label_a << " report " << i;
    ASSERT_EQ(a.timestamp_ms, b.timestamp_ms) << label_a << " report " << i;
    ASSERT_EQ(a.expected, b.expected) << label_a << " report " << i;
    ASSERT_EQ(a.score, b.score) << label_a << " report " << i;
    ASSERT_EQ(a.anomalous, b.anomalous) << label_a << " report " << i;
    flagged += a.anomalous ? 1 : 0;
  }
  EXPECT_GT(flagged, 0) << "the injected spikes should be flagged somewhere, or the comparison says little";
  EXPECT_EQ(alone.periods, pooled.periods);
  EXPECT_GE(alone.periods.size(), kSeries) << "every series' first choice is reported";
}

}  // namespace
}  // namespace anomaly::series
