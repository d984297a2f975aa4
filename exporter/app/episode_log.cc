#include "exporter/app/episode_log.h"

#include <algorithm>

namespace anomaly::app {

void EpisodeLog::Observe(const Labels& labels, const scoring::Verdict& v) {
  const bool flagged = v.state == scoring::SeriesState::kOk && v.anomalous;
  auto it = series_.find(labels);
  if (it == series_.end()) {
    if (!flagged) return;
    it = series_.emplace(labels, Series{}).first;
  }
  Series& s = it->second;
  s.seen = true;
  if (v.state == scoring::SeriesState::kStale) return;
  const bool open = !s.episodes.empty() && s.episodes.back().end_ms == 0;
  if (!flagged) {
    if (open) s.episodes.back().end_ms = std::max(v.timestamp_ms, s.episodes.back().start_ms + 1);
    return;
  }
  const int64_t start = v.anomalous_since_ms > 0 ? v.anomalous_since_ms : v.timestamp_ms;
  if (open && s.episodes.back().start_ms != start) s.episodes.back().end_ms = std::max(start, s.episodes.back().start_ms + 1);
  if (!open || s.episodes.back().start_ms != start) {
    s.episodes.push_back(EpisodeRecord{.start_ms = start});
    if (s.episodes.size() > kMaxPerSeries) s.episodes.pop_front();
  }
  EpisodeRecord& e = s.episodes.back();
  if (e.peak_ms == 0 || v.score > e.peak_score) {
    e.peak_score = v.score;
    e.peak_ms = v.timestamp_ms;
    e.peak_value = v.value;
    e.peak_expected = v.expected;
  }
}

void EpisodeLog::Sweep() {
  for (auto it = series_.begin(); it != series_.end();) {
    if (!it->second.seen) {
      it = series_.erase(it);
    } else {
      it->second.seen = false;
      ++it;
    }
  }
}

std::vector<EpisodeRecord> EpisodeLog::Of(const Labels& labels) const {
  auto it = series_.find(labels);
  if (it == series_.end()) return {};
  return {it->second.episodes.begin(), it->second.episodes.end()};
}

}  // namespace anomaly::app
