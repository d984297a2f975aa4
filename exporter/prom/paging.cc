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
    samples.insert(samples.end(), series.samples.begin(), series.samples.end());
  }
}

std::vector<SeriesSamples> SeriesMerger::Finish() && {
  std::vector<SeriesSamples> out;
  out.reserve(by_labels_.size());
  auto by_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms < b.timestamp_ms; };
  for (auto& [labels, samples] : by_labels_) {
    // Pages arrive in time order, so this is a no-op sort unless the backend
    // overlapped pages.
    std::stable_sort(samples.begin(), samples.end(), by_time);
    // Keep the last of equal timestamps: the later page is the fresher answer.
    std::vector<Sample> unique;
    unique.reserve(samples.size());
    for (const Sample& s : samples) {
      if (!unique.empty() && unique.back().timestamp_ms == s.timestamp_ms) {
        unique.back() = s;
      } else {
        unique.push_back(s);
      }
    }
    out.push_back(SeriesSamples{labels, std::move(unique)});
  }
  by_labels_.clear();
  return out;
}

}  // namespace anomaly::prom
