#include "exporter/app/score_handler.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/result_matchers.h"

namespace anomaly::app {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// 4 days at 5 minutes with a daily cycle and a spike (the backtest's own test file).
const std::string kCsv = ReadFile(ANOMALY_TESTDATA_DIR "/backtest/daily_spike.csv");

http::ScoreRequest Request(std::string query, std::string body, http::ScoreFormat body_format = http::ScoreFormat::kCsv,
                           http::ScoreFormat answer_format = http::ScoreFormat::kCsv) {
  return http::ScoreRequest{std::move(query), body_format, answer_format, std::move(body),
                            std::chrono::steady_clock::now() + std::chrono::seconds(60)};
}

// The same series as the JSON body.
std::string AsJson(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::string out = "{\"samples\":[";
  for (bool first = true; std::getline(in, line); first = false) {
    out += (first ? "[" : ",[") + line + "]";
  }
  return out + "]}";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ScoreHandlerTest, RejectsBadInputNamingTheProblem) {
  using F = http::ScoreFormat;
  struct Case {
    std::string query, body;
    F format;
    std::string message;
  };
  std::string short_csv = "timestamp,value\n";
  for (int i = 0; i < 100; ++i) short_csv += std::to_string(1704067200 + 300 * i) + "," + std::to_string(i % 7) + "\n";
  const std::vector<Case> cases = {
      {"", "t,v\n1,2\n2,abc\n", F::kCsv, "input line 3: \"abc\" is not a number"},
      {"", R"({"samples":[[1,2],[2,"abc"]]})", F::kJson, "samples[1]: value \"abc\" is not a number"},
      {"", R"({"samples":[[1,2],[2,true]]})", F::kJson, "samples[1]: value true is not a number"},
      {"", "t,v\n10,1\n5,2\n", F::kCsv, "input line 3: timestamp \"5\" is not after the previous one"},
      {"", R"({"samples":[[10,1],[5,2]]})", F::kJson, "samples[1]: timestamp 5 is not after the previous one"},
      {"", "1\n2\n3\n", F::kCsv, "text/csv needs a header line and timestamp,value rows"},
      {"", "", F::kJson, "the body is not JSON"},
      {"seasonality=1d", short_csv, F::kCsv,
       "seasonality 1d needs 3 periods (3d) of samples to be fitted; the series spans 8h20m (100 samples at step 5m)"},
      {"seasonality=1h,1d", short_csv, F::kCsv, "seasonality 1d needs 3 periods (3d)"},
      {"histroy=1d", kCsv, F::kCsv, "unknown parameter \"histroy\"; the detector settings are: step, history, "},
      {"max-gap=1h", kCsv, F::kCsv, "unknown parameter \"max-gap\""},
      {"history=3d&seasonality=none&history=4d", kCsv, F::kCsv, "parameter \"history\" given twice"},
      {"threshold_floor=-1", kCsv, F::kCsv, "threshold_floor: must be > 0, got -1"},
      {"history=3x", kCsv, F::kCsv, "history: invalid duration \"3x\""},
      {"seasonality=1q", kCsv, F::kCsv, "seasonality: invalid duration \"1q\""},
      {"threshold_floor=3%2C%20window%3A%201h", kCsv, F::kCsv, "threshold_floor: expected a number"},
      {"history=1d%0A", kCsv, F::kCsv, "holds a control character"},
      {"stl_periodic=maybe", kCsv, F::kCsv, "stl_periodic: must be true or false, got \"maybe\""},
      {"history=%zz", kCsv, F::kCsv, "the query string: bad percent-escape in \"%zz\""},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Score(Request(c.query, c.body, c.format), {}), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message)))
        << c.query << " " << c.body.substr(0, 40);
  }
  EXPECT_THAT(Score(Request("", kCsv), {.max_samples = 1000}),
              ErrorIs(ErrorCode::kInvalidInput,
                      "1152 samples; at most 1000 are scored per request (--web.score-max-samples)"));
}

TEST(ScoreHandlerTest, CsvAnswerHasARowPerSampleAndFlagsTheSpike) {
  Result<http::ScoreAnswer> r = Score(Request("seasonality=1d&history=4d", kCsv), {});
  ASSERT_THAT(r, IsOk());
  const std::vector<std::string> lines = Lines(r->body);
  ASSERT_EQ(lines.size(), 1153u);
  EXPECT_EQ(lines[0], "timestamp,value,expected,lower,upper,zscore,score,flag,state");
  EXPECT_THAT(lines[1], StartsWith("1704067200,97.642,"));
  int flagged = 0;
  for (const std::string& line : lines) flagged += line.find(",1,ok") != std::string::npos;
  EXPECT_GT(flagged, 0);
}

TEST(ScoreHandlerTest, JsonAndCsvInAndOutHoldTheSameVerdicts) {
  using F = http::ScoreFormat;
  const std::string query = "seasonality=1d&threshold_floor=4";
  Result<http::ScoreAnswer> csv = Score(Request(query, kCsv, F::kCsv, F::kCsv), {});
  Result<http::ScoreAnswer> json = Score(Request(query, AsJson(kCsv), F::kJson, F::kJson), {});
  Result<http::ScoreAnswer> json_to_csv = Score(Request(query, AsJson(kCsv), F::kJson, F::kCsv), {});
  ASSERT_THAT(csv, IsOk());
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(json_to_csv, IsOk());
  // Unix-second timestamps are written as read, so the JSON body's CSV answer is the CSV body's.
  EXPECT_EQ(json_to_csv->body, csv->body);

  const nlohmann::json doc = nlohmann::json::parse(json->body);
  EXPECT_EQ(doc["status"], "success");
  EXPECT_EQ(doc["data"]["model"], "stl");
  EXPECT_EQ(doc["data"]["periods"], "1d");
  const nlohmann::json& samples = doc["data"]["samples"];
  const std::vector<std::string> lines = Lines(csv->body);
  ASSERT_EQ(samples.size() + 1, lines.size());
  int episodes = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string& line = lines[i + 1];
    const std::string state = line.substr(line.rfind(',') + 1);
    const std::string flag = line.substr(line.rfind(',', line.rfind(',') - 1) + 1, 1);
    EXPECT_EQ(samples[i]["state"], state) << i;
    EXPECT_EQ(samples[i]["flag"].get<int>(), std::stoi(flag)) << i;
    EXPECT_EQ(samples[i]["expected"].is_null(), line.find(",,,,,") != std::string::npos) << i;
    episodes += i > 0 && samples[i]["flag"] == 1 && samples[i - 1]["flag"] == 0;
  }
  EXPECT_EQ(doc["data"]["episodes"].get<int>(), episodes);
}

TEST(ScoreHandlerTest, RepeatedTimestampsAreKeptWithoutAVerdictAsInTheBacktest) {
  std::string csv = kCsv;
  const std::vector<std::string> lines = Lines(kCsv);
  csv += lines.back() + "\n";  // the last row again
  Result<http::ScoreAnswer> r = Score(Request("seasonality=none", csv), {});
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(Lines(r->body).back(), ::testing::EndsWith(",,,,,,0,repeated"));
}

TEST(ScoreHandlerTest, StopsAtTheDeadlineWithTimeout) {
  http::ScoreRequest request = Request("seasonality=1d", kCsv);
  request.deadline = std::chrono::steady_clock::now();
  EXPECT_THAT(Score(request, {}), ErrorIs(ErrorCode::kTimeout, HasSubstr("stopped after 0 of 1152 samples")));
}

}  // namespace
}  // namespace anomaly::app
