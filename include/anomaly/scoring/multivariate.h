// Multivariate scoring of a group of series judged together (the CPU, memory, I/O and latency of one
// instance): each member's deviation is first put on its own scale as a z-score (the series stage passes
// level z-scores: series/group.h), and the vector of the members' z-scores at one time is scored by its
// robust Mahalanobis distance from what the group's history shows, so a combination that is rare is found
// although each member alone is within its band.
// Pure and thread-compatible; a GroupFit is immutable once made and may be shared.
//
// The method, each step measured on the SMD development machines (docs/detection.md):
// - each member's z enters as psi(z) = sign(z) log(1 + |z|), the raw score the per-series calibrator
//   judges (likelihood.h): a member whose own scale is tiny (a metric that was constant) cannot take the
//   whole distance with a z of 10^6, and the covariance of the transformed values is not dominated by a
//   few past spikes;
// - the location and covariance are a one-step reweighted estimate (Rousseeuw and Van Driessen's
//   reweighting step of MCD): a first estimate from every row, then the rows whose distance under it is
//   beyond the chi-square 97.5% quantile (after scaling the distances so that their median is the
//   chi-square median) are dropped and the estimate is made again, so the history's own incidents do not
//   widen what is normal;
// - each covariance is shrunk towards a multiple of the identity by Ledoit and Wolf's optimal intensity
//   ("A well-conditioned estimator for large-dimensional covariance matrices", J. Multivariate Anal.
//   2004), since the number of members can approach the number of rows and constant members have none;
// - the squared distance d2 is turned into the one-sided normal quantile a chi-square with k degrees of
//   freedom gives it (Wilson and Hilferty, 1931), so that the group's calibrator, threshold and episodes
//   are the univariate path's (likelihood.h), unchanged;
// - each member's share of d2 is z_i (Sigma^-1 z)_i / d2 (they sum to 1; a negative share is a member
//   that made the combination more usual): the explanation named in the alert.
//
//   Result<GroupFit> fit = FitGroup(rows, k);                 // rows: n x k member z-scores, row-major
//   GroupScore s = ScoreGroup(*fit, member_z);                // s.z: judged like a forecast z
#pragma once

#include <span>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::scoring {

// psi(z) = sign(z) log(1 + |z|); 0 for a NaN (a member without a score is at its expected value).
double SquashZ(double z);

struct GroupFit {
  int dims = 0;
  int rows = 0;                    // rows the final estimate used
  std::vector<double> center;      // dims, in psi units
  std::vector<double> precision;   // dims x dims, row-major: the shrunk covariance's inverse
  double shrinkage = 0;            // the Ledoit-Wolf intensity of the final estimate, in [0, 1]
};

// The fewest rows a fit takes: a covariance of k members from fewer than 2k + 2 rows is mostly shrinkage.
int MinGroupRows(int dims);

// Fits a group from n rows of k member z-scores (row-major, n * k values; NaN = no score, taken as 0).
// kInvalidInput when k < 2, the size is not a multiple of k, or there are fewer than MinGroupRows(k) rows.
[[nodiscard]] Result<GroupFit> FitGroup(std::span<const float> rows, int dims);

struct GroupScore {
  double distance2 = 0;             // squared robust Mahalanobis distance
  double z = 0;                     // the one-sided normal quantile of distance2 under chi-square(dims)
  std::vector<double> share;        // per member: its share of distance2 (sums to 1; 0s when distance2 is 0)
};

// REQUIRES: member_z.size() == fit.dims.
GroupScore ScoreGroup(const GroupFit& fit, std::span<const double> member_z);

// Wilson-Hilferty: the standard normal quantile of P(chi2_k <= d2). REQUIRES k >= 1, d2 >= 0.
double ChiSquareToNormalZ(double distance2, int dims);

}  // namespace anomaly::scoring
