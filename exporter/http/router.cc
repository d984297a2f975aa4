#include "exporter/http/router.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <future>
#include <sstream>

#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "anomaly/base/log.h"
#include "exporter/http/episodes_api.h"
#include "exporter/http/gzip.h"
#include "exporter/http/pages.h"
#include "exporter/http/series_page.h"

namespace anomaly::http {
namespace {

// The Prometheus text format, version 0.0.4 (what client_golang sends).
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response MethodNotAllowed(std::string allow) {
  Response r = Text(405, "Method Not Allowed\n");
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

bool IsRead(const Request& request) { return request.method == "GET" || request.method == "HEAD"; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "text/csv; charset=utf-8" -> "text/csv".
std::string MediaType(std::string_view value) { return Lower(Trim(value.substr(0, value.find(';')))); }

// The q of an Accept item's parameters ("q=0.5; level=1"), 1 when not given.
double Weight(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.starts_with("q=") || p.starts_with("Q=")) {
      try {
        return std::stod(std::string(p.substr(2)));
      } catch (...) {
        return 0;
      }
    }
  }
  return 1;
}

// A request whose body is left unread must not share its connection with the next one: civetweb would
// read the rest of the body as that request.
Response Closing(Response r) {
  r.headers.emplace_back("Connection", "close");
  return r;
}

std::string Bytes(size_t n) { return std::to_string(n) + " bytes"; }

constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";

// "https://host:port/path" -> "host:port", lowercased; empty when `url` has no http(s) scheme.
std::string Authority(std::string_view url) {
  const std::string lower = Lower(url);
  std::string_view rest(lower);
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "";
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  return std::string(rest.substr(rest.find('@') == std::string_view::npos ? 0 : rest.find('@') + 1));
}

// "host:80" and "host:443" -> "host": a browser leaves the default port out of Origin, a client may put
// it in Host.
std::string_view WithoutDefaultPort(std::string_view authority) {
  for (std::string_view port : {std::string_view(":80"), std::string_view(":443")}) {
    if (authority.ends_with(port)) authority.remove_suffix(port.size());
  }
  return authority;
}

// A feedback for an episode another shard owns: 307 to the same path on the owner when its URL is known
// (307, not 303: the client posts the same body again), else 421. Both name the owner in Prometheus'
// error shape, with the shard indexes in "data".
Response Misdirected(const FeedbackOwner& owner, std::string_view path) {
  const std::string message = "the episode's series belongs to shard " + std::to_string(owner.shard) +
                              " of " + std::to_string(owner.count) + ", not to this one (shard " +
                              std::to_string(owner.this_shard) + "): send the feedback to shard " +
                              std::to_string(owner.shard) +
                              (owner.url.empty() ? std::string() : " at " + owner.url);
  Response r;
  r.status = owner.url.empty() ? 421 : 307;
  r.content_type = "application/json";
  const nlohmann::ordered_json body = {
      {"status", "error"},
      {"errorType", "misdirected"},
      {"error", message},
      {"data",
       {{"shard", owner.shard},
        {"shard_count", owner.count},
        {"this_shard", owner.this_shard},
        {"url", owner.url.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(owner.url)}}}};
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  if (!owner.url.empty()) r.headers.emplace_back("Location", owner.url + std::string(path));
  return r;
}

}  // namespace

bool SameOrigin(const Request& request) {
  const std::string_view source = !request.origin.empty() ? request.origin : request.referer;
  if (source.empty()) return true;
  const std::string authority = Authority(source);
  const std::string host = Lower(request.host);
  return !authority.empty() && WithoutDefaultPort(authority) == WithoutDefaultPort(host);
}

Response ApiError(int status, std::string_view error_type, std::string_view message) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  const nlohmann::ordered_json body = {{"status", "error"}, {"errorType", error_type}, {"error", message}};
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  return r;
}

std::optional<ScoreFormat> BodyFormat(std::string_view content_type) {
  const std::string type = MediaType(content_type);
  if (type == "application/json") return ScoreFormat::kJson;
  if (type == "text/csv") return ScoreFormat::kCsv;
  return std::nullopt;
}

ScoreFormat AnswerFormat(std::string_view accept) {
  double csv = 0, json = 0;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view item = Trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string type = MediaType(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1 : Weight(item.substr(semi + 1));
    if (type == "text/csv") csv = std::max(csv, q);
    if (type == "application/json") json = std::max(json, q);
  }
  return csv > json ? ScoreFormat::kCsv : ScoreFormat::kJson;
}

