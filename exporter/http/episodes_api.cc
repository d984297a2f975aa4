#include "exporter/http/episodes_api.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "anomaly/base/url.h"
#include "exporter/http/series_page.h"

namespace anomaly::http {
namespace {

Status CheckComment(const std::string& comment) {
  if (comment.size() <= kMaxFeedbackComment) return {};
  return MakeError(ErrorCode::kInvalidInput, "\"comment\" is " + std::to_string(comment.size()) +
                                                 " bytes; at most " + std::to_string(kMaxFeedbackComment) +
                                                 " are accepted");
}

constexpr std::string_view kBadVerdict = "\"verdict\" must be \"false_positive\" or \"true_positive\"";

nlohmann::ordered_json Number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

nlohmann::ordered_json EpisodeObject(const EpisodeInfo& e) {
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const Label& l : e.labels) labels[l.name] = l.value;
  nlohmann::ordered_json feedback(nullptr);
  if (e.feedback) {
    feedback = {{"verdict", std::string(FeedbackVerdictName(e.feedback->verdict))},
                {"comment", e.feedback->comment},
                {"timestamp", Seconds(e.feedback->at_ms)}};
  }
  return {
      {"id", e.id},
      {"detector", e.detector},
      {"labels", std::move(labels)},
      {"start", Seconds(e.start_ms)},
      {"end", e.end_ms > 0 ? Seconds(e.end_ms) : nlohmann::ordered_json(nullptr)},
      {"peak_score", Number(e.peak_score)},
      {"peak_timestamp", Seconds(e.peak_ms)},
      {"peak_value", Number(e.peak_value)},
      {"peak_expected", Number(e.peak_expected)},
      {"feedback", std::move(feedback)},
      {"margin", Number(e.margin)},
  };
}

std::string Dump(const nlohmann::ordered_json& body) {
  // Label values and comments are arbitrary bytes: replace invalid UTF-8 rather than throw.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string_view FeedbackVerdictName(FeedbackVerdict verdict) {
  return verdict == FeedbackVerdict::kFalsePositive ? "false_positive" : "true_positive";
}

std::optional<FeedbackVerdict> ParseFeedbackVerdict(std::string_view name) {
  if (name == "false_positive") return FeedbackVerdict::kFalsePositive;
  if (name == "true_positive") return FeedbackVerdict::kTruePositive;
  return std::nullopt;
}

std::string RenderEpisodesJson(std::vector<EpisodeInfo> episodes) {
  std::sort(episodes.begin(), episodes.end(), [](const EpisodeInfo& a, const EpisodeInfo& b) {
    const bool a_ended = a.end_ms != 0, b_ended = b.end_ms != 0;
    return std::tie(a_ended, b.start_ms, a.detector, a.id) < std::tie(b_ended, a.start_ms, b.detector, b.id);
  });
  if (episodes.size() > kMaxEpisodesAnswered) episodes.resize(kMaxEpisodesAnswered);
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const EpisodeInfo& e : episodes) data.push_back(EpisodeObject(e));
  return Dump({{"status", "success"}, {"data", std::move(data)}});
}

std::string RenderEpisodeJson(const EpisodeInfo& episode) {
  return Dump({{"status", "success"}, {"data", EpisodeObject(episode)}});
}

std::optional<std::string> FeedbackEpisodeId(std::string_view path) {
  constexpr std::string_view kSuffix = "/feedback";
  if (!path.starts_with(kEpisodesPath) || !path.ends_with(kSuffix)) return std::nullopt;
  path.remove_prefix(kEpisodesPath.size());
  path.remove_suffix(kSuffix.size());
  if (path.size() < 2 || path.front() != '/' || path.find('/', 1) != std::string_view::npos)
    return std::nullopt;
  return std::string(path.substr(1));
}

Result<FeedbackRequest> DecodeFeedback(std::string id, std::string_view body) {
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MakeError(ErrorCode::kInvalidInput, "the body is not JSON");
  if (!doc.is_object()) return MakeError(ErrorCode::kInvalidInput, "the body must be a JSON object");
  FeedbackRequest request;
  request.id = std::move(id);
  bool has_verdict = false;
  for (const auto& [key, value] : doc.items()) {
    if (key == "verdict") {
      const std::optional<FeedbackVerdict> v =
          value.is_string() ? ParseFeedbackVerdict(value.get_ref<const std::string&>()) : std::nullopt;
      if (!v) return MakeError(ErrorCode::kInvalidInput, std::string(kBadVerdict));
      request.verdict = *v;
      has_verdict = true;
    } else if (key == "comment") {
      if (!value.is_string()) return MakeError(ErrorCode::kInvalidInput, "\"comment\" must be a string");
      request.comment = value.get<std::string>();
      if (Status ok = CheckComment(request.comment); !ok) return tl::unexpected(ok.error());
    } else {
      return MakeError(ErrorCode::kInvalidInput,
                       "unknown key \"" + key + "\"; the keys are verdict and comment");
    }
  }
  if (!has_verdict) return MakeError(ErrorCode::kInvalidInput, "\"verdict\" is missing");
  return request;
}

bool IsSeriesReturnPath(std::string_view path) {
  if (!path.starts_with(kSeriesPath)) return false;
  if (path.size() > kSeriesPath.size() && path[kSeriesPath.size()] != '?') return false;
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7f || c == '\\') return false;
  }
  return true;
}

Result<FeedbackForm> DecodeFeedbackForm(std::string id, std::string_view body) {
  FeedbackForm form;
  form.request.id = std::move(id);
  bool has_verdict = false;
  Result<std::vector<FormField>> fields = DecodeForm(body);
  if (!fields) return tl::unexpected(fields.error());
  for (FormField& f : *fields) {
    if (f.name == "verdict") {
      const std::optional<FeedbackVerdict> v = ParseFeedbackVerdict(f.value);
      if (!v) return MakeError(ErrorCode::kInvalidInput, std::string(kBadVerdict));
      form.request.verdict = *v;
      has_verdict = true;
    } else if (f.name == "comment") {
      if (Status ok = CheckComment(f.value); !ok) return tl::unexpected(ok.error());
      form.request.comment = std::move(f.value);
    } else if (f.name == "return") {
      if (!IsSeriesReturnPath(f.value)) {
        return MakeError(ErrorCode::kInvalidInput, "\"return\" must be a series page path (/series?...)");
      }
      form.return_path = std::move(f.value);
    } else {
      return MakeError(ErrorCode::kInvalidInput, "unknown field \"" + f.name.substr(0, 64) +
                                                     "\"; the fields are verdict, comment and return");
    }
  }
  if (!has_verdict) return MakeError(ErrorCode::kInvalidInput, "\"verdict\" is missing");
  return form;
}

}  // namespace anomaly::http
