#include "anomaly/series/evaluate.h"

#include <memory>
#include <utility>

#include "anomaly/scoring/scorer.h"
#include "anomaly/scoring/seasonality.h"

namespace anomaly::series {

namespace {

using scoring::SeriesState;

// A verdict without a score: only the state, the model and the newest observed value are meaningful.
scoring::Verdict Unscored(const SeriesEntry& e, SeriesState state) {
  scoring::Verdict v;
  v.state = state;
  if (e.model) v.model = e.model->kind;
  if (!e.window.empty()) {
    for (size_t i = e.window.size(); i-- > 0;) {
      if (e.window.kind(i) == PointKind::kObserved) {
        v.value = e.window.value(i);
        break;
      }
    }
  }
  if (e.last_observed_ms) v.timestamp_ms = *e.last_observed_ms;
  return v;
}

Evaluation Finish(SeriesEntry& e, Evaluation ev) {
  e.verdict = ev.verdict;
  return ev;
}

// Fits on the window through `up_to_slot`; on success replaces the entry's model.
Status Fit(SeriesEntry& e, int64_t up_to_slot, const EvaluateOptions& o, int64_t now_ms,
           scoring::ModelWorkspace& ws) {
  FitInput input;
  if (!e.window.BuildFitInput(up_to_slot, input)) {
    return MakeError(ErrorCode::kInvalidInput, "no observed samples to fit");
  }
  Result<scoring::FittedModel> m = scoring::FitModel(input.values, input.observed, o.model, ws);
  if (!m) return tl::unexpected(m.error());
  e.model = std::make_shared<const scoring::FittedModel>(std::move(*m));
  e.model_end_slot = input.last_slot;
  e.last_fit_ms = now_ms;
  return {};
}

}  // namespace

Evaluation Evaluate(SeriesEntry& e, const StoreOptions& store, const EvaluateOptions& o, int64_t now_ms,
                    scoring::ModelWorkspace& ws) {
  Evaluation ev;
  if (e.stale) {
    ev.verdict = e.verdict;
    ev.verdict.state = SeriesState::kStale;
    return Finish(e, ev);
  }
  auto unscored = [&](SeriesState state) {
    e.flag = {};
    ev.verdict = Unscored(e, state);
    return Finish(e, ev);
  };
  if (e.window.empty() || !e.last_observed_ms ||
      e.window.size() - 1 < static_cast<size_t>(o.model.min_points)) {
    return unscored(SeriesState::kInsufficientData);
  }
  const int64_t max_age_ms = (static_cast<int64_t>(store.max_gap_points) + 1) * store.step.count();
  if (now_ms - *e.last_observed_ms > max_age_ms ||
      e.window.observed_since_long_gap() < static_cast<size_t>(store.resume_points)) {
    return unscored(SeriesState::kGap);
  }

  const int64_t newest = e.window.last_slot();  // always observed: the window ends with a real sample
  if (!e.model) {
    if (!o.allow_fit) return unscored(SeriesState::kWarmingUp);
    ev.fit_status = Fit(e, newest - 1, o, now_ms, ws);
    if (!ev.fit_status) return unscored(SeriesState::kWarmingUp);
    ev.fitted = true;
    e.last_scored_slot = newest - 1;  // everything older is the first fit's history
  }

  // Score the new observed samples in time order against the model fitted on earlier data.
  const int64_t first = e.window.first_slot();
  const int64_t from = e.last_scored_slot ? *e.last_scored_slot + 1 : first;
  for (int64_t slot = std::max(from, first); slot <= newest; ++slot) {
    const size_t i = static_cast<size_t>(slot - first);
    if (e.window.kind(i) != PointKind::kObserved) continue;
    const int64_t steps = std::max<int64_t>(1, slot - e.model_end_slot);
    scoring::PointScore s = scoring::ScorePoint(*e.model, e.window.value(i), steps);
    const int64_t ts = slot * store.step.count();
    scoring::FlagStep f = scoring::AdvanceFlag(e.flag, s, o.model.persistence, ts);
    e.flag = f.state;
    e.last_scored_slot = slot;
    ++ev.scored;

    scoring::Verdict& v = ev.verdict;
    v.state = SeriesState::kOk;
    v.model = e.model->kind;
    v.timestamp_ms = ts;
    v.value = e.window.value(i);
    v.expected = s.expected;
    v.lower = s.lower;
    v.upper = s.upper;
    v.zscore = s.zscore;
    v.threshold = e.model->threshold;
    v.score = s.score;
    v.anomalous = f.flag;
    v.anomalous_since_ms = f.anomalous_since_ms;
  }
  if (ev.scored == 0) {
    // Nothing new this cycle, data still fresh: the last scored verdict holds (also one kept through a stale
    // spell; only scored verdicts have a threshold, which is > 0).
    if (e.verdict.threshold > 0) {
      ev.verdict = e.verdict;
      ev.verdict.state = SeriesState::kOk;
    } else {
      ev.verdict = Unscored(e, SeriesState::kWarmingUp);
    }
  }

  if (!ev.fitted && o.allow_fit && now_ms - e.last_fit_ms >= o.refit_interval.count()) {
    ev.fit_status = Fit(e, newest, o, now_ms, ws);
    ev.fitted = ev.fit_status.has_value();
  }
  return Finish(e, ev);
}

bool SeasonalityDetectionDue(const SeriesEntry& entry, bool detected_before, int64_t now_ms,
                             std::chrono::milliseconds refit_interval) {
  return !detected_before || (entry.model && now_ms - entry.last_fit_ms >= refit_interval.count());
}

std::vector<int> DetectPeriodsOnWindow(const SeriesEntry& entry, std::chrono::milliseconds step) {
  FitInput input;
  if (!entry.window.BuildFitInput(entry.window.last_slot(), input)) return {};
  Result<std::vector<int>> found =
      scoring::DetectPeriods(input.values, step, static_cast<int>(input.values.size() / 2));
  return found ? std::move(*found) : std::vector<int>{};
}

}  // namespace anomaly::series
