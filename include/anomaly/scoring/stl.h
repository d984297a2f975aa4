// STL: seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae and Terpenning, 1990), computed
// as R's stats::stl (netlib stl.f) computes it, with one deliberate difference: robustness weights use
// the exact median of |remainder| (R's stlrwt orders its psort indices wrongly for even n; see
// shared/docs/STL.md §0.1). Pure: no I/O, no clock, no globals, no locks. Thread-compatible: use one
// StlWorkspace per thread.
//
//   StlParams p{.period = 288, .seasonal_window = 7, .robust = true};
//   Result<StlResult> r = Stl(values, p);
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::scoring {

// Every parameter of R's stl(). Unset optionals take R's defaults (STL.md §2).
struct StlParams {
  int period = 0;                // np: samples per season, >= 2
  int seasonal_window = 7;       // ns: odd >= 3; ignored when periodic
  bool periodic = false;         // R's s.window = "periodic"
  int seasonal_degree = 0;       // 0 or 1 (R: 0)
  int trend_degree = 1;          // 0 or 1 (R: 1)
  std::optional<int> lowpass_degree = std::nullopt;    // 0 or 1; default = trend_degree (R)
  std::optional<int> trend_window = std::nullopt;      // nt; default nextodd(ceil(1.5 np / (1 - 1.5 / ns)))
  std::optional<int> lowpass_window = std::nullopt;    // nl; default nextodd(np)
  std::optional<int> seasonal_jump = std::nullopt;     // default ceil(ns / 10)
  std::optional<int> trend_jump = std::nullopt;        // default ceil(nt / 10)
  std::optional<int> lowpass_jump = std::nullopt;      // default ceil(nl / 10)
  bool robust = false;
  std::optional<int> inner_iterations = std::nullopt;  // default 1 if robust, else 2
  std::optional<int> outer_iterations = std::nullopt;  // default 15 if robust, else 0
};

// StlParams with every default filled in for a series of length n: what actually runs.
struct StlResolvedParams {
  int period, seasonal_window, trend_window, lowpass_window;
  int seasonal_degree, trend_degree, lowpass_degree;
  int seasonal_jump, trend_jump, lowpass_jump;
  int inner_iterations, outer_iterations;
  bool periodic;
};

struct StlResult {
  std::vector<double> seasonal;
  std::vector<double> trend;
  std::vector<double> remainder;
  std::vector<double> weights;  // robustness weights of the last inner pass (all 1 when not robust)
};

// Fills R's defaults in (STL.md §2): trend = nextodd(ceil(1.5 np / (1 - 1.5 / ns))), lowpass =
// nextodd(np), jumps ceil(window / 10), inner/outer 2/0 (robust: 1/15). Periodic sets ns = 10 n + 1 and
// seasonal degree 0 whatever was given, as stl.R does. kInvalidInput (the message names the parameter)
// when the period is < 2, n < 2 * period or n > 1e8, a window is not odd in [3, 2^30], a degree is not
// 0 or 1, a jump or inner_iterations is < 1, or outer_iterations is < 0.
[[nodiscard]] Result<StlResolvedParams> ResolveStlParams(const StlParams& params, size_t n);

// Reusable scratch memory so that repeated fits allocate nothing once warmed up. One per thread.
class StlWorkspace {
 public:
  StlWorkspace();
  ~StlWorkspace();
  StlWorkspace(StlWorkspace&&) noexcept;
  StlWorkspace& operator=(StlWorkspace&&) noexcept;

  struct Buffers;  // defined in exporter/scoring
  Buffers& buffers() { return *buffers_; }

 private:
  std::unique_ptr<Buffers> buffers_;
};

// Decomposes y: seasonal + trend + remainder == y (remainder computed as y - seasonal - trend). Errors as
// ResolveStlParams, plus kInvalidInput naming the index of the first NaN or infinite value (and, for
// finite input so large that the arithmetic overflows, the index where it did). On error `out` is left
// empty, never partial. `out`'s vectors are resized to y.size() and reuse their capacity; with a warm
// workspace (same n and parameters as a previous call) nothing is allocated. Runs in O(n) per pass with
// R's jumps (about 0.05 ms non-robust and 0.5-0.8 ms robust for n = 2016 on one core).
[[nodiscard]] Status Stl(std::span<const double> y, const StlParams& params, StlWorkspace& workspace,
                         StlResult& out);

// Convenience form that allocates its own workspace and result.
[[nodiscard]] Result<StlResult> Stl(std::span<const double> y, const StlParams& params);

}  // namespace anomaly::scoring
