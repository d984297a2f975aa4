// Seasonality "auto": finds the seasonal periods of a series from its sample autocorrelation, for detectors
// configured without explicit periods. Pure and thread-compatible; O(n log n) time (the autocorrelation by
// FFT), meant to run once per series at its first fit and at its refits, not every cycle.
//
//   Result<std::vector<int>> periods = DetectPeriods(values, std::chrono::minutes(5), /*max_period=*/2016);
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::scoring {

struct SeasonalityOptions {
  // An autocorrelation peak at lag k must reach max(min_correlation, 4 / sqrt(n - k)): 0.3 keeps white noise and
  // random-walk wiggles out while a seasonal signal with an SNR around 1 (ACF ~0.5) is found.
  double min_correlation = 0.3;
  // A peak must rise this far above the lowest autocorrelation at any shorter lag, so that the slow decay
  // of a smooth, non-seasonal series is not mistaken for a period.
  double min_prominence = 0.1;
  // A period near a multiple of an already found one (daily vs. weekly) is kept only when its
  // autocorrelation exceeds the shorter one's by this much: it must carry structure of its own.
  double multiple_margin = 0.1;
  // Peaks within this relative distance of 1h, 1d or 1w (in samples of `step`) snap to that period when
  // its autocorrelation is within multiple_margin of the peak's.
  double snap_tolerance = 0.1;
  size_t max_periods = 3;
  // Keep only periods that snapped to 1h, 1d or 1w. The seasonality of operations metrics is the calendar's
  // (people, cron jobs, batch windows); a peak at 2d23h or 40m in a two-week window is a coincidence of the
  // window more often than a cycle, and a model fitted on it forecasts noise. The daemon sets it.
  bool calendar_only = false;
};

// The detected periods in samples, ascending; empty when none is significant (white noise, a trend, a
// series shorter than two cycles of any candidate). Candidates are lags 2..min(max_period, n / 2).
// kInvalidInput when a value is not finite, step <= 0 or max_period < 2.
[[nodiscard]] Result<std::vector<int>> DetectPeriods(std::span<const double> values,
                                                     std::chrono::milliseconds step, int max_period,
                                                     const SeasonalityOptions& options = {});

}  // namespace anomaly::scoring
