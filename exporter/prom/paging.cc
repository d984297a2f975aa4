#include "paging.h"

#include <algorithm>
#include <utility>

namespace anomaly::prom {

std::vector<PageRange> SplitRange(int64_t start_ms, int64_t end_ms, int64_t step_ms, int max_points) {
  std::vector<PageRange> pages;
  // A page of max_points samples spans (max_points - 1) steps, its ends
  // included.
  const int64_t span_ms = static_cast<int64_t>(max_points - 1) * step_ms;
  for (int64_t start = start_ms; start <= end_ms;) {
    // The last page keeps the caller's end even off the grid; Prometheus stops
    // at the last grid point.
    int64_t end = ((end_ms - start) / step_ms <= max_points - 1) ? end_ms : start + span_ms;
    pages.push_back({start, end});
    if (end == end_ms) break;
    start = end + step_ms;
  }
  return pages;
}

void SeriesMerger::Add(std::vector<SeriesSamples> page) {
  for (SeriesSamples& series : page) {
    std::vector<Sample>& samples = by_labels_[std::move(series.labels)];
    if (samples.empty()) {
      samples = std::move(series.samples);  // the one page of most queries: no copy
    } else {
      samples.insert(samples.end(), series.samples.begin(), series.samples.end());
    }
  }
}

std::vector<SeriesSamples> SeriesMerger::Finish() && {
  std::vector<SeriesSamples> out;
  out.reserve(by_labels_.size());
  auto by_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms < b.timestamp_ms; };
  while (!by_labels_.empty()) {
    auto node = by_labels_.extract(by_labels_.begin());
    std::vector<Sample>& samples = node.mapped();
    // Pages arrive in time order, so this is a no-op sort unless the backend
    // overlapped pages.
    if (!std::is_sorted(samples.begin(), samples.end(), by_time)) {
      std::stable_sort(samples.begin(), samples.end(), by_time);
    }
    // Keep the last of equal timestamps, the later page being the fresher
    // answer; in place.
    size_t kept = 0;
    for (const Sample& s : samples) {
      if (kept > 0 && samples[kept - 1].timestamp_ms == s.timestamp_ms) {
        samples[kept - 1] = s;
      } else {
        samples[kept++] = s;
      }
    }
    samples.resize(kept);
    out.push_back(SeriesSamples{std::move(node.key()), std::move(samples)});
  }
  return out;
}

}  // namespace anomaly::prom
