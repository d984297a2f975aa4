#include "anomaly/series/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::series {
namespace {

using ::anomaly::testing::IsOk;
using scoring::SeriesState;
using namespace std::chrono_literals;

constexpr int64_t kStep = 60'000;
constexpr int kPeriod = 24;

// A seasonal series with seeded Gaussian noise (sigma 0.5), one sample per slot.
class SeasonalSource {
 public:
  explicit SeasonalSource(uint32_t seed) : rng_(seed) {}
  Sample At(int64_t slot) {
    double v = 100 + 10 * std::sin(2 * std::numbers::pi * static_cast<double>(slot) / kPeriod) + noise_(rng_);
    return {slot * kStep, v};
  }
  std::vector<Sample> Range(int64_t first, int64_t count) {
    std::vector<Sample> out;
    for (int64_t s = first; s < first + count; ++s) out.push_back(At(s));
    return out;
  }

 private:
  std::mt19937 rng_;
  std::normal_distribution<double> noise_{0, 0.5};
};

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.step = std::chrono::milliseconds(kStep);
    o.capacity_points = 24 * 20;
    o.max_gap_points = 3;
    o.resume_points = 3;
    o.max_series = 10;
    Result<SeriesStore> s = SeriesStore::Create(o);
    ASSERT_THAT(s, IsOk());
    store_.emplace(std::move(*s));
    eval_.model.periods = {kPeriod};
    eval_.model.persistence = 2;
    // The first fit seeds the calibrator with 239 in-sample z-scores: judge from then on. Episodes end
    // with the first normal sample unless a test says otherwise.
    eval_.model.calibration.min_history = 100;
    eval_.resolve_after = 0ms;
  }
  SeriesEntry& Entry() { return *store_->Find(labels_); }
  Evaluation Run(int64_t now_slot) { return Evaluate(Entry(), store_->options(), eval_, now_slot * kStep, ws_); }

  Labels labels_ = MakeLabels({{"job", "api"}});
  std::optional<SeriesStore> store_;
  EvaluateOptions eval_;
  scoring::ModelWorkspace ws_;
};

TEST_F(EvaluateTest, InsufficientDataUntilMinPoints) {
  SeasonalSource src(1);
  store_->Ingest(labels_, src.Range(0, 5), 5 * kStep);
  Evaluation ev = Run(5);
  EXPECT_EQ(ev.verdict.state, SeriesState::kInsufficientData);
  EXPECT_EQ(Entry().verdict.state, SeriesState::kInsufficientData);
  EXPECT_EQ(Entry().model, nullptr);
}

TEST_F(EvaluateTest, FirstFitScoresTheNewestSampleOnly) {
  SeasonalSource src(2);
  store_->Ingest(labels_, src.Range(0, 24 * 10), 240 * kStep);
  Evaluation ev = Run(240);
  EXPECT_EQ(ev.verdict.state, SeriesState::kOk);
  EXPECT_TRUE(ev.fitted);
  EXPECT_EQ(ev.scored, 1);  // the first fit scores the newest sample only
  EXPECT_EQ(ev.verdict.model, scoring::ModelKind::kStl);
  EXPECT_EQ(ev.verdict.timestamp_ms, 239 * kStep);
  EXPECT_NEAR(ev.verdict.expected, 100 + 10 * std::sin(2 * std::numbers::pi * 239 / kPeriod), 1.0);
  EXPECT_LT(ev.verdict.score, 1);
  EXPECT_FALSE(ev.verdict.anomalous);
}

TEST_F(EvaluateTest, BaselineUntilTheHistoryHoldsThreePeriods) {
  // Two and a half cycles: a seasonal fit could not outvote a past incident (kMinSeasonalCycles).
  SeasonalSource src(3);
  store_->Ingest(labels_, src.Range(0, 60), 60 * kStep);
  Evaluation ev = Run(60);
  EXPECT_EQ(ev.verdict.state, SeriesState::kOk);
  EXPECT_EQ(ev.verdict.model, scoring::ModelKind::kBaseline);
  Labels other = MakeLabels({{"job", "other"}});
  store_->Ingest(other, src.Range(0, 3 * kPeriod + 1), (3 * kPeriod + 1) * kStep);
  ev = Evaluate(*store_->Find(other), store_->options(), eval_, (3 * kPeriod + 1) * kStep, ws_);
  EXPECT_EQ(ev.verdict.model, scoring::ModelKind::kStl);  // fitted on the 3 cycles before the newest
}

