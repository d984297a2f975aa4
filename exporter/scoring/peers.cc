#include "anomaly/scoring/peers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "anomaly/scoring/robust_stats.h"

namespace anomaly::scoring {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Median and scaled MAD of x (finite, non-empty), by robust_stats.h.
void MedianAndScale(std::span<const double> x, double& median, double& scale) {
  std::vector<double> scratch;
  median = Median(x, scratch).value_or(0);
  scale = ScaledMad(x, scratch).value_or(0);
}

}  // namespace

const char* CheckPeerParams(const PeerParams& p) {
  if (!(p.min_spread_ratio > 0)) return "min_spread_ratio: must be > 0";
  if (!(p.min_spread > 0)) return "min_spread: must be > 0";
  if (!(p.min_own_scale > 0)) return "min_own_scale: must be > 0";
  if (p.spread_window < 1) return "spread_window: must be >= 1";
  return "";
}

double FlooredSpread(double spread, double center, const PeerParams& params) {
  return std::max({spread, params.min_spread_ratio * std::abs(center), params.min_spread});
}

PeerSlot PeerCentre(std::span<const double> values, const PeerParams& params, std::vector<double>& scratch) {
  scratch.clear();
  for (double v : values) {
    if (std::isfinite(v)) scratch.push_back(v);
  }
  PeerSlot slot;
  slot.present = static_cast<int>(scratch.size());
  if (scratch.empty()) {
    slot.center = slot.spread = kNaN;
    return slot;
  }
  MedianAndScale(scratch, slot.center, slot.spread);
  slot.spread = FlooredSpread(slot.spread, slot.center, params);
  return slot;
}

double PooledSpread(std::span<const double> recent, double center, const PeerParams& params,
                    std::vector<double>& scratch) {
  scratch.clear();
  for (double v : recent) {
    if (std::isfinite(v)) scratch.push_back(v);
  }
  if (scratch.empty() || !std::isfinite(center)) return kNaN;
  std::vector<double> work;
  double spread = Median(scratch, work).value_or(0);
  if (std::isfinite(recent.back())) spread = std::max(spread, recent.back());
  return FlooredSpread(spread, center, params);
}

void PeerDeviations(std::span<const double> values, double center, double spread,
                    std::span<double> deviation) {
  for (size_t i = 0; i < values.size() && i < deviation.size(); ++i) {
    deviation[i] = std::isfinite(values[i]) ? (values[i] - center) / spread : kNaN;  // NaN centre stays NaN
  }
}

PeerSlot PeerDeviations(std::span<const double> values, const PeerParams& params, std::span<double> deviation,
                        std::vector<double>& scratch) {
  PeerSlot slot = PeerCentre(values, params, scratch);
  PeerDeviations(values, slot.center, slot.spread, deviation);
  return slot;
}

OwnBaseline FitOwnBaseline(std::span<const double> past, const PeerParams& params,
                           std::vector<double>& scratch) {
  scratch.clear();
  for (double v : past) {
    if (std::isfinite(v)) scratch.push_back(v);
  }
  OwnBaseline b;
  b.count = static_cast<int>(scratch.size());
  if (scratch.empty()) return b;
  MedianAndScale(scratch, b.location, b.scale);
  b.scale = std::max(b.scale, params.min_own_scale);
  return b;
}

double PeerZ(double deviation, const OwnBaseline& baseline) {
  if (!std::isfinite(deviation)) return kNaN;
  return (deviation - baseline.location) / baseline.scale;
}

}  // namespace anomaly::scoring
