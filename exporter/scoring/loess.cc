#include "loess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace anomaly::scoring::internal {
namespace {



// The three blocks a kernel occupies in LoessPlan::raw: K, K*d and K*d^2 with d = j - x. Precomputing the
// products turns each weighted-fit element into one multiply and five fused multiply-adds.
constexpr int kRawBlocks = 3;
// Doubles of kernels a plan stores for edge fits before it computes them per fit instead: 256 KiB, or
// 12 windows' worth of kernels (4 arrays each), enough for the ~10 edge fits R's default jumps make.
// With jump 1 a smoother makes ~window edge fits, and those are computed per fit as the Fortran does.
constexpr size_t kPlanBudgetMin = size_t{1} << 15;
constexpr size_t kPlanBudgetWindows = 48;

// stlest's tricube weights over [left, right] around x with half-width h, cut-offs included: 1 within
// 0.001 h, 0 beyond 0.999 h (so the farthest point of a symmetric window gets 0).
void TricubeKernel(int x, int left, int right, double h, double* k, double* kd, double* kd2) {
  const double h9 = 0.999 * h;
  const double h1 = 0.001 * h;
  for (int j = left; j <= right; ++j) {
    const double d = static_cast<double>(j - x);
    const double r = std::abs(d);
    double w = 0.0;
    if (r <= h9) {
      if (r <= h1) {
        w = 1.0;
      } else {
        const double t = r / h;
        const double u = 1.0 - t * t * t;
        w = u * u * u;
      }
    }
    k[j - left] = w;
    kd[j - left] = w * d;
    kd2[j - left] = w * d * d;
  }
}

// The weights stlest ends with when there are no robustness weights: normalised, then (degree 1) multiplied
// by the least-squares correction 1 + b (j - a). Returns false when every weight is 0 (the fit fails).
bool EquivalentKernel(const double* k, int len, int x_offset, double h, int degree, double range,
                      double* e) {
  double a = 0.0;
  for (int m = 0; m < len; ++m) a += k[m];
  if (a <= 0.0) return false;
  for (int m = 0; m < len; ++m) e[m] = k[m] / a;
  if (h > 0.0 && degree > 0) {
    // Positions relative to the window's left end; stlest's a, b and c are invariant under the shift.
    double mean = 0.0;
    for (int m = 0; m < len; ++m) mean += e[m] * m;
    double c = 0.0;
    for (int m = 0; m < len; ++m) c += e[m] * (m - mean) * (m - mean);
    if (std::sqrt(c) > 0.001 * range) {
      const double b = (x_offset - mean) / c;
      for (int m = 0; m < len; ++m) e[m] *= b * (m - mean) + 1.0;
    }
  }
  return true;
}

// The estimate from the five sums of STL.md §1.3, or nullopt-like `ok = false` when the weights sum to 0.
ANOMALY_ALWAYS_INLINE double FinishFit(double s0, double s1, double s2, double sy, double sdy, double h, int degree,
                        double range, bool& ok) {
  ok = s0 > 0.0;
  if (!ok) return 0.0;
  const double inv = 1.0 / s0;  // one division, then products (differs from dividing by rounding only)
  const double ybar = sy * inv;
  if (h > 0.0 && degree > 0) {
    const double abar = s1 * inv;
    const double c = s2 * inv - abar * abar;
    // stlest's sqrt(c) > 0.001 * range, squared so that the vector path can share it (c >= 0 up to
    // rounding; NaN fails both forms).
    const double threshold = 0.001 * range;
    if (c > threshold * threshold) return ybar - (abar / c) * (sdy * inv - abar * ybar);
  }
  return ybar;
}

// The kernels of one fit: from the plan, or computed into `scratch` for fits the plan does not store.
struct Kernel {
  const double* k;
  const double* kd;
  const double* kd2;
  const double* equivalent;  // null when the unweighted fit fails
};

// `need_equivalent` false: a weighted fit, which needs only K, K*d and K*d^2.
Kernel KernelOf(const LoessPlan& plan, const LoessFit& f, std::vector<double>& scratch, bool need_equivalent) {
  const int len = f.right - f.left + 1;
  if (f.raw >= 0) {
    const double* k = plan.raw.data() + f.raw;
    return {k, k + len, k + 2 * len, f.equivalent >= 0 ? plan.equivalent.data() + f.equivalent : nullptr};
  }
  scratch.resize(static_cast<size_t>(kRawBlocks + 1) * len);
  double* k = scratch.data();
  TricubeKernel(f.x, f.left, f.right, f.h, k, k + len, k + 2 * len);
  const bool fits =
      need_equivalent && EquivalentKernel(k, len, f.x - f.left, f.h, plan.degree, plan.n - 1.0, k + 3 * len);
  return {k, k + len, k + 2 * len, fits ? k + 3 * len : nullptr};
}

ANOMALY_ALWAYS_INLINE double FitWeighted(const LoessPlan& plan, const LoessFit& f, const Kernel& kernel, const double* v,
                   const double* rw, bool& ok) {
  const int len = f.right - f.left + 1;
  const double* k = kernel.k;
  const double* kd = kernel.kd;
  const double* kd2 = kernel.kd2;
  const double* y = v + f.left;
  const double* w = rw + f.left;
  // Four lanes of partial sums per quantity: explicit vectors, so the loop vectorises without -ffast-math
  // (the result differs from the Fortran's sequential sums by rounding only).
  // Two sets of accumulators so consecutive iterations do not wait on each other's FMA latency.
  V4 s0 = {}, s1 = {}, s2 = {}, sy = {}, sdy = {};
  V4 t0 = {}, t1 = {}, t2 = {}, ty = {}, tdy = {};
  int m = 0;
  V4 u, ym, km, kdm, kd2m;
  for (; m + 8 <= len; m += 8) {
    Load(u, w + m);
    Load(ym, y + m);
    Load(km, k + m);
    Load(kdm, kd + m);
    Load(kd2m, kd2 + m);
    V4 uy = u * ym;
    s0 += km * u;
    s1 += kdm * u;
    s2 += kd2m * u;
    sy += km * uy;
    sdy += kdm * uy;
    Load(u, w + m + 4);
    Load(ym, y + m + 4);
    Load(km, k + m + 4);
    Load(kdm, kd + m + 4);
    Load(kd2m, kd2 + m + 4);
    uy = u * ym;
    t0 += km * u;
    t1 += kdm * u;
    t2 += kd2m * u;
    ty += km * uy;
    tdy += kdm * uy;
  }
  for (; m + 4 <= len; m += 4) {
    Load(u, w + m);
    Load(ym, y + m);
    Load(km, k + m);
    Load(kdm, kd + m);
    Load(kd2m, kd2 + m);
    const V4 uy = u * ym;
    s0 += km * u;
    s1 += kdm * u;
    s2 += kd2m * u;
    sy += km * uy;
    sdy += kdm * uy;
  }
  s0 += t0;
  s1 += t1;
  s2 += t2;
  sy += ty;
  sdy += tdy;
  for (; m < len; ++m) {
    const double um = w[m];
    const double uy = um * y[m];
    s0[0] += k[m] * um;
    s1[0] += kd[m] * um;
    s2[0] += kd2[m] * um;
    sy[0] += k[m] * uy;
    sdy[0] += kd[m] * uy;
  }
  return FinishFit(Total(s0), Total(s1), Total(s2), Total(sy), Total(sdy), f.h, plan.degree, plan.n - 1.0, ok);
}

ANOMALY_ALWAYS_INLINE double Dot(const double* a, const double* b, int len) {
  V4 s = {}, t = {};
  int m = 0;
  V4 a0, b0, a1, b1;
  for (; m + 8 <= len; m += 8) {
    Load(a0, a + m);
    Load(b0, b + m);
    Load(a1, a + m + 4);
    Load(b1, b + m + 4);
    s += a0 * b0;
    t += a1 * b1;
  }
  for (; m + 4 <= len; m += 4) {
    Load(a0, a + m);
    Load(b0, b + m);
    s += a0 * b0;
  }
  for (; m < len; ++m) s[0] += a[m] * b[m];
  s += t;
  return Total(s);
}

// The estimates of one fit for W subseries lanes (see SmoothSubseries); ok[l] is -1 where the fit
// succeeded and 0 where every weight was 0.
template <int W>
ANOMALY_ALWAYS_INLINE void FitLanes(const LoessPlan& plan, const LoessFit& f, const double* d, const double* rw,
                                    std::ptrdiff_t stride, std::vector<double>& scratch, double* est,
                                    long long* ok) {
  const int len = f.right - f.left + 1;
  const Kernel kernel = KernelOf(plan, f, scratch, rw == nullptr);
  if (rw == nullptr) {
    const bool fits = kernel.equivalent != nullptr;
    double acc[W] = {};
    if (fits) {
      const double* e = kernel.equivalent;
      for (int m = 0; m < len; ++m) {
        const double* dv = d + (f.left + m) * stride;
        for (int l = 0; l < W; ++l) acc[l] += e[m] * dv[l];
      }
    }
    for (int l = 0; l < W; ++l) {
      est[l] = acc[l];
      ok[l] = fits ? -1 : 0;
    }
    return;
  }
  const double* k = kernel.k;
  const double* kd = kernel.kd;
  const double* kd2 = kernel.kd2;
  double s0[W] = {}, s1[W] = {}, s2[W] = {}, sy[W] = {}, sdy[W] = {};
  for (int m = 0; m < len; ++m) {
    const double* dv = d + (f.left + m) * stride;
    const double* wv = rw + (f.left + m) * stride;
    const double km = k[m], kdm = kd[m], kd2m = kd2[m];
    for (int l = 0; l < W; ++l) {
      const double u = wv[l];
      const double uy = u * dv[l];
      s0[l] += km * u;
      s1[l] += kdm * u;
      s2[l] += kd2m * u;
      sy[l] += km * uy;
      sdy[l] += kdm * uy;
    }
  }
  const double range = plan.n - 1.0;
  for (int l = 0; l < W; ++l) {
    bool fit_ok;
    est[l] = FinishFit(s0[l], s1[l], s2[l], sy[l], sdy[l], f.h, plan.degree, range, fit_ok);
    ok[l] = fit_ok ? -1 : 0;
  }
}

// FitLanes for 8 lanes as two explicit vectors: GCC's SLP vectoriser splits the generic form's 40
// accumulators into scalar adds. Same arithmetic as FinishFit, lane by lane.
ANOMALY_ALWAYS_INLINE void FitEightLanes(const LoessPlan& plan, const LoessFit& f, const double* d,
                                         const double* rw, std::ptrdiff_t stride,
                                         std::vector<double>& scratch, double* est, long long* ok) {
  const int len = f.right - f.left + 1;
  const Kernel kernel = KernelOf(plan, f, scratch, rw == nullptr);
  V4 x0, x1;
  if (rw == nullptr) {
    V4 a0 = {}, a1 = {};
    const bool fits = kernel.equivalent != nullptr;
    for (int m = 0; fits && m < len; ++m) {
      const double* dv = d + (f.left + m) * stride;
      const double e = kernel.equivalent[m];
      Load(x0, dv);
      Load(x1, dv + 4);
      a0 += e * x0;
      a1 += e * x1;
    }
    std::memcpy(est, &a0, sizeof a0);
    std::memcpy(est + 4, &a1, sizeof a1);
    for (int l = 0; l < 8; ++l) ok[l] = fits ? -1 : 0;
    return;
  }
  V4 s0[2] = {}, s1[2] = {}, s2[2] = {}, sy[2] = {}, sdy[2] = {};
  V4 w0, w1;
  for (int m = 0; m < len; ++m) {
    const double* dv = d + (f.left + m) * stride;
    const double* wv = rw + (f.left + m) * stride;
    const double km = kernel.k[m], kdm = kernel.kd[m], kd2m = kernel.kd2[m];
    Load(x0, dv);
    Load(x1, dv + 4);
    Load(w0, wv);
    Load(w1, wv + 4);
    const V4 uy0 = w0 * x0, uy1 = w1 * x1;
    s0[0] += km * w0;
    s0[1] += km * w1;
    s1[0] += kdm * w0;
    s1[1] += kdm * w1;
    s2[0] += kd2m * w0;
    s2[1] += kd2m * w1;
    sy[0] += km * uy0;
    sy[1] += km * uy1;
    sdy[0] += kdm * uy0;
    sdy[1] += kdm * uy1;
  }
  const double threshold = 0.001 * (plan.n - 1.0);
  const V4 zero = {};
  const V4 threshold2 = zero + threshold * threshold;
  const bool linear = f.h > 0.0 && plan.degree > 0;
  for (int g = 0; g < 2; ++g) {
    const M4 fit_ok = s0[g] > zero;
    const V4 inv = 1.0 / s0[g];  // Inf/NaN only in lanes that failed, never selected
    const V4 ybar = sy[g] * inv;
    V4 value = ybar;
    if (linear) {
      const V4 abar = s1[g] * inv;
      const V4 c = s2[g] * inv - abar * abar;
      const V4 corrected = ybar - (abar / c) * (sdy[g] * inv - abar * ybar);
      value = c > threshold2 ? corrected : ybar;
    }
    std::memcpy(est + 4 * g, &value, sizeof value);
    std::memcpy(ok + 4 * g, &fit_ok, sizeof fit_ok);
  }
}

template <int W>
ANOMALY_ALWAYS_INLINE void FitBlock(const LoessPlan& plan, const LoessFit& f, const double* d, const double* rw,
                                    std::ptrdiff_t stride, std::vector<double>& scratch, double* est,
                                    long long* ok) {
  if constexpr (W == 8) {
    FitEightLanes(plan, f, d, rw, stride, scratch, est, ok);
  } else {
    FitLanes<W>(plan, f, d, rw, stride, scratch, est, ok);
  }
}

template <int W>
ANOMALY_ALWAYS_INLINE void SmoothSubseriesBlock(const LoessPlan& plan, const double* d, const double* rw, std::ptrdiff_t stride,
                          std::vector<double>& scratch, double* c) {
  const int n = plan.n;
  double est[W];
  long long ok[W];
  // c[(p + 1) * stride + l] holds position p of lane l.
  auto at = [&](int p) { return c + (p + 1) * stride; };
  if (n < 2) {  // stless: a one-point series is its own smooth
    for (int l = 0; l < W; ++l) at(0)[l] = d[l];
  } else {
    int prev = -1;
    for (const LoessFit& f : plan.fits) {
      FitBlock<W>(plan, f, d, rw, stride, scratch, est, ok);
      const double* fallback = d + f.x * stride;
      double* out = at(f.x);
      for (int l = 0; l < W; ++l) out[l] = ok[l] ? est[l] : fallback[l];
      if (prev >= 0 && f.x - prev > 1) {
        const double* a = at(prev);
        const double span = f.x - prev;
        for (int j = prev + 1; j < f.x; ++j) {
          double* o = at(j);
          for (int l = 0; l < W; ++l) o[l] = a[l] + (out[l] - a[l]) / span * (j - prev);
        }
      }
      prev = f.x;
    }
  }
  FitBlock<W>(plan, plan.before, d, rw, stride, scratch, est, ok);
  for (int l = 0; l < W; ++l) at(-1)[l] = ok[l] ? est[l] : at(0)[l];
  FitBlock<W>(plan, plan.after, d, rw, stride, scratch, est, ok);
  for (int l = 0; l < W; ++l) at(n)[l] = ok[l] ? est[l] : at(n - 1)[l];
}

}  // namespace

