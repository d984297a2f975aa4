#include "anomaly/scoring/robust_stats.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace anomaly::scoring {
namespace {

// Copies x into scratch, refusing empty input and non-finite values: NaN breaks nth_element's strict
// weak ordering (undefined behaviour), and an infinity makes every derived statistic meaningless.
Status CopyFinite(std::span<const double> x, std::vector<double>& scratch) {
  if (x.empty()) return MakeError(ErrorCode::kInvalidInput, "x: empty input");
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return MakeError(ErrorCode::kInvalidInput,
                       "x[" + std::to_string(i) + "]: value is " + (std::isnan(x[i]) ? "NaN" : "infinite"));
    }
  }
  scratch.assign(x.begin(), x.end());
  return {};
}

// The k-th smallest (0-based) of v, partially reordering v. REQUIRES: k < v.size().
double Select(std::vector<double>& v, size_t k) {
  auto kth = v.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(v.begin(), kth, v.end());
  return *kth;
}

// The median of v (finite, non-empty), reordering v. After nth_element puts the upper middle in place,
// the lower middle is the largest element before it.
double MedianInPlace(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  const double upper = Select(v, mid);
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  const double sum = lower + upper;  // as numpy and R; halves first only where the sum would overflow
  return std::isfinite(sum) ? sum / 2.0 : lower / 2.0 + upper / 2.0;
}

}  // namespace

Result<double> Median(std::span<const double> x, std::vector<double>& scratch) {
  if (auto s = CopyFinite(x, scratch); !s) return tl::unexpected(s.error());
  return MedianInPlace(scratch);
}

Result<double> Mad(std::span<const double> x, std::vector<double>& scratch) {
  if (auto s = CopyFinite(x, scratch); !s) return tl::unexpected(s.error());
  const double center = MedianInPlace(scratch);
  for (size_t i = 0; i < x.size(); ++i) scratch[i] = std::abs(x[i] - center);
  return MedianInPlace(scratch);
}

Result<double> ScaledMad(std::span<const double> x, std::vector<double>& scratch) {
  Result<double> mad = Mad(x, scratch);
  if (!mad) return mad;
  return kMadToSigma * *mad;
}

Result<double> Quantile(std::span<const double> x, double p, std::vector<double>& scratch) {
  if (!(p >= 0.0 && p <= 1.0)) {
    return MakeError(ErrorCode::kInvalidInput, "p: must be in [0, 1], got " + std::to_string(p));
  }
  if (auto s = CopyFinite(x, scratch); !s) return tl::unexpected(s.error());
  const double h = static_cast<double>(x.size() - 1) * p;
  const double lo_index = std::floor(h);
  const auto lo = static_cast<size_t>(lo_index);
  const double lo_value = Select(scratch, lo);
  if (lo + 1 >= scratch.size()) return lo_value;
  // After the selection everything right of `lo` is >= lo_value; the next order statistic is their min.
  const double hi_value = *std::min_element(scratch.begin() + static_cast<std::ptrdiff_t>(lo) + 1, scratch.end());
  return lo_value + (h - lo_index) * (hi_value - lo_value);
}

Result<double> Median(std::span<const double> x) {
  std::vector<double> scratch;
  return Median(x, scratch);
}

Result<double> Mad(std::span<const double> x) {
  std::vector<double> scratch;
  return Mad(x, scratch);
}

Result<double> ScaledMad(std::span<const double> x) {
  std::vector<double> scratch;
  return ScaledMad(x, scratch);
}

Result<double> Quantile(std::span<const double> x, double p) {
  std::vector<double> scratch;
  return Quantile(x, p, scratch);
}

}  // namespace anomaly::scoring
