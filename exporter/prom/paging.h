// Splitting a long range into requests the server accepts, and merging the
// pages back into one answer. Private to the prom stage; pure and
// thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/prom/range_query.h"

namespace anomaly::prom {

struct PageRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // inclusive
  friend bool operator==(const PageRange&, const PageRange&) = default;
};

// Pages covering [start_ms, end_ms], each asking for at most max_points samples
// per series. Every page starts on the caller's grid (start_ms + k * step_ms)
// and page n+1 starts one step after page n ends, so no timestamp is asked for
// twice (both ends are inclusive; ECOSYSTEM.md §2). REQUIRES: step_ms > 0,
// end_ms >= start_ms, max_points >= 1.
std::vector<PageRange> SplitRange(int64_t start_ms, int64_t end_ms, int64_t step_ms, int max_points);

// Collects pages of a query_range answer by label set. Samples come out
// ascending and unique by timestamp (the later page wins a shared timestamp,
// e.g. from a backend that shifts page ends), and series come out sorted by
// labels.
class SeriesMerger {
 public:
  void Add(std::vector<SeriesSamples> page);
  std::vector<SeriesSamples> Finish() &&;

 private:
  std::map<Labels, std::vector<Sample>> by_labels_;
};

}  // namespace anomaly::prom
