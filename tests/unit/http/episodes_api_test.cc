#include "exporter/http/episodes_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "result_matchers.h"

namespace anomaly::http {
namespace {

using ::anomaly::testing::ErrorIs;
using ::testing::HasSubstr;

EpisodeInfo Episode(std::string id, int64_t start_ms, int64_t end_ms) {
  EpisodeInfo e;
  e.id = std::move(id);
  e.detector = "rps";
  e.labels = MakeLabels({{"job", "api"}});
  e.start_ms = start_ms;
  e.end_ms = end_ms;
  e.peak_score = 2.5;
  e.peak_ms = start_ms + 60'000;
  e.peak_value = 150;
  e.peak_expected = 100;
  return e;
}

TEST(EpisodesApiTest, ListsOpenEpisodesFirstThenNewestInThePrometheusShape) {
  EpisodeInfo with_feedback = Episode("b", 2'000'000, 2'600'000);
  with_feedback.feedback = EpisodeFeedback{FeedbackVerdict::kFalsePositive, "deploy", 3'000'000};
  with_feedback.margin = 0.5;
  const nlohmann::json body = nlohmann::json::parse(
      RenderEpisodesJson({Episode("a", 1'000'000, 1'500'000), with_feedback, Episode("c", 500'000, 0)}));
  EXPECT_EQ(body["status"], "success");
  ASSERT_EQ(body["data"].size(), 3u);
  EXPECT_EQ(body["data"][0]["id"], "c");  // open
  EXPECT_TRUE(body["data"][0]["end"].is_null());
  EXPECT_TRUE(body["data"][0]["feedback"].is_null());
  EXPECT_EQ(body["data"][1]["id"], "b");  // then the newest start
  EXPECT_EQ(body["data"][2]["id"], "a");
  const nlohmann::json& b = body["data"][1];
  EXPECT_EQ(b["detector"], "rps");
  EXPECT_EQ(b["labels"]["job"], "api");
  EXPECT_EQ(b["start"], 2000.0);
  EXPECT_EQ(b["end"], 2600.0);
  EXPECT_EQ(b["peak_score"], 2.5);
  EXPECT_EQ(b["peak_timestamp"], 2060.0);
  EXPECT_EQ(b["peak_value"], 150.0);
  EXPECT_EQ(b["peak_expected"], 100.0);
  EXPECT_EQ(b["feedback"]["verdict"], "false_positive");
  EXPECT_EQ(b["feedback"]["comment"], "deploy");
  EXPECT_EQ(b["feedback"]["timestamp"], 3000.0);
  EXPECT_EQ(b["margin"], 0.5);
}

TEST(EpisodesApiTest, AnswersAtMostTheNewestEpisodesInAll) {
  std::vector<EpisodeInfo> many;
  for (size_t i = 0; i < kMaxEpisodesAnswered + 5; ++i) {
    many.push_back(
        Episode(std::to_string(i), 1000 * static_cast<int64_t>(i + 1), 1000 * static_cast<int64_t>(i + 2)));
  }
  const nlohmann::json body = nlohmann::json::parse(RenderEpisodesJson(many));
  ASSERT_EQ(body["data"].size(), kMaxEpisodesAnswered);
  EXPECT_EQ(body["data"][0]["id"], std::to_string(kMaxEpisodesAnswered + 4));
}

TEST(EpisodesApiTest, FeedbackPathNamesOneEpisode) {
  EXPECT_EQ(FeedbackEpisodeId("/api/v1/episodes/0123abcd/feedback"), "0123abcd");
  EXPECT_EQ(FeedbackEpisodeId("/api/v1/episodes//feedback"), std::nullopt);
  EXPECT_EQ(FeedbackEpisodeId("/api/v1/episodes/a/b/feedback"), std::nullopt);
  EXPECT_EQ(FeedbackEpisodeId("/api/v1/episodes/a"), std::nullopt);
  EXPECT_EQ(FeedbackEpisodeId("/api/v1/episodesx/a/feedback"), std::nullopt);
}

TEST(EpisodesApiTest, DecodesFeedbackAndNamesWhatIsWrong) {
  Result<FeedbackRequest> ok = DecodeFeedback("id1", R"({"verdict":"false_positive","comment":"a deploy"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->id, "id1");
  EXPECT_EQ(ok->verdict, FeedbackVerdict::kFalsePositive);
  EXPECT_EQ(ok->comment, "a deploy");
  Result<FeedbackRequest> bare = DecodeFeedback("id1", R"({"verdict":"true_positive"})");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->verdict, FeedbackVerdict::kTruePositive);
  EXPECT_EQ(bare->comment, "");

  const struct {
    std::string body;
    std::string message;
  } bad[] = {
      {"verdict=false_positive", "the body is not JSON"},
      {"[]", "the body must be a JSON object"},
      {"{}", "\"verdict\" is missing"},
      {R"({"verdict":"wrong"})", "\"verdict\" must be \"false_positive\" or \"true_positive\""},
      {R"({"verdict":1})", "\"verdict\" must be"},
      {R"({"verdict":"true_positive","comment":3})", "\"comment\" must be a string"},
      {R"({"verdict":"true_positive","note":"x"})", "unknown key \"note\"; the keys are verdict and comment"},
      {R"({"verdict":"true_positive","comment":")" + std::string(kMaxFeedbackComment + 1, 'x') + "\"}",
       "\"comment\" is 1025 bytes; at most 1024 are accepted"},
  };
  for (const auto& c : bad) {
    EXPECT_THAT(DecodeFeedback("id1", c.body), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message)))
        << c.body;
  }
}

TEST(EpisodesApiTest, DecodesTheSeriesPagesFormAndNamesWhatIsWrong) {
  Result<FeedbackForm> ok = DecodeFeedbackForm(
      "id1", "return=%2Fseries%3Fdetector%3Drps%26host%3Da&comment=a+deploy+%26+more&verdict=false_positive");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->request.id, "id1");
  EXPECT_EQ(ok->request.verdict, FeedbackVerdict::kFalsePositive);
  EXPECT_EQ(ok->request.comment, "a deploy & more");
  EXPECT_EQ(ok->return_path, "/series?detector=rps&host=a");
  Result<FeedbackForm> bare = DecodeFeedbackForm("id1", "comment=&verdict=true_positive");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->request.verdict, FeedbackVerdict::kTruePositive);
  EXPECT_EQ(bare->request.comment, "");
  EXPECT_EQ(bare->return_path, "");

