#include "anomaly/backtest/group_backtest.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "anomaly/backtest/output.h"
#include "anomaly/series/detector.h"

namespace anomaly::backtest {
namespace {

constexpr size_t kProgressEvery = 256;

}  // namespace

Result<GroupBacktestResult> RunGroupBacktest(const WideInput& input, const BacktestParams& params,
                                             ParallelPool* pool, const ProgressFn& progress) {
  const size_t k = input.columns.size();
  if (k < 2) return MakeError(ErrorCode::kInvalidInput, "a group needs at least two series (columns)");
  series::DetectorOptions options = params.detector;
  options.evaluate.report_z_scores = true;
  Result<series::Detector> core = series::Detector::Create(options);
  if (!core) return tl::unexpected(core.error());
  Result<series::GroupDetector> group = series::GroupDetector::Create(series::GroupOptionsFor(options, static_cast<int>(k)));
  if (!group) return tl::unexpected(group.error());

  GroupBacktestResult result;
  result.members = input.columns;
  const size_t n = input.timestamps_seconds.size();
  result.rows.resize(n);
  std::vector<Labels> labels(k);
  std::map<Labels, int> member_of;
  for (size_t j = 0; j < k; ++j) {
    labels[j] = MakeLabels({{"series", input.columns[j]}});
    member_of[labels[j]] = static_cast<int>(j);
  }
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i) ts[i] = static_cast<int64_t>(std::llround(input.timestamps_seconds[i] * 1000.0));

  const std::chrono::milliseconds step = options.store.step;
  const int64_t first_cycle_ms = n == 0 ? 0 : std::max(ts.front(), params.start_ms.value_or(INT64_MIN));
  std::vector<series::Sample> samples;
  bool was_flagged = false;
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
          auto it = member_of.find(l);
          if (it != member_of.end()) group->Add(it->second, ev.z_scores, &entry);
        },
        pool);
    const int64_t slot = series::SlotOf(ts[end - 1], step);
    const series::GroupVerdict& v = group->Evaluate(slot);

    GroupRow& row = result.rows[end - 1];
    row.timestamp_ms = ts[end - 1];
    row.verdict = v;
    row.scored = v.state == scoring::SeriesState::kOk && v.timestamp_ms == slot * step.count();
    if (!row.scored) {
      row.verdict.anomalous = false;
      row.verdict.anomalous_since_ms = 0;
    }
    const bool flagged = row.scored && row.verdict.anomalous;
    row.flag_rose = flagged && !was_flagged;
    if (row.scored || v.state != scoring::SeriesState::kOk) was_flagged = flagged;
    if (flagged) ++result.flagged_rows;
    if (row.flag_rose) ++result.episodes;
    for (size_t r = i; r + 1 < end; ++r) result.rows[r].timestamp_ms = ts[r];

    const size_t before = i;
    i = end;
    if (progress && (i / kProgressEvery != before / kProgressEvery || i == n)) progress(i, n);
  }
  return result;
}

void WriteGroupCsv(const GroupBacktestResult& result, const std::vector<std::string>& texts, std::ostream& out) {
  out << "timestamp,score,flag,state,top\n";
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const GroupRow& row = result.rows[i];
    if (i < texts.size()) {
      out << texts[i];
    } else {
      out << FormatNumber(static_cast<double>(row.timestamp_ms) / 1000.0);
    }
    out << ',';
    if (row.scored) out << FormatNumber(row.verdict.score);
    out << ',' << (row.scored && row.verdict.anomalous ? 1 : 0) << ','
        << scoring::SeriesStateName(row.scored ? scoring::SeriesState::kOk : row.verdict.state) << ',';
    if (row.scored) {
      for (size_t t = 0; t < row.verdict.top.size(); ++t) {
        out << (t ? ";" : "") << result.members[static_cast<size_t>(row.verdict.top[t].member)];
      }
    }
    out << '\n';
  }
}

}  // namespace anomaly::backtest