bool QueryFlag(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    return value == "1" || value == "true";
  }
  return false;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view item = Trim(accept_encoding.substr(0, comma));
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    if (Trim(item.substr(0, semi)) != "gzip") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view q = Trim(item.substr(semi + 1));
    // "q=0", "q=0.0", "q=0.000" refuse it; any other weight accepts it.
    if (q.starts_with("q=")) {
      q.remove_prefix(2);
      return q.find_first_not_of("0.") != std::string_view::npos;
    }
    return true;
  }
  return false;
}

Router::Router(WebOptions options, std::shared_ptr<prometheus::Collectable> self_metrics,
               std::shared_ptr<exposition::AnomalyCollector> anomalies, Callbacks callbacks)
    : options_(std::move(options)),
      self_metrics_(std::move(self_metrics)),
      anomalies_(std::move(anomalies)),
      callbacks_(std::move(callbacks)),
      score_pool_(callbacks_.score ? std::make_unique<ScorePool>(std::max(1, options_.score.concurrency)) : nullptr) {}

Response Router::Serve(const Request& request) const noexcept {
  // The single entry point of every request: the web config's basic auth runs here, before Route, so no
  // endpoint (metrics, landing page, /api, /-/reload, health and readiness) escapes it.
  try {
    const std::shared_ptr<const Access> access = access_.load();
    Response r;
    if (access && access->auth && !access->auth->Check(request.authorization)) {
      r = Text(401, "Unauthorized\n");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"anomaly_exporter\"");
    } else {
      r = Route(request);
    }
    if (access) r.headers.insert(r.headers.end(), access->headers.begin(), access->headers.end());
    if (request.path == kScorePath && callbacks_.score_answered) callbacks_.score_answered(r.status);
    return r;
  } catch (const std::exception& e) {
    log::Error("http handler failed", {{"path", request.path}, {"err", e.what()}});
  } catch (...) {
    log::Error("http handler failed", {{"path", request.path}, {"err", "unknown exception"}});
  }
  return Response{500, "text/plain; charset=utf-8", "Internal Server Error\n", {}};
}

Response Router::Route(const Request& request) const {
  const std::string& path = request.path;
  if (path == options_.telemetry_path) return IsRead(request) ? Metrics(request) : MethodNotAllowed("GET, HEAD");
  if (path == "/") return IsRead(request) ? Landing() : MethodNotAllowed("GET, HEAD");
  if (path == "/-/healthy") return IsRead(request) ? Text(200, "OK\n") : MethodNotAllowed("GET, HEAD");
  if (path == "/-/ready") return IsRead(request) ? Ready() : MethodNotAllowed("GET, HEAD");
  if (path == "/-/reload") return request.method == "POST" ? Reload() : MethodNotAllowed("POST");
  if (path == "/api/v1/anomalies") return IsRead(request) ? Anomalies(request) : MethodNotAllowed("GET, HEAD");
  if (path == kSeriesPath) return IsRead(request) ? Series(request) : MethodNotAllowed("GET, HEAD");
  if (path == kEpisodesPath) return IsRead(request) ? Episodes() : MethodNotAllowed("GET, HEAD");
  if (std::optional<std::string> id = FeedbackEpisodeId(path); id && callbacks_.feedback) {
    return request.method == "POST" ? Feedback(request, std::move(*id)) : Closing(MethodNotAllowed("POST"));
  }
  if (path == kScorePath && score_pool_) {
    return request.method == "POST" ? Score(request) : Closing(MethodNotAllowed("POST"));
  }
  return Text(404, "Not Found\n");
}

Response Router::Metrics(const Request& request) const {
  // The self-metrics change on every scrape and are small: rendered each time. The anomaly families
  // change only when a cycle publishes: rendered (and compressed) once per snapshot, then reused.
  std::string self_text;
  if (self_metrics_) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, self_metrics_->Collect());
    self_text = std::move(out).str();
  }
  const std::shared_ptr<Rendered> rendered =
      anomalies_ ? RenderedFor(anomalies_->Current()) : nullptr;
  if (rendered) {
    RenderText(*rendered);
    rendered->scraped.store(true);
  }
  const std::string_view anomaly_text = rendered ? std::string_view(rendered->text) : std::string_view();
  Response r;
  r.content_type = kMetricsContentType;
  if (AcceptsGzip(request.accept_encoding)) {
    std::optional<DeflatedTail> empty_tail;
    const std::optional<DeflatedTail>* tail = &empty_tail;
    if (rendered) {
      RenderDeflated(*rendered);
      tail = &rendered->deflated;
    } else if (Result<DeflatedTail> t = DeflateTail("")) {
      empty_tail = std::move(*t);
    }
    // Out of memory while compressing: serve it plain rather than fail the scrape.
    if (tail->has_value()) {
      if (Result<std::string> gz = GzipSpliced(self_text, **tail)) {
        r.body = std::move(*gz);
        r.headers.emplace_back("Content-Encoding", "gzip");
        return r;
      }
    }
  }
  r.body.reserve(self_text.size() + anomaly_text.size());
  r.body = std::move(self_text);
  r.body += anomaly_text;
  return r;
}

