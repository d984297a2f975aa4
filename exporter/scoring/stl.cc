// STL (Cleveland, Cleveland, McRae and Terpenning 1990, J. Official Statistics 6(1)), computed as R's
// stats::stl computes it: the netlib Fortran stl.f (routines stl, stlstp, stlss, stlfts, stlma, stless,
// stlest, stlrwt) and its R wrapper stl.R. See shared/docs/STL.md for the algorithm step by step.
//
// Deliberate deviation: stlrwt's median of |remainder| is the exact median. R's stlrwt calls psort with
// its two indices in descending order, which returns wrong order statistics in ~5% of calls for even n
// (STL.md §0.1); statsmodels and R with the indices reordered agree with us.
//
// Restructured for speed (STL.md §7), with results equal to the Fortran's up to rounding (~1e-10):
// loess kernels precomputed per smoother (loess.h), the cycle-subseries step run across 8 phases at once,
// no allocation once a workspace is warm.
#include "anomaly/scoring/stl.h"

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "loess.h"

namespace anomaly::scoring {

struct StlWorkspace::Buffers {
  std::vector<double> detrended;  // stlstp work(,1): y - trend, later y - seasonal
  std::vector<double> cycle;      // work(,2): C, the smoothed cycle-subseries, n + 2 np
  std::vector<double> average1;   // stlfts moving averages
  std::vector<double> average2;
  std::vector<double> average3;
  std::vector<double> lowpass;    // L
  std::vector<double> abs_remainder;  // stlrwt scratch for the median
  std::vector<uint64_t> median_keys;
  std::vector<double> kernel_scratch;  // loess kernels the plans do not store
  // Plans for the two subseries lengths (phases with k and k - 1 cycles), the low-pass and the trend.
  internal::LoessPlan seasonal_long, seasonal_short, lowpass_plan, trend_plan;
};

StlWorkspace::StlWorkspace() : buffers_(std::make_unique<Buffers>()) {}
StlWorkspace::~StlWorkspace() = default;
StlWorkspace::StlWorkspace(StlWorkspace&&) noexcept = default;
StlWorkspace& StlWorkspace::operator=(StlWorkspace&&) noexcept = default;

namespace {

// The series length above which the periodic window 10 n + 1 and other window arithmetic could overflow.
constexpr size_t kMaxLength = 100'000'000;
constexpr int kMaxWindow = 1 << 30;

// R's nextodd(): round, then add one if even.
int NextOdd(double x) {
  auto r = static_cast<long long>(std::nearbyint(x));
  if (r % 2 == 0) ++r;
  return static_cast<int>(std::min<long long>(r, kMaxWindow + 1LL));
}

int CeilTenth(int w) { return w / 10 + (w % 10 != 0 ? 1 : 0); }

tl::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

Status CheckWindow(const char* name, int w) {
  if (w < 3 || w % 2 == 0 || w > kMaxWindow) {
    return Invalid(std::string(name) + ": must be an odd integer in [3, " + std::to_string(kMaxWindow) +
                   "], got " + std::to_string(w));
  }
  return {};
}

Status CheckDegree(const char* name, int d) {
  if (d != 0 && d != 1) return Invalid(std::string(name) + ": must be 0 or 1, got " + std::to_string(d));
  return {};
}

Status CheckAtLeast(const char* name, int v, int min) {
  if (v < min) {
    return Invalid(std::string(name) + ": must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  }
  return {};
}

Status CheckFinite(std::span<const double> y) {
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      const char* what = std::isnan(y[i]) ? "NaN" : (y[i] > 0 ? "+Inf" : "-Inf");
      return Invalid("y[" + std::to_string(i) + "]: value is " + what + "; STL needs finite values");
    }
  }
  return {};
}

// stlma: moving average of length w over x[0, len), by running sum, into out[0, len - w + 1). The Fortran's
// running sum is one chain of dependent adds; here eight chains, each restarting from a direct sum, run over
// eight parts of the output so their latencies overlap (same values up to rounding).
void MovingAverage(const double* x, size_t len, int w, double* out) {
  constexpr size_t kChains = 8;
  const size_t width = static_cast<size_t>(w);
  const size_t out_len = len - width + 1;
  // Multiplying by 1/w instead of dividing by w (stlma): 1-ulp differences, and no divider bottleneck.
  const double inv_w = 1.0 / w;
  const size_t chunk = (out_len + kChains - 1) / kChains;
  size_t begin[kChains], end[kChains];
  double v[kChains];
  size_t common = chunk;  // steps every chain still has
  for (size_t c = 0; c < kChains; ++c) {
    begin[c] = std::min(c * chunk, out_len);
    end[c] = std::min(begin[c] + chunk, out_len);
    v[c] = 0.0;
    if (begin[c] < end[c]) {
      for (size_t i = 0; i < width; ++i) v[c] += x[begin[c] + i];
      out[begin[c]] = v[c] * inv_w;
    }
    common = std::min(common, end[c] - begin[c]);
  }
  for (size_t s = 1; s < common; ++s) {
    for (size_t c = 0; c < kChains; ++c) {
      const size_t j = begin[c] + s;
      v[c] = v[c] - x[j - 1] + x[j + width - 1];
      out[j] = v[c] * inv_w;
    }
  }
  for (size_t c = 0; c < kChains; ++c) {
    for (size_t j = begin[c] + std::max<size_t>(common, 1); j < end[c]; ++j) {
      v[c] = v[c] - x[j - 1] + x[j + width - 1];
      out[j] = v[c] * inv_w;
    }
  }
}

// The k-th smallest (0-based) of x, whose values are all >= 0 (+Inf allowed): radix select on the IEEE-754
// bit patterns, which order like the values for non-negative doubles. Each pass counts 11-bit digits
// without data-dependent branches and keeps only the bucket holding rank k; nth_element's partition
// branches mispredict on such data and cost ~4x as much here. `keys` is scratch.
double SelectNonNegative(std::span<const double> x, size_t k, std::vector<uint64_t>& keys) {
  constexpr int kDigitBits = 11;
  std::array<uint32_t, size_t{1} << kDigitBits> histogram;
  size_t count = x.size();
  keys.resize(count);
  std::memcpy(keys.data(), x.data(), count * sizeof(double));
  // Skip the leading bits every key shares (sign and high exponent bits, as a rule): a digit there puts
  // every key in one bucket, and the increments of one counter form a slow store-to-load chain.
  uint64_t any = 0, all = ~uint64_t{0};
  for (size_t i = 0; i < count; ++i) {
    any |= keys[i];
    all &= keys[i];
  }
  if (any == all) return x[0];
  int shift = 64 - std::countl_zero(any ^ all);
  // Radix passes while many keys remain; a selection finishes the last few (a fixed cost per pass, the
  // 2048-bucket clear and scan, would otherwise dominate).
  constexpr size_t kFewKeys = 64;
  while (count > kFewKeys && shift > 0) {
    const int bits = std::min(kDigitBits, shift);
    shift -= bits;
    const uint64_t mask = (uint64_t{1} << bits) - 1;
    histogram.fill(0);
    for (size_t i = 0; i < count; ++i) ++histogram[(keys[i] >> shift) & mask];
    uint64_t bucket = 0;
    while (k >= histogram[bucket]) k -= histogram[bucket++];
    size_t kept = 0;
    for (size_t i = 0; i < count; ++i) {
      keys[kept] = keys[i];
      kept += ((keys[i] >> shift) & mask) == bucket ? 1 : 0;
    }
    count = kept;
  }
  // Unsigned order of the bit patterns is the order of the values; k is now a rank among the survivors.
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(k),
                   keys.begin() + static_cast<std::ptrdiff_t>(count));
  double value;
  std::memcpy(&value, keys.data() + k, sizeof value);
  return value;
}

// stlrwt: bisquare weights of |y - (trend + seasonal)| / (6 * median), with the exact median. With h = 0
// the weights are 1 where the remainder is exactly 0 and 0 elsewhere, as in the Fortran.
ANOMALY_SCORING_MULTIVERSION void RobustnessWeights(std::span<const double> y, const std::vector<double>& seasonal,
                       const std::vector<double>& trend, std::vector<double>& scratch,
                       std::vector<uint64_t>& keys, std::vector<double>& rw) {
  const size_t n = y.size();
  scratch.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double r = std::abs(y[i] - (trend[i] + seasonal[i]));
    scratch[i] = std::isnan(r) ? INFINITY : r;  // NaN (overflow) would break the order
  }
  // The exact median: order statistics n/2 and (n-1)/2 (0-based), equal for odd n.
  const size_t mid = n / 2;
  const double upper = SelectNonNegative(scratch, mid, keys);
  double lower = upper;
  if (n % 2 == 0) {
    // Rank mid-1 is the largest value below `upper` if at least mid values are below it, else a tie.
    using internal::M4;
    using internal::V4;
    const V4 up = V4{} + upper;
    V4 largest = {}, x;
    M4 below = {};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      internal::Load(x, scratch.data() + i);
      const M4 is_below = x < up;
      below -= is_below;  // lanes are -1 where true
      largest = (is_below & (x > largest)) ? x : largest;
    }
    size_t count = static_cast<size_t>(-(below[0] + below[1] + below[2] + below[3]));
    double largest_below = std::max(std::max(largest[0], largest[1]), std::max(largest[2], largest[3]));
    for (; i < n; ++i) {
      if (scratch[i] < upper) {
        ++count;
        largest_below = std::max(largest_below, scratch[i]);
      }
    }
    lower = count >= mid ? largest_below : upper;
  }
  const double cmad = 3.0 * (lower + upper);  // 6 * median
  const double c9 = 0.999 * cmad;
  const double c1 = 0.001 * cmad;
  // Branch-free so it vectorises; with cmad = 0 the quotient is Inf or NaN but never selected.
  using internal::V4;
  const V4 one = V4{} + 1.0, zero = {}, c1v = V4{} + c1, c9v = V4{} + c9, cmadv = V4{} + cmad;
  size_t i = 0;
  for (V4 r; i + 4 <= n; i += 4) {
    internal::Load(r, scratch.data() + i);
    const V4 t = r / cmadv;
    const V4 u = one - t * t;
    const V4 w = r <= c1v ? one : (r <= c9v ? u * u : zero);
    internal::Store(rw.data() + i, w);
  }
  for (; i < n; ++i) {
    const double r = scratch[i];
    const double t = r / cmad;
    const double u = 1.0 - t * t;
    rw[i] = r <= c1 ? 1.0 : (r <= c9 ? u * u : 0.0);
  }
}

