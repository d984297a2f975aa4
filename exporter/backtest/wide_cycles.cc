#include "exporter/backtest/wide_cycles.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace anomaly::backtest {
namespace {

constexpr size_t kProgressEvery = 256;

}  // namespace

Result<std::vector<int64_t>> RunWideCycles(const WideInput& input, const BacktestParams& params,
                                           ParallelPool* pool, const ProgressFn& progress,
                                           const WideMemberFn& member, const WideCycleFn& cycle) {
  const size_t k = input.columns.size();
  series::DetectorOptions options = params.detector;
  options.evaluate.report_z_scores = true;
  Result<series::Detector> core = series::Detector::Create(options);
  if (!core) return tl::unexpected(core.error());

  const size_t n = input.timestamps_seconds.size();
  std::vector<Labels> labels(k);
  std::map<Labels, size_t> column_of;
  for (size_t j = 0; j < k; ++j) {
    labels[j] = MakeLabels({{"series", input.columns[j]}});
    column_of[labels[j]] = j;
  }
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i)
    ts[i] = static_cast<int64_t>(std::llround(input.timestamps_seconds[i] * 1000.0));

  const std::chrono::milliseconds step = options.store.step;
  const int64_t first_cycle_ms = n == 0 ? 0 : std::max(ts.front(), params.start_ms.value_or(INT64_MIN));
  std::vector<series::Sample> samples;
  size_t i = 0;
  while (i < n) {
    size_t end = i + 1;
    if (i == 0) {
      while (end < n && ts[end] <= first_cycle_ms) ++end;
    }
    const int64_t now_ms = std::max(ts[end - 1], i == 0 ? first_cycle_ms : INT64_MIN);
    core->BeginCycle();
    for (size_t j = 0; j < k; ++j) {
      samples.clear();
      for (size_t r = i; r < end; ++r) samples.push_back({ts[r], input.values[r * k + j]});
      core->Ingest(labels[j], samples, now_ms, params.condition_times);
    }
    core->Evaluate(
        now_ms, core->InMaintenance(now_ms, params.condition_times),
        [&](const Labels& l, const series::SeriesEntry& entry, const series::Evaluation& ev) {
          auto it = column_of.find(l);
          if (it != column_of.end()) member(it->second, entry, ev);
        },
        pool);
    cycle(end - 1, series::SlotOf(ts[end - 1], step));
    const size_t before = i;
    i = end;
    if (progress && (i / kProgressEvery != before / kProgressEvery || i == n)) progress(i, n);
  }
  return ts;
}

}  // namespace anomaly::backtest
