#include "anomaly/backtest/output.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "anomaly/backtest/report.h"

namespace anomaly::backtest {
namespace {

std::string TimestampText(const BacktestResult& result, std::span<const std::string> timestamps, size_t i) {
  if (i < timestamps.size()) return timestamps[i];
  const int64_t ms = result.rows[i].timestamp_ms;
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  return FormatNumber(static_cast<double>(ms) / 1000.0);
}

std::string_view RowState(const ScoredRow& row) {
  switch (row.issue) {
    case RowIssue::kRepeated: return "repeated";
    case RowIssue::kOutOfOrder: return "out_of_order";
    case RowIssue::kNone: break;
  }
  return scoring::SeriesStateName(row.scored ? scoring::SeriesState::kOk : row.verdict.state);
}

// A JSON number, or null where JSON has none (NaN, +-Inf).
std::string JsonNumber(double x) { return std::isfinite(x) ? FormatNumber(x) : "null"; }

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
    line += RowState(row);
    line += '\n';
    out << line;
  }
}

void WriteJson(const BacktestResult& result, std::chrono::milliseconds step, std::ostream& out) {
  // The names are JSON-safe as they are: model and state names, duration texts, fixed keys.
  out << "{\"model\":\"" << scoring::ModelKindName(result.model) << "\",\"periods\":\""
      << PeriodsText(result.periods, step) << "\",\"detected_periods\":[";
  for (size_t k = 0; k < result.detected_periods.size(); ++k) {
    out << (k == 0 ? "\"" : ",\"") << PeriodsText(result.detected_periods[k], step) << '"';
  }
  out << "],\"fits\":" << result.fits << ",\"flagged_samples\":" << result.flagged_rows
      << ",\"episodes\":" << result.episodes << ",\"repeated_samples\":" << result.repeated_rows
      << ",\"out_of_order_samples\":" << result.out_of_order_rows << ",\"samples\":[";
  std::string item;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const ScoredRow& row = result.rows[i];
    const scoring::Verdict& v = row.verdict;
    item = i == 0 ? "{\"timestamp\":" : ",\n{\"timestamp\":";
    item += TimestampText(result, {}, i);
    item += ",\"value\":";
    item += JsonNumber(row.value);
    const char* keys[] = {",\"expected\":", ",\"lower\":", ",\"upper\":", ",\"zscore\":", ",\"score\":"};
    const double fields[] = {v.expected, v.lower, v.upper, v.zscore, v.score};
    for (size_t k = 0; k < 5; ++k) {
      item += keys[k];
      item += row.scored ? JsonNumber(fields[k]) : "null";
    }
    item += v.anomalous && row.scored ? ",\"flag\":1,\"state\":\"" : ",\"flag\":0,\"state\":\"";
    item += RowState(row);
    item += "\"}";
    out << item;
  }
  out << "]}";
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
