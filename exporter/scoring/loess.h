// Private to the scoring stage: the loess smoother of STL, as R's stl.f computes it (Cleveland et al.
// 1990, routines stless and stlest), restructured for speed without changing the result beyond rounding.
//
// Every fit of a smoother depends on the data only through the values and the robustness weights; the
// windows, abscissae and tricube weights depend only on (N, q, degree, jump). A LoessPlan computes them
// once, so the per-pass work is sums and dot products:
//   - unweighted fits are dot products with a precomputed "equivalent kernel" (the Fortran's weights after
//     normalisation and the degree-1 correction), since without robustness weights a fit is linear;
//   - weighted fits use the raw tricube kernel and five running sums (STL.md §1.3).
// All positions are 0-based (the Fortran's position j is our j-1; every quantity used depends only on
// differences of positions, so the shift changes nothing).
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

// Function multiversioning for the hot loops: an x86-64-v3 (AVX2 + FMA) clone chosen at load time where the
// CPU has it, and the baseline x86-64 code otherwise. The build itself never uses -march (the binary must
// run on any x86-64). Results differ between the clones by rounding only (FMA contraction).
// Not under ThreadSanitizer: the clones' ifunc resolver runs during relocation, before the TSan runtime is
// initialised, and GCC instruments it, so every binary died with SIGSEGV at load (found by make test-tsan).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define ANOMALY_SCORING_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ANOMALY_SCORING_MULTIVERSION
#endif

namespace anomaly::scoring::internal {

// Four doubles as one value: AVX2 registers in the x86-64-v3 clones, pairs of SSE2 registers otherwise.
// Explicit vectors where GCC's auto-vectoriser does not manage (reductions, selects). Pass them by
// reference: by value, a 32-byte vector has a different ABI with and without AVX.
using V4 = double __attribute__((vector_size(32)));
using M4 = long long __attribute__((vector_size(32)));  // lane masks of V4 comparisons: -1 or 0
#define ANOMALY_ALWAYS_INLINE [[gnu::always_inline]] inline

ANOMALY_ALWAYS_INLINE void Load(V4& v, const double* p) { std::memcpy(&v, p, sizeof v); }
ANOMALY_ALWAYS_INLINE void Store(double* p, const V4& v) { std::memcpy(p, &v, sizeof v); }
ANOMALY_ALWAYS_INLINE double Total(const V4& s) { return (s[0] + s[1]) + (s[2] + s[3]); }

struct LoessFit {
  int x;           // abscissa: a position 0..N-1, or -1 / N for the subseries extrapolations
  int left;        // window [left, right], inclusive
  int right;
  double h;        // tricube half-width (stlest: max(x-left, right-x), widened when q > N)
  int raw;         // offset in LoessPlan::raw of the tricube weights of the window (cut-offs applied);
                   // -1 when the plan does not store them (computed per fit, see kPlanBudget in loess.cc)
  int equivalent;  // offset in LoessPlan::equivalent; -1 when the unweighted fit fails (all weights 0)
};

// The fits one stless call makes on a series of length N, plus (for the cycle-subseries smoother, stlss)
// the two extrapolations to positions -1 and N.
struct LoessPlan {
  int n = -1, window = -1, degree = -1, jump = -1;
  bool extrapolate = false;
  std::vector<LoessFit> fits;           // the grid fits in increasing x (stless), then the final fit at N-1
  LoessFit before{}, after{};           // extrapolations (only when `extrapolate`)
  std::vector<double> raw;              // kernels, shared by fits with identical geometry
  std::vector<double> equivalent;

  bool Matches(int n_, int window_, int degree_, int jump_, bool extrapolate_) const {
    return n == n_ && window == window_ && degree == degree_ && jump == jump_ && extrapolate == extrapolate_;
  }
};

// Builds the plan of stless(N, q, degree, jump) (and of stlss's extrapolations when `extrapolate`).
// REQUIRES: n >= 1, window >= 1, degree in {0, 1}, jump >= 1.
void BuildLoessPlan(int n, int window, int degree, int jump, bool extrapolate, LoessPlan& plan);

// The sum of squares of the equivalent kernel of stless' fit at the last position N - 1 without robustness
// weights: var(out[N-1]) / var(v) for independent v of equal variance, i.e. how much of the noise the
// smooth's end value carries. 0 when that fit fails. REQUIRES: n >= 1, window >= 1, degree in {0, 1}.
double EndKernelSumOfSquares(int n, int window, int degree);

// stless: out[0..N) = loess smooth of v. `rw` is null for no robustness weights. Where a fit fails (every
// weight 0) the output is v at that position, as in the Fortran.
// `scratch` holds kernels the plan does not store; it grows to at most 4 * window doubles.
void Smooth(const LoessPlan& plan, const double* v, const double* rw, std::vector<double>& scratch,
            double* out);

// stlss for `lanes` cycle-subseries at once (consecutive phases j0..j0+lanes-1 that have the same number of
// cycles N = plan.n). Subseries value m of lane l is d[m * stride + l] (robustness weight rw[m * stride +
// l], rw null for none). Writes the smooth at positions -1..N to c[(p + 1) * stride + l], p = -1..N.
// A failed extrapolation copies its neighbour, as stlss does.
void SmoothSubseries(const LoessPlan& plan, const double* d, const double* rw, std::ptrdiff_t stride,
                     int lanes, std::vector<double>& scratch, double* c);

}  // namespace anomaly::scoring::internal
