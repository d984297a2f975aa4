#include "exporter/app/series_page.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "anomaly/scoring/scorer.h"

namespace anomaly::app {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

http::SeriesPage BuildSeriesPage(const SeriesCopy& copy, scoring::ModelWorkspace& workspace) {
  http::SeriesPage page;
  page.step_ms = copy.step.count();
  page.margin = copy.margin;
  const series::SampleWindow& w = copy.window;
  if (w.empty()) {
    page.note = "The detector holds no samples of this series.";
    return page;
  }
  const int64_t first = w.first_slot();
  page.points.reserve(w.size());
  auto anomalous = copy.anomalous_slots.begin();
  for (size_t i = 0; i < w.size(); ++i) {
    const int64_t slot = first + static_cast<int64_t>(i);
    http::SeriesPoint p;
    p.timestamp_ms = slot * page.step_ms;
    p.value = w.kind(i) == series::PointKind::kMissing ? kNaN : w.value(i);
    p.filled = w.kind(i) == series::PointKind::kFilled;
    p.expected = p.lower = p.upper = kNaN;
    while (anomalous != copy.anomalous_slots.end() && *anomalous < slot) ++anomalous;
    p.anomalous = anomalous != copy.anomalous_slots.end() && *anomalous == slot;
    page.points.push_back(p);
  }
  for (const http::EpisodeInfo& e : copy.episodes) {
    if (e.end_ms == 0 || e.end_ms >= page.points.front().timestamp_ms) {
      page.episodes.push_back(http::SeriesEpisode{e.start_ms, e.end_ms, e.peak_score, e.id, e.feedback});
    }
  }

  if (!copy.model) {
    page.note = "No expected value yet: the series has no model (too few samples for a first fit).";
    return page;
  }
  // The fit input as series::Evaluate builds it: long gaps filled, the level shifts a re-baselining took
  // applied to the points before them, so that the curve is the one the next refit would make.
  series::FitInput input;
  if (!w.BuildFitInput(w.last_slot(), input)) {
    page.note = "No expected value: the window has no observed sample.";
    return page;
  }
  const int64_t input_first = input.last_slot - static_cast<int64_t>(input.values.size()) + 1;
  std::vector<double> shift(input.values.size(), 0.0);
  for (const series::SeriesEntry::LevelShift& s : copy.level_shifts) {
    const int64_t before = std::clamp<int64_t>(s.slot - input_first, 0, static_cast<int64_t>(input.values.size()));
    for (int64_t i = 0; i < before; ++i) shift[static_cast<size_t>(i)] += s.delta;
  }
  for (size_t i = 0; i < input.values.size(); ++i) input.values[i] += shift[i];
  scoring::ModelParams params = copy.params;
  params.periods = copy.model->periods;
  Result<std::vector<double>> fitted = scoring::FittedValues(input.values, params, workspace);
  if (!fitted) {
    page.note = "No expected value: fitting the window failed: " + fitted.error().message;
    return page;
  }
  const double threshold = std::isfinite(copy.verdict.threshold) && copy.verdict.threshold > 0
                               ? copy.verdict.threshold
                               : params.calibration.min_abs_z;
  for (size_t i = 0; i < fitted->size(); ++i) {
    const double f = (*fitted)[i];
    if (!std::isfinite(f)) continue;
    const int64_t index = input_first + static_cast<int64_t>(i) - first;
    if (index < 0 || index >= static_cast<int64_t>(page.points.size())) continue;
    http::SeriesPoint& p = page.points[static_cast<size_t>(index)];
    p.expected = f - shift[i];  // back at the level the points were observed at
    const double half = threshold * scoring::ScaleAt(*copy.model, f);
    p.lower = p.expected - half;
    p.upper = p.expected + half;
  }
  return page;
}

}  // namespace anomaly::app
