// BM_Stl: one STL decomposition with R's defaults (seasonal window 7), workspace reused as the exporter
// reuses it. Args: n, period, robust. The series is synthetic (the shape of shared/reference/stl: cycle,
// trend, noise, spikes), or, when ANOMALY_STL_BENCH_DATA names a folder holding stl_n<n>_p<period>.txt
// (one value per line), that file: bench/stl_vs_r.sh uses this to time R's stl() on the same data.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "anomaly/scoring/stl.h"

namespace {

std::vector<double> SyntheticSeries(int n, int period);

std::vector<double> BenchSeries(int n, int period) {
  if (const char* dir = std::getenv("ANOMALY_STL_BENCH_DATA")) {
    std::ifstream in(std::string(dir) + "/stl_n" + std::to_string(n) + "_p" + std::to_string(period) + ".txt");
    std::vector<double> y;
    for (double v; in >> v;) y.push_back(v);
    if (y.size() == static_cast<size_t>(n)) return y;
  }
  return SyntheticSeries(n, period);
}

std::vector<double> SyntheticSeries(int n, int period) {
  std::vector<double> y(static_cast<size_t>(n));
  uint64_t s = static_cast<uint64_t>(n);
  auto uniform = [&s] {  // splitmix64, as the reference series use
    s += 0x9E3779B97F4A7C15ULL;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
  };
  for (int t = 0; t < n; ++t) {
    const double e = (uniform() + uniform() + uniform() + uniform() - 2.0) * std::sqrt(3.0);
    y[static_cast<size_t>(t)] = 50.0 + 0.005 * t + 10.0 * std::sin(2.0 * M_PI * t / period) + e +
                                (t % 397 == 0 ? 30.0 : 0.0);
  }
  return y;
}

void BM_Stl(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int period = static_cast<int>(state.range(1));
  const std::vector<double> y = BenchSeries(n, period);
  const anomaly::scoring::StlParams params{.period = period, .seasonal_window = 7, .robust = state.range(2) != 0};
  anomaly::scoring::StlWorkspace workspace;
  anomaly::scoring::StlResult out;
  for (auto _ : state) {
    if (!anomaly::scoring::Stl(y, params, workspace, out)) {
      state.SkipWithError("stl failed");
      break;
    }
    benchmark::DoNotOptimize(out.trend.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_Stl)
    ->ArgNames({"n", "period", "robust"})
    ->ArgsProduct({{2016}, {288}, {0, 1}})
    ->ArgsProduct({{10080}, {1440}, {0, 1}})
    ->ArgsProduct({{1440}, {60}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