TEST_F(EvaluateTest, TheBaselineFollowsTheLevelBetweenRefits) {
  // A non-seasonal ramp of 1 per step, refitted hourly: every sample is expected at the median of the
  // baseline_window samples before it, the quantity the fit's remainders (scale, threshold) measured, not
  // at the level of the last fit, which 30 steps later is 30 behind.
  eval_.model.periods = {};
  eval_.refit_interval = 1h;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 0.5);
  std::vector<double> values;
  auto sample = [&](int64_t slot) {
    values.push_back(static_cast<double>(slot) + noise(rng));
    return Sample{slot * kStep, values.back()};
  };
  std::vector<Sample> first;
  for (int64_t slot = 0; slot < 100; ++slot) first.push_back(sample(slot));
  store_->Ingest(labels_, first, 100 * kStep);
  Entry().refit_phase = 0;  // no refit in the 30 steps below
  ASSERT_TRUE(Run(100).fitted);
  const double fitted_level = Entry().model->level;
  const int w = Entry().model->baseline_window;
  ASSERT_EQ(w, 30);
  for (int64_t slot = 100; slot < 130; ++slot) {
    const std::vector<Sample> next = {sample(slot)};
    store_->Ingest(labels_, next, (slot + 1) * kStep);
    Evaluation ev = Run(slot + 1);
    ASSERT_FALSE(ev.fitted) << slot;
    std::vector<double> before(values.end() - 1 - w, values.end() - 1);
    std::sort(before.begin(), before.end());
    // The window keeps float32 differences from its first value (sample_window.h): ~1e-5 here.
    EXPECT_NEAR(ev.verdict.expected, (before[w / 2 - 1] + before[w / 2]) / 2, 1e-4) << slot;
    EXPECT_FALSE(ev.verdict.anomalous) << slot;
  }
  EXPECT_GT(Entry().verdict.expected, fitted_level + 25);
}

TEST_F(EvaluateTest, TheBaselineDoesNotFollowALastingIncident) {
  // A level of 100 (noise 0.5) that jumps to 130 for 40 minutes: the anomalous samples stay out of the
  // trailing median, so they are expected at the old level and flagged throughout (re-baselining, after
  // rebaseline_after = 3h, is what would learn a lasting change). Taken into it, the expected value would
  // have been 130 after 15 of them, and they would have stopped being anomalous.
  eval_.model.periods = {};
  std::mt19937 rng(8);
  std::normal_distribution<double> noise(0, 0.5);
  std::vector<Sample> history;
  for (int64_t slot = 0; slot < 300; ++slot) history.push_back({slot * kStep, 100 + noise(rng)});
  store_->Ingest(labels_, history, 300 * kStep);
  ASSERT_TRUE(Run(300).fitted);
  for (int64_t slot = 300; slot < 340; ++slot) {
    const std::vector<Sample> next = {{slot * kStep, 130 + noise(rng)}};
    store_->Ingest(labels_, next, (slot + 1) * kStep);
    Evaluation ev = Run(slot + 1);
    EXPECT_NEAR(ev.verdict.expected, 100, 1) << slot;
    EXPECT_TRUE(ev.verdict.anomalous || slot == 300) << slot;  // persistence 2
  }
  // The next normal sample is expected at the old level too, and is not anomalous.
  const std::vector<Sample> back = {{340 * kStep, 100 + noise(rng)}};
  store_->Ingest(labels_, back, 341 * kStep);
  Evaluation ev = Run(341);
  EXPECT_NEAR(ev.verdict.expected, 100, 1);
  EXPECT_FALSE(ev.verdict.anomalous);
}

TEST_F(EvaluateTest, PersistenceCountsSamplesWithinOneCycle) {
  for (uint32_t seed : {4u, 5u, 6u}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    store_->Expire(std::numeric_limits<int64_t>::max());
    SeasonalSource src(seed);
    store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
    ASSERT_EQ(Run(240).verdict.state, SeriesState::kOk);

    // Next cycle: 5 normal samples, then two spikes of +15 (30 sigma) in the same cycle.
    std::vector<Sample> next = src.Range(240, 7);
    next[5].value += 15;
    next[6].value += 15;
    store_->Ingest(labels_, next, 247 * kStep);
    Evaluation ev = Run(247);
    EXPECT_EQ(ev.scored, 7);
    EXPECT_EQ(ev.verdict.state, SeriesState::kOk);
    EXPECT_GE(ev.verdict.score, 1);
    EXPECT_TRUE(ev.verdict.anomalous);
    EXPECT_EQ(ev.verdict.anomalous_since_ms, 245 * kStep);

    // The spikes end: the flag drops within the short mean's window (resolve_after 0 here).
    store_->Ingest(labels_, src.Range(247, 10), 257 * kStep);
    ev = Run(257);
    EXPECT_EQ(ev.scored, 10);
    EXPECT_FALSE(ev.verdict.anomalous);
    EXPECT_EQ(ev.verdict.anomalous_since_ms, 0);
  }
}

