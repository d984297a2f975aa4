// The episodes API's bodies (docs/api.md): the JSON of GET /api/v1/episodes and of a feedback's answer, and
// the decoding of a feedback's path and body. Pure functions of their inputs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/http/episodes.h"

namespace anomaly::http {

// {"status":"success","data":[...]}: the episodes, open ones first, then by start, newest first (then
// detector and id, for a stable order), at most kMaxEpisodesAnswered. Times are Unix seconds; end is null
// while open; non-finite numbers are null.
std::string RenderEpisodesJson(std::vector<EpisodeInfo> episodes);
// {"status":"success","data":{...}}: one episode, as in the list.
std::string RenderEpisodeJson(const EpisodeInfo& episode);

// The {id} of "/api/v1/episodes/{id}/feedback"; nullopt for any other path.
std::optional<std::string> FeedbackEpisodeId(std::string_view path);

// The body {"verdict": "false_positive"|"true_positive", "comment": "..."} ("comment" optional, a string of
// at most kMaxFeedbackComment bytes; no other key). kInvalidInput naming what is wrong.
[[nodiscard]] Result<FeedbackRequest> DecodeFeedback(std::string id, std::string_view body);

}  // namespace anomaly::http
