#include "anomaly/backtest/peer_backtest.h"

#include <string>

#include "anomaly/backtest/output.h"
#include "exporter/backtest/wide_cycles.h"

namespace anomaly::backtest {
namespace {

// A column name as a CSV field: quoted ("" for ") where it holds a comma or a quote.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

Result<PeerBacktestResult> RunPeerBacktest(const WideInput& input, const BacktestParams& params,
                                           int min_group_size, ParallelPool* pool,
                                           const ProgressFn& progress) {
  const size_t k = input.columns.size();
  if (k < 3) return MakeError(ErrorCode::kInvalidInput, "peers need at least three series (columns)");
  Result<series::PeerGroupDetector> group =
      series::PeerGroupDetector::Create(series::PeerOptionsFor(params.detector, min_group_size));
  if (!group) return tl::unexpected(group.error());

  PeerBacktestResult result;
  result.members = input.columns;
  const size_t n = input.timestamps_seconds.size();
  result.verdicts.assign(k, std::vector<series::PeerVerdict>(n));
  result.scored.assign(k, std::vector<bool>(n, false));
  result.top.resize(n);
  std::vector<bool> was_flagged(k, false);
  const int64_t step_ms = params.detector.store.step.count();
  Result<std::vector<int64_t>> ts = RunWideCycles(
      input, params, pool, progress,
      [&](size_t column, const series::SeriesEntry& entry, const series::Evaluation&) {
        group->AddWindow(input.columns[column], entry);  // as the daemon's runner feeds it
      },
      [&](size_t row, int64_t slot) {
        const series::PeerGroupVerdict& g = group->Evaluate(slot);
        if (g.timestamp_ms == slot * step_ms) {
          for (const series::PeerOutlier& o : g.top) result.top[row].push_back(o.member);
        }
        for (size_t j = 0; j < k; ++j) {
          const series::PeerVerdict* v = group->member(input.columns[j]);
          if (v == nullptr) continue;
          series::PeerVerdict& out = result.verdicts[j][row];
          out = *v;
          const bool scored = v->state == scoring::SeriesState::kOk && v->timestamp_ms == slot * step_ms;
          result.scored[j][row] = scored;
          const bool flagged = scored && v->anomalous;
          if (!scored) out.anomalous = false;
          if (flagged) ++result.flagged_rows;
          if (flagged && !was_flagged[j]) ++result.episodes;
          if (scored || v->state != scoring::SeriesState::kOk) was_flagged[j] = flagged;
        }
      });
  if (!ts) return tl::unexpected(ts.error());
  result.timestamps_ms = std::move(*ts);
  return result;
}

void WritePeerCsv(const PeerBacktestResult& result, const std::vector<std::string>& texts,
                  std::ostream& out) {
  out << "member,timestamp,score,flag,state,top\n";
  for (size_t j = 0; j < result.members.size(); ++j) {
    const std::string member = CsvField(result.members[j]);
    for (size_t i = 0; i < result.timestamps_ms.size(); ++i) {
      const series::PeerVerdict& v = result.verdicts[j][i];
      const bool scored = result.scored[j][i];
      out << member << ',';
      if (i < texts.size()) {
        out << texts[i];
      } else {
        out << FormatNumber(static_cast<double>(result.timestamps_ms[i]) / 1000.0);
      }
      out << ',';
      if (scored) out << FormatNumber(v.score);
      out << ',' << (scored && v.anomalous ? 1 : 0) << ','
          << scoring::SeriesStateName(scored ? scoring::SeriesState::kOk : v.state) << ',';
      for (size_t t = 0; scored && t < result.top[i].size(); ++t) out << (t ? ";" : "") << result.top[i][t];
      out << '\n';
    }
  }
}

}  // namespace anomaly::backtest
