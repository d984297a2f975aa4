// A group of series that should behave alike (kind: peers; the pods of one service): each member is stored
// and modelled by the detector core as every series is, and at each grid slot each member's deviation
// from its peers (scoring/peers.h: from the median of the members present, in their pooled MAD) is
// standardised by that member's own past deviations and judged by the univariate calibrator and episode
// (likelihood.h): a per-member score, threshold and one flag per incident. A shift the whole group shares
// is no deviation; a member that always sits apart is judged against its usual place. No I/O;
// thread-compatible (the cycle that owns the detector).
//
// Members come and go by name: a new member is judged against the group at once (with the group's pooled
// calibration until it has its own past), a departed one is dropped by Retain and never entered the
// slots it was missing from. A slot with fewer than min_members present is insufficient_peers.
//
//   Result<PeerGroupDetector> g = PeerGroupDetector::Create(options);
//   g->AddWindow("pod-a", entry);                  // each member, after Detector::Evaluate
//   const PeerGroupVerdict& v = g->Evaluate(newest_slot);  const PeerVerdict* a = g->member("pod-a");
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/scoring/likelihood.h"
#include "anomaly/scoring/peers.h"
#include "anomaly/scoring/verdict.h"
#include "anomaly/series/detector.h"
#include "anomaly/series/evaluate.h"
#include "anomaly/series/series_store.h"

namespace anomaly::series {

struct PeerOptions {
  int min_members = 3;                // members present at a slot for it to be judged (>= 3)
  std::chrono::milliseconds step{0};  // > 0
  int history_points = 0;             // past deviations kept per member: the detector's history / step (>= 1)
  std::chrono::milliseconds refit_interval{0};  // how often a member's own baseline is made again
  scoring::CalibrationParams calibration;       // the detector's threshold settings and direction
  scoring::EpisodeParams episode;
  scoring::PeerParams peer;
  int top = 3;  // outliers named in the group's verdict
  // A member with no sample at the judged slots for longer than (max_gap_points + 1) steps is in a gap: the
  // series store's tolerance, so that a member and its own series agree on when it is gone (>= 0).
  int max_gap_points = 5;
};

// The options a detector's imply (one mapping for the daemon and the backtest).
PeerOptions PeerOptionsFor(const DetectorOptions& detector, int min_members);

// Past deviations a member needs before its own baseline is used (fewer: location 0, scale 1).
inline constexpr int kMinOwnPast = 30;

struct PeerVerdict {
  // ok when judged; warming_up until its calibrator has calibration.min_history short means;
  // insufficient_peers when fewer than min_members had a sample at the slot; gap when the member has had no
  // sample at the judged slots for longer than (max_gap_points + 1) steps: no score, no flag, its episode
  // ended (a pod that stopped reporting is not an outlier, nor left flagged by its last sample).
  scoring::SeriesState state = scoring::SeriesState::kWarmingUp;
  int64_t timestamp_ms = 0;  // the slot judged
  double deviation = 0;      // from the group's median, in group spreads
  double zscore = 0;         // standardised by the member's own past deviations (signed)
  double threshold = 0;      // the |zscore| this sample needed to reach score 1
  double score = 0;          // calibrated: >= 1 is anomalous
  bool anomalous = false;    // the member's flag: its episode is open
  int64_t anomalous_since_ms = 0;
  double peak_score = 0;
};

struct PeerOutlier {
  std::string member;
  double zscore = 0;
  double share = 0;  // of the sum of the members' squared z-scores at the slot, in (0, 1]
};

struct PeerGroupVerdict {
  // ok when judged; warming_up before the first judged slot; insufficient_peers as a member's.
  scoring::SeriesState state = scoring::SeriesState::kWarmingUp;
  int64_t timestamp_ms = 0;
  int members_present = 0;
  std::vector<PeerOutlier> top;  // the largest |zscore|, best first (at most options.top)
};

class PeerGroupDetector {
 public:
  // kInvalidInput naming the field.
  [[nodiscard]] static Result<PeerGroupDetector> Create(PeerOptions options);

  // One member's samples scored in this cycle, oldest first (their values are used). The first time a
  // member reports, its stored window before them (`entry`, may be null) is taken as its past: learned,
  // never judged.
  void Add(const std::string& member, std::span<const SlotZ> scored, const SeriesEntry* entry = nullptr);
  // The member's observed samples from its stored window, whether or not its own series is scored yet
  // (the daemon's way: a new member is judged against its peers from its first sample, not only once its
  // own model is fitted): every sample newer than the last slot judged is judged; on the group's first
  // sight (nothing judged yet), only each window's newest sample, the rest being past.
  void AddWindow(const std::string& member, const SeriesEntry& entry);
  // Drops every member not named (sorted or not): a departed member leaves no trace in later slots.
  void Retain(std::span<const std::string> members);
  // Judges, oldest first, every slot up to `through_slot` that a member reported as scored and that is newer
  // than the last one judged, and returns the group's verdict at the newest.
  const PeerGroupVerdict& Evaluate(int64_t through_slot);
  const PeerGroupVerdict& verdict() const { return verdict_; }
  // The member's newest verdict; null for a member never added (or dropped).
  const PeerVerdict* member(const std::string& name) const;
  int members() const { return static_cast<int>(members_.size()); }
  const PeerOptions& options() const { return options_; }

 private:
  explicit PeerGroupDetector(PeerOptions options) : options_(std::move(options)) {}
  struct Member {
    bool seen = false;        // its window was taken as past
    std::deque<double> past;  // its deviations at slots not judged anomalous, oldest first
    scoring::OwnBaseline baseline;
    bool own = false;  // baseline made from at least kMinOwnPast deviations
    int64_t fit_slot = 0;
    bool calibrated = false;  // its calibrator was seeded (own past) or copied (the group's)
    scoring::CalibratorState calibrator;
    scoring::EpisodeState episode;
    PeerVerdict verdict;
  };
  struct Pending {
    std::map<std::string, double> values;
    bool scored = false;
  };
  void Put(const std::string& member, int64_t slot, double value, bool scored);
  void Fit(Member& m, int64_t slot);
  void Calibrate(Member& m);
  void Judge(Member& m, double deviation, int64_t slot);
  // Members with no sample at the judged slots for longer than max_gap_points + 1 steps: state gap.
  void EndGaps(int64_t slot);
  void Summarise(int64_t slot, int present);

  PeerOptions options_;
  std::map<std::string, Member> members_;
  std::map<int64_t, Pending> pending_;  // slot -> member values not judged yet
  std::deque<double> spreads_;          // the newest slots' own spreads (spread_window)
  scoring::CalibratorState pooled_;     // every calibrated member's z-scores: a new member's start
  int64_t last_judged_slot_ = INT64_MIN;
  PeerGroupVerdict verdict_;
  std::vector<double> values_, deviations_, scratch_;
};

}  // namespace anomaly::series
