#include "anomaly/series/sample_window.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace anomaly::series {

SampleWindow::SampleWindow(size_t capacity, int max_gap_points)
    : max_gap_points_(max_gap_points),
      deltas_(std::max<size_t>(capacity, 1)),
      kinds_((deltas_.size() + 3) / 4) {}

void SampleWindow::Set(size_t p, double value, PointKind kind) {
  deltas_[p] = static_cast<float>(value - offset_);
  const int shift = static_cast<int>(2 * (p % 4));
  kinds_[p / 4] = static_cast<uint8_t>((kinds_[p / 4] & ~(3 << shift)) | (static_cast<int>(kind) << shift));
}

void SampleWindow::Push(double value, PointKind kind) {
  if (size_ == deltas_.size()) {
    head_ = (head_ + 1) % deltas_.size();
    --size_;
  }
  Set(Physical(size_), value, kind);
  ++size_;
  ++last_slot_;
}

SampleWindow::AppendOutcome SampleWindow::Append(int64_t slot, double value) {
  if (size_ == 0) {
    last_slot_ = slot - 1;
    fresh_since_slot_ = slot;
    offset_ = value;
    Push(value, PointKind::kObserved);
    return AppendOutcome::kAppended;
  }
  if (slot < last_slot_) return AppendOutcome::kTooOld;
  if (slot == last_slot_) {
    Set(Physical(size_ - 1), value, PointKind::kObserved);
    return AppendOutcome::kReplaced;
  }
  const int64_t missing = slot - last_slot_ - 1;
  if (missing >= static_cast<int64_t>(deltas_.size())) {
    // Nothing of the old window would survive the jump.
    size_ = 0;
    head_ = 0;
    return Append(slot, value);
  }
  if (missing > max_gap_points_) {
    for (int64_t i = 0; i < missing; ++i) Push(std::numeric_limits<double>::quiet_NaN(), PointKind::kMissing);
    fresh_since_slot_ = slot;
  } else {
    const double from = this->value(size_ - 1);
    for (int64_t i = 1; i <= missing; ++i) {
      double t = static_cast<double>(i) / static_cast<double>(missing + 1);
      Push(from + t * (value - from), PointKind::kFilled);
    }
  }
  Push(value, PointKind::kObserved);
  return AppendOutcome::kAppended;
}

size_t SampleWindow::observed_count() const {
  size_t count = 0;
  for (size_t i = 0; i < size_; ++i) count += kind(i) == PointKind::kObserved;
  return count;
}

size_t SampleWindow::observed_since_long_gap() const {
  if (size_ == 0) return 0;
  size_t count = 0;
  for (size_t i = size_; i-- > 0;) {
    if (first_slot() + static_cast<int64_t>(i) < fresh_since_slot_) break;
    count += kind(i) == PointKind::kObserved;
  }
  return count;
}

bool SampleWindow::BuildFitInput(int64_t up_to_slot, FitInput& out) const {
  out.values.clear();
  out.observed.clear();
  if (size_ == 0 || up_to_slot < first_slot()) return false;
  size_t end = static_cast<size_t>(std::min(up_to_slot, last_slot_) - first_slot());  // inclusive
  size_t begin = 0;
  while (begin <= end && kind(begin) != PointKind::kObserved) ++begin;
  while (end > begin && kind(end) != PointKind::kObserved) --end;
  if (begin > end || kind(end) != PointKind::kObserved) return false;

  size_t last_known = begin;  // index of the last non-missing point copied
  for (size_t i = begin; i <= end; ++i) {
    if (kind(i) == PointKind::kMissing) {
      out.values.push_back(0);  // replaced below, once the next known point is reached
      out.observed.push_back(0);
      continue;
    }
    if (i > last_known + 1) {
      // Fill the long gap (last_known, i) linearly; it is marked unobserved, so it shapes the decomposition
      // only as a bridge and never enters the scale or threshold (STL.md §6, option 2).
      const double from = value(last_known), to = value(i);
      const double width = static_cast<double>(i - last_known);
      for (size_t j = last_known + 1; j < i; ++j) {
        out.values[j - begin] = from + (to - from) * static_cast<double>(j - last_known) / width;
      }
    }
    out.values.push_back(value(i));
    out.observed.push_back(kind(i) == PointKind::kObserved ? 1 : 0);
    last_known = i;
  }
  out.last_slot = first_slot() + static_cast<int64_t>(end);
  return true;
}

}  // namespace anomaly::series
