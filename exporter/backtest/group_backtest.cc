#include "anomaly/backtest/group_backtest.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "anomaly/backtest/output.h"
#include "exporter/backtest/wide_cycles.h"

namespace anomaly::backtest {

Result<GroupBacktestResult> RunGroupBacktest(const WideInput& input, const BacktestParams& params,
                                             ParallelPool* pool, const ProgressFn& progress) {
  const size_t k = input.columns.size();
  if (k < 2) return MakeError(ErrorCode::kInvalidInput, "a group needs at least two series (columns)");
  Result<series::GroupDetector> group =
      series::GroupDetector::Create(series::GroupOptionsFor(params.detector, static_cast<int>(k)));
  if (!group) return tl::unexpected(group.error());

  GroupBacktestResult result;
  result.members = input.columns;
  result.rows.resize(input.timestamps_seconds.size());
  const int64_t step_ms = params.detector.store.step.count();
  bool was_flagged = false;
  Result<std::vector<int64_t>> ts = RunWideCycles(
      input, params, pool, progress,
      [&](size_t column, const series::SeriesEntry& entry, const series::Evaluation& ev) {
        group->Add(static_cast<int>(column), ev.z_scores, &entry);
      },
      [&](size_t newest, int64_t slot) {
        const series::GroupVerdict& v = group->Evaluate(slot);
        GroupRow& row = result.rows[newest];
        row.verdict = v;
        row.scored = v.state == scoring::SeriesState::kOk && v.timestamp_ms == slot * step_ms;
        if (!row.scored) {
          row.verdict.anomalous = false;
          row.verdict.anomalous_since_ms = 0;
        }
        const bool flagged = row.scored && row.verdict.anomalous;
        row.flag_rose = flagged && !was_flagged;
        if (row.scored || v.state != scoring::SeriesState::kOk) was_flagged = flagged;
        if (flagged) ++result.flagged_rows;
        if (row.flag_rose) ++result.episodes;
      });
  if (!ts) return tl::unexpected(ts.error());
  for (size_t r = 0; r < result.rows.size(); ++r) result.rows[r].timestamp_ms = (*ts)[r];
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
