#include "anomaly/scoring/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "anomaly/scoring/mstl.h"
#include "anomaly/scoring/robust_stats.h"
#include "anomaly/scoring/scorer.h"
#include "loess.h"

namespace anomaly::scoring {

namespace {

Status Invalid(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

// The fewest held-out points whose forecast error is worth a scale.
constexpr size_t kMinHoldout = 8;
// Held out when the shortest period is shorter: a robust scale from fewer errors is too noisy.
constexpr size_t kTargetHoldout = 120;
// The widest the scale is widened: a level shift inside the held-out stretch must not blind the series
// for a day. Three covers the worst measured honest ratio (about 2.4: three cycles, s.window = 7).
constexpr double kMaxForecastScaleRatio = 3.0;

// A decomposition reduced to spans into the workspace or the MSTL result.
struct Decomposition {
  ModelKind kind = ModelKind::kBaseline;
  std::vector<int> periods;
  std::vector<std::vector<double>> seasonal_cycles;
  double level = 0;
  double slope = 0;
  int baseline_window = 0;  // kBaseline: the trailing median's window
  // Seasonal kinds: var(level's error) / var(noise), from the trend smoother that gave the level
  // (LevelVariance). 0 for the baseline, whose remainder already is a forecast error.
  double level_variance = 0;
  // remainder[i] belongs to values[first_scored + i]; the baseline has no remainder for its first window.
  size_t first_scored = 0;
  // The trend's and the remainder's last `tail` values (filled only when asked for, seasonal kinds only).
  std::vector<double> trend_tail;
  std::vector<double> remainder_tail;
};

void KeepTails(std::span<const double> trend, std::span<const double> remainder, size_t tail,
               Decomposition& out) {
  tail = std::min(tail, trend.size());
  out.trend_tail.assign(trend.end() - static_cast<std::ptrdiff_t>(tail), trend.end());
  out.remainder_tail.assign(remainder.end() - static_cast<std::ptrdiff_t>(tail), remainder.end());
}

// The trend's average change per step over the last k steps, k a quarter of the shortest period: long
// enough to smooth the loess end effect, short enough to follow the recent direction.
double EndSlope(std::span<const double> trend, int shortest_period) {
  const size_t n = trend.size();
  if (n < 2) return 0;
  size_t k = std::clamp<size_t>(static_cast<size_t>(shortest_period / 4), 1, n - 1);
  return (trend[n - 1] - trend[n - 1 - k]) / static_cast<double>(k);
}

// The level a forecast starts from is the trend smoother's value at the last point, where its window is
// one-sided. Without robustness weights that value is a linear combination of the noise, so its error's
// variance is sum(l_i^2) sigma^2, l the smoother's end kernel: 0.13 for trend window 37 (hourly samples,
// daily period), 0.012 for window 433 (5-minute samples). Returns that sum for the final trend pass of a
// fit with these parameters on n points (0 if they do not resolve, which a successful fit rules out).
double LevelVariance(const StlParams& stl, size_t n) {
  Result<StlResolvedParams> resolved = ResolveStlParams(stl, n);
  if (!resolved) return 0.0;
  return internal::EndKernelSumOfSquares(static_cast<int>(n), resolved->trend_window, resolved->trend_degree);
}

std::vector<double> LastCycle(std::span<const double> seasonal, int period) {
  auto p = static_cast<size_t>(period);
  return std::vector<double>(seasonal.end() - static_cast<std::ptrdiff_t>(p), seasonal.end());
}

Status DecomposeStl(std::span<const double> values, int period, const ModelParams& params, size_t trend_tail,
                    ModelWorkspace& ws, Decomposition& out) {
  StlParams stl = params.stl;
  stl.period = period;
  if (Status s = Stl(values, stl, ws.stl, ws.stl_result); !s) {
    return tl::unexpected(s.error().WithContext("stl with period " + std::to_string(period)));
  }
  out.kind = ModelKind::kStl;
  out.periods = {period};
  out.seasonal_cycles = {LastCycle(ws.stl_result.seasonal, period)};
  out.level = ws.stl_result.trend.back();
  out.level_variance = LevelVariance(stl, values.size());
  out.slope = EndSlope(ws.stl_result.trend, period);
  KeepTails(ws.stl_result.trend, ws.stl_result.remainder, trend_tail, out);
  ws.remainder.assign(ws.stl_result.remainder.begin(), ws.stl_result.remainder.end());
  out.first_scored = 0;
  return {};
}

Status DecomposeMstl(std::span<const double> values, std::vector<int> periods, const ModelParams& params,
                     size_t trend_tail, ModelWorkspace& ws, Decomposition& out) {
  MstlParams mp;
  mp.periods = std::move(periods);
  mp.stl = params.stl;
  if (params.stl.periodic) {
    // R's stl: periodic means s.window = 10 n + 1 (Mstl itself ignores StlParams::periodic).
    mp.seasonal_windows.assign(mp.periods.size(), static_cast<int>(10 * values.size() + 1));
  }
  Result<MstlResult> r = Mstl(values, mp, ws.stl);
  if (!r) return tl::unexpected(r.error().WithContext("mstl"));
  out.kind = r->periods.size() > 1 ? ModelKind::kMstl : ModelKind::kStl;
  out.periods = r->periods;
  out.seasonal_cycles.clear();
  for (size_t i = 0; i < r->periods.size(); ++i) {
    out.seasonal_cycles.push_back(LastCycle(r->seasonal[i], r->periods[i]));
  }
  out.level = r->trend.back();
  out.level_variance = LevelVariance(r->trend_stl, values.size());
  out.slope = EndSlope(r->trend, r->periods.front());
  KeepTails(r->trend, r->remainder, trend_tail, out);
  ws.remainder = std::move(r->remainder);
  out.first_scored = 0;
  return {};
}

// Non-seasonal robust baseline: the expected value of a point is the median of the `w` points before it
// (a trailing running median, flat trend). Its remainder is therefore a one-step-ahead error, the same
// quantity the scorer later computes, so the learned threshold matches what is scored.
void DecomposeBaseline(std::span<const double> values, const ModelParams& params, ModelWorkspace& ws,
                       Decomposition& out) {
  const size_t n = values.size();
  size_t w = std::clamp<size_t>(static_cast<size_t>(params.baseline_window), 1, n / 2);
  out.kind = ModelKind::kBaseline;
  out.periods.clear();
  out.seasonal_cycles.clear();
  out.slope = 0;
  out.baseline_window = static_cast<int>(w);
  out.first_scored = w;
  ws.remainder.clear();
  for (size_t i = w; i <= n; ++i) {
    std::span<const double> window = values.subspan(i - w, w);
    double median = Median(window, ws.scratch).value_or(0.0);  // finite input checked by FitModel
    if (i < n) {
      ws.remainder.push_back(values[i] - median);
    } else {
      out.level = median;
    }
  }
}


Status DecomposeSeasonal(std::span<const double> values, const std::vector<int>& periods,
                         const ModelParams& params, size_t trend_tail, ModelWorkspace& ws, Decomposition& out) {
  if (periods.size() == 1) return DecomposeStl(values, periods.front(), params, trend_tail, ws, out);
  return DecomposeMstl(values, periods, params, trend_tail, ws, out);
}

// The seasonal part of the forecast h = 1, 2, ... steps past the end of `d`, as Expected() continues it.
double SeasonalForecast(const Decomposition& d, size_t h) {
  double sum = 0;
  for (const std::vector<double>& cycle : d.seasonal_cycles) sum += cycle[(h - 1) % cycle.size()];
  return sum;
}

// How many of the newest points the out-of-sample check holds out: one shortest period (every phase
// once) but at least kTargetHoldout, as long as the rest still holds the longest period more than twice
// (so the held-out fit keeps every period; Mstl's own rule). That fit may hold fewer than
// kMinSeasonalCycles cycles: it only measures how far a forecast errs, and from fewer cycles it errs
// more, so the scale is if anything wider. Requiring three there left a history of exactly three cycles
// with the analytic ratio, and pure noise then scored sigma(z) 1.6 (bench/false_positive_rate.py, K 3).
// 0 when too few points would be left to measure anything.
size_t HoldoutLength(size_t n, const std::vector<int>& periods) {
  const auto shortest = static_cast<size_t>(periods.front());
  const auto longest = static_cast<size_t>(periods.back());
  if (n <= 2 * longest + 1) return 0;
  const size_t h = std::min(std::max(shortest, kTargetHoldout), n - 2 * longest - 1);
  return h >= std::max<size_t>(kMinHoldout, shortest / 4) ? h : 0;
}

// The seasonal estimate is fitted on the very points whose remainder gives the scale, so the remainder
// understates the error of a forecast: with few cycles, or R's s.window = 7, or robust weights that let
// the fit follow the noise, by a factor of 1.4 to 2.4 (bench/false_positive_rate.py: Gaussian noise,
// period 24, 3 to 28 cycles). Scoring new points against that scale flagged 2-3% of pure noise. So the
// newest `holdout` points are forecast by the same model fitted without them, and the ratio of that
// forecast error's robust scale to the full fit's remainder over the same points widens the scale. The held-out error uses the full
// fit's trend (its window spans 1.5 periods or more, so its leverage is small): what it measures is the
// seasonal estimate's error, not how far the level drifts over a whole period, which the daemon never
// forecasts (it refits every refit_interval). Returns >= 1, or 0 when too few held-out points were
// observed (or their remainder is exactly 0) to measure it.
Result<double> ForecastScaleRatio(std::span<const double> values, std::span<const uint8_t> observed,
                                  const std::vector<int>& periods, const ModelParams& params,
                                  const Decomposition& full, ModelWorkspace& ws) {
  const size_t n = values.size();
  const size_t holdout = full.trend_tail.size();
  Decomposition held;
  if (Status s = DecomposeSeasonal(values.first(n - holdout), periods, params, 0, ws, held); !s) {
    return tl::unexpected(s.error().WithContext("out-of-sample check"));
  }
  ws.holdout_errors.clear();
  ws.holdout_remainder.clear();
  for (size_t j = 0; j < holdout; ++j) {
    const size_t i = n - holdout + j;
    if (!observed.empty() && observed[i] == 0) continue;
    ws.holdout_errors.push_back(values[i] - full.trend_tail[j] - SeasonalForecast(held, j + 1));
    ws.holdout_remainder.push_back(full.remainder_tail[j]);
  }
  if (ws.holdout_errors.size() < kMinHoldout) return 0.0;
  // Both scales over the same points, so a noisier or quieter recent stretch moves neither the ratio
  // nor, through it, the scale: the whole history's remainder still sets the level.
  Result<double> out_of_sample = ScaledMad(ws.holdout_errors, ws.scratch);
  Result<double> in_sample = ScaledMad(ws.holdout_remainder, ws.scratch);
  if (!out_of_sample || !in_sample || !(*in_sample > 0)) return 0.0;
  return std::clamp(*out_of_sample / *in_sample, 1.0, kMaxForecastScaleRatio);
}

// The fitted value of the i-th kept remainder: the observed value less its remainder. Reads ws.remainder
// and ws.history_age as FitModel leaves them after dropping the filled points.
double FittedAt(std::span<const double> values, const ModelWorkspace& ws, size_t i) {
  return values[values.size() - 1 - static_cast<size_t>(ws.history_age[i])] - ws.remainder[i];
}

// FittedModel::level_exponent and its range: the slope of log(median |remainder|) on log(median fitted)
// over eight equal-count bins of the fitted values, clamped to [0, 1] (0: additive noise, 0.5: Poisson,
// 1: noise a fixed share of the level). Left at 0 unless every fitted value is positive, each bin has 30
// points and a non-zero median, and the bins' fitted values span at least 1.5x: a narrower range measures
// the slope from noise. Reads ws.remainder and ws.history_age as FitModel leaves them.
void SetLevelNoise(std::span<const double> values, ModelWorkspace& ws, FittedModel& m) {
  constexpr size_t kBins = 8;
  constexpr size_t kPerBin = 30;
  const size_t n = ws.remainder.size();
  if (n < kBins * kPerBin) return;
  ws.level_pairs.clear();
  for (size_t i = 0; i < n; ++i) {
    const double fitted = FittedAt(values, ws, i);
    if (!(fitted > 0)) return;
    ws.level_pairs.emplace_back(fitted, std::abs(ws.remainder[i]));
  }
  std::sort(ws.level_pairs.begin(), ws.level_pairs.end());
  double x[kBins], y[kBins];
  for (size_t b = 0; b < kBins; ++b) {
    const size_t lo = b * n / kBins, hi = (b + 1) * n / kBins;
    ws.scratch.clear();
    for (size_t i = lo; i < hi; ++i) ws.scratch.push_back(ws.level_pairs[i].second);
    auto mid = ws.scratch.begin() + static_cast<std::ptrdiff_t>(ws.scratch.size() / 2);
    std::nth_element(ws.scratch.begin(), mid, ws.scratch.end());
    if (!(*mid > 0)) return;
    x[b] = std::log(ws.level_pairs[(lo + hi) / 2].first);
    y[b] = std::log(*mid);
  }
  if (x[kBins - 1] - x[0] < std::log(1.5)) return;
  double mx = 0, my = 0;
  for (size_t b = 0; b < kBins; ++b) mx += x[b] / kBins, my += y[b] / kBins;
  double sxy = 0, sxx = 0;
  for (size_t b = 0; b < kBins; ++b) sxy += (x[b] - mx) * (y[b] - my), sxx += (x[b] - mx) * (x[b] - mx);
  const double slope = std::clamp(sxy / sxx, 0.0, 1.0);
  if (!(slope > 0)) return;
  m.level_exponent = slope;
  m.level_reference = ws.level_pairs[n / 2].first;
  m.level_low = ws.level_pairs.front().first;
  m.level_high = ws.level_pairs.back().first;
}

// Where no points can be held out (the held-out stretch was mostly filled gaps): the ratio
// of a per-phase mean's forecast error to its in-sample remainder over k cycles, sqrt((k+1)/(k-1)).
double FewCyclesScaleRatio(size_t n, int longest_period) {
  const double k = std::max<double>(kMinSeasonalCycles, static_cast<double>(n) / static_cast<double>(longest_period));
  return std::sqrt((k + 1) / (k - 1));
}

// FittedModel::count_dispersion and count_bias: 0 unless every observed value is a non-negative integer;
// then the remainder's mean (the bias) and its variance over the Poisson variance of the fitted values
// plus that bias (their mean), capped at 1. Reads ws.remainder and ws.history_age as FitModel leaves them
// after dropping the filled points.
struct CountNoise {
  double dispersion = 0;
  double bias = 0;
};
CountNoise CountDispersion(std::span<const double> values, std::span<const uint8_t> observed,
                           const ModelWorkspace& ws) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!observed.empty() && observed[i] == 0) continue;
    if (!(values[i] >= 0) || values[i] != std::floor(values[i])) return {};
  }
  if (ws.remainder.empty()) return {};
  double sum = 0;
  for (double r : ws.remainder) sum += r;
  const double bias = sum / static_cast<double>(ws.remainder.size());
  double square = 0, poisson = 0;
  for (size_t i = 0; i < ws.remainder.size(); ++i) {
    const double fitted = FittedAt(values, ws, i);
    square += (ws.remainder[i] - bias) * (ws.remainder[i] - bias);
    poisson += std::max(fitted + bias, 0.0);
  }
  if (!(square > 0)) return {};
  if (!(poisson > 0)) return {1.0, bias};
  return {std::min(1.0, square / poisson), bias};
}

}  // namespace

