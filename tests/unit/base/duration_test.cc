#include "anomaly/base/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

TEST(DurationTest, ParsesPrometheusForms) {
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {{"0", 0},          {"0s", 0},           {"250ms", 250},          {"30s", 30000},
               {"5m", 300000},    {"1h30m", 5400000},  {"1d", 86400000},        {"7d", 604800000},
               {"1w", 604800000}, {"1y", 31536000000}, {"1h2m3s4ms", 3723004}};
  for (const Case& c : cases) {
    EXPECT_THAT(ParseDuration(c.text), IsOkAndHolds(milliseconds(c.ms))) << c.text;
  }
}

TEST(DurationTest, RejectsBadForms) {
  struct Case {
    const char* text;
    const char* why;
  } cases[] = {{"", "empty"},          {"5", "missing unit"},       {"5x", "unknown unit"},
               {"m5", "expected a number"}, {"1s1m", "largest to smallest"}, {"1m1m", "largest to smallest"},
               {"-5m", "expected a number"}, {"99999999999999999999y", "too large"}};
  for (const Case& c : cases) {
    EXPECT_THAT(ParseDuration(c.text), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.why))) << c.text;
  }
}

// Issue 8 (found by fuzzing the config loader): durations that parsed but overflowed int64 milliseconds
// once the config multiplied them (5 * step, 2 * period). The bound is what a Prometheus duration can
// hold: 2^63 - 1 nanoseconds, 9223372036854 ms (292y 24w ...); a million times that still fits in int64 ms.
TEST(DurationTest, Issue8RefusesDurationsLongerThanPrometheusCanHold) {
  EXPECT_THAT(ParseDuration("9223372036854ms"), IsOkAndHolds(milliseconds(9223372036854)));
  EXPECT_THAT(ParseDuration("292y"), IsOkAndHolds(milliseconds(292 * 31536000000LL)));
  for (const char* text : {"9223372036855ms", "293y", "292y25w", "100000000000002m", "142222222222223m"}) {
    EXPECT_THAT(ParseDuration(text), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("too large (at most 292y")))
        << text;
  }
}

TEST(DurationTest, FormatRoundTrips) {
  for (int64_t ms : {0LL, 1LL, 999LL, 1000LL, 90000LL, 86400000LL, 604800000LL, 31536000000LL + 1}) {
    EXPECT_THAT(ParseDuration(FormatDuration(milliseconds(ms))), IsOkAndHolds(milliseconds(ms))) << ms;
  }
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(86400000)), "1d");
}

}  // namespace
}  // namespace anomaly