void EnsurePlan(internal::LoessPlan& plan, int n, int window, int degree, int jump, bool extrapolate) {
  if (!plan.Matches(n, window, degree, jump, extrapolate)) {
    internal::BuildLoessPlan(n, window, degree, jump, extrapolate, plan);
  }
}

// stlstp: `inner` passes of the inner loop, updating seasonal and trend in place.
void InnerLoop(std::span<const double> y, const StlResolvedParams& p, const double* rw,
               StlWorkspace::Buffers& b, std::vector<double>& seasonal, std::vector<double>& trend) {
  const size_t n = y.size();
  const int np = p.period;
  const size_t cycle_len = n + 2 * static_cast<size_t>(np);
  // Phases 0..long_phases-1 have one cycle more than the others.
  const int long_phases = static_cast<int>((n - 1) % static_cast<size_t>(np)) + 1;
  for (int pass = 0; pass < p.inner_iterations; ++pass) {
    for (size_t i = 0; i < n; ++i) b.detrended[i] = y[i] - trend[i];
    // stlss: cycle-subseries smoothing, across phases.
    internal::SmoothSubseries(b.seasonal_long, b.detrended.data(), rw, np, long_phases, b.kernel_scratch,
                              b.cycle.data());
    if (long_phases < np) {
      internal::SmoothSubseries(b.seasonal_short, b.detrended.data() + long_phases,
                                rw == nullptr ? nullptr : rw + long_phases, np, np - long_phases,
                                b.kernel_scratch, b.cycle.data() + long_phases);
    }
    // stlfts + stless: low-pass of C, never robustness-weighted.
    MovingAverage(b.cycle.data(), cycle_len, np, b.average1.data());
    MovingAverage(b.average1.data(), n + np + 1, np, b.average2.data());
    MovingAverage(b.average2.data(), n + 2, 3, b.average3.data());
    internal::Smooth(b.lowpass_plan, b.average3.data(), nullptr, b.kernel_scratch, b.lowpass.data());
    for (size_t i = 0; i < n; ++i) {
      seasonal[i] = b.cycle[static_cast<size_t>(np) + i] - b.lowpass[i];
      b.detrended[i] = y[i] - seasonal[i];
    }
    internal::Smooth(b.trend_plan, b.detrended.data(), rw, b.kernel_scratch, trend.data());
  }
}

}  // namespace

