// Robust location and scale for the scorer: median, MAD and type-7 quantiles (R's default quantile type,
// numpy's default "linear" method). Each is expected O(n): a selection (std::nth_element) on a copy of the
// input, never a full sort. Pure and thread-compatible; the overloads taking `scratch` reuse the caller's
// buffer and allocate nothing once it has grown to the input's size.
//
//   std::vector<double> scratch;
//   Result<double> m = Median(remainder, scratch);
//   Result<double> z_scale = ScaledMad(remainder, scratch);  // 1.4826 * MAD
#pragma once

#include <span>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::scoring {

// The factor that makes the MAD a consistent estimator of the standard deviation of a normal
// distribution: 1 / Phi^-1(3/4), rounded as R's mad() rounds it.
inline constexpr double kMadToSigma = 1.4826;

// Each function returns kInvalidInput when x is empty or holds a NaN or an infinity (the message names the
// index), and Quantile also when p is outside [0, 1]. The input is never modified.

// The median; for even sizes the mean of the two middle order statistics.
[[nodiscard]] Result<double> Median(std::span<const double> x, std::vector<double>& scratch);
[[nodiscard]] Result<double> Median(std::span<const double> x);

// The median absolute deviation about the median, unscaled: median(|x - median(x)|).
[[nodiscard]] Result<double> Mad(std::span<const double> x, std::vector<double>& scratch);
[[nodiscard]] Result<double> Mad(std::span<const double> x);

// kMadToSigma * Mad(x): R's mad() with its default constant.
[[nodiscard]] Result<double> ScaledMad(std::span<const double> x, std::vector<double>& scratch);
[[nodiscard]] Result<double> ScaledMad(std::span<const double> x);

// Hyndman and Fan (1996) type 7: with h = (n - 1) p, x_(floor h) + (h - floor h) (x_(floor h + 1) -
// x_(floor h)) over the 0-based order statistics. Equals numpy.quantile(x, p) and R's quantile(x, p).
[[nodiscard]] Result<double> Quantile(std::span<const double> x, double p, std::vector<double>& scratch);
[[nodiscard]] Result<double> Quantile(std::span<const double> x, double p);

}  // namespace anomaly::scoring
