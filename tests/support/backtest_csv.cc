#include "support/backtest_csv.h"

#include <sstream>

namespace anomaly::testing {

std::vector<BacktestRow> ParseBacktestCsv(const std::string& text) {
  std::vector<BacktestRow> rows;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> right;
    size_t end = line.size();
    for (int k = 0; k < 9; ++k) {
      const size_t comma = line.rfind(',', end - 1);
      right.push_back(line.substr(comma + 1, end - comma - 1));
      end = comma;
    }
    BacktestRow r;
    r.series = line.substr(0, end);
    r.state = right[0];
    r.flag = right[1] == "1";
    r.t = std::stoll(right[8]);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace anomaly::testing
