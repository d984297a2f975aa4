// The flagged episodes of one detector's series as its cycles published them: for the series page's
// shading and table (and the episodes API of issue 18 part 2). The runner feeds it every verdict it
// publishes. Thread-compatible: owned by the runner and guarded by its core mutex (detector_runner.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/http/episodes.h"
#include "anomaly/scoring/verdict.h"

namespace anomaly::app {

struct EpisodeRecord {
  int64_t start_ms = 0;  // the verdict's anomalous_since_ms: when the flag rose
  int64_t end_ms = 0;    // the first published verdict without the flag; 0 while open
  double peak_score = 0;
  int64_t peak_ms = 0;         // the sample of the highest score published
  double peak_value = 0;       // its value and expected value
  double peak_expected = 0;
  std::optional<http::EpisodeFeedback> feedback = {};  // the latest given (POST /api/v1/episodes/{id}/feedback)
};

// The episode's id in the API: 32 hex digits, the shard key's hash (HashLabels(shard_key), which ShardFilter
// takes modulo the shard count: the series' labels, or a multivariate detector's group labels) and then a
// 64-bit FNV-1a hash of the detector, the series' labels and the start. The same episode has the same id
// after a restart that rebuilds it, and any shard can tell from an id which shard owns its series
// (EpisodeShardHash), whatever the shard count.
std::string EpisodeId(std::string_view detector, const Labels& shard_key, const Labels& labels,
                      int64_t start_ms);
// The shard key's hash an id carries (its first 16 hex digits); nullopt for a string not shaped like an id.
std::optional<uint64_t> EpisodeShardHash(std::string_view id);

class EpisodeLog {
 public:
  // Episodes kept per series, newest last; older ones are forgotten. Bounds the log at a few kB a series,
  // and only series that were ever flagged have an entry.
  static constexpr size_t kMaxPerSeries = 16;

  // One published verdict of `labels`. A flagged verdict opens an episode (or extends the open one with
  // the same start); an unflagged one ends the open episode, except a stale verdict (the upstream failed:
  // nothing is known, the episode stays as it was).
  void Observe(const Labels& labels, const scoring::Verdict& verdict);
  // Forgets the series no Observe named since the last Sweep: they left the detector (expired).
  void Sweep();
  // Oldest first; empty for a series never flagged.
  std::vector<EpisodeRecord> Of(const Labels& labels) const;
  size_t size() const { return series_.size(); }
  // Every kept episode, series in label order, each series' oldest first.
  void ForEach(const std::function<void(const Labels&, const EpisodeRecord&)>& fn) const;
  // --storage.path: the episodes of `labels` as stored (oldest first, at most kMaxPerSeries kept), before
  // the first Observe. The series is forgotten at the next Sweep unless a cycle names it before.
  void Restore(const Labels& labels, std::vector<EpisodeRecord> episodes);
  // The episode of `labels` that started at start_ms; nullptr when not kept (never, or forgotten).
  EpisodeRecord* Find(const Labels& labels, int64_t start_ms);

 private:
  struct Series {
    std::deque<EpisodeRecord> episodes;
    bool seen = false;
  };
  std::map<Labels, Series> series_;
};

}  // namespace anomaly::app
