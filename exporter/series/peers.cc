#include "anomaly/series/peers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "anomaly/series/group.h"

namespace anomaly::series {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

}  // namespace

PeerOptions PeerOptionsFor(const DetectorOptions& d, int min_members) {
  // The same step, history, refit interval, calibration and episode settings as a multivariate group's.
  const GroupOptions g = GroupOptionsFor(d, 2);
  PeerOptions p;
  p.min_members = min_members;
  p.step = g.step;
  p.history_points = g.history_points;
  p.refit_interval = g.refit_interval;
  p.calibration = g.calibration;
  p.episode = g.episode;
  p.max_gap_points = d.store.max_gap_points;
  return p;
}

Result<PeerGroupDetector> PeerGroupDetector::Create(PeerOptions options) {
  if (options.min_members < 3)
    return MakeError(ErrorCode::kInvalidInput, "min_members: peers need at least 3");
  if (options.step.count() <= 0) return MakeError(ErrorCode::kInvalidInput, "step: must be > 0");
  if (options.history_points < 1)
    return MakeError(ErrorCode::kInvalidInput, "history: must hold at least one step");
  if (options.top < 0) return MakeError(ErrorCode::kInvalidInput, "top: must be >= 0");
  if (options.max_gap_points < 0) return MakeError(ErrorCode::kInvalidInput, "max_gap_points: must be >= 0");
  if (const char* bad = scoring::CheckCalibrationParams(options.calibration); *bad != '\0') {
    return MakeError(ErrorCode::kInvalidInput, std::string("calibration.") + bad);
  }
  if (const char* bad = scoring::CheckPeerParams(options.peer); *bad != '\0') {
    return MakeError(ErrorCode::kInvalidInput, std::string("peer.") + bad);
  }
  return PeerGroupDetector(std::move(options));
}

void PeerGroupDetector::Put(const std::string& name, int64_t slot, double value, bool scored) {
  if (slot <= last_judged_slot_) return;  // too late for a slot already judged
  Pending& p = pending_[slot];
  p.values[name] = value;
  p.scored = p.scored || scored;
}

void PeerGroupDetector::Add(const std::string& name, std::span<const SlotZ> scored,
                            const SeriesEntry* entry) {
  Member& m = members_[name];
  if (!m.seen && !scored.empty()) {
    m.seen = true;
    ForEachObservedBefore(entry, scored.front().slot,
                          [&](int64_t slot, double value) { Put(name, slot, value, false); });
  }
  for (const SlotZ& s : scored) Put(name, s.slot, s.value, true);
}

void PeerGroupDetector::AddWindow(const std::string& name, const SeriesEntry& entry) {
  Member& m = members_[name];
  const SampleWindow& w = entry.window;
  if (w.size() == 0) return;
  const int64_t first = w.first_slot();
  const int64_t newest = first + static_cast<int64_t>(w.size()) - 1;
  // The group's first sight (nothing judged yet): the windows before their newest sample are history.
  const bool history = !m.seen && last_judged_slot_ == INT64_MIN;
  m.seen = true;
  for (size_t i = w.size(); i-- > 0;) {
    const int64_t slot = first + static_cast<int64_t>(i);
    if (slot <= last_judged_slot_) break;
    if (w.kind(i) == PointKind::kObserved) Put(name, slot, w.value(i), !history || slot == newest);
  }
}

void PeerGroupDetector::Retain(std::span<const std::string> names) {
  std::erase_if(members_,
                [&](const auto& m) { return std::find(names.begin(), names.end(), m.first) == names.end(); });
  for (auto& [slot, p] : pending_) {
    std::erase_if(p.values, [&](const auto& v) { return !members_.contains(v.first); });
  }
}

const PeerVerdict* PeerGroupDetector::member(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second.verdict;
}

void PeerGroupDetector::Fit(Member& m, int64_t slot) {
  scratch_.assign(m.past.begin(), m.past.end());
  std::vector<double> work;
  m.baseline = scoring::FitOwnBaseline(scratch_, options_.peer, work);
  m.own = m.baseline.count >= kMinOwnPast;
  if (!m.own) m.baseline = {};
  m.fit_slot = slot;
}