TEST_F(EvaluateTest, SingleSpikeDoesNotFlagWithPersistenceTwo) {
  SeasonalSource src(7);
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  ASSERT_EQ(Run(240).verdict.state, SeriesState::kOk);
  std::vector<Sample> next = src.Range(240, 1);
  next[0].value += 15;
  store_->Ingest(labels_, next, 241 * kStep);
  Evaluation ev = Run(241);
  EXPECT_GE(ev.verdict.score, 1);
  EXPECT_FALSE(ev.verdict.anomalous);
}

TEST_F(EvaluateTest, LastingShiftIsFlaggedOnceThenLearned) {
  // A deploy doubles the error floor: +6 (12 sigma) from slot 240 on, one sample per cycle.
  eval_.resolve_after = 30min;
  eval_.rebaseline_after = 60min;
  eval_.refit_interval = 24h;  // no scheduled refit: only the re-baselining can learn the shift
  SeasonalSource src(11);
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  ASSERT_EQ(Run(240).verdict.state, SeriesState::kOk);
  int onsets = 0, relearning = 0;
  bool was = false;
  Evaluation ev;
  for (int64_t slot = 240; slot < 240 + 24 * 5; ++slot) {
    std::vector<Sample> next = src.Range(slot, 1);
    next[0].value += 6;
    store_->Ingest(labels_, next, (slot + 1) * kStep);
    ev = Run(slot + 1);
    ASSERT_EQ(ev.verdict.state, SeriesState::kOk);
    onsets += ev.verdict.anomalous && !was;
    relearning += ev.verdict.relearning;
    was = ev.verdict.anomalous;
  }
  EXPECT_EQ(onsets, 1) << "one flag per incident";
  EXPECT_GT(relearning, 0) << "the episode is shown as re-learning";
  EXPECT_FALSE(ev.verdict.anomalous) << "the new level is normal within resolve_after of the re-baselining";
  const double truth = 106 + 10 * std::sin(2 * std::numbers::pi * (240 + 24 * 5 - 1) / kPeriod);
  EXPECT_NEAR(ev.verdict.expected, truth, 1.5) << "expected follows the new level, seasonal shape kept";
}

TEST_F(EvaluateTest, ARestartKeepsAnOngoingIncidentAndItsStart) {
  // The history's last 6 samples are an incident; a process started now replays the history through the
  // calibrator and the episode, so the incident is flagged at once with its real start.
  SeasonalSource src(12);
  std::vector<Sample> history = src.Range(0, 240);
  for (size_t i = 234; i < 240; ++i) history[i].value += 15;
  store_->Ingest(labels_, history, 240 * kStep);
  Evaluation ev = Run(240);
  ASSERT_EQ(ev.verdict.state, SeriesState::kOk);
  EXPECT_TRUE(ev.verdict.anomalous);
  // The start is the incident's, within two samples: the fit's trend bends towards an incident at the very
  // end of its window, which shrinks the in-sample errors of the incident's first samples.
  EXPECT_GE(ev.verdict.anomalous_since_ms, 234 * kStep);
  EXPECT_LE(ev.verdict.anomalous_since_ms, 236 * kStep);
}

TEST_F(EvaluateTest, NoNewSamplesKeepsTheVerdictWithoutRescoring) {
  SeasonalSource src(8);
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  Evaluation first = Run(240);
  Evaluation again = Run(241);
  EXPECT_EQ(again.scored, 0);
  EXPECT_EQ(again.verdict.state, SeriesState::kOk);
  EXPECT_EQ(again.verdict.timestamp_ms, first.verdict.timestamp_ms);
}

