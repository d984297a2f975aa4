#include "http_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "anomaly/base/log.h"
#include "api_response.h"
#include "curl_transport.h"
#include "paging.h"
#include "query_range_decoder.h"

namespace anomaly::prom {
namespace {

constexpr std::string_view kQueryRangePath = "/api/v1/query_range";
constexpr std::string_view kFormatQueryPath = "/api/v1/format_query";
constexpr std::string_view kInstantQueryPath = "/api/v1/query";
constexpr size_t kMaxLoggedWarnings = 256;

// RFC 3986 unreserved characters pass; everything else is %XX (form encoding
// without '+').
std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

// Unix seconds with millisecond precision, as Prometheus' API takes them:
// 1700000000.250.
std::string FormatSeconds(int64_t ms) {
  char buf[32];
  const char* sign = ms < 0 ? "-" : "";
  uint64_t abs_ms = ms < 0 ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%03" PRIu64, sign, abs_ms / 1000, abs_ms % 1000);
  return buf;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The file's contents without trailing whitespace. The message names the option
// and the path, never the contents.
Result<std::string> ReadSecretFile(std::string_view option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kInternal,
                     "reading " + std::string(option) + " " + path + ": " + std::strerror(errno));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string secret = contents.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
  return secret;
}

// 501 Not Implemented is an answer about the path, not a passing failure: retrying cannot change it.
bool IsRetryableStatus(long status) {
  return status == 429 || status == 408 || (status >= 500 && status != 501);
}

bool IsRetryableError(ErrorCode code) {
  return code == ErrorCode::kTimeout || code == ErrorCode::kUpstreamUnavailable;
}

// True when `response` says the store has no such endpoint rather than anything about the query: 404
// (Prometheus < 2.38, Thanos), 405, 501, or a 400/422 whose body is not an API answer but a plain "no such
// path" (VictoriaMetrics: 400 `unsupported path requested: "/api/v1/format_query"`). A Prometheus-style
// JSON error (errorType bad_data, ...) is always a verdict on the query itself.
bool CannotCheckQueries(const HttpResponse& response) {
  if (response.status == 404 || response.status == 405 || response.status == 501) return true;
  if (response.status != 400 && response.status != 422) return false;
  const nlohmann::json doc = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && (doc.contains("errorType") || doc.contains("status"))) return false;
  std::string body = response.body.substr(0, 4096);
  std::transform(body.begin(), body.end(), body.begin(), [](unsigned char c) { return std::tolower(c); });
  return body.find("unsupported path") != std::string::npos || body.find("not found") != std::string::npos;
}

// `query "rate(x[5m])"`, plus how many requests it took when more than one.
std::string QueryContext(std::string_view query, int requests) {
  std::string context = "query \"" + std::string(query) + "\"";
  if (requests > 1) context += " (" + std::to_string(requests) + " requests)";
  return context;
}

}  // namespace

ClientEnv RealClientEnv() {
  return ClientEnv{
      .now = [] { return std::chrono::steady_clock::now(); },
      .sleep = [](Duration d) { std::this_thread::sleep_for(d); },
      .unit_random =
          [] {
            thread_local std::mt19937_64 engine{std::random_device{}()};
            return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
          },
  };
}

Status ValidateClientOptions(const ClientOptions& o) {
  auto bad = [](std::string message) { return MakeError(ErrorCode::kInvalidConfig, std::move(message)); };
  std::string_view url = o.url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos ||
      (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    return bad("url: want http://host[:port][/prefix] or https://..., got \"" + o.url + "\"");
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  if (authority.empty()) return bad("url: no host in \"" + o.url + "\"");
  // Credentials in the URL would end up in error messages and logs.
  if (authority.find('@') != std::string_view::npos) {
    return bad("url: put credentials in basic_auth, not in the url");
  }
  if (o.timeout <= Duration(0)) return bad("timeout: must be positive");
  if (o.connect_timeout <= Duration(0)) return bad("connect_timeout: must be positive");
  if (o.max_retries < 0) return bad("max_retries: must be >= 0");
  if (o.initial_backoff < Duration(0) || o.max_backoff < o.initial_backoff) {
    return bad(
        "initial_backoff, max_backoff: want 0 <= initial_backoff <= "
        "max_backoff");
  }
  if (o.breaker_failure_threshold > 0 && o.breaker_cooldown <= Duration(0)) {
    return bad("breaker_cooldown: must be positive");
  }
  if (o.max_points_per_request < 1) return bad("max_points_per_request: must be >= 1");
  if (!o.basic_auth_username.empty() && !o.bearer_token_file.empty()) {
    return bad("basic_auth and bearer_token_file are mutually exclusive");
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return bad("tls_cert_file and tls_key_file go together");
  }
  for (const auto& [name, value] : o.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return bad("headers: invalid header \"" + name + "\"");
    }
  }
  return {};
}