double EndKernelSumOfSquares(int n, int window, int degree) {
  // The geometry stless gives its last fit (BuildLoessPlan's make_fit at x = N - 1).
  const int x = n - 1;
  const int left = window >= n ? 0 : n - window;
  double h = static_cast<double>(x - left);
  if (window > n) h += (window - n) / 2;  // integer division, as stlest
  const int len = n - left;
  std::vector<double> k(static_cast<size_t>(4 * len));
  TricubeKernel(x, left, x, h, k.data(), k.data() + len, k.data() + 2 * len);
  double* e = k.data() + 3 * len;
  if (!EquivalentKernel(k.data(), len, x - left, h, degree, n - 1.0, e)) return 0.0;
  double sum = 0.0;
  for (int m = 0; m < len; ++m) sum += e[m] * e[m];
  return sum;
}

void BuildLoessPlan(int n, int window, int degree, int jump, bool extrapolate, LoessPlan& plan) {
  plan.n = n;
  plan.window = window;
  plan.degree = degree;
  plan.jump = jump;
  plan.extrapolate = extrapolate;
  plan.fits.clear();
  plan.raw.clear();
  plan.equivalent.clear();
  const double range = n - 1.0;
  LoessFit previous{};
  bool has_previous = false;
  auto make_fit = [&](int x, int left, int right) {
    LoessFit f{x, left, right, static_cast<double>(std::max(x - left, right - x)), 0, -1};
    if (window > n) f.h += (window - n) / 2;  // integer division, as stlest
    const int len = right - left + 1;
    // Interior fits of a sliding window share one geometry: reuse the previous kernel.
    if (has_previous && previous.x - previous.left == x - left &&
        previous.right - previous.left == right - left && previous.h == f.h) {
      f.raw = previous.raw;
      f.equivalent = previous.equivalent;
      return f;
    }
    // Symmetric (interior) geometries are few and always stored. Pinned edge windows differ at every fit
    // when the jump is 1 (nt ~ 2751 of them at period 1440): past the budget they are computed per fit.
    const size_t budget = std::max(kPlanBudgetMin, kPlanBudgetWindows * static_cast<size_t>(len));
    if (x - left != right - x &&
        plan.raw.size() + plan.equivalent.size() + (kRawBlocks + 1) * static_cast<size_t>(len) > budget) {
      f.raw = -1;
      return f;
    }
    f.raw = static_cast<int>(plan.raw.size());
    plan.raw.resize(plan.raw.size() + kRawBlocks * len);
    double* k = plan.raw.data() + f.raw;
    TricubeKernel(x, left, right, f.h, k, k + len, k + 2 * len);
    const int e = static_cast<int>(plan.equivalent.size());
    plan.equivalent.resize(plan.equivalent.size() + len);
    if (EquivalentKernel(k, len, x - left, f.h, degree, range, plan.equivalent.data() + e)) {
      f.equivalent = e;
    } else {
      plan.equivalent.resize(e);
    }
    return f;
  };
  auto add = [&](int x, int left, int right) {
    previous = make_fit(x, left, right);
    has_previous = true;
    plan.fits.push_back(previous);
  };
  plan.fits.reserve(static_cast<size_t>(n / std::max(1, std::min(jump, n - 1))) + 2);
  if (n >= 2) {
    // stless, in 0-based positions.
    const int j = std::min(jump, n - 1);
    const int nsh = (window + 1) / 2;
    int left = 0, right = n - 1;
    if (window >= n) {
      for (int i = 0; i < n; i += j) add(i, 0, n - 1);
    } else if (j == 1) {
      left = 0;
      right = window - 1;
      for (int i = 0; i < n; ++i) {
        if (i + 1 > nsh && right != n - 1) {
          ++left;
          ++right;
        }
        add(i, left, right);
      }
    } else {
      for (int i = 0; i < n; i += j) {
        const int pos = i + 1;  // the Fortran's 1-based position, for its window rules
        if (pos < nsh) {
          left = 0;
          right = window - 1;
        } else if (pos >= n - nsh + 1) {
          left = n - window;
          right = n - 1;
        } else {
          left = pos - nsh;
          right = left + window - 1;
        }
        add(i, left, right);
      }
    }
    // Not on the grid: one more fit at the end, reusing the window of the last grid fit (stless).
    if (j != 1 && ((n - 1) / j) * j != n - 1) add(n - 1, left, right);
  }
  if (extrapolate) {
    has_previous = false;
    plan.before = make_fit(-1, 0, std::min(window, n) - 1);
    plan.after = make_fit(n, std::max(0, n - window), n - 1);
  }
}

