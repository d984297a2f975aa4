#include "anomaly/backtest/output.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace anomaly::backtest {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

ScoredRow Row(int64_t ms, double value, bool scored, double score, bool flagged, bool rose) {
  ScoredRow r;
  r.timestamp_ms = ms;
  r.value = value;
  r.scored = scored;
  r.flag_rose = rose;
  r.verdict.state = scored ? scoring::SeriesState::kOk : scoring::SeriesState::kInsufficientData;
  r.verdict.expected = 10;
  r.verdict.lower = 7;
  r.verdict.upper = 13;
  r.verdict.zscore = score * 3;
  r.verdict.score = score;
  r.verdict.anomalous = flagged;
  return r;
}

BacktestResult Sample() {
  BacktestResult r;
  r.rows = {Row(1000, 1, false, 0, false, false), Row(2000, 2.5, true, 0.5, false, false),
            Row(3000, 30, true, 4, true, true), Row(4000, 31, true, 5, true, false),
            Row(4000, 31, false, 5, false, false)};
  r.rows.back().issue = RowIssue::kRepeated;
  return r;
}

TEST(OutputTest, NabHasOneRowPerInputRowWithTimestampsAsRead) {
  const std::vector<std::string> texts = {"2014-02-14 14:30:00", "2014-02-14 14:35:00", "2014-02-14 14:40:00",
                                          "2014-02-14 14:45:00", "2014-02-14 14:45:00"};
  std::ostringstream out;
  WriteNab(Sample(), texts, out);
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "timestamp,value,anomaly_score");
  EXPECT_EQ(lines[1], "2014-02-14 14:30:00,1,0");
  EXPECT_EQ(lines[2], "2014-02-14 14:35:00,2.5,0");     // scored, not flagged: silent
  EXPECT_EQ(lines[3], "2014-02-14 14:40:00,30,0.8");    // the flag rises: 1 - 1/(1+4)
  EXPECT_EQ(lines[4], "2014-02-14 14:45:00,31,0");      // still flagged: the event already spoke
  EXPECT_EQ(lines[5], "2014-02-14 14:45:00,31,0");
}

TEST(OutputTest, NabMapIsInUnitIntervalAndMonotone) {
  double previous = -1;
  for (double s : {0.0, 0.1, 0.99, 1.0, 1.01, 1.5, 2.0, 3.0, 10.0, 100.0, 1e6, std::numeric_limits<double>::infinity()}) {
    const double x = NabMap(s);
    EXPECT_GE(x, 0.0) << s;
    EXPECT_LE(x, 1.0) << s;
    if (s > 0) {
      EXPECT_GT(x, previous) << s;
    }
    previous = x;
  }
  EXPECT_DOUBLE_EQ(NabMap(1), 0.5);
  EXPECT_EQ(NabMap(std::nan("")), 0);
  EXPECT_EQ(NabMap(-2), 0);
}

// Exactly the daemon's onsets speak, valued by their score; everything else is 0.
TEST(OutputTest, NabScoresAreTheFlagsOnsetsOnly) {
  const int64_t h = 3600 * 1000;
  BacktestResult r;
  r.rows = {Row(0, 0, false, 0, false, false),        // no verdict
            Row(1 * h, 0, true, 6, true, true),       // onset: speaks
            Row(2 * h, 0, true, 0.3, true, false),    // flagged, not an onset: silent
            Row(3 * h, 0, true, 2, true, true),       // another onset, smaller score: speaks
            Row(4 * h, 0, true, 7, false, false),     // a high score without a flag: silent
            Row(5 * h, 0, true, 1.5, true, true)};
  EXPECT_THAT(NabScores(r), ElementsAre(0, NabMap(6), 0, NabMap(2), 0, NabMap(1.5)));
}

TEST(OutputTest, CsvHasEveryVerdictFieldAndEmptyScoresWithoutAVerdict) {
  std::ostringstream out;
  WriteCsv(Sample(), {}, out);
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "timestamp,value,expected,lower,upper,zscore,score,flag,state");
  EXPECT_EQ(lines[1], "1,1,,,,,,0,insufficient_data");
  EXPECT_EQ(lines[3], "3,30,10,7,13,12,4,1,ok");
  EXPECT_EQ(lines[5], "4,31,,,,,,0,repeated");
}

TEST(OutputTest, CsvSeriesColumnIsQuoted) {
  std::ostringstream out;
  BacktestResult r;
  r.rows = {Row(1500, 1, false, 0, false, false)};
  WriteCsv(r, {}, out, "{job=\"x\"}");
  EXPECT_THAT(Lines(out.str()), ElementsAre("series,timestamp,value,expected,lower,upper,zscore,score,flag,state",
                                            "\"{job=\"\"x\"\"}\",1.5,1,,,,,,0,insufficient_data"));
}

TEST(OutputTest, JsonHasTheCsvsFieldsWithNullWhereTheCsvIsEmpty) {
  BacktestResult r = Sample();
  r.rows[3].verdict.score = std::numeric_limits<double>::infinity();
  r.periods = {288};
  r.model = scoring::ModelKind::kStl;
  r.detected_periods = {{}, {288}};
  r.fits = 2;
  r.flagged_rows = 2;
  r.episodes = 1;
  r.repeated_rows = 1;
  std::ostringstream out;
  WriteJson(r, std::chrono::minutes(5), out);
  EXPECT_EQ(out.str(),
            "{\"model\":\"stl\",\"periods\":\"1d\",\"detected_periods\":[\"none\",\"1d\"],\"fits\":2,"
            "\"flagged_samples\":2,\"episodes\":1,\"repeated_samples\":1,\"out_of_order_samples\":0,\"samples\":["
            "{\"timestamp\":1,\"value\":1,\"expected\":null,\"lower\":null,\"upper\":null,\"zscore\":null,"
            "\"score\":null,\"flag\":0,\"state\":\"insufficient_data\"},\n"
            "{\"timestamp\":2,\"value\":2.5,\"expected\":10,\"lower\":7,\"upper\":13,\"zscore\":1.5,"
            "\"score\":0.5,\"flag\":0,\"state\":\"ok\"},\n"
            "{\"timestamp\":3,\"value\":30,\"expected\":10,\"lower\":7,\"upper\":13,\"zscore\":12,"
            "\"score\":4,\"flag\":1,\"state\":\"ok\"},\n"
            "{\"timestamp\":4,\"value\":31,\"expected\":10,\"lower\":7,\"upper\":13,\"zscore\":15,"
            "\"score\":null,\"flag\":1,\"state\":\"ok\"},\n"
            "{\"timestamp\":4,\"value\":31,\"expected\":null,\"lower\":null,\"upper\":null,\"zscore\":null,"
            "\"score\":null,\"flag\":0,\"state\":\"repeated\"}]}");
}

}  // namespace
}  // namespace anomaly::backtest