Result<StlResolvedParams> ResolveStlParams(const StlParams& params, size_t n) {
  StlResolvedParams r{};
  if (auto s = CheckAtLeast("period", params.period, 2); !s) return tl::unexpected(s.error());
  if (n > kMaxLength) {
    return Invalid("series: at most " + std::to_string(kMaxLength) + " values, got " + std::to_string(n));
  }
  if (n < 2 * static_cast<size_t>(params.period)) {
    return Invalid("series: needs at least two full periods (" + std::to_string(2 * params.period) +
                   " values for period " + std::to_string(params.period) + "), got " + std::to_string(n));
  }
  r.period = params.period;
  r.periodic = params.periodic;
  if (params.periodic) {
    // stl.R: s.window = 10 n + 1, s.degree = 0.
    r.seasonal_window = static_cast<int>(10 * n + 1);
    r.seasonal_degree = 0;
  } else {
    if (auto s = CheckWindow("seasonal_window", params.seasonal_window); !s) return tl::unexpected(s.error());
    if (auto s = CheckDegree("seasonal_degree", params.seasonal_degree); !s) return tl::unexpected(s.error());
    r.seasonal_window = params.seasonal_window;
    r.seasonal_degree = params.seasonal_degree;
  }
  if (auto s = CheckDegree("trend_degree", params.trend_degree); !s) return tl::unexpected(s.error());
  r.trend_degree = params.trend_degree;
  r.lowpass_degree = params.lowpass_degree.value_or(r.trend_degree);
  if (auto s = CheckDegree("lowpass_degree", r.lowpass_degree); !s) return tl::unexpected(s.error());
  r.trend_window = params.trend_window.value_or(
      NextOdd(std::ceil(1.5 * r.period / (1.0 - 1.5 / static_cast<double>(r.seasonal_window)))));
  if (auto s = CheckWindow("trend_window", r.trend_window); !s) return tl::unexpected(s.error());
  r.lowpass_window = params.lowpass_window.value_or(NextOdd(r.period));
  if (auto s = CheckWindow("lowpass_window", r.lowpass_window); !s) return tl::unexpected(s.error());
  r.seasonal_jump = params.seasonal_jump.value_or(CeilTenth(r.seasonal_window));
  r.trend_jump = params.trend_jump.value_or(CeilTenth(r.trend_window));
  r.lowpass_jump = params.lowpass_jump.value_or(CeilTenth(r.lowpass_window));
  if (auto s = CheckAtLeast("seasonal_jump", r.seasonal_jump, 1); !s) return tl::unexpected(s.error());
  if (auto s = CheckAtLeast("trend_jump", r.trend_jump, 1); !s) return tl::unexpected(s.error());
  if (auto s = CheckAtLeast("lowpass_jump", r.lowpass_jump, 1); !s) return tl::unexpected(s.error());
  r.inner_iterations = params.inner_iterations.value_or(params.robust ? 1 : 2);
  r.outer_iterations = params.outer_iterations.value_or(params.robust ? 15 : 0);
  if (auto s = CheckAtLeast("inner_iterations", r.inner_iterations, 1); !s) return tl::unexpected(s.error());
  if (auto s = CheckAtLeast("outer_iterations", r.outer_iterations, 0); !s) return tl::unexpected(s.error());
  return r;
}