TEST_F(EvaluateTest, OldNewestSampleIsAGap) {
  SeasonalSource src(9);
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  ASSERT_EQ(Run(240).verdict.state, SeriesState::kOk);
  // Newest sample at slot 239; max age is (3 + 1) steps.
  store_->Ingest(labels_, {}, 243 * kStep);
  EXPECT_EQ(Run(243).verdict.state, SeriesState::kOk);
  store_->Ingest(labels_, {}, 244 * kStep);
  Evaluation gap = Run(244);
  EXPECT_EQ(gap.verdict.state, SeriesState::kGap);
  EXPECT_EQ(gap.verdict.timestamp_ms, 239 * kStep);
}

TEST_F(EvaluateTest, LongGapIsAGapUntilEnoughFreshSamples) {
  SeasonalSource src(10);
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  ASSERT_EQ(Run(240).verdict.state, SeriesState::kOk);
  // 10 missing slots (> max_gap_points 3), then data resumes one sample per cycle.
  for (int64_t slot = 250; slot < 252; ++slot) {
    store_->Ingest(labels_, src.Range(slot, 1), (slot + 1) * kStep);
    EXPECT_EQ(Run(slot + 1).verdict.state, SeriesState::kGap) << slot;
  }
  store_->Ingest(labels_, src.Range(252, 1), 253 * kStep);
  Evaluation ev = Run(253);
  EXPECT_EQ(ev.verdict.state, SeriesState::kOk);
  EXPECT_EQ(ev.scored, 3);  // the samples that arrived during the gap state are scored now, in order
  EXPECT_LT(ev.verdict.score, 1);  // the season is continued by phase across the gap
}

TEST_F(EvaluateTest, RefitHonoursTheInterval) {
  SeasonalSource src(11);
  eval_.refit_interval = 10min;
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  Entry().refit_phase = 0;  // refits a whole interval after the first fit (TheFirstRefitFallsAtTheSeriesPhase)
  ASSERT_TRUE(Run(240).fitted);
  std::shared_ptr<const scoring::FittedModel> first = Entry().model;
  store_->Ingest(labels_, src.Range(240, 5), 245 * kStep);
  EXPECT_FALSE(Run(245).fitted);
  EXPECT_EQ(Entry().model, first);
  store_->Ingest(labels_, src.Range(245, 5), 250 * kStep);
  Evaluation ev = Run(250);
  EXPECT_TRUE(ev.fitted);
  EXPECT_NE(Entry().model, first);
  EXPECT_EQ(Entry().model_end_slot, 249);
}

TEST_F(EvaluateTest, TheFirstRefitFallsAtTheSeriesPhase) {
  // A fleet's series all fit first in one cycle; each then refits at its own phase of the interval, so
  // their refits spread over it instead of all landing on one cycle every refit_interval (issue 16).
  EXPECT_EQ(RefitPhase(labels_), RefitPhase(MakeLabels({{"job", "api"}}))) << "stable for a label set";
  EXPECT_EQ(RefitPhase(Labels{}), 0);
  double lowest = 1, highest = 0, sum = 0;
  for (int i = 0; i < 1000; ++i) {
    const double phase = RefitPhase(MakeLabels({{"pod", "checkout-" + std::to_string(i)}}));
    ASSERT_GE(phase, 0);
    ASSERT_LT(phase, 1);
    lowest = std::min(lowest, phase);
    highest = std::max(highest, phase);
    sum += phase;
  }
  EXPECT_LT(lowest, 0.01);
  EXPECT_GT(highest, 0.99);
  EXPECT_NEAR(sum / 1000, 0.5, 0.05);

  SeasonalSource src(11);
  eval_.refit_interval = 10min;
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  EXPECT_GT(Entry().refit_phase, 0) << "set by the store from the labels";
  Entry().refit_phase = 0.3;
  ASSERT_TRUE(Run(240).fitted);
  std::vector<int64_t> fits;
  for (int64_t slot = 241; slot <= 270; ++slot) {
    store_->Ingest(labels_, src.Range(slot - 1, 1), slot * kStep);
    if (Run(slot).fitted) fits.push_back(slot);
  }
  // 10 steps per interval: the first refit 7 steps after the first fit, then every 10.
  EXPECT_THAT(fits, ::testing::ElementsAre(247, 257, 267));
}

