#include "anomaly/series/evaluate.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "anomaly/scoring/scorer.h"
#include "anomaly/scoring/seasonality.h"

namespace anomaly::series {

namespace {

using scoring::SeriesState;

// The most errors an episode keeps for its re-baselining median (a day of 1-minute samples is 1,440).
constexpr size_t kMaxEpisodeErrors = 4096;

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

// Fits on the window through `up_to_slot`, with the entry's level shifts applied; on success replaces
// the entry's model.
Status Fit(SeriesEntry& e, int64_t up_to_slot, const EvaluateOptions& o, int64_t now_ms,
           scoring::ModelWorkspace& ws) {
  FitInput input;
  if (!e.window.BuildFitInput(up_to_slot, input)) {
    return MakeError(ErrorCode::kInvalidInput, "no observed samples to fit");
  }
  const int64_t first_slot = input.last_slot - static_cast<int64_t>(input.values.size()) + 1;
  const int64_t size = static_cast<int64_t>(input.values.size());
  std::erase_if(e.level_shifts, [&](const SeriesEntry::LevelShift& s) { return s.slot <= e.window.first_slot(); });
  for (const SeriesEntry::LevelShift& shift : e.level_shifts) {
    const int64_t before = std::clamp<int64_t>(shift.slot - first_slot, 0, size);
    for (int64_t i = 0; i < before; ++i) input.values[static_cast<size_t>(i)] += shift.delta;
  }
  Result<scoring::FittedModel> m = scoring::FitModel(input.values, input.observed, o.model, ws);
  if (!m) return tl::unexpected(m.error());
  // A first model counts as refit_phase of an interval old, so that the next refit falls at the series'
  // own phase (series_store.h); later fits are refit_interval apart.
  const bool first = e.model == nullptr;
  e.model = std::make_shared<const scoring::FittedModel>(std::move(*m));
  e.model_end_slot = input.last_slot;
  e.last_fit_ms = now_ms;
  if (first) {
    e.last_fit_ms -= static_cast<int64_t>(e.refit_phase * static_cast<double>(o.refit_interval.count()));
  }
  return {};
}

// The calibration of this series: the configured one, with the lattice tail for counts (likelihood.h).
scoring::CalibrationParams CalibrationFor(const SeriesEntry& e, const EvaluateOptions& o) {
  scoring::CalibrationParams p = o.model.calibration;
  p.lattice = e.model && e.model->count_dispersion > 0;
  return p;
}

// The noise model's own tail for a sample, where the model has one (counts; likelihood.h's NoiseTail).
scoring::NoiseTail NoiseFor(const scoring::FittedModel& m, const scoring::PointScore& s, double value,
                            const scoring::CalibrationParams& cal) {
  scoring::NoiseTail n;
  if (!(m.count_dispersion > 0)) return n;
  n.log_tail = scoring::CountNegLog10Tail(m, value, s.expected);
  // The band is the upward one: a count's spikes are upward, and its lower tail is the normal one.
  if (cal.direction != scoring::Direction::kDown) {
    n.z_needed = scoring::CountQuantileZ(m, s.expected, scoring::DecisionTarget(cal));
  }
  return n;
}

// The same for the first fit's i-th history sample, as FitModel measured it (ws.history_count_tail).
scoring::NoiseTail HistoryNoise(const scoring::ModelWorkspace& ws, size_t i) {
  scoring::NoiseTail n;
  if (i < ws.history_count_tail.size()) n.log_tail = ws.history_count_tail[i];
  return n;
}

scoring::EpisodeParams EpisodeParamsFor(const EvaluateOptions& o) {
  return {.persistence = o.model.persistence, .resolve_ms = o.resolve_after.count()};
}

// A new series' first fit: its in-sample z-scores, oldest first, seed the calibrator, learned as the live
// path learns (not inside an episode until it is judged for re-baselining); then, with
// with_episode, the last resolve_after + rebaseline_after of them are judged again against the seeded
// calibrator (without learning) to rebuild the episode in progress, if any, with its real start, and the
// samples the baseline leaves out. Judging while seeding would test early samples against a spread learned from a few dozen.
void Replay(SeriesEntry& e, const StoreOptions& store, const EvaluateOptions& o, const scoring::ModelWorkspace& ws,
            bool with_episode) {
  const scoring::CalibrationParams cal = CalibrationFor(e, o);
  const scoring::EpisodeParams ep = EpisodeParamsFor(o);
  const int64_t end_ms = e.model_end_slot * store.step.count();
  // Seeding learns as the live path does: not inside an episode until it has lasted rebaseline_after. The
  // history's own incidents are then not learned as normal; learned, three past x3 surges in a 3-day
  // history made the spike tail's mean excess so large that a new one scored below 2.
  scoring::EpisodeState seeding;
  for (size_t i = 0; i < ws.history_z.size(); ++i) {
    const int64_t ts = (e.model_end_slot - ws.history_age[i]) * store.step.count();
    const bool learn = !seeding.open || ts - seeding.start_ms >= o.rebaseline_after.count();
    const scoring::Judgement j =
        scoring::Judge(e.calibrator, ws.history_z[i], cal, learn, HistoryNoise(ws, i));
    const scoring::EpisodeStep step = scoring::AdvanceEpisode(seeding, j, ep, ts);
    // A closed episode that was withheld all along (it closed before rebaseline_after, when seeding starts
    // learning inside it) is learned as one event (LearnEpisode), as the live path does.
    if (step.closed && ts - seeding.start_ms < o.rebaseline_after.count()) {
      scoring::LearnEpisode(e.calibrator, step.state, cal);
    }
    seeding = step.state;
  }
  if (!with_episode) return;
  const int64_t span_ms = (o.resolve_after + o.rebaseline_after).count();
  scoring::CalibratorState judge = e.calibrator;
  judge.recent_count = 0;
  for (size_t i = 0; i < ws.history_z.size(); ++i) {
    const int64_t ts = (e.model_end_slot - ws.history_age[i]) * store.step.count();
    if (end_ms - ts > span_ms) continue;
    scoring::Judgement j = scoring::Judge(judge, ws.history_z[i], cal, /*learn=*/false, HistoryNoise(ws, i));
    if (j.anomalous) e.baseline_excluded.push_back(e.model_end_slot - ws.history_age[i]);
    e.episode = scoring::AdvanceEpisode(e.episode, j.anomalous, j.score, ep, ts).state;
  }
  e.calibrator.recent = judge.recent;
  e.calibrator.recent_means = judge.recent_means;
  e.calibrator.recent_count = judge.recent_count;
  e.calibrator.recent_head = judge.recent_head;
  e.episode_errors.clear();
}

// A refit that changed the model's kind or periods: the calibrator described the old model's errors, which
// can be far larger (a non-seasonal baseline on a daily cycle), so it starts again from the new fit's own.
void RecalibrateIfModelChanged(SeriesEntry& e, const scoring::FittedModel* before, const StoreOptions& store,
                               const EvaluateOptions& o, const scoring::ModelWorkspace& ws) {
  if (before == nullptr || !e.model || (before->kind == e.model->kind && before->periods == e.model->periods)) {
    return;
  }
  e.calibrator = {};
  Replay(e, store, o, ws, /*with_episode=*/false);
}

// The median of the open episode's errors when they sit on one side by more than the smallest anomalous
// deviation (a lasting shift, not spikes of both signs); 0 otherwise.
double ShiftOf(SeriesEntry& e, const EvaluateOptions& o, std::vector<double>& scratch) {
  if (e.episode_errors.empty() || !e.model) return 0;
  scratch.assign(e.episode_errors.begin(), e.episode_errors.end());
  auto mid = scratch.begin() + static_cast<std::ptrdiff_t>(scratch.size() / 2);
  std::nth_element(scratch.begin(), mid, scratch.end());
  const double median = *mid;
  return std::abs(median) >= o.model.calibration.min_abs_z * e.model->scale.scale ? median : 0.0;
}

// A baseline model's expected value at window index i: the median of the baseline_window points before
// it, with the entry's level shifts applied as Fit applies them, which is the quantity the fit's remainders
// (its scale and threshold) measured; a refit every hour otherwise held the expected value for an hour
// while a daily cycle moved on (an offline replica of the VictoriaMetrics backtest test at 1-minute steps:
// 87 to 462 flags outside its incidents, depending on the hour it ran; 135 at every hour with this).
// Points inside a long gap and samples scored anomalous (baseline_excluded) are skipped: the baseline
// follows normal samples only, as the calibrator learns from them only, so a 15-minute x3 surge is not the
// expected value after 15 minutes. The model's own level when nothing precedes i.
double BaselineExpected(const SeriesEntry& e, size_t i, std::vector<double>& scratch) {
  const auto w = static_cast<size_t>(e.model->baseline_window);
  const int64_t first = e.window.first_slot();
  auto excluded = e.baseline_excluded.end();  // walks back in step with j
  scratch.clear();
  for (size_t j = i; j-- > 0 && scratch.size() < w;) {
    if (e.window.kind(j) == PointKind::kMissing) continue;
    const int64_t slot = first + static_cast<int64_t>(j);
    while (excluded != e.baseline_excluded.begin() && *(excluded - 1) > slot) --excluded;
    if (excluded != e.baseline_excluded.begin() && *(excluded - 1) == slot) continue;
    double v = e.window.value(j);
    for (const SeriesEntry::LevelShift& shift : e.level_shifts) {
      if (slot < shift.slot) v += shift.delta;
    }
    scratch.push_back(v);
  }
  if (scratch.empty()) return e.model->level;
  // The median as scoring::Median takes it (the mean of the two middle values for an even count), in place.
  const auto mid = scratch.begin() + static_cast<std::ptrdiff_t>(scratch.size() / 2);
  std::nth_element(scratch.begin(), mid, scratch.end());
  if (scratch.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(scratch.begin(), mid)) / 2;
}

// Records that the sample at `slot` (newer than any recorded) was scored anomalous, and forgets the slots
// that left the window.
void ExcludeFromBaseline(SeriesEntry& e, int64_t slot) {
  std::erase_if(e.baseline_excluded, [&](int64_t s) { return s < e.window.first_slot(); });
  e.baseline_excluded.push_back(slot);
}

}  // namespace

double FeedbackMarginAt(const SeriesEntry& e, int64_t t_ms) {
  if (!(e.feedback_margin > 0)) return 0;
  const double age = static_cast<double>(std::max<int64_t>(0, t_ms - e.feedback_margin_ms));
  const double halvings = age / static_cast<double>(std::chrono::milliseconds(kFeedbackHalfLife).count());
  const double m = std::floor(e.feedback_margin * std::exp2(-halvings) * 100 + 1e-9) / 100;  // 0.3 stays 0.3
  return m >= 0.01 ? m : 0;
}

double AddFalsePositive(SeriesEntry& e, double peak_score, int64_t now_ms) {
  const double now = FeedbackMarginAt(e, now_ms);
  const double peak = std::isfinite(peak_score) ? peak_score - 1 + 0.1 : kMaxFeedbackMargin;
  e.feedback_margin = std::min(kMaxFeedbackMargin, std::max(now + 0.25, peak));
  e.feedback_margin_ms = now_ms;
  return e.feedback_margin;
}

void EndEpisode(SeriesEntry& e) {
  e.episode = {};
  e.episode_errors.clear();
  e.relearning = false;
  e.rebaseline_judged = false;
}

Evaluation Evaluate(SeriesEntry& e, const StoreOptions& store, const EvaluateOptions& o, int64_t now_ms,
                    scoring::ModelWorkspace& ws) {
  Evaluation ev;
  if (e.stale) {
    ev.verdict = e.verdict;
    ev.verdict.state = SeriesState::kStale;
    return Finish(e, ev);
  }
  auto unscored = [&](SeriesState state) {
    EndEpisode(e);
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
    ev.fit_status = Fit(e, newest - 1, o, now_ms, ws);
    if (!ev.fit_status) return unscored(SeriesState::kWarmingUp);
    ev.fitted = true;
    e.last_scored_slot = newest - 1;  // everything older is the first fit's history
    if (e.calibrator.seen == 0) Replay(e, store, o, ws, /*with_episode=*/true);
  }

  // Score the new observed samples in time order against the model fitted on earlier data.
  const scoring::EpisodeParams ep = EpisodeParamsFor(o);
  const int64_t first = e.window.first_slot();
  const int64_t from = e.last_scored_slot ? *e.last_scored_slot + 1 : first;
  for (int64_t slot = std::max(from, first); slot <= newest; ++slot) {
    const size_t i = static_cast<size_t>(slot - first);
    if (e.window.kind(i) != PointKind::kObserved) continue;
    const int64_t steps = std::max<int64_t>(1, slot - e.model_end_slot);
    const double value = e.window.value(i);
    scoring::PointScore s = e.model->kind == scoring::ModelKind::kBaseline
                                ? scoring::ScoreAgainst(*e.model, value, BaselineExpected(e, i, ws.scratch))
                                : scoring::ScorePoint(*e.model, value, steps);
    // Inside an episode the calibrator does not learn, until the episode is judged for re-baselining:
    // then a level shift has been learned by the model, and any other lasting change (a wider spread) is
    // the new normal of the errors.
    const bool learn = !e.episode.open || e.rebaseline_judged;
    const int64_t ts = slot * store.step.count();
    scoring::CalibrationParams cal = CalibrationFor(e, o);
    // Feedback's margin: the decision needs (1 + margin) times the tail; the score is reported unscaled.
    const double margin = FeedbackMarginAt(e, ts);
    cal.log_threshold *= 1 + margin;
    scoring::Judgement j =
        scoring::Judge(e.calibrator, s.zscore, cal, learn, NoiseFor(*e.model, s, value, cal));
    j.score *= 1 + margin;
    if (j.anomalous) ExcludeFromBaseline(e, slot);
    scoring::EpisodeStep step = scoring::AdvanceEpisode(e.episode, j, ep, ts);
    // An episode whose samples the calibrator never learned is learned as one event when it ends.
    if (step.closed && !e.rebaseline_judged) scoring::LearnEpisode(e.calibrator, step.state, cal);
    if (step.opened || !step.flag) {
      e.episode_errors.clear();
      e.relearning = false;
      e.rebaseline_judged = false;
    }
    if (step.flag && e.episode_errors.size() < kMaxEpisodeErrors) e.episode_errors.push_back(value - s.expected);
    e.episode = step.state;
    e.last_scored_slot = slot;
    ++ev.scored;
    if (o.report_z_scores) ev.z_scores.push_back({slot, value, static_cast<float>(s.zscore)});

    scoring::Verdict& v = ev.verdict;
    v.state = SeriesState::kOk;
    v.model = e.model->kind;
    v.timestamp_ms = ts;
    v.value = value;
    v.expected = s.expected;
    v.zscore = s.zscore;
    v.threshold = j.threshold > 0 ? j.threshold : o.model.calibration.min_abs_z;
    v.lower = s.expected - v.threshold * s.scale;
    v.upper = s.expected + v.threshold * s.scale;
    v.score = j.score;
    v.anomalous = step.flag;
    v.anomalous_since_ms = step.flag ? e.episode.start_ms : 0;
    v.peak_score = step.flag ? e.episode.peak_score : 0;

    // A lasting change: learn it now. The fit moves the points before the episode by the episode's
    // median error, so the seasonal shape is kept and the level is the new one; the episode stays open
    // (flagged once) and resolves when the new normal has held for resolve_after.
    if (step.flag && !e.rebaseline_judged && o.rebaseline_after.count() > 0 &&
        ts - e.episode.start_ms >= o.rebaseline_after.count()) {
      // Judged once per episode: errors of both signs are not a new level, and later ones will not be.
      e.rebaseline_judged = true;
      const double delta = ShiftOf(e, o, ws.scratch);
      if (delta != 0) {
        const int64_t shift_slot = SlotOf(e.episode.start_ms, store.step);
        e.level_shifts.push_back({.slot = shift_slot, .delta = delta});
        // The episode's samples are the new normal, for the baseline too.
        std::erase_if(e.baseline_excluded, [&](int64_t excluded) { return excluded >= shift_slot; });
        if (Fit(e, slot, o, now_ms, ws)) {
          ev.fitted = true;
          e.relearning = true;
          // The short mean held the old level's errors; the new model's start afresh.
          e.calibrator.recent_count = 0;
        }
      }
    }
    v.relearning = step.flag && e.relearning;
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

  if (!ev.fitted && now_ms - e.last_fit_ms >= o.refit_interval.count()) {
    std::shared_ptr<const scoring::FittedModel> before = e.model;
    ev.fit_status = Fit(e, newest, o, now_ms, ws);
    ev.fitted = ev.fit_status.has_value();
    if (ev.fitted) RecalibrateIfModelChanged(e, before.get(), store, o, ws);
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
  scoring::SeasonalityOptions options;
  options.calendar_only = true;
  Result<std::vector<int>> found =
      scoring::DetectPeriods(input.values, step, static_cast<int>(input.values.size() / 2), options);
  return found ? std::move(*found) : std::vector<int>{};
}

bool UpdatePeriodChoice(PeriodChoice& choice, std::vector<int> answer, bool first, int64_t now_ms,
                        std::chrono::milliseconds step) {
  if (first) {
    choice.current = std::move(answer);
    choice.candidate.reset();
    return true;
  }
  if (answer == choice.current) {
    choice.candidate.reset();
    return false;
  }
  if (choice.candidate != answer) {
    choice.candidate = std::move(answer);
    choice.candidate_since_ms = now_ms;
    return false;
  }
  int longest = 0;
  for (int p : choice.current) longest = std::max(longest, p);
  for (int p : *choice.candidate) longest = std::max(longest, p);
  if (now_ms - choice.candidate_since_ms < static_cast<int64_t>(longest) * step.count()) return false;
  choice.current = std::move(*choice.candidate);
  choice.candidate.reset();
  return true;
}

}  // namespace anomaly::series
