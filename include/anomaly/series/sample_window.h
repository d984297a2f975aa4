// One series' rolling window on the step grid: a bounded ring buffer of the newest `capacity` grid points,
// each observed, filled (a short gap, interpolated linearly) or missing (part of a long gap). Grid slot s
// is the timestamp s * step; a sample lands on the nearest slot. Thread-compatible: owned by the
// SeriesStore that owns the series (series_store.h).
//
// A point costs 4.25 bytes (issue 16: a fleet's windows are most of the exporter's memory): its value is
// kept as a float32 difference from the window's first value (`offset`), and its kind in 2 bits. A
// difference keeps ~7 significant digits of the series' own movement, not of its level: a gauge at 1e12
// that moves by 1e3 keeps that movement to about 1e-4, where a float32 of the value itself would round
// it to 6.5e4. Only movement smaller than a ten-millionth of the distance from the first value is lost
// (a raw counter that grew far since: score its rate() instead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace anomaly::series {

enum class PointKind : uint8_t {
  kMissing,   // inside a long gap (more than max_gap_points missing): not fitted as data, never scored
  kObserved,  // a real sample
  kFilled,    // inside a short gap, interpolated linearly: fitted, never scored, not in the scale/threshold
};

// The input to scoring::FitModel built from a window: no missing points (long gaps filled linearly, marked
// unobserved), starting and ending with an observed point.
struct FitInput {
  std::vector<double> values;
  std::vector<uint8_t> observed;  // 1 where observed
  int64_t last_slot = 0;          // the slot of values.back()
};

class SampleWindow {
 public:
  // REQUIRES: capacity >= 1, max_gap_points >= 0.
  SampleWindow(size_t capacity, int max_gap_points);

  enum class AppendOutcome { kAppended, kReplaced, kTooOld };

  // Places a finite value at `slot`. Older slots than the newest are refused (kTooOld); the newest slot is
  // overwritten (kReplaced: the newest sample on a slot wins). A jump over at most max_gap_points empty
  // slots fills them linearly; a longer one records them as missing and starts a new fresh segment (a
  // jump over the whole capacity clears the window). The oldest points fall out when full.
  AppendOutcome Append(int64_t slot, double value);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return deltas_.size(); }
  // REQUIRES: !empty(). Index 0 is the oldest point.
  int64_t first_slot() const { return last_slot_ - static_cast<int64_t>(size_) + 1; }
  int64_t last_slot() const { return last_slot_; }
  double value(size_t i) const { return offset_ + static_cast<double>(deltas_[Physical(i)]); }
  PointKind kind(size_t i) const { return KindAt(Physical(i)); }

  size_t observed_count() const;
  // Observed points at or after the end of the most recent long gap (all of them if there was none).
  size_t observed_since_long_gap() const;

  // Fills `out` from the oldest observed point through the newest observed point at or before `up_to_slot`.
  // Returns false (and leaves `out` empty) when there is no such point.
  bool BuildFitInput(int64_t up_to_slot, FitInput& out) const;

 private:
  size_t Physical(size_t i) const { return (head_ + i) % deltas_.size(); }
  PointKind KindAt(size_t p) const { return static_cast<PointKind>((kinds_[p / 4] >> (2 * (p % 4))) & 3); }
  void Set(size_t p, double value, PointKind kind);
  void Push(double value, PointKind kind);

  // Constant after construction.
  int max_gap_points_;
  // The ring: deltas_[head_] is the oldest of size_ points, each a value minus offset_ (NaN for missing);
  // kinds_ packs four 2-bit PointKinds per byte, point p in bits 2 (p % 4) of byte p / 4.
  std::vector<float> deltas_;
  std::vector<uint8_t> kinds_;
  double offset_ = 0;  // the first value appended since the window was last empty
  size_t head_ = 0;
  size_t size_ = 0;
  int64_t last_slot_ = 0;
  int64_t fresh_since_slot_ = 0;  // first slot after the most recent long gap
};

}  // namespace anomaly::series