TEST_F(EvaluateTest, SeasonalityDetectionFindsCalendarPeriodsOnlyAndIsDueAtEachRefit) {
  // 24 minutes is a clear cycle but not the calendar's: seasonality auto keeps to 1h, 1d and 1w.
  SeasonalSource src(12);
  eval_.refit_interval = 10min;
  store_->Ingest(labels_, src.Range(0, 240), 240 * kStep);
  EXPECT_THAT(DetectPeriodsOnWindow(Entry(), std::chrono::milliseconds(kStep)), ::testing::IsEmpty());
  const Labels hourly = MakeLabels({{"job", "hourly"}});
  std::mt19937 rng(14);
  std::normal_distribution<double> noise(0, 0.5);
  std::vector<Sample> samples;
  for (int64_t s = 0; s < 240; ++s) {
    samples.push_back({s * kStep, 100 + 10 * std::sin(2 * std::numbers::pi * static_cast<double>(s) / 60) +
                                      noise(rng)});
  }
  store_->Ingest(hourly, samples, 240 * kStep);
  EXPECT_THAT(DetectPeriodsOnWindow(*store_->Find(hourly), std::chrono::milliseconds(kStep)),
              ::testing::ElementsAre(60));
  EXPECT_TRUE(SeasonalityDetectionDue(Entry(), /*detected_before=*/false, 240 * kStep, eval_.refit_interval));
  // Detected, but no model yet (fits deferred): nothing to redo until a fit.
  EXPECT_FALSE(SeasonalityDetectionDue(Entry(), true, 240 * kStep, eval_.refit_interval));
  Entry().refit_phase = 0;
  ASSERT_TRUE(Run(240).fitted);
  EXPECT_FALSE(SeasonalityDetectionDue(Entry(), true, 245 * kStep, eval_.refit_interval));
  EXPECT_TRUE(SeasonalityDetectionDue(Entry(), true, 250 * kStep, eval_.refit_interval));
}

TEST_F(EvaluateTest, SeasonalityDetectionOnNoiseOrTooLittleHistoryFindsNoPeriod) {
  std::mt19937 rng(13);
  std::normal_distribution<double> noise(0, 1);
  std::vector<Sample> samples;
  for (int64_t s = 0; s < 240; ++s) samples.push_back({s * kStep, 50 + noise(rng)});
  store_->Ingest(labels_, samples, 240 * kStep);
  EXPECT_THAT(DetectPeriodsOnWindow(Entry(), std::chrono::milliseconds(kStep)), ::testing::IsEmpty());

  const Labels other = MakeLabels({{"job", "new"}});
  const std::vector<Sample> one = {{0, 1.0}};
  store_->Ingest(other, one, kStep);
  EXPECT_THAT(DetectPeriodsOnWindow(*store_->Find(other), std::chrono::milliseconds(kStep)),
              ::testing::IsEmpty());
}

TEST_F(EvaluateTest, AFalsePositivesMarginRaisesTheDecisionNotTheScore) {
  // Two copies of one series; B was told a false positive (margin capped at 1: its score must reach 2).
  // The same spike is scored the same on both, B's threshold is higher, and some spike that flags A
  // does not flag B.
  eval_.model.persistence = 1;
  const Labels a = MakeLabels({{"copy", "a"}}), b = MakeLabels({{"copy", "b"}});
  int flagged_a_only = 0;
  for (double spike : {2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 15.0}) {
    SCOPED_TRACE("spike=" + std::to_string(spike));
    store_->Expire(std::numeric_limits<int64_t>::max());
    SeasonalSource src_a(11), src_b(11);
    store_->Ingest(a, src_a.Range(0, 240), 240 * kStep);
    store_->Ingest(b, src_b.Range(0, 240), 240 * kStep);
    ASSERT_EQ(Evaluate(*store_->Find(a), store_->options(), eval_, 240 * kStep, ws_).verdict.state, SeriesState::kOk);
    ASSERT_EQ(Evaluate(*store_->Find(b), store_->options(), eval_, 240 * kStep, ws_).verdict.state, SeriesState::kOk);
    EXPECT_EQ(AddFalsePositive(*store_->Find(b), 50, 240 * kStep), kMaxFeedbackMargin);
    std::vector<Sample> next_a = src_a.Range(240, 1), next_b = src_b.Range(240, 1);
    next_a[0].value += spike;
    next_b[0].value += spike;
    store_->Ingest(a, next_a, 241 * kStep);
    store_->Ingest(b, next_b, 241 * kStep);
    const scoring::Verdict va = Evaluate(*store_->Find(a), store_->options(), eval_, 241 * kStep, ws_).verdict;
    const scoring::Verdict vb = Evaluate(*store_->Find(b), store_->options(), eval_, 241 * kStep, ws_).verdict;
    EXPECT_NEAR(vb.score, va.score, 1e-9 * std::max(1.0, va.score)) << "the score keeps its meaning";
    EXPECT_GT(vb.threshold, va.threshold) << "the band widens";
    if (vb.anomalous) {
      EXPECT_TRUE(va.anomalous);
      EXPECT_GE(vb.score, 2 - 1e-9);
    }
    if (va.anomalous && !vb.anomalous) ++flagged_a_only;
  }
  EXPECT_GT(flagged_a_only, 0) << "some deviation the false positive dismissed no longer flags";
}