void Router::RenderText(Rendered& rendered) const {
  std::call_once(rendered.text_once, [this, &rendered] {
    text_renders_.fetch_add(1);
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out,
                                           exposition::AnomalyCollector::CollectFrom(rendered.snapshot.get()));
    rendered.text = std::move(out).str();
  });
}

void Router::RenderDeflated(Rendered& rendered) const {
  RenderText(rendered);
  std::call_once(rendered.deflate_once, [&rendered] {
    if (Result<DeflatedTail> t = DeflateTail(rendered.text)) rendered.deflated = std::move(*t);
  });
}

void Router::Prerender() const {
  if (!anomalies_) return;
  std::shared_ptr<const exposition::Snapshot> current = anomalies_->Current();
  {
    std::lock_guard<std::mutex> lock(rendered_mu_);
    if (rendered_ && rendered_->snapshot != current && !rendered_->scraped.load()) return;
  }
  RenderDeflated(*RenderedFor(std::move(current)));
}

std::shared_ptr<Router::Rendered> Router::RenderedFor(std::shared_ptr<const exposition::Snapshot> snapshot) const {
  std::lock_guard<std::mutex> lock(rendered_mu_);
  if (!rendered_ || rendered_->snapshot != snapshot) rendered_ = std::make_shared<Rendered>(std::move(snapshot));
  return rendered_;
}

Response Router::Landing() const {
  const LandingInfo info = callbacks_.landing ? callbacks_.landing() : LandingInfo{};
  const std::shared_ptr<const exposition::Snapshot> snapshot = CurrentSnapshot();
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = RenderLandingPage(info, snapshot.get(), options_.telemetry_path);
  return r;
}

Response Router::Ready() const {
  if (callbacks_.ready && callbacks_.ready()) return Text(200, "OK\n");
  return Text(503, "Service Unavailable: the first cycle has not published yet\n");
}

Response Router::Reload() const {
  if (!callbacks_.reload) return Text(500, "failed to reload config: reload is not available\n");
  const Status status = callbacks_.reload();
  if (status) return Text(200, "OK\n");
  return Text(500, "failed to reload config: " + status.error().message + "\n");
}

Response Router::Anomalies(const Request& request) const {
  const int all = QueryFlag(request.query, "all") ? 1 : 0;
  Response r;
  r.content_type = "application/json";
  const std::shared_ptr<Rendered> rendered = RenderedFor(CurrentSnapshot());
  std::call_once(rendered->json_once[all], [this, &rendered, all] {
    rendered->json[all] = RenderAnomaliesJson(rendered->snapshot.get(), all == 1, options_.external_url);
  });
  r.body = rendered->json[all];
  return r;
}

