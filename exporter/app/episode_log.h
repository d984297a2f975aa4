// The flagged episodes of one detector's series as its cycles published them: for the series page's
// shading and table (and the episodes API of issue 18 part 2). The runner feeds it every verdict it
// publishes. Thread-compatible: owned by the runner and guarded by its core mutex (detector_runner.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/scoring/verdict.h"

namespace anomaly::app {

struct EpisodeRecord {
  int64_t start_ms = 0;  // the verdict's anomalous_since_ms: when the flag rose
  int64_t end_ms = 0;    // the first published verdict without the flag; 0 while open
  double peak_score = 0;
  int64_t peak_ms = 0;         // the sample of the highest score published
  double peak_value = 0;       // its value and expected value
  double peak_expected = 0;
};

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

 private:
  struct Series {
    std::deque<EpisodeRecord> episodes;
    bool seen = false;
  };
  std::map<Labels, Series> series_;
};

}  // namespace anomaly::app