ANOMALY_SCORING_MULTIVERSION void Smooth(const LoessPlan& plan, const double* v, const double* rw,
                                         std::vector<double>& scratch, double* out) {
  if (plan.n < 2) {
    out[0] = v[0];
    return;
  }
  int prev = -1;
  for (const LoessFit& f : plan.fits) {
    const Kernel kernel = KernelOf(plan, f, scratch, rw == nullptr);
    double value;
    if (rw != nullptr) {
      bool ok;
      value = FitWeighted(plan, f, kernel, v, rw, ok);
      if (!ok) value = v[f.x];
    } else {
      value = kernel.equivalent != nullptr ? Dot(kernel.equivalent, v + f.left, f.right - f.left + 1) : v[f.x];
    }
    out[f.x] = value;
    // Linear interpolation between consecutive fits (stless, after the grid loop).
    if (prev >= 0 && f.x - prev > 1) {
      const double delta = (value - out[prev]) / (f.x - prev);
      for (int j = prev + 1; j < f.x; ++j) out[j] = out[prev] + delta * (j - prev);
    }
    prev = f.x;
  }
}

ANOMALY_SCORING_MULTIVERSION void SmoothSubseries(const LoessPlan& plan, const double* d, const double* rw,
                                                  std::ptrdiff_t stride, int lanes,
                                                  std::vector<double>& scratch, double* c) {
  constexpr int kLanes = 8;
  int l = 0;
  for (; l + kLanes <= lanes; l += kLanes) {
    SmoothSubseriesBlock<kLanes>(plan, d + l, rw == nullptr ? nullptr : rw + l, stride, scratch, c + l);
  }
  if (l < lanes && lanes >= kLanes) {
    // The last lanes as one block that overlaps the previous one: lanes are independent, so the overlap
    // recomputes identical values.
    l = lanes - kLanes;
    SmoothSubseriesBlock<kLanes>(plan, d + l, rw == nullptr ? nullptr : rw + l, stride, scratch, c + l);
    l = lanes;
  }
  for (; l < lanes; ++l) {
    SmoothSubseriesBlock<1>(plan, d + l, rw == nullptr ? nullptr : rw + l, stride, scratch, c + l);
  }
}

}  // namespace anomaly::scoring::internal
