#include "anomaly/series/detector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
// With `ahead`, the first cycle runs as the daemon's streamed one: each series is evaluated on another
// thread (PrepareEvaluation, RunPrepared) as soon as it is ingested, while the next ones are ingested.
Seen RunDetector(ParallelPool* pool, bool ahead = false) {
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
  if (ahead) {
    const int64_t now_ms = t0 + (6 * 288 - 1) * kStepMs;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Detector::PreparedEvaluation*> ready;
    bool ingested = false;
    d->ReserveWorkers(1);
    std::thread worker([&] {
      for (;;) {
        Detector::PreparedEvaluation* task = nullptr;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return !ready.empty() || ingested; });
          if (ready.empty()) return;
          task = ready.front();
          ready.pop_front();
        }
        d->RunPrepared(*task, 0);
      }
    });
    for (size_t i = 0; i < kSeries; ++i) {
      std::vector<Sample> samples;
      for (int64_t k = 0; k < 6 * 288; ++k) samples.push_back({t0 + k * kStepMs, Value(i, k, rngs[i])});
      const Labels labels = MakeLabels({{"series", std::to_string(i)}});
      d->Ingest(labels, samples, now_ms);
      Detector::PreparedEvaluation* task = d->PrepareEvaluation(labels, now_ms);
      EXPECT_NE(task, nullptr);
      {
        std::lock_guard<std::mutex> lock(mu);
        ready.push_back(task);
      }
      cv.notify_one();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ingested = true;
    }
    cv.notify_one();
    worker.join();
  } else {
    ingest(0, 6 * 288);
  }
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

// Issue 16: the daemon's first cycle evaluates each series while it ingests the next ones; the verdicts,
// the period choices and their order are those of ingesting everything, then evaluating.
TEST(DetectorTest, EvaluationsRunAheadGiveTheSameVerdicts) {
  const Seen whole = RunDetector(nullptr);
  ParallelPool pool(1);
  const Seen ahead = RunDetector(&pool, /*ahead=*/true);
  ASSERT_EQ(whole.verdicts.size(), ahead.verdicts.size());
  for (size_t i = 0; i < whole.verdicts.size(); ++i) {
    const auto& [label_a, a] = whole.verdicts[i];
    const auto& [label_b, b] = ahead.verdicts[i];
    ASSERT_EQ(label_a, label_b) << "report " << i;
    ASSERT_EQ(a.state, b.state) << label_a << " report " << i;
    ASSERT_EQ(a.expected, b.expected) << label_a << " report " << i;
    ASSERT_EQ(a.score, b.score) << label_a << " report " << i;
    ASSERT_EQ(a.anomalous, b.anomalous) << label_a << " report " << i;
  }
  EXPECT_EQ(whole.periods, ahead.periods);
}

TEST(DetectorTest, ForgetDropsTheSeriesAndWhatWasPreparedForIt) {
  Result<Detector> d = Detector::Create(Options());
  ASSERT_TRUE(d.has_value());
  const Labels labels = MakeLabels({{"series", "x"}});
  const int64_t t0 = 1'700'000'000'000 / kStepMs * kStepMs;
  std::vector<Sample> samples;
  for (int64_t k = 0; k < 600; ++k) samples.push_back({t0 + k * kStepMs, 1.0 + static_cast<double>(k % 7)});
  d->Ingest(labels, samples, t0 + 599 * kStepMs);
  Detector::PreparedEvaluation* task = d->PrepareEvaluation(labels, t0 + 599 * kStepMs);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(d->PrepareEvaluation(MakeLabels({{"series", "absent"}}), t0), nullptr);
  d->ReserveWorkers(1);
  d->RunPrepared(*task, 0);
  d->DropPrepared();
  EXPECT_TRUE(d->Forget(labels));
  EXPECT_EQ(d->store().size(), 0u);
  EXPECT_FALSE(d->Forget(labels));
  int reported = 0;
  d->Evaluate(t0 + 599 * kStepMs, false,
              [&](const Labels&, const SeriesEntry&, const Evaluation&) { ++reported; });
  EXPECT_EQ(reported, 0);
}

}  // namespace
}  // namespace anomaly::series
