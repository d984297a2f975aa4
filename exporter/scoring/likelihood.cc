#include "anomaly/scoring/likelihood.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "incomplete_gamma.h"

namespace anomaly::scoring {

namespace {

// Past this many sigmas the tail is off the charts; it also keeps the score finite.
constexpr double kMaxLogTail = 300;
// The spreads and excess means never count as narrower than this (in r = log(1 + |z|), or in |z|): a
// perfectly regular series has short means that barely move, and rounding noise must not read as a tail
// event.
constexpr double kMinSpread = 1e-3;
// The smallest share of peaks the tail is extrapolated from: fewer seen is not "none at all".
constexpr double kMinExceedShare = 1e-3;
// Short means below this (in r) have no shape to speak of: their tail stays normal (ShortMeanTail).
constexpr double kMinGammaMean = 1e-6;
// Samples before the peaks' level counts as settled.
constexpr int64_t kSettleSamples = 50;

// -log10 of the upper normal tail Q(x), accurate far into the tail (erfc underflows past x ~ 38).
double NegLog10Tail(double x) {
  if (x < 30) {
    return std::min(kMaxLogTail, -std::log10(std::max(0.5 * std::erfc(x / std::numbers::sqrt2), 1e-300)));
  }
  // Q(x) ~ phi(x) / x for large x.
  const double ln_q = -0.5 * x * x - std::log(x * std::sqrt(2 * std::numbers::pi));
  return std::min(kMaxLogTail, -ln_q / std::numbers::ln10);
}

// -log10 of the upper regularised incomplete gamma Q(k, y) = Gamma(k, y) / Gamma(k), for y > 0.
double NegLog10GammaQ(double k, double y) {
  if (y <= 0) return 0;
  double ln_q;
  if (y < k + 1) {
    // Q = 1 - P, P by its series.
    const double p = std::exp(k * std::log(y) - y - LogGamma(k + 1) + LogLowerGammaSeries(k, y));
    ln_q = std::log(std::max(1.0 - p, 1e-300));
  } else {
    // Lentz's continued fraction for Gamma(k, y) (Numerical Recipes' gcf).
    double b = y + 1 - k, c = 1e300, d = 1 / b, h = d;
    for (int i = 1; i < 1000; ++i) {
      const double an = -i * (i - k);
      b += 2;
      d = an * d + b;
      if (std::abs(d) < 1e-300) d = 1e-300;
      c = b + an / c;
      if (std::abs(c) < 1e-300) c = 1e-300;
      d = 1 / d;
      const double del = d * c;
      h *= del;
      if (std::abs(del - 1) < 1e-15) break;
    }
    ln_q = -y + k * std::log(y) - LogGamma(k) + std::log(h);
  }
  return std::min(kMaxLogTail, std::max(0.0, -ln_q / std::numbers::ln10));
}

// The x with -log10 Q(x) = target: bisection, monotone in x.
double TailQuantile(double target) {
  double lo = -10, hi = 40;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (NegLog10Tail(mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// The x with -log10 Q(x) = target, cached: it depends on the target only (a bisection).
double NormalQuantile(double target) {
  thread_local double cached_target = -1, cached_quantile = 0;
  if (target != cached_target) {
    cached_quantile = TailQuantile(target);
    cached_target = target;
  }
  return cached_quantile;
}

// The long-window model of the short means: a gamma distribution with their mean and variance (shape
// k = mean^2 / variance, scale theta = variance / mean). A short mean of r = log(1 + |z|) >= 0 is a
// non-negative average, and its distribution is as skewed as the raw scores are: nearly normal for
// Gaussian errors (k ~ 20, where the gamma and the normal tails agree), but for a series whose errors are
// mostly 0 with a few large ones (an error ratio of small counts, a bursty count) it is a sum of a few
// rare events, and the normal tail HTM uses read two of them in ten samples as a 1-in-10^6 event (normal
// traffic: 25 false onsets per 1,000 series-days on error ratios, docs/detection.md section 2). A mean of
// (almost) zero, where the moments say nothing of a shape, keeps the normal, and so does a one-sided
// judgement (ShortMeanTailOf).
struct ShortMeanTail {
  bool gamma = false;
  double mean = 0, spread = 1;  // of the short means
  double k = 0, theta = 0;      // the gamma's shape and scale

  double NegLog10(double m) const {
    if (!gamma) return NegLog10Tail((m - mean) / spread);
    return m > mean ? NegLog10GammaQ(k, m / theta) : 0.0;
  }
  // The short mean whose tail reaches `target` (-log10).
  double Quantile(double target) const {
    if (!gamma) return mean + spread * NormalQuantile(target);
    // Newton's method on -log10 Q(k, y) from the Wilson-Hilferty approximation (within a few per cent
    // for k >= 1): a handful of tail evaluations instead of a bisection's hundred, on every sample.
    const double zq = NormalQuantile(target);
    const double c = 1 - 1 / (9 * k) + zq * std::sqrt(1 / (9 * k));
    double y = c > 0 ? std::max(k * c * c * c, k) : k + zq * std::sqrt(k);
    const double log_gamma_k = LogGamma(k);
    for (int i = 0; i < 20; ++i) {
      const double tail = NegLog10GammaQ(k, y);
      const double f = tail - target;
      if (std::abs(f) < 1e-6 || tail >= kMaxLogTail) break;
      // d/dy -log10 Q = density / (Q ln 10).
      const double slope =
          std::exp((k - 1) * std::log(y) - y - log_gamma_k + tail * std::numbers::ln10) / std::numbers::ln10;
      if (!(slope > 0) || !std::isfinite(slope)) break;
      y = std::max(y - f / slope, 0.5 * y);
    }
    return theta * y;
  }
};

ShortMeanTail ShortMeanTailOf(double mean, double spread, Direction direction) {
  ShortMeanTail t;
  t.mean = mean;
  t.spread = spread;
  // One-sided (direction up or down, and every group: GroupDetector): half the raw scores are exactly 0 by
  // construction, which makes the short means' mean small against their spread without any rare events,
  // and a gamma ties its skewness to that ratio (2 / sqrt(k)): for Gaussian errors judged upwards it is
  // 0.87 where the short means' own is about 0.4, and on SMD's multivariate groups the gamma tail cut
  // event F1 from 0.45 to 0.16 (recall 0.09). There the normal stays.
  if (mean > kMinGammaMean && direction == Direction::kBoth) {
    t.gamma = true;
    t.k = mean * mean / (spread * spread);
    t.theta = spread * spread / mean;
  }
  return t;
}

// The tail of the peaks: P(|z| > x | |z| > u) for x > u, one of two one-parameter models, whichever gives
// the peaks seen the higher likelihood (both have one parameter, so the likelihoods compare as they are):
//  - exponential in |z|, P = exp(-(x - u) / beta), beta the mean excess: the tail of every distribution in
//    the Gumbel domain (Gaussian, log-normal, Poisson), and conservative for the Gaussian itself;
//  - power law, P = ((1 + x) / (1 + u))^(-1 / beta), beta the mean of log((1 + x) / (1 + u)): the tail of a
//    Student t or a Pareto, where an exponential tail would read every third large spike as a 1-in-1000-days
//    event.
// No finite upper end: a generalised Pareto shape below 0, as the moment estimate gives for the excesses of a
// Gaussian tail, puts one at a few sigmas above the largest peak seen, and everything past it scored "certain"
// (normal 1-minute request counts with a slightly noisy daily shape: 33 false onsets per 1,000 series-days,
// each scored at the cap at |z| ~ 5.5). Counts (`lattice`) keep the exponential: the likelihood of a
// continuous density on a handful of distinct peak values is no guide to the tail between them.
//
// The exponential is the generalised Pareto distribution (GPD) of shape 0, and the GPD is what the excesses
// over a high level tend to whatever the distribution (Pickands-Balkema-de Haan; SPOT fits it). Where the
// excesses are more dispersed than an exponential's (variance above the squared mean: peaks of two kinds,
// an error ratio's small daytime steps and its rare large ones at night, when traffic is low), the
// exponential's tail is too light: it called a |z| of 26 a one-in-100-days event on a series whose week
// of history held a 26.8. The exponential branch is therefore the GPD with the method-of-moments shape
// xi = (1 - mean^2 / variance) / 2 and scale mean (1 + mean^2 / variance) / 2, held to xi >= 0 (a negative
// shape has a finite upper end: see above); xi = 0, the exponential itself, when the excesses are no more
// dispersed than that. Counts keep the plain exponential, as they keep it against the power law.
struct PeakTail {
  bool power = false;
  double beta = 1;  // power law: mean log excess; exponential: the scale (the GPD's sigma)
  double xi = 0;    // the GPD shape of the exponential branch, in [0, 0.5)
};

PeakTail FitPeakTail(const CalibratorState& s, double u, bool lattice) {
  const double exp_beta = std::max(s.excess_mean, kMinSpread);
  const double pow_beta = std::max(s.excess_log_mean, kMinSpread);
  // Log-likelihood per peak: exponential -(log beta + 1); power law -(log beta + 1 + beta + log(1 + u)),
  // the last two the Jacobian of x -> log(1 + x) at the peaks' mean log (1 + x) = log(1 + u) + beta.
  const bool power = !lattice && std::log(pow_beta) + pow_beta + std::log1p(u) < std::log(exp_beta);
  if (power) return PeakTail{true, pow_beta, 0};
  const double variance = s.excess_square_mean - s.excess_mean * s.excess_mean;
  if (lattice || !(variance > exp_beta * exp_beta)) return PeakTail{false, exp_beta, 0};
  const double ratio = exp_beta * exp_beta / variance;  // in (0, 1)
  return PeakTail{false, std::max(0.5 * exp_beta * (1 + ratio), kMinSpread), 0.5 * (1 - ratio)};
}

// -log10 P(|z| > x | |z| > u), x >= u, capped.
double PeakNegLog10Tail(const PeakTail& t, double u, double x) {
  const double y = t.power ? std::log1p(x) - std::log1p(u) : x - u;
  const double nats = t.xi > 0 ? std::log1p(t.xi * y / t.beta) / t.xi : y / t.beta;
  return std::min(kMaxLogTail, nats / std::numbers::ln10);
}

// The x >= u with -log10 P(|z| > x | |z| > u) = target (>= 0).
double PeakQuantile(const PeakTail& t, double u, double target) {
  const double nats = target * std::numbers::ln10;
  if (t.power) return (1 + u) * std::exp(std::min(nats * t.beta, 700.0)) - 1;
  return u + (t.xi > 0 ? t.beta / t.xi * std::expm1(std::min(nats * t.xi, 700.0)) : nats * t.beta);
}

// |z| in the configured direction (0 against it).
double Magnitude(double z, Direction direction) {
  switch (direction) {
    case Direction::kUp: return std::max(0.0, z);
    case Direction::kDown: return std::max(0.0, -z);
    case Direction::kBoth: break;
  }
  return std::abs(z);
}

void LearnSample(CalibratorState& s, double x, double m, const CalibrationParams& p);

}  // namespace

double ThresholdFor(std::chrono::milliseconds step, std::chrono::milliseconds false_alarm_interval) {
  const double ratio = static_cast<double>(step.count()) / static_cast<double>(false_alarm_interval.count());
  return std::max(1.0, -std::log10(std::min(ratio, 0.1)));
}

const char* CheckCalibrationParams(const CalibrationParams& p) {
  if (p.short_window < 1 || p.short_window > 32) return "short_window: must be in [1, 32]";
  if (p.long_window < 1) return "long_window: must be >= 1";
  if (p.min_history < 1) return "min_history: must be >= 1";
  if (!(p.log_threshold > 0) || !std::isfinite(p.log_threshold)) return "log_threshold: must be > 0";
  if (!(p.min_abs_z > 0) || !std::isfinite(p.min_abs_z)) return "min_abs_z: must be > 0";
  return "";
}

double DecisionTarget(const CalibrationParams& p) { return p.log_threshold + std::log10(2.0); }

Judgement Judge(CalibratorState& s, double z, const CalibrationParams& p, bool learn,
                const NoiseTail& noise) {
  const auto k = static_cast<int>(std::min<size_t>(static_cast<size_t>(p.short_window), s.recent.size()));
  const double r = std::log1p(Magnitude(z, p.direction));
  // The sum of the k - 1 newest raw scores: the short mean including this one is (older + r) / count.
  double older = 0;
  const int keep = std::min(s.recent_count, k - 1);
  for (int j = 0; j < keep; ++j) {
    const int idx = ((s.recent_head - 1 - j) % k + k) % k;
    older += s.recent[static_cast<size_t>(idx)];
  }
  const int count = keep + 1;
  const double m = (older + r) / count;

  Judgement out;
  out.magnitude = Magnitude(z, p.direction);
  out.short_mean = m;
  const double spread = std::max(std::sqrt(std::max(s.variance, 0.0)), kMinSpread);
  const double point_spread = std::max(std::sqrt(std::max(s.point_variance, 0.0)), kMinSpread);
  if (s.seen >= p.min_history) {
    const double u = s.point_mean + 2 * point_spread;
    const double share = std::max(s.exceed_share, kMinExceedShare);
    const PeakTail tail = FitPeakTail(s, u, p.lattice);
    const double x = Magnitude(z, p.direction);
    const double point_tail =
        x > u ? std::min(noise.log_tail, -std::log10(share) + PeakNegLog10Tail(tail, u, x)) : 0.0;
    const ShortMeanTail short_tail = ShortMeanTailOf(s.mean, spread, p.direction);
    const double mean_tail = short_tail.NegLog10(m);
    const double log_tail = std::max(mean_tail, point_tail) - std::log10(2.0);
    out.score = std::max(0.0, log_tail) / p.log_threshold;
    // The raw score that reaches the threshold: through the short mean, or on its own.
    const double target = DecisionTarget(p);
    const double m_needed = short_tail.Quantile(target);
    const double r_mean = std::max(0.0, m_needed * count - older);
    const double x_point =
        std::max(noise.z_needed, PeakQuantile(tail, u, std::max(0.0, target + std::log10(share))));
    out.threshold = std::max(p.min_abs_z, std::min(std::expm1(r_mean), x_point));
    const bool in_direction = p.direction == Direction::kBoth || (p.direction == Direction::kUp && z > 0) ||
                              (p.direction == Direction::kDown && z < 0);
    out.anomalous = out.score >= 1 && std::abs(z) >= p.min_abs_z && in_direction;
  }

  // Fold in, one short window late: the ring takes this sample and its short mean, and the long-window
  // moments learn the sample that leaves the ring, if `learn` (the caller's verdict on the present: not
  // inside an open episode). An incident's first samples, judged before its episode opened, are thus
  // still in the ring when it opens and are never learned as normal; learned at once, the first minutes
  // of a x3 traffic surge (scores 0.8 and rising) widened the spread enough that it never reached 1.
  const auto slot = static_cast<size_t>(s.recent_head);
  const bool full = s.recent_count == k;
  const double leaving_r = s.recent[slot];
  const double leaving_m = s.recent_means[slot];
  s.recent[slot] = static_cast<float>(r);
  s.recent_means[slot] = static_cast<float>(m);
  s.recent_head = (s.recent_head + 1) % k;
  s.recent_count = std::min(s.recent_count + 1, k);
  if (!learn || !full) return out;
  LearnSample(s, std::expm1(leaving_r), leaving_m, p);
  return out;
}

namespace {

// Folds one sample's |z| (x) and the short mean m of its raw scores into the long-window moments.
void LearnSample(CalibratorState& s, double x, double m, const CalibrationParams& p) {
  s.seen += 1;
  const double a = 1.0 / static_cast<double>(std::min<int64_t>(s.seen, p.long_window));
  const double d = m - s.mean;
  s.mean += a * d;
  s.variance = (1 - a) * (s.variance + a * d * d);
  // Peaks are counted once the level u has settled: against the moments of the first few samples every
  // sample would look like a peak, and the excesses would say the tail is heavy.
  const double point_spread = std::max(std::sqrt(std::max(s.point_variance, 0.0)), kMinSpread);
  const double u = s.point_mean + 2 * point_spread;  // the level before this sample
  const bool settled = s.seen > kSettleSamples;
  const bool peak = settled && x > u;
  if (settled) s.exceed_share += a * ((peak ? 1.0 : 0.0) - s.exceed_share);
  if (peak) {
    // The excess means over the peaks only: their own running count would be the exact mean; the share's
    // weight a / share approximates it with the same effective window.
    const double w = std::min(1.0, a / std::max(s.exceed_share, a));
    s.excess_mean += w * ((x - u) - s.excess_mean);
    s.excess_log_mean += w * ((std::log1p(x) - std::log1p(u)) - s.excess_log_mean);
    s.excess_square_mean += w * ((x - u) * (x - u) - s.excess_square_mean);
  }
  const double dp = x - s.point_mean;
  s.point_mean += a * dp;
  s.point_variance = (1 - a) * (s.point_variance + a * dp * dp);
}

}  // namespace

EpisodeStep AdvanceEpisode(const EpisodeState& state, bool anomalous, double score, const EpisodeParams& p,
                           int64_t ts) {
  EpisodeStep step;
  EpisodeState& e = step.state;
  e = state;
  if (anomalous) {
    e.run_start_ms = e.consecutive == 0 ? ts : e.run_start_ms;
    e.consecutive += 1;
    e.last_anomalous_ms = ts;
    if (!e.open && e.consecutive >= p.persistence) {
      e.open = true;
      e.start_ms = e.run_start_ms;
      e.peak_score = 0;
      step.opened = true;
    }
    if (e.open && score > e.peak_score) {
      e.peak_score = score;
      e.peak_ms = ts;
    }
  } else {
    e.consecutive = 0;
    e.run_start_ms = 0;
    if (e.open && ts - e.last_anomalous_ms >= p.resolve_ms) {
      e.open = false;
      step.closed = true;
    }
  }
  step.flag = e.open;
  return step;
}

EpisodeStep AdvanceEpisode(const EpisodeState& state, const Judgement& j, const EpisodeParams& p, int64_t ts) {
  EpisodeStep step = AdvanceEpisode(state, j.anomalous, j.score, p, ts);
  EpisodeState& e = step.state;
  if (step.opened) {
    e.peak_magnitude = 0;
    e.peak_short_mean = 0;
  }
  if (e.open) {
    e.peak_magnitude = std::max(e.peak_magnitude, j.magnitude);
    e.peak_short_mean = std::max(e.peak_short_mean, j.short_mean);
  }
  return step;
}

void LearnEpisode(CalibratorState& s, const EpisodeState& closed, const CalibrationParams& p) {
  if (s.seen == 0) return;
  LearnSample(s, closed.peak_magnitude, closed.peak_short_mean, p);
}

}  // namespace anomaly::scoring
