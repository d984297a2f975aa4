// The backtest of a group of peers (kind: peers): every member goes through the daemon's detector core and
// the group through series::PeerGroupDetector, row by row in time order, as the daemon's cycles would have
// seen them. Pure computation over values in memory; thread-compatible.
//
//   Result<PeerBacktestResult> r = RunPeerBacktest(wide, params, min_group_size, &pool);
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "anomaly/backtest/backtest.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/series/peers.h"

namespace anomaly::backtest {

struct PeerBacktestResult {
  std::vector<std::string> members;    // the columns, in order
  std::vector<int64_t> timestamps_ms;  // one per input row
  // verdicts[member][row]: the member's verdict at the row; scored[member][row]: judged at that row itself
  // (state ok at its slot).
  std::vector<std::vector<series::PeerVerdict>> verdicts;
  std::vector<std::vector<bool>> scored;
  std::vector<std::vector<std::string>> top;  // per row: the group's most outlying members, best first
  int flagged_rows = 0;                       // member rows flagged
  int episodes = 0;                           // member flags that rose
};

// Members are the wide input's columns; `min_group_size` as the config's (>= 3). kInvalidInput on invalid
// params or fewer than three columns.
[[nodiscard]] Result<PeerBacktestResult> RunPeerBacktest(const WideInput& input, const BacktestParams& params,
                                                         int min_group_size, ParallelPool* pool = nullptr,
                                                         const ProgressFn& progress = {});

// `member,timestamp,score,flag,state,top`: one block of rows per member, in column order, each block in
// time order. score empty where the member was not judged at the row, flag 0/1, state its peer state (ok,
// warming_up, insufficient_peers), top the group's most outlying members at the row, best first,
// `;`-separated. `texts`: each row's timestamp as written (else Unix seconds).
void WritePeerCsv(const PeerBacktestResult& result, const std::vector<std::string>& texts, std::ostream& out);

}  // namespace anomaly::backtest
