// The cycles of a wide input (one column per member of a group) as the daemon would have run them: the
// first cycle ingests every row up to the start at once, then one cycle per row; each cycle every column
// goes through the detector core (series::Detector) and each member's evaluation is handed to the caller,
// then the caller judges the group at the cycle's newest row. Shared by the multivariate and the peers
// backtests (group_backtest.h). Private to the backtest stage.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "anomaly/backtest/backtest.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/series/detector.h"

namespace anomaly::backtest {

// A member's (column's) evaluation in a cycle; its entry is the core's, valid during the call.
using WideMemberFn =
    std::function<void(size_t column, const series::SeriesEntry& entry, const series::Evaluation& ev)>;
// After the members of a cycle: `row` its newest row, `slot` that row's grid slot. Rows before it in the
// same cycle (the first cycle's history) are never judged.
using WideCycleFn = std::function<void(size_t row, int64_t slot)>;

// The timestamps in ms, per row. kInvalidInput when the core's options are invalid.
[[nodiscard]] Result<std::vector<int64_t>> RunWideCycles(const WideInput& input, const BacktestParams& params,
                                                         ParallelPool* pool, const ProgressFn& progress,
                                                         const WideMemberFn& member,
                                                         const WideCycleFn& cycle);

}  // namespace anomaly::backtest
