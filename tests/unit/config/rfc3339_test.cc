#include "exporter/config/rfc3339.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace anomaly::config {
namespace {

using std::chrono::milliseconds;

TimePoint At(int64_t unix_ms) { return TimePoint(milliseconds(unix_ms)); }

TEST(Rfc3339Test, ParsesZonesAndFractions) {
  struct Case {
    const char* text;
    int64_t unix_ms;
  } cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2024-05-01T22:00:00Z", 1714600800000},
      {"2024-05-01t22:00:00z", 1714600800000},
      {"2024-05-01 22:00:00Z", 1714600800000},
      {"2024-05-02T00:00:00+02:00", 1714600800000},
      {"2024-05-01T17:30:00-04:30", 1714600800000},
      {"2024-05-01T22:00:00.5Z", 1714600800500},
      {"2024-05-01T22:00:00.123456789Z", 1714600800123},
      {"2024-02-29T00:00:00Z", 1709164800000},
  };
  for (const Case& c : cases) {
    std::optional<TimePoint> t = ParseRfc3339(c.text);
    ASSERT_TRUE(t.has_value()) << c.text;
    EXPECT_EQ(*t, At(c.unix_ms)) << c.text;
  }
}

TEST(Rfc3339Test, RejectsMalformedOrImpossibleTimes) {
  for (const char* text :
       {"", "2024-05-01", "2024-05-01T22:00:00", "2024-05-01T22:00Z", "2024-5-01T22:00:00Z",
        "2024-05-01T22:00:00+0200", "2024-05-01T22:00:00.Z", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T23:60:00Z", "2024-05-01T23:59:60Z", "2024-05-01T22:00:00Z ",
        "2024-05-01T22:00:00+24:00"}) {
    EXPECT_FALSE(ParseRfc3339(text).has_value()) << text;
  }
}

TEST(Rfc3339Test, FormatsUtcAndRoundTrips) {
  EXPECT_EQ(FormatRfc3339(At(1714600800000)), "2024-05-01T22:00:00Z");
  EXPECT_EQ(FormatRfc3339(At(1714600800500)), "2024-05-01T22:00:00.500Z");
  for (int64_t ms : {0LL, 1LL, 951782400000LL, 1714600800123LL, 4102444799999LL}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(At(ms))), At(ms)) << ms;
  }
}

}  // namespace
}  // namespace anomaly::config
