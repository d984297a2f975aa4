// The series page's data (GET /series, docs/ui.md): a bounded copy of one series taken from its detector
// under the runner's core mutex (DetectorRunner::CopySeries), turned into an http::SeriesPage on the web
// worker that asked, so that the cycle is held only for the copy and never for the fit or the HTML.
//
// Why a copy under a mutex rather than per-series data in every published snapshot: the page needs the
// whole window (up to history / step points) and the model, which no scrape needs; keeping them in the
// snapshot for every series would copy every window every cycle, and keeping them for "watched" series
// only would leave the first view of a series empty until the next cycle. The copy costs the cycle a
// lock it takes once per cycle (uncontended but for a page) and at most one window's memcpy per request
// (about 43 KB at 10,080 points); pages are bounded to two at once by the web server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "anomaly/http/episodes.h"
#include "anomaly/http/series_page.h"
#include "anomaly/scoring/model.h"
#include "anomaly/scoring/verdict.h"
#include "anomaly/series/sample_window.h"
#include "anomaly/series/series_store.h"
#include "exporter/app/episode_log.h"

namespace anomaly::app {

// Everything the page needs of one series, copied: immutable once taken, shared with nothing.
struct SeriesCopy {
  series::SampleWindow window;
  std::vector<series::SeriesEntry::LevelShift> level_shifts;
  std::vector<int64_t> anomalous_slots;               // SeriesEntry::baseline_excluded: scored anomalous
  std::shared_ptr<const scoring::FittedModel> model;  // null before the first fit (immutable, shared)
  scoring::Verdict verdict;
  std::vector<http::EpisodeInfo> episodes;  // oldest first, with their ids and feedback (as the API shows)
  std::chrono::milliseconds step{60'000};
  scoring::ModelParams params;  // the detector's, for the fit drawn
  double margin = 0;            // the series' feedback margin at the copy (0: none)
};

// The window as points, the model fitted on it (scoring::FittedValues, with the series' periods and level
// shifts) as the expected value, the band at the verdict's threshold and the model's error scale, the
// samples scored anomalous and the episodes that overlap the window. Never fails: a fit that cannot be
// made leaves expected and band NaN and says why in `note`. Costs one fit of the window.
http::SeriesPage BuildSeriesPage(const SeriesCopy& copy, scoring::ModelWorkspace& workspace);

}  // namespace anomaly::app
