#include "anomaly/series/series_store.h"

#include <cmath>
#include <utility>

namespace anomaly::series {

Status ValidateStoreOptions(const StoreOptions& o) {
  auto invalid = [](const char* msg) { return MakeError(ErrorCode::kInvalidInput, msg); };
  if (o.step.count() <= 0) return invalid("step: must be positive");
  if (o.capacity_points < 1) return invalid("capacity_points: must be >= 1");
  if (o.max_gap_points < 0) return invalid("max_gap_points: must be >= 0");
  if (o.resume_points < 1) return invalid("resume_points: must be >= 1");
  if (o.series_ttl.count() <= 0) return invalid("series_ttl: must be positive");
  if (o.max_series < 1) return invalid("max_series: must be >= 1");
  return {};
}

int64_t SlotOf(int64_t timestamp_ms, std::chrono::milliseconds step) {
  const int64_t s = step.count();
  const int64_t shifted = timestamp_ms + s / 2;
  // Floor division, also for timestamps before the epoch.
  return shifted / s - ((shifted % s != 0) && (shifted < 0) ? 1 : 0);
}

Result<SeriesStore> SeriesStore::Create(const StoreOptions& options) {
  if (Status s = ValidateStoreOptions(options); !s) return tl::unexpected(s.error());
  return SeriesStore(options);
}

double RefitPhase(const Labels& labels) {
  // A series without labels (a CSV's, an aggregate such as sum(x)) has nothing to be spread from: 0.
  if (labels.empty()) return 0;
  // FNV-1a's high bits barely change between label sets that differ in one late character (pod-17,
  // pod-18), so the hash goes through splitmix64's finalizer first; its top 53 bits are then a uniform
  // fraction, the same in every process and release.
  uint64_t x = HashLabels(labels);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * 0x1p-53;
}

IngestResult SeriesStore::Ingest(const Labels& labels, std::span<const Sample> samples, int64_t now_ms) {
  IngestResult result;
  auto it = series_.find(labels);
  if (it == series_.end()) {
    if (series_.size() >= options_.max_series) {
      result.refused = true;
      ++refused_in_cycle_;
      return result;
    }
    it = series_.emplace(labels, SeriesEntry(SampleWindow(options_.capacity_points, options_.max_gap_points)))
             .first;
    it->second.refit_phase = RefitPhase(labels);
  }
  SeriesEntry& e = it->second;
  e.last_seen_ms = now_ms;
  e.stale = false;
  for (const Sample& s : samples) {
    if (e.last_sample_ms && s.timestamp_ms <= *e.last_sample_ms) {
      ++result.duplicates;
      continue;
    }
    e.last_sample_ms = s.timestamp_ms;
    if (!std::isfinite(s.value)) {
      ++result.missing;
      continue;
    }
    if (e.window.Append(SlotOf(s.timestamp_ms, options_.step), s.value) !=
        SampleWindow::AppendOutcome::kTooOld) {
      ++result.appended;
      e.last_observed_ms = s.timestamp_ms;
    }
  }
  return result;
}

SeriesEntry* SeriesStore::Find(const Labels& labels) {
  auto it = series_.find(labels);
  return it == series_.end() ? nullptr : &it->second;
}

const SeriesEntry* SeriesStore::Find(const Labels& labels) const {
  auto it = series_.find(labels);
  return it == series_.end() ? nullptr : &it->second;
}

void SeriesStore::ForEach(const std::function<void(const Labels&, SeriesEntry&)>& fn) {
  for (auto& [labels, entry] : series_) fn(labels, entry);
}

void SeriesStore::ForEach(const std::function<void(const Labels&, const SeriesEntry&)>& fn) const {
  for (const auto& [labels, entry] : series_) fn(labels, entry);
}

void SeriesStore::MarkAllStale() {
  for (auto& [labels, entry] : series_) entry.stale = true;
}

size_t SeriesStore::Expire(int64_t now_ms) {
  return std::erase_if(series_, [&](const auto& kv) {
    return now_ms - kv.second.last_seen_ms > options_.series_ttl.count();
  });
}

}  // namespace anomaly::series
