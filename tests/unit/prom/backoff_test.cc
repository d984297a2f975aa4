#include "exporter/prom/backoff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace anomaly::prom {
namespace {

using ::testing::Optional;

const BackoffPolicy kPolicy{Duration(250), Duration(10'000)};

TEST(BackoffTest, CeilingDoublesUpToMax) {
  EXPECT_EQ(BackoffCeiling(0, kPolicy), Duration(250));
  EXPECT_EQ(BackoffCeiling(1, kPolicy), Duration(500));
  EXPECT_EQ(BackoffCeiling(5, kPolicy), Duration(8'000));
  EXPECT_EQ(BackoffCeiling(6, kPolicy), Duration(10'000));
  EXPECT_EQ(BackoffCeiling(1'000'000, kPolicy),
            Duration(10'000));  // no overflow
}

TEST(BackoffTest, FullJitterSpansZeroToCeiling) {
  for (int retry = 0; retry < 10; ++retry) {
    const Duration ceiling = BackoffCeiling(retry, kPolicy);
    EXPECT_EQ(RetryDelay(retry, kPolicy, std::nullopt, 0.0), Duration(0));
    for (double u : {0.1, 0.5, 0.9, 0.999999}) {
      Duration d = RetryDelay(retry, kPolicy, std::nullopt, u);
      EXPECT_GE(d, Duration(0));
      EXPECT_LE(d, ceiling);
    }
    EXPECT_EQ(RetryDelay(retry, kPolicy, std::nullopt, 0.5).count(), ceiling.count() / 2);
  }
  // Out-of-range randomness is clamped rather than trusted.
  EXPECT_EQ(RetryDelay(0, kPolicy, std::nullopt, 7.0), Duration(250));
  EXPECT_EQ(RetryDelay(0, kPolicy, std::nullopt, -1.0), Duration(0));
}

TEST(BackoffTest, RetryAfterIsAFloorCappedAtMax) {
  EXPECT_EQ(RetryDelay(0, kPolicy, Duration(2'000), 0.0), Duration(2'000));
  EXPECT_EQ(RetryDelay(6, kPolicy, Duration(2'000), 0.9),
            Duration(9'000));  // jitter above the floor
  EXPECT_EQ(RetryDelay(0, kPolicy, Duration(3'600'000), 0.0), Duration(10'000));
}

TEST(BackoffTest, ParsesRetryAfterSecondsOnly) {
  EXPECT_THAT(ParseRetryAfter("120"), Optional(Duration(120'000)));
  EXPECT_THAT(ParseRetryAfter(" 3\r\n"), Optional(Duration(3'000)));
  EXPECT_THAT(ParseRetryAfter("0"), Optional(Duration(0)));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999"), std::nullopt);
}

}  // namespace
}  // namespace anomaly::prom