// A member's first judged slot: with its own past, its past z-scores seed its calibrator as a series' first
// fit does (evaluate.cc Replay: learned, but not inside an episode) and the group's, its short-mean ring
// kept (emptied, the first judged sample's short mean would be itself alone, judged against the spread of
// means of short_window samples: a z of 3 scored 2); without one, it starts from the group's calibration,
// so a new member is judged against its peers at once.
void PeerGroupDetector::Calibrate(Member& m) {
  m.calibrated = true;
  const bool enough = static_cast<int>(m.past.size()) >= options_.calibration.min_history;
  // Without a past long enough to calibrate on, the group's calibration, with its ring too (a short mean
  // of one sample would be judged against means of short_window): the member's own past, if any, is
  // then learned on top of it.
  if (!enough) m.calibrator = pooled_;
  if (!m.own) return;
  scoring::EpisodeState seeding;
  int64_t t = 0;
  for (double d : m.past) {
    const double z = scoring::PeerZ(d, m.baseline);
    const scoring::Judgement j = scoring::Judge(m.calibrator, z, options_.calibration, !seeding.open);
    const scoring::EpisodeStep step = scoring::AdvanceEpisode(seeding, j, options_.episode, t++);
    if (step.closed) scoring::LearnEpisode(m.calibrator, step.state, options_.calibration);
    seeding = step.state;
    if (enough) scoring::Judge(pooled_, z, options_.calibration);
  }
}

void PeerGroupDetector::Judge(Member& m, double deviation, int64_t slot) {
  if (!m.calibrated) {
    Fit(m, slot);
    Calibrate(m);
  }
  const double z = scoring::PeerZ(deviation, m.baseline);
  const int64_t ts = slot * options_.step.count();
  const bool ready = m.calibrator.seen >= options_.calibration.min_history;
  const scoring::Judgement j = scoring::Judge(m.calibrator, z, options_.calibration, !m.episode.open);
  const scoring::EpisodeStep step = scoring::AdvanceEpisode(m.episode, j, options_.episode, ts);
  if (step.closed) scoring::LearnEpisode(m.calibrator, step.state, options_.calibration);
  m.episode = step.state;
  if (m.own) scoring::Judge(pooled_, z, options_.calibration, !j.anomalous);
  if (!j.anomalous) {
    m.past.push_back(deviation);
    while (m.past.size() > static_cast<size_t>(options_.history_points)) m.past.pop_front();
  }

  PeerVerdict& v = m.verdict;
  v = PeerVerdict{};
  v.timestamp_ms = ts;
  v.deviation = deviation;
  v.zscore = z;
  if (!ready) return;  // warming_up: no score yet
  v.state = scoring::SeriesState::kOk;
  v.threshold = j.threshold > 0 ? j.threshold : options_.calibration.min_abs_z;
  v.score = j.score;
  v.anomalous = step.flag;
  v.anomalous_since_ms = step.flag ? m.episode.start_ms : 0;
  v.peak_score = step.flag ? m.episode.peak_score : 0;

  const bool refit = !m.own ? static_cast<int>(m.past.size()) >= kMinOwnPast
                            : (slot - m.fit_slot) * options_.step.count() >= options_.refit_interval.count();
  if (refit) Fit(m, slot);
}

void PeerGroupDetector::EndGaps(int64_t slot) {
  const int64_t ts = slot * options_.step.count();
  const int64_t max_age_ms = (static_cast<int64_t>(options_.max_gap_points) + 1) * options_.step.count();
  for (auto& [name, m] : members_) {
    PeerVerdict& v = m.verdict;
    if (v.timestamp_ms == 0 || v.timestamp_ms == ts || v.state == scoring::SeriesState::kGap) continue;
    if (ts - v.timestamp_ms <= max_age_ms) continue;
    // Closed without being learned: what the member did before it went quiet is not news about its peers.
    m.episode = {};
    v = PeerVerdict{};
    v.state = scoring::SeriesState::kGap;
    v.timestamp_ms = ts;
  }
}