HttpRangeQueryClient::HttpRangeQueryClient(ClientOptions options, std::unique_ptr<HttpTransport> transport,
                                           ClientEnv env)
    : options_(std::move(options)),
      base_url_([this] {
        std::string url = options_.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
      }()),
      backoff_{options_.initial_backoff, options_.max_backoff},
      transport_(std::move(transport)),
      env_(std::move(env)),
      breaker_(options_.breaker_failure_threshold, options_.breaker_cooldown) {}

Result<std::vector<std::string>> HttpRangeQueryClient::AuthHeaders() const {
  std::vector<std::string> headers;
  if (!options_.bearer_token_file.empty()) {
    Result<std::string> token = ReadSecretFile("bearer_token_file", options_.bearer_token_file);
    if (!token) return tl::unexpected(token.error());
    headers.push_back("Authorization: Bearer " + *token);
  } else if (!options_.basic_auth_username.empty()) {
    std::string password;
    if (!options_.basic_auth_password_file.empty()) {
      Result<std::string> read =
          ReadSecretFile("basic_auth_password_file", options_.basic_auth_password_file);
      if (!read) return tl::unexpected(read.error());
      password = std::move(*read);
    }
    headers.push_back("Authorization: Basic " + Base64(options_.basic_auth_username + ":" + password));
  }
  for (const auto& [name, value] : options_.headers) headers.push_back(name + ": " + value);
  return headers;
}

// The body of one query_range request, decoded as it arrives; a fresh decoder for each response (each
// retry), with the response's status.
class HttpRangeQueryClient::StreamingBody final : public BodyConsumer {
 public:
  explicit StreamingBody(const std::function<void(SeriesSamples&&)>& sink) : sink_(sink) {}
  void Begin(long http_status) override { decoder_.emplace(http_status, sink_); }
  void Write(std::string_view piece) override { decoder_->Feed(piece); }
  // A series went to the sink: the request must not be sent again.
  bool handed_over() const { return decoder_ && decoder_->series_emitted() > 0; }
  Result<std::vector<std::string>> Finish() {
    if (!decoder_) return MakeError(ErrorCode::kInternal, "no response to decode");
    return decoder_->Finish();
  }

 private:
  const std::function<void(SeriesSamples&&)>& sink_;
  std::optional<QueryRangeStreamDecoder> decoder_;
};

Result<HttpResponse> HttpRangeQueryClient::Send(std::string_view path, const std::string& form,
                                                CallStats* stats, StreamingBody* streaming) {
  // Secrets are read once per request sequence, so a rotated token is used from
  // the next call on.
  Result<std::vector<std::string>> headers = AuthHeaders();
  if (!headers) return tl::unexpected(headers.error());
  HttpRequest request{base_url_ + std::string(path), form, std::move(*headers)};

  std::optional<Result<HttpResponse>> last;
  for (int attempt = 0;; ++attempt) {
    Duration retry_in{0};
    if (!breaker_.Allow(env_.now(), &retry_in)) {
      // Opened while this call was retrying: its own last failure is the better
      // message.
      if (last) return std::move(*last);
      return MakeError(ErrorCode::kCancelled, "circuit open after " +
                                                  std::to_string(breaker_.consecutive_failures()) +
                                                  " consecutive failures of " + base_url_ +
                                                  ", next trial in " + FormatDuration(retry_in));
    }
    ++stats->requests;
    if (attempt > 0) ++stats->retries;
    Result<HttpResponse> response =
        streaming != nullptr ? transport_->PostStreaming(request, *streaming) : transport_->Post(request);
    bool retryable = response ? IsRetryableStatus(response->status) : IsRetryableError(response.error().code);
    if (retryable) {
      breaker_.RecordFailure(env_.now());
    } else {
      // Any other answer, 4xx included, means the upstream is up.
      breaker_.RecordSuccess();
    }
    if (!retryable || attempt >= options_.max_retries) return response;
    if (streaming != nullptr && streaming->handed_over()) return response;
    std::optional<Duration> retry_after = response ? response->retry_after : std::nullopt;
    last = std::move(response);
    env_.sleep(RetryDelay(attempt, backoff_, retry_after, env_.unit_random()));
  }
}

