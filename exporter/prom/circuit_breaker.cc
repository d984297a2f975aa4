#include "circuit_breaker.h"

#include <chrono>

namespace anomaly::prom {

bool CircuitBreaker::Allow(TimePoint now, Duration* retry_in) {
  if (threshold_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now - opened_at_ >= cooldown_) {
        state_ = State::kHalfOpen;
        trial_in_flight_ = true;
        return true;
      }
      if (retry_in) *retry_in = std::chrono::duration_cast<Duration>(opened_at_ + cooldown_ - now);
      return false;
    case State::kHalfOpen:
      // One trial at a time; the others fail fast until it reports.
      if (!trial_in_flight_) {
        trial_in_flight_ = true;
        return true;
      }
      if (retry_in) *retry_in = Duration(0);
      return false;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  if (threshold_ <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
  trial_in_flight_ = false;
}

void CircuitBreaker::RecordFailure(TimePoint now) {
  if (threshold_ <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++failures_;
  if (state_ == State::kHalfOpen || failures_ >= threshold_) {
    state_ = State::kOpen;
    opened_at_ = now;
    trial_in_flight_ = false;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

}  // namespace anomaly::prom
