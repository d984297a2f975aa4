// The series page, GET /series?detector=NAME&LABEL=VALUE... (docs/ui.md): what the app hands the web
// server for one series, drawn as an inline SVG chart next to the series' verdict from the published
// snapshot. Plain data, built by the app from a copy of the series (exporter/app/series_page.h), immutable
// once handed over, so the web worker that renders it shares nothing with the cycle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "anomaly/http/episodes.h"

namespace anomaly::http {

// One grid point of the series' window.
struct SeriesPoint {
  int64_t timestamp_ms = 0;
  double value = 0;         // NaN: missing (inside a long gap)
  bool filled = false;      // interpolated across a short gap: drawn, never scored
  double expected = 0;      // the model's fit at this point; NaN where there is none
  double lower = 0;         // expected -/+ threshold x the error scale at `expected`; NaN with expected
  double upper = 0;
  bool anomalous = false;   // this sample was scored anomalous (before persistence)
};

// A flagged episode (anomaly_flag 1 from start to end), as the runner saw it published.
struct SeriesEpisode {
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // when the flag fell; 0 while it is still up
  double peak_score = 0;
  std::string id = {};  // as in GET /api/v1/episodes: the page's feedback buttons post to it
  std::optional<EpisodeFeedback> feedback = {};  // the latest given; none yet
};

struct SeriesPage {
  int64_t step_ms = 0;
  std::vector<SeriesPoint> points;      // the detector's window of the series, oldest first
  std::vector<SeriesEpisode> episodes;  // oldest first, those that overlap the window
  // The series' decision margin from false positives now (episodes.h, EpisodeInfo::margin): its calibrated
  // score must reach 1 + margin to be anomalous. 0: none, or it has faded.
  double margin = 0;
  // Why the chart has no expected value and band (no model yet, the fit failed); empty when it has them.
  std::string note;
};

}  // namespace anomaly::http
