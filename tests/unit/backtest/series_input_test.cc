#include "anomaly/backtest/series_input.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::backtest {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct GoodCase {
  std::string name;
  std::string text;
  std::vector<double> values;
  std::vector<double> timestamps_seconds;
};

TEST(SeriesInputTest, ReadsGoodInputs) {
  const std::vector<GoodCase> cases = {
      {"one per line", "1\n2.5\n-3\n", {1, 2.5, -3}, {}},
      {"no trailing newline", "1\n2", {1, 2}, {}},
      {"blank lines and spaces", "\n 1 \n\n\t2\t\n\n", {1, 2}, {}},
      {"CRLF", "1\r\n2\r\n", {1, 2}, {}},
      {"exponent and plus sign", "1e3\n+4\n-2.5E-1\n", {1000, 4, -0.25}, {}},
      {"full precision", "0.1\n1.0000000000000002\n", {0.1, 1.0000000000000002}, {}},
      {"CSV Unix seconds", "timestamp,value\n1700000000,1\n1700000300,2\n", {1, 2}, {1700000000, 1700000300}},
      {"CSV fractional seconds", "t,v\n1700000000.25,1\n1700000000.5,2\n", {1, 2}, {1700000000.25, 1700000000.5}},
      {"CSV any header names", "time, cpu\n10, 0.5\n20, 0.75\n", {0.5, 0.75}, {10, 20}},
      {"CSV date and time",
       "timestamp,value\n2023-11-14 22:13:20,1\n2023-11-14 22:18:20,2\n",
       {1, 2},
       {1700000000, 1700000300}},
      {"CSV ISO T and Z", "timestamp,value\n2024-02-29T00:00:00Z,3\n", {3}, {1709164800}},
      {"CSV epoch", "timestamp,value\n1970-01-01 00:00:00,7\n", {7}, {0}},
      {"CSV CRLF and blank lines", "timestamp,value\r\n\r\n1,5\r\n\r\n2,6\r\n", {5, 6}, {1, 2}},
  };
  for (const GoodCase& c : cases) {
    Result<SeriesInput> got = ParseSeries(c.text);
    ASSERT_THAT(got, IsOk()) << c.name;
    EXPECT_THAT(got->values, ElementsAreArray(c.values)) << c.name;
    EXPECT_THAT(got->timestamps_seconds, ElementsAreArray(c.timestamps_seconds)) << c.name;
  }
}

struct BadCase {
  std::string text;
  std::string message;
};

TEST(SeriesInputTest, RejectsBadInputNamingTheLine) {
  const std::vector<BadCase> cases = {
      {"", "input has no values"},
      {"\n\n  \n", "input has no values"},
      {"timestamp,value\n", "input has no values"},
      {"1\n2\nabc\n", "input line 3: \"abc\" is not a number"},
      {"1\n\n\n12abc\n", "input line 4: \"12abc\" is not a number"},
      {"1\nNaN\n", "input line 2: \"NaN\" is not a finite number"},
      {"1\nnan\n", "input line 2: \"nan\" is not a finite number"},
      {"inf\n", "input line 1: \"inf\" is not a finite number"},
      {"1\n-Infinity\n", "input line 2: \"-Infinity\" is not a finite number"},
      {"1e999\n", "input line 1: \"1e999\" is out of range for a double"},
      {"1\n2,3\n", "input line 2: \"2,3\" is not a number"},
      {"0x10\n", "input line 1: \"0x10\" is not a number"},
      {"1 2\n", "input line 1: \"1 2\" is not a number"},
      {"1700000000,1\n1700000300,2\n", "input line 1: CSV input needs a header line such as \"timestamp,value\""},
      {"timestamp,value\n1,2,3\n", "input line 2: expected 2 fields (timestamp,value), got 3"},
      {"timestamp,value\n1,2\n3\n", "input line 3: expected 2 fields (timestamp,value), got 1"},
      {"timestamp,value\n1,\n", "input line 2: empty value"},
      {"timestamp,value\n,1\n", "input line 2: empty timestamp"},
      {"timestamp,value\n1,abc\n", "input line 2: \"abc\" is not a number"},
      {"timestamp,value\n1,NaN\n", "input line 2: \"NaN\" is not a finite number"},
      {"timestamp,value\nyesterday,1\n",
       "input line 2: \"yesterday\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)"},
      {"timestamp,value\n2023-02-30 00:00:00,1\n",
       "input line 2: \"2023-02-30 00:00:00\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)"},
      {"timestamp,value\n2023-01-01 24:00:00,1\n",
       "input line 2: \"2023-01-01 24:00:00\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)"},
      {"timestamp,value\n2023-1-01 00:00:00,1\n",
       "input line 2: \"2023-1-01 00:00:00\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)"},
      {"timestamp,value\ninf,1\n", "input line 2: \"inf\" is not a timestamp (Unix seconds or YYYY-MM-DD HH:MM:SS)"},
      {"timestamp,value\n10,1\n\n10,2\n", "input line 4: timestamp \"10\" is not after the previous one"},
      {"timestamp,value\n2023-01-01 00:05:00,1\n2023-01-01 00:00:00,2\n",
       "input line 3: timestamp \"2023-01-01 00:00:00\" is not after the previous one"},
  };
  for (const BadCase& c : cases) {
    EXPECT_THAT(ParseSeries(c.text), ErrorIs(ErrorCode::kInvalidInput, c.message)) << "input: " << c.text;
  }
}

