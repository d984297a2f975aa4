#include "anomaly/backtest/output.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace anomaly::backtest {
namespace {

std::string TimestampText(const BacktestResult& result, std::span<const std::string> timestamps, size_t i) {
  if (i < timestamps.size()) return timestamps[i];
  const int64_t ms = result.rows[i].timestamp_ms;
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  return FormatNumber(static_cast<double>(ms) / 1000.0);
}

}  // namespace

std::string FormatNumber(double x) {
  if (std::isnan(x)) return "NaN";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x);
  if (ec != std::errc()) return std::to_string(x);
  return std::string(buffer, end);
}

void WriteCsv(const BacktestResult& result, std::span<const std::string> timestamps, std::ostream& out,
              const std::string& series, bool header) {
  if (header) {
    if (!series.empty()) out << "series,";
    out << "timestamp,value,expected,lower,upper,zscore,score,flag,state\n";
  }
  std::string quoted;
  if (!series.empty()) {
    quoted = "\"";
    for (char c : series) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\",";
  }
  std::string line;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const ScoredRow& row = result.rows[i];
    const scoring::Verdict& v = row.verdict;
    line = quoted;
    line += TimestampText(result, timestamps, i);
    line += ',';
    line += FormatNumber(row.value);
    if (row.scored) {
      for (double x : {v.expected, v.lower, v.upper, v.zscore, v.score}) {
        line += ',';
        line += FormatNumber(x);
      }
    } else {
      line += ",,,,,";
    }
    line += v.anomalous && row.scored ? ",1," : ",0,";
    switch (row.issue) {
      case RowIssue::kRepeated: line += "repeated"; break;
      case RowIssue::kOutOfOrder: line += "out_of_order"; break;
      case RowIssue::kNone:
        line += scoring::SeriesStateName(row.scored ? scoring::SeriesState::kOk : v.state);
        break;
    }
    line += '\n';
    out << line;
  }
}

double NabMap(double score) {
  if (!(score > 0)) return 0;
  if (std::isinf(score)) return 1;
  return 1.0 - 1.0 / (1.0 + score);
}

std::vector<double> NabScores(const BacktestResult& result) {
  // Exactly the daemon's flag onsets, each valued by its verdict's calibrated score: nothing else.
  std::vector<double> out(result.rows.size(), 0.0);
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const ScoredRow& row = result.rows[i];
    if (row.flag_rose) out[i] = NabMap(row.verdict.score);
  }
  return out;
}

void WriteNab(const BacktestResult& result, std::span<const std::string> timestamps, std::ostream& out) {
  out << "timestamp,value,anomaly_score\n";
  const std::vector<double> scores = NabScores(result);
  std::string line;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    line = TimestampText(result, timestamps, i);
    line += ',';
    line += FormatNumber(result.rows[i].value);
    line += ',';
    line += FormatNumber(scores[i]);
    line += '\n';
    out << line;
  }
}

}  // namespace anomaly::backtest
