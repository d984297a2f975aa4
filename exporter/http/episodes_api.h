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

// A feedback posted by the series page's form (application/x-www-form-urlencoded): verdict, comment (as in
// the JSON body, an empty comment is none) and `return`, the page to go back to. kInvalidInput naming the
// field for a bad escape, a bad or missing verdict, a long comment, an unknown field, or a `return` that
// is not a relative series page path (IsSeriesReturnPath).
struct FeedbackForm {
  FeedbackRequest request;
  std::string return_path;  // empty: none given
};
[[nodiscard]] Result<FeedbackForm> DecodeFeedbackForm(std::string id, std::string_view body);

// Whether `path` may be a form's redirect target: "/series" or "/series?...", with no scheme, host, '\\',
// control character or space, so the 303 cannot lead off this exporter (an open redirect).
bool IsSeriesReturnPath(std::string_view path);

}  // namespace anomaly::http
