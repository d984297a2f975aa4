// POST /api/v1/score's work (docs/api.md), handed to the web server as http::Callbacks::score: the query
// parameters are the backtest's detector flags (detector_flags.h: same names, defaults and validation), the
// body is the backtest's CSV or the JSON samples, and the scoring is the backtest's RunBacktest, so the
// answer is what `anomaly_exporter backtest --input` writes for the same series (byte for byte in CSV).
// Runs on the web server's score pool; pure but for the clock; thread-safe.
//
//   callbacks.score = [limits](const http::ScoreRequest& r) { return Score(r, limits); };
#pragma once

#include <cstddef>

#include "anomaly/base/result.h"
#include "anomaly/http/web_server.h"

namespace anomaly::app {

struct ScoreLimits {
  // --web.score-max-samples: the most samples one request may hold. With the deadline
  // (http::ScoreOptions::timeout) it bounds a request's time: scoring costs per sample, more at each refit.
  size_t max_samples = 100'000;
};

// The answer's body: the backtest's CSV, or {"status":"success","data":{...}} (backtest::WriteJson).
// kInvalidInput (400, the message names the problem) for:
//   an unknown or repeated parameter ("unknown parameter \"histroy\"; the settings are: step, ..."),
//   a bad setting (the config loader's message, under the parameter's name: "threshold_floor: must be > 0"),
//   an unreadable body (the CSV reader's or ParseSeriesJson's message: line or sample, and what is wrong),
//   timestamps that go back (repeated ones are kept and get no verdict, as in the backtest),
//   more samples than limits.max_samples,
//   fixed seasonality whose longest period the series (or its history) does not hold 3 times.
// kTimeout when request.deadline passed before the last sample was scored.
[[nodiscard]] Result<http::ScoreAnswer> Score(const http::ScoreRequest& request, const ScoreLimits& limits);

}  // namespace anomaly::app
