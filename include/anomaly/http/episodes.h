// The episodes API (docs/api.md): GET /api/v1/episodes and POST /api/v1/episodes/{id}/feedback. Plain data
// the app hands the web server: each detector's recent flagged episodes, copied from its runner's episode
// log (exporter/app/episode_log.h) under the runner's core mutex, immutable once handed over.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anomaly/base/labels.h"

namespace anomaly::http {

// What a person said of an episode.
enum class FeedbackVerdict { kFalsePositive, kTruePositive };
std::string_view FeedbackVerdictName(FeedbackVerdict verdict);  // "false_positive", "true_positive"
std::optional<FeedbackVerdict> ParseFeedbackVerdict(std::string_view name);

struct EpisodeFeedback {
  FeedbackVerdict verdict = FeedbackVerdict::kTruePositive;
  std::string comment;  // as given, at most kMaxFeedbackComment bytes
  int64_t at_ms = 0;    // when it was given (Unix ms)
};

// One flagged episode of one series (anomaly_flag 1 from start to end).
struct EpisodeInfo {
  std::string id;  // 16 hex digits: a hash of detector, labels and start, the same after a restart
  std::string detector;
  Labels labels;  // the series' own labels, as the snapshot names them
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // 0 while open
  double peak_score = 0;
  int64_t peak_ms = 0;  // the sample of the highest score published, its value and expected value
  double peak_value = 0;
  double peak_expected = 0;
  std::optional<EpisodeFeedback> feedback;  // the latest given; none yet
  // The series' decision margin from false positives now (docs/api.md): its calibrated score must reach
  // 1 + margin to be anomalous. 0 without feedback, or once it has faded.
  double margin = 0;
};

// POST /api/v1/episodes/{id}/feedback, its body decoded and checked by the web server.
struct FeedbackRequest {
  std::string id;
  FeedbackVerdict verdict = FeedbackVerdict::kTruePositive;
  std::string comment;
};

// Where a feedback belongs when not here: with shards, one shard scores an episode's series and keeps its
// episodes, and the episode's id names it (docs/api.md, "With shards").
struct FeedbackOwner {
  int shard = 0;       // the owning shard's index
  int count = 1;       // the shard count
  int this_shard = 0;  // the index of the shard that was asked
  std::string url;     // the owner's base URL, no trailing slash (--web.shard-url-template); empty: unknown
};

inline constexpr std::string_view kEpisodesPath = "/api/v1/episodes";
// Bounds of the API: the newest episodes answered in all (each series keeps at most 16, EpisodeLog), the
// feedback body, and its comment.
inline constexpr size_t kMaxEpisodesAnswered = 1000;
inline constexpr size_t kMaxFeedbackBody = 8192;
inline constexpr size_t kMaxFeedbackComment = 1024;

}  // namespace anomaly::http
