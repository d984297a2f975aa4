// Reads `anomaly_exporter backtest --output` CSV back, for integration tests that judge a backtest by
// which points it flagged. Test-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace anomaly::testing {

struct BacktestRow {
  std::string series;  // as written: quoted, its inner quotes doubled
  int64_t t = 0;       // unix seconds
  bool flag = false;
  std::string state;
};

// series,timestamp,value,expected,lower,upper,zscore,score,flag,state: the series (quoted) may hold
// commas, so the nine other fields are taken from the right. The header line is skipped.
std::vector<BacktestRow> ParseBacktestCsv(const std::string& text);

}  // namespace anomaly::testing
