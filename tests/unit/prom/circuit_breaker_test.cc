#include "exporter/prom/circuit_breaker.h"

#include <gtest/gtest.h>

namespace anomaly::prom {
namespace {

using State = CircuitBreaker::State;
using std::chrono::seconds;

const CircuitBreaker::TimePoint kT0{seconds(1000)};

TEST(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker breaker(3, seconds(30));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker.Allow(kT0));
    breaker.RecordFailure(kT0);
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
  ASSERT_TRUE(breaker.Allow(kT0));
  breaker.RecordFailure(kT0);
  EXPECT_EQ(breaker.state(), State::kOpen);
  Duration retry_in{-1};
  EXPECT_FALSE(breaker.Allow(kT0 + seconds(10), &retry_in));
  EXPECT_EQ(retry_in, seconds(20));
}

TEST(CircuitBreakerTest, SuccessResetsTheCount) {
  CircuitBreaker breaker(2, seconds(30));
  breaker.RecordFailure(kT0);
  breaker.RecordSuccess();
  breaker.RecordFailure(kT0);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(breaker.consecutive_failures(), 1);
}

TEST(CircuitBreakerTest, HalfOpenLetsOneTrialThroughAndClosesOnSuccess) {
  CircuitBreaker breaker(1, seconds(30));
  breaker.RecordFailure(kT0);
  ASSERT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow(kT0 + seconds(29)));
  EXPECT_TRUE(breaker.Allow(kT0 + seconds(30)));  // the trial
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_FALSE(breaker.Allow(kT0 + seconds(30)));  // others wait for it
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow(kT0 + seconds(31)));
}

TEST(CircuitBreakerTest, FailedTrialReopensForAFullCooldown) {
  CircuitBreaker breaker(5, seconds(30));
  for (int i = 0; i < 5; ++i) breaker.RecordFailure(kT0);
  ASSERT_TRUE(breaker.Allow(kT0 + seconds(40)));
  breaker.RecordFailure(kT0 + seconds(40));  // one failure is enough in half-open
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow(kT0 + seconds(69)));
  EXPECT_TRUE(breaker.Allow(kT0 + seconds(70)));
}

TEST(CircuitBreakerTest, ZeroThresholdDisablesIt) {
  CircuitBreaker breaker(0, seconds(30));
  for (int i = 0; i < 100; ++i) breaker.RecordFailure(kT0);
  EXPECT_TRUE(breaker.Allow(kT0));
  EXPECT_EQ(breaker.state(), State::kClosed);
}

}  // namespace
}  // namespace anomaly::prom
