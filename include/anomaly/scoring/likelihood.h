// Calibration: turns a series' stream of forecast z-scores into a score that means the same on every series,
// and the episode state machine that turns scores into one flag per incident. Pure and thread-compatible;
// the state structs are plain values the series stage keeps per series (a few dozen bytes each).
//
// The method is Numenta's anomaly likelihood (Ahmad, Lavin, Purdy, Agha, Neurocomputing 2017) on our own
// raw score: r = log(1 + |z|) for each scored sample, its short mean m over the last `short_window` samples,
// and a long-window model of those short means (exponentially weighted mean and variance, effective span
// `long_window`): a gamma distribution with that mean and variance, where HTM takes a normal one. A short
// mean of non-negative scores is as skewed as they are; for a series whose errors are mostly 0 with a few
// far out (an error ratio of small counts), two such events in one short window are routine, and the
// normal tail called them one in a million (one-sided judgements, where half the raw scores are 0 by
// construction, keep the normal: likelihood.cc). The tail probability of the newest m under that model is what
// a sample is judged by: one noisy point moves m little, a burst or a lasting shift moves it far, and a
// series whose errors are heavy-tailed (counts, latencies) has a wide long-window spread and so does not
// flag on its usual spikes. A single sample far out (a spike) moves m by only r / short_window, so |z| itself is judged too,
// by peaks over threshold (Siffer et al., KDD 2017): the share of |z| above u = mean + 2 sd of |z|, and a
// tail for the excesses over u, exponential in |z| (the Gumbel domain: Gaussian, log-normal, Poisson) or a
// power law (Student t, Pareto: spiky latencies), whichever gives the peaks seen the higher likelihood; the
// exponential widened to a generalised Pareto of shape >= 0 (method of moments) where the excesses are more
// dispersed than an exponential's (peaks of two kinds: an error ratio's). Neither has a finite upper end.
// The sample's tail is the smaller
// of the two (times 2, for the two looks). The decision is -log10(tail probability) >= `log_threshold`, the per-sample
// false-alarm probability a user sets as a time (ThresholdFor).
//
//   CalibratorState c;  EpisodeState e;
//   Judgement j = Judge(c, z, params);                           // score >= 1 is anomalous
//   EpisodeStep s = AdvanceEpisode(e, j.score >= 1, j.score, episode_params, timestamp_ms);  e = s.state;
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>

#include "anomaly/scoring/verdict.h"

