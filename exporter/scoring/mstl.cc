// MSTL as R's forecast::mstl (8.20) computes it (STL.md §3), without its Box-Cox and NA-interpolation
// front ends: callers pass finite values, and Stl refuses anything else.
#include "anomaly/scoring/mstl.h"

#include <algorithm>
#include <string>

namespace anomaly::scoring {

Result<MstlResult> Mstl(std::span<const double> y, const MstlParams& params, StlWorkspace& workspace) {
  const size_t n = y.size();
  if (params.iterations < 1) {
    return MakeError(ErrorCode::kInvalidInput,
                     "iterations: must be >= 1, got " + std::to_string(params.iterations));
  }
  for (int period : params.periods) {
    if (period < 2) {
      return MakeError(ErrorCode::kInvalidInput, "periods: must be >= 2, got " + std::to_string(period));
    }
  }
  MstlResult out;
  // forecast::mstl: keep periods < n / 2 (two full periods and more), ascending.
  for (int period : params.periods) {
    if (2 * static_cast<size_t>(period) < n) out.periods.push_back(period);
  }
  std::sort(out.periods.begin(), out.periods.end());
  out.periods.erase(std::unique(out.periods.begin(), out.periods.end()), out.periods.end());
  if (out.periods.empty()) {
    return MakeError(ErrorCode::kInvalidInput,
                     "periods: none is shorter than half the series (n = " + std::to_string(n) + ")");
  }
  if (params.seasonal_windows.size() > params.periods.size()) {
    return MakeError(ErrorCode::kInvalidInput, "seasonal_windows: more windows than periods");
  }

  std::vector<double> deseasonal(y.begin(), y.end());
  out.seasonal.assign(out.periods.size(), std::vector<double>(n, 0.0));
  const int iterations = out.periods.size() == 1 ? 1 : params.iterations;
  StlParams stl = params.stl;
  stl.periodic = false;
  StlResult fit;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    for (size_t i = 0; i < out.periods.size(); ++i) {
      std::vector<double>& seasonal = out.seasonal[i];
      for (size_t t = 0; t < n; ++t) deseasonal[t] += seasonal[t];
      stl.period = out.periods[i];
      stl.seasonal_window = i < params.seasonal_windows.size() ? params.seasonal_windows[i]
                                                                : 7 + 4 * static_cast<int>(i + 1);
      if (auto s = Stl(deseasonal, stl, workspace, fit); !s) {
        return tl::unexpected(s.error().WithContext("period " + std::to_string(stl.period)));
      }
      seasonal = fit.seasonal;
      for (size_t t = 0; t < n; ++t) deseasonal[t] -= seasonal[t];
    }
  }
  out.trend = std::move(fit.trend);
  out.trend_stl = stl;
  out.remainder.resize(n);
  for (size_t t = 0; t < n; ++t) out.remainder[t] = deseasonal[t] - out.trend[t];
  return out;
}

Result<MstlResult> Mstl(std::span<const double> y, const MstlParams& params) {
  StlWorkspace workspace;
  return Mstl(y, params, workspace);
}

}  // namespace anomaly::scoring