void HttpRangeQueryClient::LogWarningsOnce(std::string_view query, const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) {
    {
      std::lock_guard<std::mutex> lock(warnings_mu_);
      if (logged_warnings_.size() >= kMaxLoggedWarnings || !logged_warnings_.insert(warning).second) continue;
    }
    log::Warn("prometheus returned a warning", {{"query", std::string(query)}, {"warning", warning}});
  }
}

void HttpRangeQueryClient::Notify(std::string_view query, const std::optional<ErrorCode>& error,
                                  const CallStats& stats, std::chrono::steady_clock::time_point started,
                                  const std::vector<std::string>& warnings) {
  if (!options_.observer) return;
  QueryEvent event{
      .query = query,
      .error = error,
      .requests = stats.requests,
      .retries = stats.retries,
      .elapsed = std::chrono::duration_cast<Duration>(env_.now() - started),
      .warnings = warnings,
  };
  options_.observer(event);
}

Result<std::vector<SeriesSamples>> HttpRangeQueryClient::QueryRange(const RangeQuery& query) {
  const auto started = env_.now();
  CallStats stats;
  std::vector<std::string> warnings;
  auto fail = [&](const Error& error, std::string_view page_context) {
    std::string context = QueryContext(query.query, stats.requests);
    if (!page_context.empty()) context += std::string(" ") + std::string(page_context);
    Error out = error.WithContext(context);
    Notify(query.query, out.code, stats, started, warnings);
    return tl::unexpected(std::move(out));
  };
  const int64_t step_ms = query.step.count();
  if (step_ms <= 0) return fail(Error{ErrorCode::kInvalidInput, "step must be positive"}, "");
  if (query.end_ms < query.start_ms) {
    return fail(Error{ErrorCode::kInvalidInput, "end " + FormatSeconds(query.end_ms) + " is before start " +
                                                    FormatSeconds(query.start_ms)},
                "");
  }

  const std::vector<PageRange> pages =
      SplitRange(query.start_ms, query.end_ms, step_ms, options_.max_points_per_request);
  const std::string common = QueryForm(query);
  SeriesMerger merger;
  for (size_t i = 0; i < pages.size(); ++i) {
    const PageRange& page = pages[i];
    std::string page_context;
    if (pages.size() > 1) {
      page_context = "page " + std::to_string(i + 1) + "/" + std::to_string(pages.size()) + " [" +
                     FormatSeconds(page.start_ms) + ", " + FormatSeconds(page.end_ms) + "]";
    }
    std::string form =
        common + "&start=" + FormatSeconds(page.start_ms) + "&end=" + FormatSeconds(page.end_ms);
    Result<HttpResponse> response = Send(kQueryRangePath, form, &stats);
    if (!response) return fail(response.error(), page_context);
    Result<QueryRangeResponse> decoded = DecodeQueryRangeInPlace(response->body, response->status);
    if (!decoded) return fail(decoded.error(), page_context);
    for (std::string& w : decoded->warnings) {
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(std::move(w));
    }
    merger.Add(std::move(decoded->series));
  }
  LogWarningsOnce(query.query, warnings);
  Notify(query.query, std::nullopt, stats, started, warnings);
  return std::move(merger).Finish();
}

std::string HttpRangeQueryClient::QueryForm(const RangeQuery& query) const {
  return "query=" + FormEncode(query.query) + "&step=" + FormatSeconds(query.step.count()) +
         "&timeout=" + FormatDuration(options_.timeout);
}

