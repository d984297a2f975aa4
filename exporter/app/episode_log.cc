#include "exporter/app/episode_log.h"

#include <algorithm>
#include <cstdio>

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

std::string EpisodeId(std::string_view detector, const Labels& shard_key, const Labels& labels,
                      int64_t start_ms) {
  uint64_t h = HashLabels(labels);
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;  // FNV-1a 64 prime
    }
    h ^= 0xff;  // separator, as HashLabels
    h *= 1099511628211ULL;
  };
  mix(detector);
  mix(std::to_string(start_ms));
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(HashLabels(shard_key)),
                static_cast<unsigned long long>(h));
  return out;
}

std::optional<uint64_t> EpisodeShardHash(std::string_view id) {
  if (id.size() != 32) return std::nullopt;
  uint64_t h = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    if (i < 16) h = h << 4 | static_cast<uint64_t>(digit);
  }
  return h;
}

void EpisodeLog::ForEach(const std::function<void(const Labels&, const EpisodeRecord&)>& fn) const {
  for (const auto& [labels, s] : series_) {
    for (const EpisodeRecord& e : s.episodes) fn(labels, e);
  }
}

EpisodeRecord* EpisodeLog::Find(const Labels& labels, int64_t start_ms) {
  auto it = series_.find(labels);
  if (it == series_.end()) return nullptr;
  for (EpisodeRecord& e : it->second.episodes) {
    if (e.start_ms == start_ms) return &e;
  }
  return nullptr;
}

void EpisodeLog::Restore(const Labels& labels, std::vector<EpisodeRecord> episodes) {
  if (episodes.empty()) return;
  if (episodes.size() > kMaxPerSeries) episodes.erase(episodes.begin(), episodes.end() - kMaxPerSeries);
  Series& s = series_[labels];
  s.episodes.assign(episodes.begin(), episodes.end());
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
