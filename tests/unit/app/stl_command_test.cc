// RunStlCommand in process, on string streams: flags reach StlParams, the CSV layout, and that a
// failure writes one line to err and nothing to out.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "anomaly/app/commands.h"
#include "anomaly/scoring/stl.h"

namespace anomaly::app {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunStl(std::vector<std::string_view> args, const std::string& stdin_text) {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  int code = RunStlCommand(args, in, out, err);
  return Outcome{code, out.str(), err.str()};
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, sep);) parts.push_back(part);
  return parts;
}

// Rows of the CSV body as numbers; the header is checked separately.
std::vector<std::vector<double>> Rows(const std::string& csv) {
  std::vector<std::vector<double>> rows;
  std::vector<std::string> lines = Split(csv, '\n');
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<double> row;
    for (const std::string& field : Split(lines[i], ',')) row.push_back(std::strtod(field.c_str(), nullptr));
    rows.push_back(row);
  }
  return rows;
}

const std::string kDaily = ReadFile(ANOMALY_TESTDATA_DIR "/app/daily.txt");
const std::string kDailyCsv = ReadFile(ANOMALY_TESTDATA_DIR "/app/daily.csv");

TEST(StlCommandTest, WritesValueSeasonalTrendRemainder) {
  Outcome run = RunStl({"--period=24", "--seasonal=7"}, kDaily);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_THAT(run.out, StartsWith("value,seasonal,trend,remainder\n"));
  std::vector<std::vector<double>> rows = Rows(run.out);
  ASSERT_EQ(rows.size(), 72u);
  std::vector<std::string> values = Split(kDaily, '\n');
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 4u) << "row " << i;
    EXPECT_EQ(rows[i][0], std::strtod(values[i].c_str(), nullptr)) << "row " << i;
    // The remainder is y - S - T, so the sum differs from y by rounding only.
    EXPECT_NEAR(rows[i][1] + rows[i][2] + rows[i][3], rows[i][0], 1e-9) << "row " << i;
  }
}

TEST(StlCommandTest, CsvInputAddsUnixSecondsTimestamps) {
  Outcome run = RunStl({"--period", "24", "--seasonal", "periodic"}, kDailyCsv);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith("timestamp,value,seasonal,trend,remainder\n1704067200,100,"));
  EXPECT_EQ(Rows(run.out).size(), 72u);
}

TEST(StlCommandTest, RobustAddsWeightsThatDownWeightTheSpike) {
  Outcome run = RunStl({"--period=24", "--seasonal=7", "--robust"}, kDaily);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith("value,seasonal,trend,remainder,weight\n"));
  std::vector<std::vector<double>> rows = Rows(run.out);
  ASSERT_EQ(rows.size(), 72u);
  for (const std::vector<double>& row : rows) {
    ASSERT_EQ(row.size(), 5u);
    EXPECT_GE(row[4], 0.0);
    EXPECT_LE(row[4], 1.0);
  }
  EXPECT_LT(rows[50][4], 0.5) << "testdata/app/daily.txt has a +60 spike at row 50";
}

// Every R parameter flag must reach its own StlParams field: the command's output must equal, digit for
// digit (shortest round-trip printing), what scoring::Stl gives for the params set by hand. Each value
// differs from R's default, so a flag that is ignored or lands in another field fails.
TEST(StlCommandTest, EveryParameterFlagReachesItsStlParam) {
  using scoring::StlParams;
  struct Case {
    std::string_view flag;
    void (*set)(StlParams&);
  };
  const std::vector<Case> cases = {
      {"--seasonal=11", [](StlParams& p) { p.seasonal_window = 11; }},
      {"--seasonal=periodic", [](StlParams& p) { p.periodic = true; }},
      {"--seasonal-degree=1", [](StlParams& p) { p.seasonal_degree = 1; }},
      {"--seasonal-jump=3", [](StlParams& p) { p.seasonal_jump = 3; }},
      {"--trend=25", [](StlParams& p) { p.trend_window = 25; }},
      {"--trend-degree=0", [](StlParams& p) { p.trend_degree = 0; }},
      {"--trend-jump=1", [](StlParams& p) { p.trend_jump = 1; }},
      {"--lowpass=35", [](StlParams& p) { p.lowpass_window = 35; }},
      {"--lowpass-degree=0", [](StlParams& p) { p.lowpass_degree = 0; }},
      {"--lowpass-jump=1", [](StlParams& p) { p.lowpass_jump = 1; }},
      {"--inner=5", [](StlParams& p) { p.inner_iterations = 5; }},
      {"--outer=3", [](StlParams& p) { p.outer_iterations = 3; }},
      {"--robust", [](StlParams& p) { p.robust = true; }},
  };
  std::vector<double> y;
  for (const std::vector<double>& row : Rows("header\n" + kDaily)) y.push_back(row[0]);
  ASSERT_EQ(y.size(), 72u);

  Result<scoring::StlResult> defaults = scoring::Stl(y, StlParams{.period = 24, .seasonal_window = 7});
  ASSERT_TRUE(defaults.has_value());
  for (const Case& c : cases) {
    std::vector<std::string_view> args = {"--period=24", c.flag};
    if (!c.flag.starts_with("--seasonal=")) args.push_back("--seasonal=7");
    Outcome run = RunStl(args, kDaily);
    ASSERT_EQ(run.code, 0) << c.flag << ": " << run.err;

    StlParams params{.period = 24, .seasonal_window = 7};
    c.set(params);
    Result<scoring::StlResult> want = scoring::Stl(y, params);
    ASSERT_TRUE(want.has_value()) << c.flag;
    EXPECT_NE(want->trend, defaults->trend) << c.flag << " equals R's default; pick another value";
    std::vector<std::vector<double>> rows = Rows(run.out);
    ASSERT_EQ(rows.size(), y.size()) << c.flag;
    for (size_t i = 0; i < y.size(); ++i) {
      ASSERT_EQ(rows[i][1], want->seasonal[i]) << c.flag << " row " << i;
      ASSERT_EQ(rows[i][2], want->trend[i]) << c.flag << " row " << i;
      ASSERT_EQ(rows[i][3], want->remainder[i]) << c.flag << " row " << i;
    }
  }
}

