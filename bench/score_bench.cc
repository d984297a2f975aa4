// The cost of one scored sample (forecast z-score plus calibration) and of one refit, at the sizes the
// daemon sees: 2,016 points (7 days at 5m) and 10,080 (7 days at 1m) with a daily period.
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "anomaly/scoring/likelihood.h"
#include "anomaly/scoring/model.h"
#include "anomaly/scoring/multivariate.h"
#include "anomaly/scoring/scorer.h"
#include "anomaly/scoring/seasonality.h"

namespace {

std::vector<double> Daily(size_t n, int period) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = 100 + 10 * std::sin(2 * M_PI * static_cast<double>(i) / period) + noise(rng);
  }
  return y;
}

void BM_ScoreSample(benchmark::State& state) {
  const int period = static_cast<int>(state.range(1));
  std::vector<double> y = Daily(static_cast<size_t>(state.range(0)), period);
  anomaly::scoring::ModelParams p;
  p.periods = {period};
  anomaly::scoring::ModelWorkspace ws;
  anomaly::scoring::FittedModel m = *anomaly::scoring::FitModel(y, p, ws);
  anomaly::scoring::CalibratorState c;
  for (double z : ws.history_z) anomaly::scoring::Judge(c, z, p.calibration);
  int64_t h = 1;
  for (auto _ : state) {
    anomaly::scoring::PointScore s = anomaly::scoring::ScorePoint(m, y[static_cast<size_t>(h) % y.size()], h);
    anomaly::scoring::Judgement j = anomaly::scoring::Judge(c, s.zscore, p.calibration);
    benchmark::DoNotOptimize(j);
    h = h % 60 + 1;
  }
}
BENCHMARK(BM_ScoreSample)->Args({2016, 288})->Args({10080, 1440});

void BM_Refit(benchmark::State& state) {
  const int period = static_cast<int>(state.range(1));
  std::vector<double> y = Daily(static_cast<size_t>(state.range(0)), period);
  anomaly::scoring::ModelParams p;
  p.periods = {period};
  anomaly::scoring::ModelWorkspace ws;
  for (auto _ : state) benchmark::DoNotOptimize(anomaly::scoring::FitModel(y, p, ws));
}
BENCHMARK(BM_Refit)->Args({2016, 288})->Args({10080, 1440})->Unit(benchmark::kMillisecond);

// seasonality: auto's detection, run at every refit of every series (the daemon's calendar-only options).
void BM_DetectPeriods(benchmark::State& state) {
  const int period = static_cast<int>(state.range(1));
  std::vector<double> y = Daily(static_cast<size_t>(state.range(0)), period);
  anomaly::scoring::SeasonalityOptions o;
  o.calendar_only = true;
  const auto step = std::chrono::milliseconds(86'400'000 / period);
  for (auto _ : state) {
    benchmark::DoNotOptimize(anomaly::scoring::DetectPeriods(y, step, static_cast<int>(y.size() / 2), o));
  }
}
BENCHMARK(BM_DetectPeriods)->Args({2016, 288})->Args({10080, 1440})->Unit(benchmark::kMillisecond);

// A group of k members (kind: multivariate): one refit on 7 days at 1m, and one row scored.
std::vector<float> GroupRows(size_t n, int k) {
  std::mt19937 rng(2);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> rows(n * static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    const float shared = noise(rng);
    for (int j = 0; j < k; ++j) rows[i * k + j] = 0.7f * shared + noise(rng);
  }
  return rows;
}

void BM_GroupRefit(benchmark::State& state) {
  const int k = static_cast<int>(state.range(1));
  std::vector<float> rows = GroupRows(static_cast<size_t>(state.range(0)), k);
  for (auto _ : state) benchmark::DoNotOptimize(anomaly::scoring::FitGroup(rows, k));
}
BENCHMARK(BM_GroupRefit)->Args({10080, 8})->Args({10080, 38})->Unit(benchmark::kMillisecond);

void BM_GroupScore(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  std::vector<float> rows = GroupRows(10080, k);
  anomaly::scoring::GroupFit fit = *anomaly::scoring::FitGroup(rows, k);
  std::vector<double> z(rows.begin(), rows.begin() + k);
  for (auto _ : state) benchmark::DoNotOptimize(anomaly::scoring::ScoreGroup(fit, z));
}
BENCHMARK(BM_GroupScore)->Arg(8)->Arg(38);

}  // namespace
