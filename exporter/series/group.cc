#include "anomaly/series/group.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "anomaly/scoring/robust_stats.h"
#include "anomaly/scoring/thresholds.h"

namespace anomaly::series {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
// The scale a member's level is measured in when its window holds no variation at all (scoring::RobustScale).
constexpr double kMinScale = 1e-9;

}  // namespace

GroupOptions GroupOptionsFor(const DetectorOptions& d, int members) {
  GroupOptions g;
  g.members = members;
  g.step = d.store.step;
  g.history_points = static_cast<int>(std::min<size_t>(d.store.capacity_points, size_t{1} << 30));
  g.refit_interval = d.evaluate.refit_interval;
  g.calibration = d.evaluate.model.calibration;
  g.episode = {.persistence = d.evaluate.model.persistence, .resolve_ms = d.evaluate.resolve_after.count()};
  return g;
}

void ForEachObservedBefore(const SeriesEntry* entry, int64_t before_slot,
                           const std::function<void(int64_t slot, double value)>& take) {
  if (entry == nullptr) return;
  const SampleWindow& w = entry->window;
  const int64_t first = w.first_slot();
  for (size_t i = 0; i < w.size(); ++i) {
    const int64_t slot = first + static_cast<int64_t>(i);
    if (slot >= before_slot) break;
    if (w.kind(i) == PointKind::kObserved) take(slot, w.value(i));
  }
}

Result<GroupDetector> GroupDetector::Create(GroupOptions options) {
  if (options.members < 2) return MakeError(ErrorCode::kInvalidInput, "members: a group needs at least 2");
  if (options.step.count() <= 0) return MakeError(ErrorCode::kInvalidInput, "step: must be > 0");
  if (options.history_points < 1) return MakeError(ErrorCode::kInvalidInput, "history: must hold at least one step");
  if (options.top < 0) return MakeError(ErrorCode::kInvalidInput, "top: must be >= 0");
  options.calibration.direction = scoring::Direction::kUp;
  if (const char* bad = scoring::CheckCalibrationParams(options.calibration); bad != nullptr && *bad != '\0') {
    return MakeError(ErrorCode::kInvalidInput, std::string("calibration.") + bad);
  }
  return GroupDetector(std::move(options));
}

void GroupDetector::Add(int member, std::span<const SlotZ> scored, const SeriesEntry* entry) {
  if (member < 0 || member >= options_.members) return;
  const size_t m = static_cast<size_t>(member);
  auto put = [&](int64_t slot, double value, bool is_scored) {
    if (slot <= last_judged_slot_) return;  // too late for a row already judged
    auto [it, inserted] = pending_.try_emplace(slot);
    if (inserted) it->second.values.assign(static_cast<size_t>(options_.members), kNoValue);
    it->second.values[m] = value;
    it->second.scored = it->second.scored || is_scored;
  };
  if (!seen_[m] && !scored.empty()) {
    seen_[m] = true;
    ForEachObservedBefore(entry, scored.front().slot,
                          [&](int64_t slot, double value) { put(slot, value, false); });
  }
  for (const SlotZ& s : scored) put(s.slot, s.value, true);
}

void GroupDetector::LevelZ(const Row& row, std::vector<double>& z) const {
  z.resize(row.values.size());
  for (size_t j = 0; j < row.values.size(); ++j) z[j] = (row.values[j] - center_[j]) / scale_[j];  // NaN stays
}

void GroupDetector::Refit(int64_t slot) {
  const size_t k = static_cast<size_t>(options_.members);
  // Each member's level: the median of its values in the window and its robust scale about it. Not less
  // the member's seasonal cycle: on SMD's servers that took event F1 from 0.45 to 0.2 (most of their
  // metrics' seasonal fits are weak, and an in-sample cycle narrows the spread, so live samples read as
  // departures), also when taken out only where it at least halved the spread. A daily swing is in the
  // covariance where the members share it (CPU following requests).
  center_.assign(k, 0.0);
  scale_.assign(k, kMinScale);
  for (size_t j = 0; j < k; ++j) {
    column_.clear();
    for (const Row& r : rows_) {
      if (!r.excluded && std::isfinite(r.values[j])) column_.push_back(r.values[j]);
    }
    if (column_.empty()) continue;
    std::vector<double> scratch;
    Result<double> median = scoring::Median(column_, scratch);
    if (!median) continue;
    center_[j] = *median;
    scale_[j] = scoring::RobustScale(column_, *median, kMinScale, scratch).scale;
  }
  scratch_.clear();
  for (const Row& r : rows_) {
    if (r.excluded) continue;
    LevelZ(r, z_);
    for (double z : z_) scratch_.push_back(static_cast<float>(z));
  }
  Result<scoring::GroupFit> fit = scoring::FitGroup(scratch_, options_.members);
  if (fit) fit_ = std::make_shared<const scoring::GroupFit>(std::move(*fit));
  last_fit_slot_ = slot;
}