Status Stl(std::span<const double> y, const StlParams& params, StlWorkspace& workspace, StlResult& out) {
  out.seasonal.clear();
  out.trend.clear();
  out.remainder.clear();
  out.weights.clear();
  Result<StlResolvedParams> resolved = ResolveStlParams(params, y.size());
  if (!resolved) return tl::unexpected(resolved.error());
  if (auto s = CheckFinite(y); !s) return s;
  const StlResolvedParams& p = *resolved;
  const size_t n = y.size();
  const int np = p.period;

  StlWorkspace::Buffers& b = workspace.buffers();
  b.detrended.resize(n);
  b.cycle.resize(n + 2 * static_cast<size_t>(np));
  b.average1.resize(n + static_cast<size_t>(np) + 1);
  b.average2.resize(n + 2);
  b.average3.resize(n);
  b.lowpass.resize(n);
  const int k_long = static_cast<int>((n - 1) / static_cast<size_t>(np)) + 1;
  EnsurePlan(b.seasonal_long, k_long, p.seasonal_window, p.seasonal_degree, p.seasonal_jump, true);
  EnsurePlan(b.seasonal_short, k_long - 1, p.seasonal_window, p.seasonal_degree, p.seasonal_jump, true);
  EnsurePlan(b.lowpass_plan, static_cast<int>(n), p.lowpass_window, p.lowpass_degree, p.lowpass_jump, false);
  EnsurePlan(b.trend_plan, static_cast<int>(n), p.trend_window, p.trend_degree, p.trend_jump, false);

  // stl: trend starts at 0, no robustness weights in the first outer pass.
  std::vector<double>& seasonal = out.seasonal;
  std::vector<double>& trend = out.trend;
  std::vector<double>& weights = out.weights;
  seasonal.assign(n, 0.0);
  trend.assign(n, 0.0);
  weights.assign(n, 1.0);
  for (int outer = 0; outer <= p.outer_iterations; ++outer) {
    InnerLoop(y, p, outer == 0 ? nullptr : weights.data(), b, seasonal, trend);
    if (outer < p.outer_iterations) RobustnessWeights(y, seasonal, trend, b.abs_remainder, b.median_keys, weights);
  }

  if (p.periodic) {
    // stl.R: seasonal <- tapply(seasonal, cycle(x), mean)[cycle(x)].
    for (int j = 0; j < np; ++j) {
      double sum = 0.0;
      size_t count = 0;
      for (size_t i = static_cast<size_t>(j); i < n; i += static_cast<size_t>(np), ++count) sum += seasonal[i];
      const double mean = sum / static_cast<double>(count);
      for (size_t i = static_cast<size_t>(j); i < n; i += static_cast<size_t>(np)) seasonal[i] = mean;
    }
  }
  out.remainder.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.remainder[i] = y[i] - seasonal[i] - trend[i];
    if (!std::isfinite(out.remainder[i])) {
      out.seasonal.clear();
      out.trend.clear();
      out.remainder.clear();
      out.weights.clear();
      return Invalid("y: values too large, the decomposition overflowed at index " + std::to_string(i));
    }
  }
  return {};
}

Result<StlResult> Stl(std::span<const double> y, const StlParams& params) {
  StlWorkspace workspace;
  StlResult result;
  if (auto s = Stl(y, params, workspace, result); !s) return tl::unexpected(s.error());
  return result;
}

}  // namespace anomaly::scoring