Response Router::Score(const Request& request) const {
  const ScoreOptions& limits = options_.score;
  // Everything that can be refused without the body is, before it is read.
  if (request.content_length && *request.content_length > limits.max_body_bytes) {
    return Closing(ApiError(413, "bad_data", "the body is " + Bytes(*request.content_length) + "; at most " +
                                                 Bytes(limits.max_body_bytes) +
                                                 " are accepted (--web.score-max-body-bytes)"));
  }
  const std::optional<ScoreFormat> body_format = BodyFormat(request.content_type);
  if (!body_format) {
    return Closing(ApiError(415, "bad_data", "Content-Type must be application/json or text/csv, got \"" +
                                                 request.content_type + "\""));
  }
  std::optional<ScorePool::Slot> slot = score_pool_->TryAcquire();
  if (!slot) {
    Response r = Closing(ApiError(429, "unavailable",
                                  "all " + std::to_string(limits.concurrency) +
                                      " score slots are busy (--web.score-concurrency); retry later"));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  // The deadline runs from here: reading the body is part of what a request may cost.
  const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  std::string body;
  if (request.read_body) {
    Result<std::string> read = request.read_body(limits.max_body_bytes);
    if (!read && read.error().code == ErrorCode::kInvalidInput) {
      return Closing(ApiError(413, "bad_data", "the body is longer than " + Bytes(limits.max_body_bytes) +
                                                   " (--web.score-max-body-bytes)"));
    }
    if (!read) return Closing(ApiError(400, "bad_data", "reading the body failed: " + read.error().message));
    body = std::move(*read);
  }

  const ScoreFormat answer_format = AnswerFormat(request.accept);
  auto score_request = std::make_shared<ScoreRequest>(
      ScoreRequest{request.query, *body_format, answer_format, std::move(body), deadline});
  auto promise = std::make_shared<std::promise<Result<ScoreAnswer>>>();
  std::future<Result<ScoreAnswer>> answer = promise->get_future();
  score_pool_->Run(std::move(*slot), [score = callbacks_.score, score_request, promise] {
    auto result = std::make_shared<Result<ScoreAnswer>>(MakeError(ErrorCode::kInternal, "unknown exception"));
    try {
      *result = score(*score_request);
    } catch (const std::exception& e) {
      *result = MakeError(ErrorCode::kInternal, e.what());
    } catch (...) {
    }
    // Answered once the slot is free again: a client that sends its next request at once is not refused.
    return [promise, result] { promise->set_value(std::move(*result)); };
  });
  // The scorer stops itself at the deadline; the grace covers the sample it was scoring then (a refit).
  // Past it the client is answered anyway, and the task keeps its slot until it returns.
  if (answer.wait_until(deadline + std::chrono::seconds(2)) != std::future_status::ready) {
    return ApiError(503, "timeout", "scoring did not finish within " +
                                        std::to_string(limits.timeout.count()) + " ms (--web.score-timeout)");
  }
  Result<ScoreAnswer> result = answer.get();
  if (!result) {
    const Error& e = result.error();
    if (e.code == ErrorCode::kInvalidInput || e.code == ErrorCode::kInvalidConfig) {
      return ApiError(400, "bad_data", e.message);
    }
    if (e.code == ErrorCode::kTimeout) return ApiError(503, "timeout", e.message);
    log::Error("score request failed", {{"err", e.message}});
    return ApiError(500, "internal", e.message);
  }
  Response r;
  r.content_type = answer_format == ScoreFormat::kCsv ? "text/csv; charset=utf-8" : "application/json";
  r.body = std::move(result->body);
  return r;
}

Response Router::Series(const Request& request) const {
  auto page = [](int status, std::string body) {
    Response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(body);
    return r;
  };
  Result<SeriesSelector> selector = ParseSeriesQuery(request.query);
  if (!selector) return page(400, RenderSeriesChoice("Bad series selector", selector.error().message, {}));
  const std::shared_ptr<const exposition::Snapshot> snapshot = CurrentSnapshot();
  const std::vector<const exposition::SeriesReport*> matches = MatchSeries(snapshot.get(), *selector);
  if (matches.empty()) {
    bool detector_known = false;
    std::vector<std::string> detectors;
    if (snapshot) {
      for (const exposition::SeriesReport& r : snapshot->series) {
        detector_known = detector_known || r.detector == selector->detector;
        if (std::find(detectors.begin(), detectors.end(), r.detector) == detectors.end()) detectors.push_back(r.detector);
      }
    }
    std::string known;
    for (const std::string& d : detectors) known += (known.empty() ? "" : ", ") + d;
    const std::string message =
        detector_known
            ? "detector \"" + selector->detector + "\" scores no series with these labels now"
            : "no detector \"" + selector->detector + "\" scores any series now" +
                  (known.empty() ? std::string(" (no cycle has published yet)") : "; the detectors with series are: " + known);
    return page(404, RenderSeriesChoice("Series not found", message, {}));
  }
  if (matches.size() > 1) {
    return page(400, RenderSeriesChoice("Several series match",
                                        std::to_string(matches.size()) + " series of detector \"" + selector->detector +
                                            "\" match these labels; pick one:",
                                        matches));
  }
  const exposition::SeriesReport& report = *matches.front();
  if (!callbacks_.series) return page(200, RenderSeriesPage(report, nullptr, ""));
  if (series_pages_in_flight_.fetch_add(1) >= kMaxSeriesPages) {
    series_pages_in_flight_.fetch_sub(1);
    Response r = page(429, RenderSeriesChoice("Busy", "other series pages are being drawn; retry in a second", {}));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { n.fetch_sub(1); }
  } in_flight{series_pages_in_flight_};
  Result<SeriesPage> data = callbacks_.series(report.detector, report.labels);
  if (data) return page(200, RenderSeriesPage(report, &*data, ""));
  const Error& e = data.error();
  if (e.code == ErrorCode::kTimeout) {
    Response r = page(503, RenderSeriesChoice("Busy", e.message, {}));
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  if (e.code == ErrorCode::kInvalidInput) return page(404, RenderSeriesChoice("Series not found", e.message, {}));
  log::Error("series page failed", {{"detector", report.detector}, {"series", LabelsToString(report.labels)}, {"err", e.message}});
  return page(500, RenderSeriesChoice("Series page failed", e.message, {}));
}

Response Router::Episodes() const {
  std::vector<EpisodeInfo> episodes;
  if (callbacks_.episodes) {
    Result<std::vector<EpisodeInfo>> got = callbacks_.episodes();
    if (!got && got.error().code == ErrorCode::kTimeout) {
      Response r = ApiError(503, "timeout", got.error().message);
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    if (!got) {
      log::Error("episodes request failed", {{"err", got.error().message}});
      return ApiError(500, "internal", got.error().message);
    }
    episodes = std::move(*got);
  }
  Response r;
  r.content_type = "application/json";
  r.body = RenderEpisodesJson(std::move(episodes));
  return r;
}

Response Router::Feedback(const Request& request, std::string id) const {
  if (request.content_length && *request.content_length > kMaxFeedbackBody) {
    return Closing(ApiError(413, "bad_data", "the body is " + Bytes(*request.content_length) + "; at most " +
                                                 Bytes(kMaxFeedbackBody) + " are accepted"));
  }
  // A foreign page can make a signed-in browser post to us (CSRF): a form (the series page's own buttons
  // are one) or, as any body was taken for JSON before forms were, a text/plain form whose one field
  // spells a JSON object. Only a cross-origin application/json post needs a CORS preflight (never
  // granted), but checking every feedback costs nothing: scripts and curl send no Origin or Referer.
  if (!SameOrigin(request)) {
    return Closing(
        ApiError(403, "forbidden",
                 "feedback must come from this exporter's own pages or a client without a browser: "
                 "Origin or Referer names another host than \"" +
                     request.host + "\""));
  }
  const bool form = MediaType(request.content_type) == kFormContentType;
  if (callbacks_.feedback_owner) {
    if (std::optional<FeedbackOwner> owner = callbacks_.feedback_owner(id)) {
      return Closing(Misdirected(*owner, request.path));
    }
  }
  std::string body;
  if (request.read_body) {
    Result<std::string> read = request.read_body(kMaxFeedbackBody);
    if (!read && read.error().code == ErrorCode::kInvalidInput) {
      return Closing(ApiError(413, "bad_data", "the body is longer than " + Bytes(kMaxFeedbackBody)));
    }
    if (!read) return Closing(ApiError(400, "bad_data", "reading the body failed: " + read.error().message));
    body = std::move(*read);
  }
  std::string return_path;
  Result<FeedbackRequest> feedback =
      form ? DecodeFeedbackForm(std::move(id), body).map([&return_path](FeedbackForm f) {
        return_path = std::move(f.return_path);
        return std::move(f.request);
      })
           : DecodeFeedback(std::move(id), body);
  if (!feedback) return ApiError(400, "bad_data", feedback.error().message);
  Result<EpisodeInfo> episode = callbacks_.feedback(*feedback);
  if (!episode) {
    const Error& e = episode.error();
    if (e.code == ErrorCode::kInvalidInput) return ApiError(404, "not_found", e.message);
    if (e.code == ErrorCode::kTimeout) {
      Response r = ApiError(503, "timeout", e.message);
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    log::Error("feedback request failed", {{"err", e.message}});
    return ApiError(500, "internal", e.message);
  }
  Response r;
  if (form) {
    // Post/Redirect/Get: the browser shows the series page again, now with the feedback, and a reload
    // does not post twice.
    r.status = 303;
    r.headers.emplace_back("Location", return_path.empty() ? std::string("/") : return_path);
    r.body = "See Other\n";
    return r;
  }
  r.content_type = "application/json";
  r.body = RenderEpisodeJson(*episode);
  return r;
}

std::shared_ptr<const exposition::Snapshot> Router::CurrentSnapshot() const {
  return anomalies_ ? anomalies_->Current() : nullptr;
}

}  // namespace anomaly::http
