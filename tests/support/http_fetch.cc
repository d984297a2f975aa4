#include "support/http_fetch.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string_view>

namespace anomaly::testing {
namespace {

size_t Append(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Keeps the Location header's value.
size_t KeepLocation(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  if (line.size() > 9 && (line.substr(0, 9) == "Location:" || line.substr(0, 9) == "location:")) {
    line.remove_prefix(9);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    *static_cast<std::string*>(user) = std::string(line);
  }
  return size * count;
}

Result<HttpResult> Fetch(const std::string& url, const std::string* post_body,
                         const std::string& content_type, Duration timeout,
                         const std::vector<std::string>& extra_headers = {}) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  HttpResult result;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, KeepLocation);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.location);
  if (post_body) {
    headers.reset(curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str()));
    for (const std::string& h : extra_headers) headers.reset(curl_slist_append(headers.release(), h.c_str()));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  }
  CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return MakeError(code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUpstreamUnavailable,
                     url + ": " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

}  // namespace

Result<HttpResult> HttpGet(const std::string& url, Duration timeout) {
  return Fetch(url, nullptr, "", timeout);
}

Result<HttpResult> HttpPost(const std::string& url, const std::string& body, const std::string& content_type,
                            Duration timeout) {
  return Fetch(url, &body, content_type, timeout);
}

Result<HttpResult> HttpPostWithHeaders(const std::string& url, const std::string& body,
                                       const std::string& content_type,
                                       const std::vector<std::string>& headers) {
  return Fetch(url, &body, content_type, std::chrono::seconds(5), headers);
}

}  // namespace anomaly::testing