namespace anomaly::scoring {

struct CalibrationParams {
  // Samples in the short mean (HTM's averaging window, 10). >= 1.
  int short_window = 10;
  // Effective span of the long-window mean and variance, in samples (>= 1); the daemon sets it from
  // threshold.window (default: the history).
  int long_window = 2016;
  // Short means seen before any sample is judged (>= 1): the spread of fewer is not worth a tail. The first
  // fit seeds them from its own history, so in the daemon this matters only for a series that starts empty.
  int min_history = 300;
  // The decision: -log10 of the tail probability a sample must reach, > 0. ThresholdFor derives it.
  double log_threshold = 6;
  // A sample whose own |z| is below this never counts as anomalous (> 0; threshold.floor, default 3): a
  // very regular series must not flag a deviation of a sigma or two just because its spread is tiny.
  double min_abs_z = 3;
  Direction direction = Direction::kBoth;
  // The series is counts (FittedModel::count_dispersion > 0): its |z| sit on a lattice, and the likelihood
  // of a continuous density on its few distinct peak values is no guide to the tail, so the spike tail
  // stays exponential (never the power law).
  bool lattice = false;
};

// -log10(step / false_alarm_interval): the per-sample tail probability that, on normal data, raises about
// one alarm per false_alarm_interval (at most: alarms are episodes of several samples). REQUIRES both > 0.
double ThresholdFor(std::chrono::milliseconds step, std::chrono::milliseconds false_alarm_interval);

struct CalibratorState {
  std::array<float, 32> recent{};  // ring of the newest raw scores r (short_window <= 32)
  std::array<float, 32> recent_means{};  // the short mean as of each of them; learned as they leave
  int recent_count = 0;            // entries in the ring, <= short_window
  int recent_head = 0;             // next write position
  double mean = 0;                 // long-window mean of the short means
  double variance = 0;             // long-window variance of the short means
  double point_mean = 0;           // long-window mean of |z| itself
  double point_variance = 0;       // and its variance
  double exceed_share = 0;         // share of |z| above point_mean + 2 sd (the peaks)
  double excess_mean = 0;          // mean excess of those peaks over that level u (exponential tail)
  double excess_log_mean = 0;      // mean of log((1 + peak) / (1 + u)) (power-law tail)
  double excess_square_mean = 0;   // mean squared excess of the peaks (with excess_mean: the GPD's shape)
  int64_t seen = 0;                // short means folded into mean/variance
  friend bool operator==(const CalibratorState&, const CalibratorState&) = default;
};

// What the series' own noise model says of a sample, where it has one (counts: scorer.h's
// CountNegLog10Tail and CountQuantileZ). A spike is judged by the less extreme of the learned tail and
// this one: a count of 4 where 0.3 are expected is a 1-in-4,000 event under Poisson noise, however few
// larger peaks the lattice of |z| has shown the learned tail. The defaults leave the learned tail alone.
struct NoiseTail {
  double log_tail = std::numeric_limits<double>::infinity();  // -log10 P(a sample this far out)
  double z_needed = 0;  // the |z| at which log_tail reaches DecisionTarget (0: none)
};

// The -log10 tail probability a single look must reach: log_threshold plus log10(2) for the two looks.
double DecisionTarget(const CalibrationParams& params);

struct Judgement {
  double score = 0;      // -log10(tail) / log_threshold, 0 before min_history; >= 1 is anomalous
  double threshold = 0;  // the |z| this sample needed to reach score 1 (the band's half-width in sigmas)
  bool anomalous = false;  // score >= 1, |z| >= min_abs_z, and in the configured direction
  double magnitude = 0;    // |z| in the configured direction (0 against it)
  double short_mean = 0;   // the short mean of raw scores this sample was judged by
};

// Judges z (the signed forecast z-score, finite) against the state, then folds it into the short mean and,
// when `learn`, the sample leaving the short window (short_window samples old) into the long-window
// moments: learning runs one short window late, so an incident's onset is not learned before it is seen.
// The series stage passes learn = false inside an open episode until it is judged a new normal
// (evaluate.h): an incident must not teach the calibrator that incidents are normal, or a lasting outage
// would stop scoring as one within minutes.
// `noise` bounds the spike path (NoiseTail).
Judgement Judge(CalibratorState& state, double z, const CalibrationParams& params, bool learn = true,
                const NoiseTail& noise = {});

// REQUIRES-style check; an empty string when valid, else the field and the rule.
const char* CheckCalibrationParams(const CalibrationParams& params);

struct EpisodeParams {
  int persistence = 1;      // anomalous samples in a row before an episode opens (>= 1)
  int64_t resolve_ms = 0;   // an open episode closes after this long without an anomalous sample (>= 0)
};

// One incident: it opens once (after `persistence` anomalous samples in a row), stays flagged while it lasts
// and through quiet spells shorter than resolve_ms, and closes after a longer one.
struct EpisodeState {
  int consecutive = 0;           // anomalous samples in a row (also while open)
  int64_t run_start_ms = 0;      // first sample of that run
  bool open = false;
  int64_t start_ms = 0;          // the open episode's first anomalous sample
  int64_t last_anomalous_ms = 0;
  double peak_score = 0;         // highest score inside the open episode
  int64_t peak_ms = 0;
  // What LearnEpisode learns when it closes: the largest |z| (Judgement::magnitude) and the largest short
  // mean inside the open episode.
  double peak_magnitude = 0;
  double peak_short_mean = 0;
  friend bool operator==(const EpisodeState&, const EpisodeState&) = default;
};

struct EpisodeStep {
  EpisodeState state;
  bool flag = false;    // the episode is open after this sample
  bool opened = false;  // it opened at this sample (where an alert starts)
  bool closed = false;  // an episode closed at this sample
};

EpisodeStep AdvanceEpisode(const EpisodeState& state, bool anomalous, double score, const EpisodeParams& params,
                           int64_t timestamp_ms);
// The same for a judged sample, also keeping the open episode's largest |z| and short mean.
EpisodeStep AdvanceEpisode(const EpisodeState& state, const Judgement& judgement, const EpisodeParams& params,
                           int64_t timestamp_ms);

// Learns a closed episode whose samples were withheld from the calibrator (learn = false while it was
// open) as one sample, its most extreme: its peak |z| and its peak short mean. An episode is one event, and
// peaks-over-threshold counts events, not the samples of one (runs declustering: a cluster of exceedances
// contributes its maximum; Coles, "An Introduction to Statistical Modeling of Extreme Values", 2001,
// 5.3.2). Without it the calibrator never learned that a series' incidents recur: bursts of the same size
// every few hours (a bot posting for an hour) each scored as the first did for as long as the history was
// kept. Learning all of an episode's samples instead widened the short means' spread 2.3x for one 12-sample
// incident in a week (docs/detection.md).
void LearnEpisode(CalibratorState& state, const EpisodeState& closed, const CalibrationParams& params);

}  // namespace anomaly::scoring
