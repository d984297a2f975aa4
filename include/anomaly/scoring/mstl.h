// MSTL: decomposition with several seasonal periods (Bandara, Hyndman and Bergmeir 2021), computed as
// R's forecast::mstl (8.20) computes it, on top of Stl (stl.h). Pure and thread-compatible.
//
//   MstlParams p{.periods = {60, 1440}};
//   Result<MstlResult> r = Mstl(values, p);  // r->seasonal[1] is the daily component
#pragma once

#include <span>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/scoring/stl.h"

namespace anomaly::scoring {

struct MstlParams {
  std::vector<int> periods = {};           // any order; sorted ascending, and those >= n / 2 dropped
  std::vector<int> seasonal_windows = {};  // per period after sorting; empty = 11, 15, 19, ... (7 + 4 i)
  int iterations = 2;                 // forecast's `iterate`; forced to 1 with a single kept period
  // Every other STL parameter (degrees, trend/low-pass windows, jumps, robust, iterations). Its period,
  // seasonal_window and periodic fields are ignored.
  StlParams stl = {};
};

struct MstlResult {
  std::vector<int> periods = {};                   // the periods kept, ascending
  std::vector<std::vector<double>> seasonal;  // seasonal[i] belongs to periods[i]
  std::vector<double> trend;                  // the trend of the last STL run
  StlParams trend_stl = {};                   // the parameters of that last run
  std::vector<double> remainder;              // y - sum(seasonal) - trend
};

// forecast::mstl: deseas = y; `iterations` times, for each kept period in ascending order, add its seasonal
// back, run STL on deseas with that period and window, take the new seasonal and subtract it.
// kInvalidInput when no period is in [2, n / 2), iterations < 1, a seasonal window is invalid (or more
// windows than periods are given), or any STL parameter or value is invalid (see ResolveStlParams and Stl;
// the message names the period).
[[nodiscard]] Result<MstlResult> Mstl(std::span<const double> y, const MstlParams& params,
                                      StlWorkspace& workspace);
[[nodiscard]] Result<MstlResult> Mstl(std::span<const double> y, const MstlParams& params);

}  // namespace anomaly::scoring