  const struct {
    std::string body;
    std::string message;
  } bad[] = {
      {"", "\"verdict\" is missing"},
      {"verdict=maybe", "\"verdict\" must be \"false_positive\" or \"true_positive\""},
      {"verdict=true_positive&comment=%zz", "bad percent-escape"},
      {"verdict=true_positive&note=x", "unknown field \"note\"; the fields are verdict, comment and return"},
      {"verdict=true_positive&comment=" + std::string(kMaxFeedbackComment + 1, 'x'),
       "\"comment\" is 1025 bytes"},
      {"verdict=true_positive&return=https%3A%2F%2Fevil.example%2F", "\"return\" must be a series page path"},
      {"verdict=true_positive&return=%2F%2Fevil.example", "\"return\" must be a series page path"},
  };
  for (const auto& c : bad) {
    EXPECT_THAT(DecodeFeedbackForm("id1", c.body), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message)))
        << c.body;
  }
}

TEST(EpisodesApiTest, OnlyARelativeSeriesPagePathIsAReturnPath) {
  const struct {
    std::string_view path;
    bool ok;
  } cases[] = {
      {"/series", true},
      {"/series?detector=rps&host=a%20b", true},
      {"/seriesx", false},
      {"/series/../metrics", false},
      {"//evil.example/series", false},
      {"https://evil.example/series?x", false},
      {"/series?x=\\evil", false},
      {"/series?x=a b", false},
      {"/series?x=\r\nSet-Cookie:a", false},
      {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(IsSeriesReturnPath(c.path), c.ok) << c.path;
}

}  // namespace
}  // namespace anomaly::http