Status HttpRangeQueryClient::QueryRangeStreamed(const RangeQuery& query,
                                                const std::function<void(SeriesSamples&&)>& sink) {
  const int64_t step_ms = query.step.count();
  // Bad ranges (QueryRange refuses them) and ranges of several pages (merged before anything is handed
  // over: a series' pages arrive in separate answers) take the whole-answer path.
  if (step_ms <= 0 || query.end_ms < query.start_ms ||
      SplitRange(query.start_ms, query.end_ms, step_ms, options_.max_points_per_request).size() != 1) {
    return RangeQueryClient::QueryRangeStreamed(query, sink);
  }
  const auto started = env_.now();
  CallStats stats;
  std::vector<std::string> warnings;
  auto fail = [&](const Error& error) {
    Error out = error.WithContext(QueryContext(query.query, stats.requests));
    Notify(query.query, out.code, stats, started, warnings);
    return tl::unexpected(std::move(out));
  };
  const std::string form =
      QueryForm(query) + "&start=" + FormatSeconds(query.start_ms) + "&end=" + FormatSeconds(query.end_ms);
  StreamingBody body(sink);
  Result<HttpResponse> response = Send(kQueryRangePath, form, &stats, &body);
  if (!response) return fail(response.error());
  Result<std::vector<std::string>> decoded = body.Finish();
  if (!decoded) return fail(decoded.error());
  for (std::string& w : *decoded) {
    if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(std::move(w));
  }
  LogWarningsOnce(query.query, warnings);
  Notify(query.query, std::nullopt, stats, started, warnings);
  return {};
}

Status HttpRangeQueryClient::CheckQuery(std::string_view promql) {
  const auto started = env_.now();
  CallStats stats;
  const std::vector<std::string> no_warnings;
  const std::string encoded = "query=" + FormEncode(promql);
  Result<HttpResponse> response = Send(kFormatQueryPath, encoded, &stats);
  // format_query is Prometheus >= 2.38 only; elsewhere parse by evaluating at
  // time 0, which is cheap because nothing is stored that far back.
  if (response && CannotCheckQueries(*response)) {
    response = Send(kInstantQueryPath, encoded + "&time=0", &stats);
    // A store that has neither: nothing can check the query before its first cycle, which reports a
    // query the store refuses like any failed query. Not an error of the query, so start-up goes on.
    if (response && CannotCheckQueries(*response)) {
      if (!logged_cannot_check_.exchange(true)) {
        log::Warn("the query API cannot check queries (no format_query, no instant query); each query is "
                  "checked by its first cycle",
                  {{"url", base_url_}, {"status", std::to_string(response->status)}});
      }
      Notify(promql, std::nullopt, stats, started, no_warnings);
      return {};
    }
  }
  Status status;
  if (!response) {
    status = tl::unexpected(response.error());
  } else if (Result<ApiResponse> api = DecodeApiResponse(response->body, response->status); !api) {
    status = tl::unexpected(api.error());
  }
  if (!status) {
    Error out = status.error().WithContext(QueryContext(promql, stats.requests));
    Notify(promql, out.code, stats, started, no_warnings);
    return tl::unexpected(std::move(out));
  }
  Notify(promql, std::nullopt, stats, started, no_warnings);
  return {};
}

Result<std::unique_ptr<RangeQueryClient>> NewHttpClient(const ClientOptions& options) {
  if (Status valid = ValidateClientOptions(options); !valid) {
    return tl::unexpected(valid.error().WithContext("query client"));
  }
  auto transport = std::make_unique<CurlTransport>(CurlOptions{
      .timeout = options.timeout,
      .connect_timeout = options.connect_timeout,
      .tls_ca_file = options.tls_ca_file,
      .tls_cert_file = options.tls_cert_file,
      .tls_key_file = options.tls_key_file,
      .tls_insecure_skip_verify = options.tls_insecure_skip_verify,
      .user_agent = options.user_agent,
      .compression = options.compression,
  });
  return std::unique_ptr<RangeQueryClient>(
      std::make_unique<HttpRangeQueryClient>(options, std::move(transport), RealClientEnv()));
}

}  // namespace anomaly::prom