struct BadCase {
  std::vector<std::string_view> args;
  std::string input;
  std::string message;  // after "anomaly_exporter: stl: "
};

TEST(StlCommandTest, RejectsBadFlagsAndInputWithOneLineAndNoOutput) {
  const std::vector<BadCase> cases = {
      {{"--seasonal=7"}, kDaily, "flag --period is required"},
      {{"--period=24"}, kDaily, "flag --seasonal is required (a window or periodic)"},
      {{"--period=0", "--seasonal=7"}, kDaily, "flag --period: must be at least 2 samples per season, got 0"},
      {{"--period=-24", "--seasonal=7"}, kDaily, "flag --period: must be at least 2 samples per season, got -24"},
      {{"--period=x", "--seasonal=7"}, kDaily, "flag --period: \"x\" is not an integer"},
      {{"--period=24", "--seasonal=weekly"}, kDaily, "flag --seasonal: \"weekly\" is neither an integer nor \"periodic\""},
      {{"--period=24", "--seasonal=7", "--bogus"}, kDaily, "unknown flag --bogus"},
      {{"--period=24", "--seasonal=7", "daily.txt"}, kDaily,
       "unexpected argument \"daily.txt\" (the input is --input=FILE)"},
      {{"--period=24", "--seasonal=7"}, "1\n2\nabc\n", "input line 3: \"abc\" is not a number"},
      {{"--period=24", "--seasonal=7"}, "1\nNaN\n", "input line 2: \"NaN\" is not a finite number"},
      {{"--period=24", "--seasonal=7"}, "", "input has no values"},
      {{"--period=24", "--seasonal=7"}, kDaily.substr(0, kDaily.find("\n", 0) + 1),
       "input has 1 value; --period 24 needs at least 48 (two full periods)"},
      {{"--period=37", "--seasonal=7"}, kDaily, "input has 72 values; --period 37 needs at least 74 (two full periods)"},
  };
  for (const BadCase& c : cases) {
    Outcome run = RunStl(c.args, c.input);
    EXPECT_EQ(run.code, 2) << c.message;
    EXPECT_EQ(run.err, "anomaly_exporter: stl: " + c.message + "\n");
    EXPECT_EQ(run.out, "") << c.message;
  }
}

// The scoring library checks the ranges; its message must come back in terms of the flag.
TEST(StlCommandTest, ParameterOutOfRangeNamesTheFlag) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"--seasonal=4", "flag --seasonal: "},          {"--seasonal-degree=2", "flag --seasonal-degree: "},
      {"--seasonal-jump=0", "flag --seasonal-jump: "}, {"--trend=4", "flag --trend: "},
      {"--trend-degree=-1", "flag --trend-degree: "},  {"--trend-jump=0", "flag --trend-jump: "},
      {"--lowpass=2", "flag --lowpass: "},             {"--lowpass-degree=3", "flag --lowpass-degree: "},
      {"--lowpass-jump=0", "flag --lowpass-jump: "},   {"--inner=0", "flag --inner: "},
      {"--outer=-1", "flag --outer: "},
  };
  for (const auto& [flag, prefix] : cases) {
    std::vector<std::string_view> args = {"--period=24", flag};
    if (!flag.starts_with("--seasonal=")) args.push_back("--seasonal=7");
    Outcome run = RunStl(args, kDaily);
    EXPECT_EQ(run.code, 2) << flag;
    EXPECT_THAT(run.err, AllOf(StartsWith("anomaly_exporter: stl: " + std::string(prefix)), EndsWith("\n"))) << flag;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_EQ(run.out, "") << flag;
  }
}

TEST(StlCommandTest, HelpDocumentsEveryFlag) {
  Outcome run = RunStl({"--help"}, "");
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.err, "");
  for (std::string_view flag :
       {"--period=P", "--seasonal=S", "--seasonal-degree=D", "--seasonal-jump=J", "--trend=T", "--trend-degree=D",
        "--trend-jump=J", "--lowpass=L", "--lowpass-degree=D", "--lowpass-jump=J", "--robust", "--inner=N",
        "--outer=N", "--input=FILE", "--help"}) {
    EXPECT_THAT(run.out, HasSubstr(std::string("  ") + std::string(flag))) << flag;
  }
}

}  // namespace
}  // namespace anomaly::app
