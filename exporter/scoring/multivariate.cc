#include "anomaly/scoring/multivariate.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>

namespace anomaly::scoring {
namespace {

// The standard normal quantiles of 0.975 (the reweighting cut) and 0.5.
constexpr double kZ975 = 1.959963984540054;
// Var(psi(Z)) for Z ~ N(0, 1), psi(z) = sign(z) log(1 + |z|) (numerically, 10^7 draws: 0.3867).
constexpr double kPsiNormalVariance = 0.3867;

// The chi-square(k) quantile at the normal quantile z (Wilson-Hilferty).
double ChiSquareQuantile(int k, double z) {
  const double a = 2.0 / (9.0 * k);
  const double c = 1.0 - a + z * std::sqrt(a);
  return k * std::max(0.0, c * c * c);
}

struct Estimate {
  Eigen::VectorXd center;
  Eigen::MatrixXd precision;
  double shrinkage = 0;
};

// Mean and Ledoit-Wolf shrunk covariance of the selected rows, and its inverse.
Estimate Shrunk(const Eigen::MatrixXd& x, const std::vector<char>& keep) {
  const Eigen::Index k = x.cols();
  Eigen::Index n = 0;
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(k);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    if (!keep[static_cast<size_t>(i)]) continue;
    mean += x.row(i).transpose();
    ++n;
  }
  mean /= static_cast<double>(n);
  Eigen::MatrixXd c(n, k);
  for (Eigen::Index i = 0, j = 0; i < x.rows(); ++i) {
    if (keep[static_cast<size_t>(i)]) c.row(j++) = x.row(i) - mean.transpose();
  }
  const double nd = static_cast<double>(n);
  const double kd = static_cast<double>(k);
  Eigen::MatrixXd s = (c.transpose() * c) / nd;
  const double m = s.trace() / kd;
  const double s_norm2 = s.squaredNorm();
  // The normalised Frobenius norm <A, B> = tr(A B') / k of Ledoit and Wolf.
  const double d2 = (s_norm2 - kd * m * m) / kd;
  double b2 = 0;
  {
    const Eigen::MatrixXd cs = c * s;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double r2 = c.row(i).squaredNorm();
      const double xsx = cs.row(i).dot(c.row(i));
      b2 += (r2 * r2 - 2 * xsx + s_norm2) / kd;
    }
    b2 /= nd * nd;
  }
  Estimate e;
  e.center = mean;
  const double shrink = d2 > 0 && m > 0 ? std::clamp(std::min(b2, d2) / d2, 0.0, 1.0) : 0.0;
  Eigen::MatrixXd sigma = (1 - shrink) * s;  // with m = 0 (no member ever moved): 0, then the floor below
  sigma.diagonal().array() += shrink * m;
  // A member is never taken as more regular than its own model says it is: its z-score is in units of its
  // own forecast error, so psi(z) of a member behaving as modelled has the variance of psi(N(0, 1)). A
  // member that sat still through the window (a constant metric, a quiet error count) would otherwise keep
  // a variance of shrink * m, near 0 with many rows, and its first ordinary wiggle would be a distance of
  // thousands (SMD machine-1-2: the median test row at z 0.06, the 99th percentile at 92).
  sigma.diagonal().array() = sigma.diagonal().array().max(kPsiNormalVariance);
  e.precision = sigma.ldlt().solve(Eigen::MatrixXd::Identity(k, k));
  e.shrinkage = shrink;
  return e;
}

}  // namespace

double SquashZ(double z) {
  if (!std::isfinite(z)) return std::isnan(z) ? 0.0 : std::copysign(std::log1p(1e300), z);
  return std::copysign(std::log1p(std::abs(z)), z);
}

int MinGroupRows(int dims) { return 2 * dims + 2; }

double ChiSquareToNormalZ(double distance2, int dims) {
  const double a = 2.0 / (9.0 * dims);
  return (std::cbrt(std::max(0.0, distance2) / dims) - (1.0 - a)) / std::sqrt(a);
}

Result<GroupFit> FitGroup(std::span<const float> rows, int dims) {
  if (dims < 2) return tl::unexpected(Error{ErrorCode::kInvalidInput, "a group needs at least 2 members"});
  if (rows.size() % static_cast<size_t>(dims) != 0) {
    return tl::unexpected(Error{ErrorCode::kInvalidInput, "group rows: size is not a multiple of the members"});
  }
  const size_t n = rows.size() / static_cast<size_t>(dims);
  if (n < static_cast<size_t>(MinGroupRows(dims))) {
    return tl::unexpected(Error{ErrorCode::kInvalidInput, "group rows: " + std::to_string(n) + " rows, need " +
                                                              std::to_string(MinGroupRows(dims))});
  }
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), dims);
  for (size_t i = 0; i < n; ++i) {
    for (int j = 0; j < dims; ++j) x(static_cast<Eigen::Index>(i), j) = SquashZ(rows[i * dims + j]);
  }
  std::vector<char> keep(n, 1);
  Estimate first = Shrunk(x, keep);

  // Reweighting: drop the rows beyond the chi-square 97.5% quantile once the distances are scaled to have
  // the chi-square median, then estimate again from the rest.
  std::vector<double> d2(n);
  for (size_t i = 0; i < n; ++i) {
    const Eigen::VectorXd c = x.row(static_cast<Eigen::Index>(i)).transpose() - first.center;
    d2[i] = c.dot(first.precision * c);
  }
  std::vector<double> sorted = d2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n / 2), sorted.end());
  const double median = sorted[n / 2];
  const double factor = median > 0 ? ChiSquareQuantile(dims, 0.0) / median : 1.0;
  const double cut = ChiSquareQuantile(dims, kZ975);
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    keep[i] = d2[i] * factor <= cut;
    kept += keep[i];
  }
  Estimate final_estimate = kept >= static_cast<size_t>(MinGroupRows(dims)) ? Shrunk(x, keep) : first;
  if (kept < static_cast<size_t>(MinGroupRows(dims))) kept = n;

  GroupFit fit;
  fit.dims = dims;
  fit.rows = static_cast<int>(kept);
  fit.shrinkage = final_estimate.shrinkage;
  fit.center.assign(final_estimate.center.data(), final_estimate.center.data() + dims);
  fit.precision.resize(static_cast<size_t>(dims) * dims);
  for (int i = 0; i < dims; ++i) {
    for (int j = 0; j < dims; ++j) fit.precision[static_cast<size_t>(i) * dims + j] = final_estimate.precision(i, j);
  }
  return fit;
}

GroupScore ScoreGroup(const GroupFit& fit, std::span<const double> member_z) {
  const int k = fit.dims;
  GroupScore s;
  s.share.assign(static_cast<size_t>(k), 0.0);
  std::vector<double> c(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) c[i] = SquashZ(member_z[i]) - fit.center[i];
  std::vector<double> pc(static_cast<size_t>(k), 0.0);
  for (int i = 0; i < k; ++i) {
    const double* row = &fit.precision[static_cast<size_t>(i) * k];
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += row[j] * c[j];
    pc[i] = sum;
  }
  double d2 = 0;
  for (int i = 0; i < k; ++i) d2 += c[i] * pc[i];
  s.distance2 = std::max(0.0, d2);
  if (d2 > 0) {
    for (int i = 0; i < k; ++i) s.share[i] = c[i] * pc[i] / d2;
  }
  s.z = ChiSquareToNormalZ(s.distance2, k);
  return s;
}

}  // namespace anomaly::scoring
