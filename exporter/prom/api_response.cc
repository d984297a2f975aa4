#include "api_response.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace anomaly::prom {
namespace {

using nlohmann::json;

bool IsSuccessStatus(long http_status) { return http_status >= 200 && http_status < 300; }

// A short, printable excerpt of a body for error messages: proxies answer with
// HTML or plain text.
std::string Excerpt(std::string_view body) {
  constexpr size_t kMaxBytes = 200;
  std::string out;
  for (char c : body.substr(0, kMaxBytes)) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > kMaxBytes) out += "...";
  return out.empty() ? "empty body" : out;
}

std::string StatusPrefix(long http_status) { return "prometheus answered " + std::to_string(http_status); }

std::string StringField(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

ErrorCode ErrorCodeForErrorType(std::string_view error_type, long http_status) {
  if (error_type == "timeout") return ErrorCode::kTimeout;
  if (error_type == "unavailable" || error_type == "internal" || error_type == "canceled") {
    return ErrorCode::kUpstreamUnavailable;
  }
  if (error_type == "bad_data" || error_type == "execution" || error_type == "not_found" ||
      error_type == "not_acceptable") {
    return ErrorCode::kUpstreamRejected;
  }
  if (http_status == 429 || http_status >= 500) return ErrorCode::kUpstreamUnavailable;
  if (http_status == 408) return ErrorCode::kTimeout;
  return ErrorCode::kUpstreamRejected;
}

Result<ApiResponse> DecodeApiResponse(std::string_view body, long http_status) {
  json doc;
  // nlohmann reports a syntax error as parse_error and a number beyond a
  // double's range (1e400) as out_of_range (406): both are bodies we cannot
  // decode, never an exception for the caller.
  auto undecodable = [&](const json::exception& e, std::string where) -> tl::unexpected<Error> {
    if (!IsSuccessStatus(http_status)) {
      return MakeError(ErrorCodeForErrorType("", http_status),
                       StatusPrefix(http_status) + ": " + Excerpt(body));
    }
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return MakeError(ErrorCode::kUpstreamMalformed,
                     StatusPrefix(http_status) + ": body is not valid JSON" + where + ": " + what);
  };
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character; report
    // the 0-based offset of the byte where decoding stopped, bounded by the
    // body.
    size_t offset = std::min(e.byte > 0 ? e.byte - 1 : 0, body.size());
    return undecodable(e, " at byte offset " + std::to_string(offset) + " of " + std::to_string(body.size()));
  } catch (const json::out_of_range& e) {
    return undecodable(e, "");
  }
  if (!doc.is_object()) {
    if (!IsSuccessStatus(http_status)) {
      return MakeError(ErrorCodeForErrorType("", http_status),
                       StatusPrefix(http_status) + ": " + Excerpt(body));
    }
    return MakeError(ErrorCode::kUpstreamMalformed,
                     StatusPrefix(http_status) + ": body is not a JSON object");
  }
  std::string status = StringField(doc, "status");
  if (status == "error" || !IsSuccessStatus(http_status)) {
    std::string error_type = StringField(doc, "errorType");
    std::string error = StringField(doc, "error");
    if (error_type.empty() && error.empty()) error = Excerpt(body);
    std::string message = StatusPrefix(http_status) + ": ";
    if (!error_type.empty()) message += error_type + ": ";
    message += error;
    return MakeError(ErrorCodeForErrorType(error_type, http_status), std::move(message));
  }
  if (status != "success") {
    return MakeError(ErrorCode::kUpstreamMalformed,
                     StatusPrefix(http_status) + ": \"status\" is \"" + status + "\", want \"success\"");
  }
  ApiResponse out;
  if (auto it = doc.find("data"); it != doc.end()) out.data = std::move(*it);
  if (auto it = doc.find("warnings"); it != doc.end() && it->is_array()) {
    for (const json& w : *it) {
      if (w.is_string()) out.warnings.push_back(w.get<std::string>());
    }
  }
  return out;
}

}  // namespace anomaly::prom