void PeerGroupDetector::Summarise(int64_t slot, int present) {
  PeerGroupVerdict& g = verdict_;
  g.timestamp_ms = slot * options_.step.count();
  g.members_present = present;
  g.top.clear();
  g.state = scoring::SeriesState::kWarmingUp;
  double sum2 = 0;
  for (const auto& [name, m] : members_) {
    if (m.verdict.timestamp_ms != g.timestamp_ms) continue;
    if (m.verdict.state == scoring::SeriesState::kOk) g.state = scoring::SeriesState::kOk;
    if (!std::isfinite(m.verdict.zscore) || m.verdict.zscore == 0) continue;
    sum2 += m.verdict.zscore * m.verdict.zscore;
    g.top.push_back({name, m.verdict.zscore, 0});
  }
  for (PeerOutlier& o : g.top) o.share = o.zscore * o.zscore / sum2;
  std::sort(g.top.begin(), g.top.end(), [](const PeerOutlier& a, const PeerOutlier& b) {
    return a.share != b.share ? a.share > b.share : a.member < b.member;
  });
  if (g.top.size() > static_cast<size_t>(options_.top)) g.top.resize(static_cast<size_t>(options_.top));
}

const PeerGroupVerdict& PeerGroupDetector::Evaluate(int64_t through_slot) {
  const size_t window = static_cast<size_t>(options_.peer.spread_window);
  while (!pending_.empty() && pending_.begin()->first <= through_slot) {
    auto node = pending_.extract(pending_.begin());
    const int64_t slot = node.key();
    const Pending& p = node.mapped();
    last_judged_slot_ = slot;
    values_.clear();
    for (const auto& [name, m] : members_) {
      auto it = p.values.find(name);
      values_.push_back(it == p.values.end() ? kNoValue : it->second);
    }
    const scoring::PeerSlot s = scoring::PeerCentre(values_, options_.peer, scratch_);
    if (s.present < options_.min_members) {
      if (!p.scored) continue;
      verdict_ = PeerGroupVerdict{};
      verdict_.state = scoring::SeriesState::kInsufficientPeers;
      verdict_.timestamp_ms = slot * options_.step.count();
      verdict_.members_present = s.present;
      size_t i = 0;
      for (auto& [name, m] : members_) {
        if (std::isfinite(values_[i++])) {
          m.verdict = PeerVerdict{};
          m.verdict.state = scoring::SeriesState::kInsufficientPeers;
          m.verdict.timestamp_ms = verdict_.timestamp_ms;
          m.episode = {};
        }
      }
      continue;
    }
    spreads_.push_back(s.spread);
    while (spreads_.size() > window) spreads_.pop_front();
    scratch_.assign(spreads_.begin(), spreads_.end());
    std::vector<double> work;
    const double spread = scoring::PooledSpread(scratch_, s.center, options_.peer, work);
    deviations_.resize(values_.size());
    scoring::PeerDeviations(values_, s.center, spread, deviations_);
    if (p.scored) {
      // Members with a past long enough to calibrate on first: the group's pooled calibration, which
      // the others start from, is then made of theirs.
      size_t i = 0;
      for (auto& [name, m] : members_) {
        if (!std::isfinite(deviations_[i++]) || m.calibrated) continue;
        if (static_cast<int>(m.past.size()) < options_.calibration.min_history) continue;
        Fit(m, slot);
        Calibrate(m);
      }
    }
    size_t i = 0;
    for (auto& [name, m] : members_) {
      const double d = deviations_[i++];
      if (p.scored && std::isfinite(d)) Judge(m, d, slot);
    }
    if (p.scored) EndGaps(slot);
    if (!p.scored) {
      i = 0;
      for (auto& [name, m] : members_) {
        const double d = deviations_[i++];
        if (!std::isfinite(d) || m.calibrated) continue;
        m.past.push_back(d);  // history: learned, never judged
        while (m.past.size() > static_cast<size_t>(options_.history_points)) m.past.pop_front();
      }
      continue;
    }
    Summarise(slot, s.present);
  }
  return verdict_;
}

}  // namespace anomaly::series