TEST(SeriesInputTest, ParsesBothTimestampForms) {
  EXPECT_THAT(ParseTimestamp("1700000000"), IsOkAndHolds(DoubleEq(1700000000)));
  EXPECT_THAT(ParseTimestamp("2023-11-14 22:13:20"), IsOkAndHolds(DoubleEq(1700000000)));
  EXPECT_THAT(ParseTimestamp("2000-03-01 00:00:00"), IsOkAndHolds(DoubleEq(951868800)));
  EXPECT_THAT(ParseTimestamp("1969-12-31 23:59:59"), IsOkAndHolds(DoubleEq(-1)));
  EXPECT_THAT(ParseTimestamp("2023-11-14 22:13:60"), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("is not a timestamp")));
}

TEST(SeriesInputTest, ReadsAStream) {
  std::istringstream in("timestamp,value\n1,10\n2,20\n");
  Result<SeriesInput> got = ReadSeries(in);
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(got->values, ElementsAre(10, 20));
  EXPECT_THAT(got->timestamps_seconds, ElementsAre(1, 2));
}

TEST(SeriesInputTest, ReadsTestdataFile) {
  Result<SeriesInput> got = ReadSeriesFile(ANOMALY_TESTDATA_DIR "/app/daily.csv");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->values.size(), 72u);
  EXPECT_EQ(got->timestamps_seconds.size(), 72u);
  EXPECT_DOUBLE_EQ(got->timestamps_seconds.front(), 1704067200);  // 2024-01-01 00:00:00 UTC
}

TEST(SeriesInputTest, MissingFileIsInvalidInput) {
  EXPECT_THAT(ReadSeriesFile("/nonexistent/series.txt"),
              ErrorIs(ErrorCode::kInvalidInput,
                      "cannot open input file \"/nonexistent/series.txt\": No such file or directory"));
}

TEST(SeriesInputTest, KeepsTimestampsAsWritten) {
  Result<SeriesInput> got = ParseSeries("timestamp,value\n2014-02-14 14:30:00 , 1\n1392388500,2\n");
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(got->timestamp_texts, ElementsAre("2014-02-14 14:30:00", "1392388500"));
}

TEST(SeriesInputTest, RepeatedTimestampsOnlyWhenAllowed) {
  const std::string text = "timestamp,value\n10,1\n10,2\n20,3\n";
  EXPECT_THAT(ParseSeries(text), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("line 3")));
  Result<SeriesInput> got = ParseSeries(text, {.allow_repeated_timestamps = true});
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(got->values, ElementsAre(1, 2, 3));
  EXPECT_THAT(got->timestamps_seconds, ElementsAre(10, 10, 20));
  // Going back in time is refused either way.
  EXPECT_THAT(ParseSeries("t,v\n10,1\n5,2\n", {.allow_repeated_timestamps = true}),
              ErrorIs(ErrorCode::kInvalidInput, "input line 3: timestamp \"5\" is not after the previous one"));
}

TEST(SeriesInputTest, ReadsTheScoreApisJson) {
  Result<SeriesInput> in = ParseSeriesJson(
      R"({"samples": [[1700000000, 1], [1700000060.5, "2.5"], ["2023-11-14 22:16:00", -3e2]]})");
  ASSERT_THAT(in, IsOk());
  EXPECT_THAT(in->values, ElementsAre(1, 2.5, -300));
  EXPECT_THAT(in->timestamps_seconds, ElementsAre(1700000000, 1700000060.5, 1700000160));
  EXPECT_THAT(in->timestamp_texts, IsEmpty());
}

TEST(SeriesInputTest, RejectsBadJsonNamingTheSample) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1,2", "the body is not JSON: parse error at line 1, column 5"},
      {"[]", "the body needs a key \"samples\" holding an array of [timestamp, value]"},
      {R"({"samples": {}})", "the body needs a key \"samples\""},
      {R"({"samples": [[1, 2]], "step": "1m"})", "unknown key \"step\" in the body"},
      {R"({"samples": []})", "the body has no samples"},
      {R"({"samples": [[1, 2], [2]]})", "samples[1]: expected [timestamp, value], got [2]"},
      {R"({"samples": [[1, 2], [2, "abc"]]})", "samples[1]: value \"abc\" is not a number"},
      {R"({"samples": [[1, 2], [2, "NaN"]]})", "samples[1]: value \"NaN\" is not a finite number"},
      {R"({"samples": [[1, 2], [2, null]]})", "samples[1]: value null is not a number"},
      {R"({"samples": [[1, 2], [true, 3]]})", "samples[1]: timestamp true is not a number or a string"},
      {R"({"samples": [[1, 2], ["x", 3]]})", "samples[1]: \"x\" is not a timestamp"},
      {R"({"samples": [[5, 2], [4, 3]]})", "samples[1]: timestamp 4 is not after the previous one"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_THAT(ParseSeriesJson(text, {.allow_repeated_timestamps = true}),
                ErrorIs(ErrorCode::kInvalidInput, HasSubstr(message)))
        << text;
  }
  EXPECT_THAT(ParseSeriesJson(R"({"samples": [[5, 2], [5, 3]]})"),
              ErrorIs(ErrorCode::kInvalidInput, HasSubstr("samples[1]: timestamp 5 is not after the previous one")));
  EXPECT_THAT(ParseSeriesJson(R"({"samples": [[5, 2], [5, 3]]})", {.allow_repeated_timestamps = true}), IsOk());
}

TEST(SeriesInputTest, OneColumnInputHasNoTimestamps) {
  EXPECT_THAT(ParseSeries("1\n2\n"), IsOkAndHolds(::testing::Field(&SeriesInput::timestamps_seconds, IsEmpty())));
}

}  // namespace
}  // namespace anomaly::backtest
