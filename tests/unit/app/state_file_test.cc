#include "exporter/app/state_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "anomaly/base/log.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace anomaly::app {
namespace {

using ::anomaly::testing::ErrorIs;
using ::testing::HasSubstr;

std::vector<StoredSeries> Sample() {
  StoredSeries s;
  s.detector = "http rps";  // a space, escaped
  s.labels = MakeLabels({{"__name__", "rps"}, {"path", "/a b%c\n"}, {"empty", ""}});
  s.margin = 0.55;
  s.margin_ms = 1'700'000'000'123;
  s.episodes.push_back(EpisodeRecord{.start_ms = 1000,
                                     .end_ms = 2000,
                                     .peak_score = 3.25,
                                     .peak_ms = 1500,
                                     .peak_value = 151.2,
                                     .peak_expected = 99.8});
  EpisodeRecord open{.start_ms = 3000,
                     .end_ms = 0,
                     .peak_score = 1.5,
                     .peak_ms = 3000,
                     .peak_value = -1e-300,
                     .peak_expected = 0.1};
  open.feedback = http::EpisodeFeedback{http::FeedbackVerdict::kFalsePositive, "load test, 100%", 3500};
  s.episodes.push_back(open);
  StoredSeries bare;
  bare.detector = "d2";
  return {s, bare};
}

TEST(StateFileTest, RoundTripsEveryField) {
  const std::vector<StoredSeries> in = Sample();
  Result<std::vector<StoredSeries>> out = DecodeState(EncodeState(in));
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_EQ(out->size(), 2u);
  const StoredSeries& s = (*out)[0];
  EXPECT_EQ(s.detector, "http rps");
  EXPECT_EQ(s.labels, in[0].labels);
  EXPECT_EQ(s.margin, 0.55);
  EXPECT_EQ(s.margin_ms, 1'700'000'000'123);
  ASSERT_EQ(s.episodes.size(), 2u);
  EXPECT_EQ(s.episodes[0].start_ms, 1000);
  EXPECT_EQ(s.episodes[0].end_ms, 2000);
  EXPECT_EQ(s.episodes[0].peak_score, 3.25);
  EXPECT_EQ(s.episodes[0].peak_value, 151.2);
  EXPECT_FALSE(s.episodes[0].feedback.has_value());
  EXPECT_EQ(s.episodes[1].peak_value, -1e-300);
  ASSERT_TRUE(s.episodes[1].feedback.has_value());
  EXPECT_EQ(s.episodes[1].feedback->verdict, http::FeedbackVerdict::kFalsePositive);
  EXPECT_EQ(s.episodes[1].feedback->comment, "load test, 100%");
  EXPECT_EQ(s.episodes[1].feedback->at_ms, 3500);
  EXPECT_EQ((*out)[1].detector, "d2");
  EXPECT_TRUE((*out)[1].labels.empty());
  EXPECT_TRUE((*out)[1].episodes.empty());
}

TEST(StateFileTest, RefusesAnythingButAWholeFileNamingTheLine) {
  const std::string good = EncodeState(Sample());
  const struct {
    std::string text;
    std::string message;
  } bad[] = {
      {"", "no end line (truncated)"},
      {good.substr(0, good.size() - 1), "not terminated by a newline (truncated)"},
      {good.substr(0, good.rfind("end ")), "no end line (truncated)"},
      {"something else\n", "line 1: not an anomaly_exporter state file"},
      {"anomaly_exporter_state 1\nepisode 1 2 3 4 5 6 - 0 %\nend 1\n",
       "line 2: an episode before any series"},
      {"anomaly_exporter_state 1\nseries d 1 a\nend 1\n", "line 2: a series line needs"},
      {"anomaly_exporter_state 1\nseries d 0 x 0\nend 1\n", "line 2: bad margin"},
      {"anomaly_exporter_state 1\nseries d 0 0 0\nend 2\n",
       "line 3: the end line does not count the 1 records"},
      {"anomaly_exporter_state 1\nseries d 0 0 0\nepisode 1 2 3 4 5 6 maybe 0 %\nend 2\n",
       "line 3: bad feedback"},
      {"anomaly_exporter_state 1\nseries d%4 0 0 0\nend 1\n", "line 2: detector: bad escape"},
      {"anomaly_exporter_state 1\nend 0\nend 0\n", "line 3: text after the end line"},
  };
  for (const auto& c : bad) {
    EXPECT_THAT(DecodeState(c.text), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message))) << c.text;
  }
}

TEST(StateFileTest, WritesAtomicallyAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const std::string path = dir.File("state");
  ASSERT_TRUE(WriteFileAtomically(path, "one\n").has_value());
  ASSERT_TRUE(WriteFileAtomically(path, "two\n").has_value());
  EXPECT_EQ(testing::ReadFile(path), "two\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  Status missing_dir = WriteFileAtomically(dir.File("no/such/state"), "x");
  EXPECT_THAT(missing_dir, ErrorIs(ErrorCode::kInternal, HasSubstr("no/such/state.tmp")));
}

TEST(StateFileTest, ACorruptFileIsLoggedWithItsPathMovedAsideAndIgnored) {
  std::ostringstream log_text;
  log::Configure(log::Level::kInfo, log::Format::kLogfmt, &log_text);
  testing::TempDir dir;
  const std::string path = dir.File("state");
  EXPECT_TRUE(LoadStateOrMoveAside(path).empty()) << "no file: nothing, quietly";
  EXPECT_EQ(log_text.str(), "");

  ASSERT_TRUE(WriteFileAtomically(path, EncodeState(Sample())).has_value());
  EXPECT_EQ(LoadStateOrMoveAside(path).size(), 2u);

  const std::string good = EncodeState(Sample());
  ASSERT_TRUE(testing::WriteFile(path, good.substr(0, good.size() / 2)));  // a half-written file
  EXPECT_TRUE(LoadStateOrMoveAside(path).empty());
  EXPECT_FALSE(std::filesystem::exists(path)) << "moved aside";
  size_t aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().string().starts_with("state.corrupt-")) ++aside;
  }
  EXPECT_EQ(aside, 1u);
  log::Configure(log::Level::kInfo, log::Format::kLogfmt, nullptr);
  EXPECT_THAT(log_text.str(), HasSubstr("level=error"));
  EXPECT_THAT(log_text.str(), HasSubstr(path));
  EXPECT_THAT(log_text.str(), HasSubstr("truncated"));
}

}  // namespace
}  // namespace anomaly::app