// The first fit's rows, oldest first, seed the calibrator as a series' first fit does (evaluate.cc Replay):
// learned, but not inside an episode, which is learned as one event when it closes.
void GroupDetector::Seed() {
  scoring::EpisodeState seeding;
  for (Row& r : rows_) {
    LevelZ(r, z_);
    const scoring::GroupScore s = scoring::ScoreGroup(*fit_, z_);
    const scoring::Judgement j = scoring::Judge(calibrator_, s.z, options_.calibration, !seeding.open);
    const scoring::EpisodeStep step =
        scoring::AdvanceEpisode(seeding, j, options_.episode, r.slot * options_.step.count());
    if (step.closed) scoring::LearnEpisode(calibrator_, step.state, options_.calibration);
    seeding = step.state;
  }
  calibrator_.recent_count = 0;
}

void GroupDetector::Judge(Row& row) {
  LevelZ(row, z_);
  const scoring::GroupScore s = scoring::ScoreGroup(*fit_, z_);
  const scoring::Judgement j = scoring::Judge(calibrator_, s.z, options_.calibration, !episode_.open);
  const int64_t ts = row.slot * options_.step.count();
  const scoring::EpisodeStep step = scoring::AdvanceEpisode(episode_, j, options_.episode, ts);
  if (step.closed) scoring::LearnEpisode(calibrator_, step.state, options_.calibration);
  episode_ = step.state;
  row.excluded = j.anomalous;

  GroupVerdict& v = verdict_;
  v.state = scoring::SeriesState::kOk;
  v.timestamp_ms = ts;
  v.distance = std::sqrt(s.distance2);
  v.zscore = s.z;
  v.threshold = j.threshold > 0 ? j.threshold : options_.calibration.min_abs_z;
  v.score = j.score;
  v.anomalous = step.flag;
  v.anomalous_since_ms = step.flag ? episode_.start_ms : 0;
  v.peak_score = step.flag ? episode_.peak_score : 0;
  v.top.clear();
  for (int i = 0; i < options_.members; ++i) {
    if (s.share[static_cast<size_t>(i)] > 0) v.top.push_back({i, s.share[static_cast<size_t>(i)]});
  }
  std::sort(v.top.begin(), v.top.end(), [](const Contributor& a, const Contributor& b) {
    return a.share != b.share ? a.share > b.share : a.member < b.member;
  });
  if (v.top.size() > static_cast<size_t>(options_.top)) v.top.resize(static_cast<size_t>(options_.top));
}

const GroupVerdict& GroupDetector::Evaluate(int64_t through_slot) {
  const size_t min_rows = std::max<size_t>(static_cast<size_t>(scoring::MinGroupRows(options_.members)),
                                           static_cast<size_t>(options_.calibration.min_history));
  auto keep_window = [&] {
    while (rows_.size() > static_cast<size_t>(options_.history_points)) rows_.pop_front();
  };
  while (!pending_.empty() && pending_.begin()->first <= through_slot) {
    auto node = pending_.extract(pending_.begin());
    Row row;
    row.slot = node.key();
    row.values = std::move(node.mapped().values);
    const bool scored = node.mapped().scored;
    last_judged_slot_ = row.slot;
    int present = 0;
    for (double v : row.values) present += std::isfinite(v);

    if (!fit_ && scored && rows_.size() >= min_rows) {
      Refit(row.slot);
      if (fit_) Seed();
    }
    if (!fit_ || !scored) {
      if (scored) {
        verdict_ = GroupVerdict{};
        verdict_.state = scoring::SeriesState::kWarmingUp;
        verdict_.timestamp_ms = row.slot * options_.step.count();
        verdict_.members_present = present;
      }
      rows_.push_back(std::move(row));
      keep_window();
      continue;
    }
    if (present < 2) {
      verdict_ = GroupVerdict{};
      verdict_.state = scoring::SeriesState::kInsufficientData;
      verdict_.timestamp_ms = row.slot * options_.step.count();
      verdict_.members_present = present;
      episode_ = {};
      continue;
    }
    Judge(row);
    verdict_.members_present = present;
    rows_.push_back(std::move(row));
    keep_window();
    if ((rows_.back().slot - last_fit_slot_) * options_.step.count() >= options_.refit_interval.count()) {
      Refit(rows_.back().slot);
    }
  }
  return verdict_;
}

}  // namespace anomaly::series
