// Writing a backtest's rows: the full CSV (every verdict field) and NAB's result layout
// (timestamp,value,anomaly_score). Pure formatting; thread-safe.
//
//   WriteCsv(result, input.timestamp_texts, std::cout);
//   WriteNab(result, input.timestamp_texts, std::cout);
#pragma once

#include <chrono>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "anomaly/backtest/backtest.h"

namespace anomaly::backtest {

// Header `timestamp,value,expected,lower,upper,zscore,score,flag,state`, one line per row. expected ..
// score are empty where the row was not scored itself ("no verdict yet" never reads as 0); flag is 0/1;
// state is SeriesStateName, or "repeated" for a repeated timestamp that was not scored. `timestamps`:
// the input's texts, written exactly as read; empty: Unix seconds. `series`, when not empty, is written
// as a first column `series` (Prometheus sources with several series).
void WriteCsv(const BacktestResult& result, std::span<const std::string> timestamps, std::ostream& out,
              const std::string& series = {}, bool header = true);

// The same rows as one JSON object, for the score API (docs/api.md): {"model", "periods" (PeriodsText of
// `step`), "detected_periods" (seasonality auto's choices in order), "fits", "flagged_samples", "episodes",
// "repeated_samples", "out_of_order_samples", "samples": [{"timestamp" (Unix seconds), "value", "expected",
// "lower", "upper", "zscore", "score", "flag", "state"}, ...]}: the CSV's columns and values, null where
// the CSV's cell is empty and for a number JSON cannot hold (NaN, +-Inf).
void WriteJson(const BacktestResult& result, std::chrono::milliseconds step, std::ostream& out);

// Our score mapped into [0, 1]: 1 - 1/(1 + score), increasing, 0.5 at score 1 (the band's edge);
// 0 for a score that is not a positive number, 1 for +Inf.
double NabMap(double score);

// NAB's anomaly_score per row, in [0, 1]: NabMap(verdict.score) on exactly the rows where the daemon's
// anomaly_flag rises (the first flagged sample of an episode, what an alert starts on), 0 on every other
// row, the warm-up (NAB's probation), repeated and out-of-order rows included. No rule of its own: what NAB
// scores is what the daemon would have paged on.
std::vector<double> NabScores(const BacktestResult& result);

// Header `timestamp,value,anomaly_score`, one line per row in input order, timestamps as in WriteCsv.
void WriteNab(const BacktestResult& result, std::span<const std::string> timestamps, std::ostream& out);

// Shortest text that reads back to the same double ("" never: NaN is "NaN").
std::string FormatNumber(double x);

}  // namespace anomaly::backtest
