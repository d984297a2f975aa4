// The per-series decision the scorer produces each cycle, shared by the series store (which keeps the
// persistence state), exposition (which exports it) and the backtest (which writes it as CSV).
// Plain value type. A series in any state other than kOk has no score: "no verdict yet" must never read
// as "normal" (STYLE.md B4, domain states are not errors).
#pragma once

#include <cstdint>
#include <string_view>

namespace anomaly::scoring {

enum class SeriesState {
  kOk,                // scored: value, expected, band, z, score below are meaningful
  kWarmingUp,         // first cycle not complete yet, or too few samples scored since start
  kInsufficientData,  // too little history for any model (not even the non-seasonal baseline)
  kGap,               // the newest samples are missing for longer than the gap tolerance
  kStale,             // the upstream stopped answering; the last good verdict is kept, marked stale
  kMaintenance,       // inside a maintenance window: neither fitted nor scored
  // kind: peers: fewer members of its group than min_group_size present; never a peer score.
  kInsufficientPeers,
};

std::string_view SeriesStateName(SeriesState state);  // ok, warming_up, insufficient_data, gap, stale,
                                                      // maintenance, insufficient_peers

enum class ModelKind {
  kStl,       // one seasonal period
  kMstl,      // several seasonal periods
  kBaseline,  // non-seasonal robust baseline: too little history for the configured seasonality, or none
};

std::string_view ModelKindName(ModelKind kind);  // stl, mstl, baseline

enum class Direction { kBoth, kUp, kDown };

struct Verdict {
  SeriesState state = SeriesState::kWarmingUp;
  ModelKind model = ModelKind::kBaseline;
  int64_t timestamp_ms = 0;  // the sample scored
  double value = 0;          // observed
  double expected = 0;       // trend + seasonal carried forward
  double lower = 0;          // expected - threshold * scale
  double upper = 0;          // expected + threshold * scale
  double zscore = 0;         // signed: (value - expected) / scale, the scale of a forecast's error
  double threshold = 0;      // the |z| this sample needed to reach score 1 (likelihood.h), >= floor
  double score = 0;          // calibrated: -log10(tail probability) / threshold's; >= 1 is anomalous
  bool anomalous = false;    // the flag: an episode is open (likelihood.h AdvanceEpisode)
  int64_t anomalous_since_ms = 0;  // start of the current flagged episode; 0 when not flagged
  double peak_score = 0;     // highest score of the open episode; 0 when not flagged
  bool relearning = false;   // the open episode was taken as a new normal and the model re-baselined on it
};

}  // namespace anomaly::scoring