TEST(FeedbackMarginTest, RisesPastThePeakCappedAndFadesByHalfEachHalfLife) {
  SeriesEntry e{SampleWindow(10, 3)};
  const int64_t t0 = 1'700'000'000'000;
  const int64_t half_life = std::chrono::milliseconds(kFeedbackHalfLife).count();
  EXPECT_EQ(FeedbackMarginAt(e, t0), 0);
  EXPECT_NEAR(AddFalsePositive(e, 1.2, t0), 0.3, 1e-12);  // the peak, plus 0.1
  EXPECT_NEAR(FeedbackMarginAt(e, t0), 0.3, 1e-12);
  EXPECT_NEAR(AddFalsePositive(e, 1.2, t0), 0.55, 1e-12);  // at least 0.25 more than now
  EXPECT_EQ(AddFalsePositive(e, 9, t0), kMaxFeedbackMargin);  // capped
  EXPECT_EQ(AddFalsePositive(e, 9, t0), kMaxFeedbackMargin);
  EXPECT_NEAR(FeedbackMarginAt(e, t0 + half_life), 0.5, 1e-12);
  EXPECT_NEAR(FeedbackMarginAt(e, t0 + 2 * half_life), 0.25, 1e-12);
  EXPECT_EQ(FeedbackMarginAt(e, t0 + 7 * half_life), 0) << "below 0.01 it ends";
}

TEST(PeriodChoiceTest, TheFirstAnswerIsTakenAndAChangeMustHoldForACycle) {
  const std::chrono::milliseconds step = 5min;
  const int64_t hour = 3'600'000;
  const std::vector<int> none, daily{288};
  PeriodChoice c;
  EXPECT_TRUE(UpdatePeriodChoice(c, none, /*first=*/true, 0, step));
  EXPECT_EQ(c.current, none);
  // A daily answer from hour 1 on: it must hold for a day (the longest period either answer has).
  for (int64_t h = 1; h <= 24; ++h) {
    EXPECT_FALSE(UpdatePeriodChoice(c, daily, false, h * hour, step)) << "hour " << h;
  }
  EXPECT_TRUE(UpdatePeriodChoice(c, daily, false, 25 * hour, step));
  EXPECT_EQ(c.current, daily);
  EXPECT_FALSE(c.candidate.has_value());
}

TEST(PeriodChoiceTest, AnswersThatAlternateNeverChangeThePeriods) {
  // NAB Twitter_volume_GOOG at hourly refits: none, 1d, none, 1d ... (25 changes under the old rule of
  // two detections in a row).
  const std::vector<int> none, daily{288};
  PeriodChoice c;
  UpdatePeriodChoice(c, daily, /*first=*/true, 0, 5min);
  const int64_t hour = 3'600'000;
  for (int64_t h = 1; h <= 24 * 14; ++h) {
    const bool odd_pair = (h / 2) % 2 == 1;  // two refits of one answer, then two of the other
    EXPECT_FALSE(UpdatePeriodChoice(c, odd_pair ? none : daily, false, h * hour, 5min)) << "hour " << h;
  }
  EXPECT_EQ(c.current, daily);
  // A break in the new answer starts its hold again.
  UpdatePeriodChoice(c, none, false, 1000 * hour, 5min);
  UpdatePeriodChoice(c, daily, false, 1010 * hour, 5min);
  EXPECT_FALSE(UpdatePeriodChoice(c, none, false, 1020 * hour, 5min));
  EXPECT_FALSE(UpdatePeriodChoice(c, none, false, 1043 * hour, 5min)) << "23 hours since it came back";
  EXPECT_TRUE(UpdatePeriodChoice(c, none, false, 1044 * hour, 5min));
  EXPECT_EQ(c.current, none);
}

}  // namespace
}  // namespace anomaly::series
