// The backtest of a group of series judged together (kind: multivariate): every member goes through the
// daemon's detector core (series::Detector) and the group through series::GroupDetector, row by row in
// time order, exactly as the daemon's cycles would have seen them. Pure computation over values in
// memory; thread-compatible.
//
//   Result<GroupBacktestResult> r = RunGroupBacktest(wide, params, &pool);
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "anomaly/backtest/backtest.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/series/group.h"

namespace anomaly::backtest {

struct GroupRow {
  int64_t timestamp_ms = 0;
  series::GroupVerdict verdict;  // the group's verdict published at this row
  bool scored = false;           // judged at this row itself (state ok at its slot)
  bool flag_rose = false;        // the group's flag rose at this row
};

struct GroupBacktestResult {
  std::vector<std::string> members;  // the columns, in order: GroupVerdict::top names them by index
  std::vector<GroupRow> rows;        // one per input row
  int flagged_rows = 0;
  int episodes = 0;
};

// Members are the wide input's columns (label series="<column>"); params.labels is ignored. `pool` fits
// and scores the members in parallel (the same verdicts as without). kInvalidInput on invalid params or a
// group of fewer than two columns.
[[nodiscard]] Result<GroupBacktestResult> RunGroupBacktest(const WideInput& input, const BacktestParams& params,
                                                           ParallelPool* pool = nullptr,
                                                           const ProgressFn& progress = {});

// `timestamp,score,flag,state,top`, one line per row: score empty where the row was not judged, flag 0/1,
// state the verdict's state, top the leading contributors' column names, best first, `;`-separated.
// `texts`: each row's timestamp as written (else Unix seconds).
void WriteGroupCsv(const GroupBacktestResult& result, const std::vector<std::string>& texts, std::ostream& out);

}  // namespace anomaly::backtest