Status ValidateModelParams(const ModelParams& params) {
  for (int p : params.periods) {
    if (p < 2) return Invalid("periods: each period must be >= 2 samples, got " + std::to_string(p));
  }
  if (std::string_view bad = CheckCalibrationParams(params.calibration); !bad.empty()) {
    return Invalid("calibration." + std::string(bad));
  }
  if (params.persistence < 1) return Invalid("persistence: must be >= 1");
  if (params.min_points < 4) return Invalid("min_points: must be >= 4");
  if (params.baseline_window < 3) return Invalid("baseline_window: must be >= 3");
  if (!(params.trend_damping >= 0 && params.trend_damping < 1)) {
    return Invalid("trend_damping: must be in [0, 1)");
  }
  if (!(params.min_scale > 0) || !std::isfinite(params.min_scale)) return Invalid("min_scale: must be > 0");
  return {};
}

Result<FittedModel> FitModel(std::span<const double> values, std::span<const uint8_t> observed,
                             const ModelParams& params, ModelWorkspace& ws) {
  if (Status s = ValidateModelParams(params); !s) return tl::unexpected(s.error());
  const size_t n = values.size();
  if (n < static_cast<size_t>(params.min_points)) {
    return MakeError(ErrorCode::kInvalidInput, "need at least " + std::to_string(params.min_points) +
                                                   " points to fit, got " + std::to_string(n));
  }
  if (!observed.empty() && observed.size() != n) {
    return MakeError(ErrorCode::kInvalidInput, "observed mask has " + std::to_string(observed.size()) +
                                                   " entries for " + std::to_string(n) + " values");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      return MakeError(ErrorCode::kInvalidInput, "value at index " + std::to_string(i) + " is not finite");
    }
  }

  // The periods the history holds kMinSeasonalCycles times (Mstl, which keeps those it holds twice, then
  // drops none), so that STL vs MSTL vs baseline is decided here.
  std::vector<int> usable;
  for (int p : params.periods) {
    if (static_cast<size_t>(p) * kMinSeasonalCycles <= n) usable.push_back(p);
  }
  std::sort(usable.begin(), usable.end());
  usable.erase(std::unique(usable.begin(), usable.end()), usable.end());

  Decomposition d;
  const size_t holdout = usable.empty() ? 0 : HoldoutLength(n, usable);
  if (!usable.empty()) {
    if (Status s = DecomposeSeasonal(values, usable, params, holdout, ws, d); !s) return tl::unexpected(s.error());
  } else {
    DecomposeBaseline(values, params, ws, d);
  }

  // Keep the remainder of observed points only, oldest first; filled points would understate the scale.
  size_t kept = 0;
  ws.history_age.clear();
  for (size_t i = 0; i < ws.remainder.size(); ++i) {
    if (observed.empty() || observed[d.first_scored + i] != 0) {
      ws.remainder[kept++] = ws.remainder[i];
      ws.history_age.push_back(static_cast<int64_t>(n - 1 - (d.first_scored + i)));
    }
  }
  ws.remainder.resize(kept);

  FittedModel m;
  m.kind = d.kind;
  m.periods = std::move(d.periods);
  for (const std::vector<double>& cycle : d.seasonal_cycles) {
    m.seasonal_cycles.emplace_back(cycle.begin(), cycle.end());
  }
  m.level = d.level;
  m.baseline_window = d.baseline_window;
  m.slope = params.trend_damping > 0 ? d.slope : 0.0;
  m.trend_damping = params.trend_damping;
  m.direction = params.direction;
  m.points = static_cast<int64_t>(n);
  m.observed_points = static_cast<int64_t>(
      observed.empty() ? n : static_cast<size_t>(std::count_if(observed.begin(), observed.end(),
                                                               [](uint8_t o) { return o != 0; })));
  m.scale = RobustScale(ws.remainder, m.level, params.min_scale, ws.scratch);
  const CountNoise counts = CountDispersion(values, observed, ws);
  m.count_dispersion = counts.dispersion;
  m.count_bias = counts.bias;
  if (m.count_dispersion == 0) SetLevelNoise(values, ws, m);  // counts have their Poisson floor instead
  if (m.level_exponent > 0) {
    // The scale at the reference level: the MAD of the remainders brought to it.
    ws.level_scaled.clear();
    for (size_t i = 0; i < ws.remainder.size(); ++i) {
      ws.level_scaled.push_back(ws.remainder[i] * m.scale.scale / ScaleAt(m, FittedAt(values, ws, i)));
    }
    m.scale = RobustScale(ws.level_scaled, m.level, params.min_scale, ws.scratch);
  }

  // z of the newest long_window observed remainders, computed as ScorePoint computes it (about 0, not about
  // the remainder's median), so that a new series' calibrator starts from the errors' shape.
  const size_t tail = std::min(ws.remainder.size(), static_cast<size_t>(params.calibration.long_window));
  ws.history_z.clear();
  ws.history_count_tail.clear();
  for (size_t i = ws.remainder.size() - tail; i < ws.remainder.size(); ++i) {
    const double fitted = FittedAt(values, ws, i);
    ws.history_z.push_back(ws.remainder[i] / ScaleAt(m, fitted));
    if (m.count_dispersion > 0) {
      ws.history_count_tail.push_back(CountNegLog10Tail(m, fitted + ws.remainder[i], fitted));
    }
  }
  ws.history_age.erase(ws.history_age.begin(), ws.history_age.end() - static_cast<std::ptrdiff_t>(tail));

  // The percentile above describes the shape of the errors (in-sample |z|); their size is that of a
  // forecast, which seasonal fits understate in-sample (ForecastScaleRatio). The baseline's remainder is
  // already a one-step-ahead error.
  if (!usable.empty()) {
    Result<double> ratio = holdout > 0 ? ForecastScaleRatio(values, observed, usable, params, d, ws) : 0.0;
    if (!ratio) return tl::unexpected(ratio.error());
    // Not measured (no room to hold out, or the held-out stretch was mostly filled gaps): the analytic
    // ratio, rather than the in-sample scale that flagged noise.
    if (*ratio == 0) *ratio = FewCyclesScaleRatio(n, usable.back());
    // Both measure the seasonal estimate's error only (the held-out errors are taken about the full fit's
    // trend); every forecast also starts from the level's end-point error. One step past 400 simulated
    // fits (period 24, 28 cycles, N(0, 1) noise) the level's error was 0.41 sigma and the forecast's 1.11
    // sigma, where the scale without this term was 0.98.
    *ratio *= std::sqrt(1 + d.level_variance);
    m.forecast_scale_ratio = *ratio;
    m.scale.scale *= *ratio;
  }
  return m;
}

Result<FittedModel> FitModel(std::span<const double> values, const ModelParams& params, ModelWorkspace& ws) {
  return FitModel(values, {}, params, ws);
}

Result<std::vector<double>> FittedValues(std::span<const double> values, const ModelParams& params,
                                         ModelWorkspace& ws) {
  // The same checks and the same choice of decomposition as FitModel, so that the curve drawn is the one
  // the model's level, seasonal cycles and scale come from.
  Result<FittedModel> checked = FitModel(values, params, ws);
  if (!checked) return tl::unexpected(checked.error());
  const size_t n = values.size();
  Decomposition d;
  if (checked->kind != ModelKind::kBaseline) {
    if (Status s = DecomposeSeasonal(values, checked->periods, params, 0, ws, d); !s) return tl::unexpected(s.error());
  } else {
    DecomposeBaseline(values, params, ws, d);
  }
  std::vector<double> fitted(n, std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < ws.remainder.size() && d.first_scored + i < n; ++i) {
    fitted[d.first_scored + i] = values[d.first_scored + i] - ws.remainder[i];
  }
  return fitted;
}

}  // namespace anomaly::scoring
