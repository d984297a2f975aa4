// A circuit breaker per upstream (M. Nygard, "Release It!", ch. 5): closed ->
// after `threshold` consecutive failed requests, open (fail fast) for
// `cooldown` -> half-open, one trial request -> closed on success, open again
// on failure. Thread-safe: one mutex, never held during I/O. Time is passed in,
// so tests step it without sleeping. Private to the prom stage.
#pragma once

#include <chrono>
#include <mutex>

#include "anomaly/base/duration.h"

namespace anomaly::prom {

class CircuitBreaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class State { kClosed, kOpen, kHalfOpen };

  // threshold <= 0 disables the breaker: Allow() is always true.
  CircuitBreaker(int threshold, Duration cooldown) : threshold_(threshold), cooldown_(cooldown) {}
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // True: send the request, then report it with RecordSuccess/RecordFailure
  // exactly once. False: fail fast; `retry_in` (if given) gets the time left
  // until the next trial.
  bool Allow(TimePoint now, Duration* retry_in = nullptr);
  void RecordSuccess();
  void RecordFailure(TimePoint now);

  State state() const;
  int consecutive_failures() const;

 private:
  // Constant after construction.
  const int threshold_;
  const Duration cooldown_;

  mutable std::mutex mu_;
  // Guarded by mu_.
  State state_ = State::kClosed;
  int failures_ = 0;
  TimePoint opened_at_{};
  bool trial_in_flight_ = false;
};

}  // namespace anomaly::prom
