// The HTTP stage's request routing, free of civetweb: a Request in, a Response out. web_server.cc
// adapts civetweb to it. Every request goes through Router::Serve, which is the one place the web
// config's access check (basic auth) and its extra response headers wrap every endpoint.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anomaly/exposition/snapshot.h"
#include "anomaly/http/web_server.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/gzip.h"
#include "exporter/http/score_pool.h"

namespace anomaly::http {

struct Request {
  std::string method;           // "GET", "POST", ...
  std::string path;             // decoded, without the query string
  std::string query;            // after '?', raw; empty when none
  std::string accept_encoding;  // the Accept-Encoding header; empty when absent
  std::string authorization = {};  // the Authorization header; empty when absent. Never logged
  std::string content_type = {};   // the Content-Type header; empty when absent
  std::string accept = {};         // the Accept header; empty when absent
  // Origin, Referer and Host: a feedback is refused when its Origin (or, without one, its Referer) names
  // another host than Host: a cross-site post (docs/security.md). Empty when absent.
  std::string origin = {};
  std::string referer = {};
  std::string host = {};
  std::optional<uint64_t> content_length = {};  // Content-Length; nullopt when absent (chunked or none)
  // Reads the body, at most `limit` bytes, on demand (only POST /api/v1/score reads one, after its checks):
  // kInvalidInput when the body is longer than `limit`, kInternal when the connection fails. Empty: no body.
  std::function<Result<std::string>(size_t limit)> read_body = {};
};

// What the web config asks of every request and response; immutable, swapped whole by a reload.
struct Access {
  std::shared_ptr<const BasicAuthenticator> auth;            // null: no basic auth
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response, in order
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, Content-Encoding)
};

// The path of the score API, and the answer to a request that is refused: Prometheus' API error shape
// {"status":"error","errorType":"...","error":"..."} (Content-Type application/json).
inline constexpr std::string_view kScorePath = "/api/v1/score";
Response ApiError(int status, std::string_view error_type, std::string_view message);

// Thread-safe: Serve runs concurrently on civetweb workers; everything but the Access and the score pool
// is constant after construction, the Access is one atomic pointer and the pool is thread-safe.
class Router {
 public:
  Router(WebOptions options, std::shared_ptr<prometheus::Collectable> self_metrics,
         std::shared_ptr<exposition::AnomalyCollector> anomalies, Callbacks callbacks);

  // Never throws: a callback's exception becomes a 500 with a generic body, logged once here. With basic
  // auth on, a request without valid credentials gets 401 and WWW-Authenticate, whatever its path.
  Response Serve(const Request& request) const noexcept;

  // The next requests use `access` (null: none); requests in flight keep the one they started with.
  void SetAccess(std::shared_ptr<const Access> access) { access_.store(std::move(access)); }
  std::shared_ptr<const Access> access() const { return access_.load(); }

  // Renders and compresses the anomaly families of the latest published snapshot now, so that no scrape
  // pays for it (at 10,000 series that is hundreds of milliseconds): the daemon calls it after each
  // publish, on the cycle's thread. A scrape that comes first waits for the same one build. Skipped when
  // the snapshot rendered before was never scraped: publishes then outpace scrapes (many detectors, a
  // slow scrape interval), and rendering each would cost more than the scrapes that read them.
  void Prerender() const;
  // Times the anomaly families were rendered to text so far (for tests: once per snapshot).
  int64_t text_renders() const { return text_renders_.load(); }

 private:
  Response Route(const Request& request) const;
  Response Metrics(const Request& request) const;
  Response Landing() const;
  Response Ready() const;
  Response Reload() const;
  Response Anomalies(const Request& request) const;
  // POST /api/v1/score: checks the body's size and type, takes a score pool slot (429 when none), reads
  // the body, runs callbacks_.score on the pool and waits for it up to the deadline (docs/api.md).
  Response Score(const Request& request) const;
  // GET /series: the series page (docs/ui.md). The selector is matched against the published snapshot
  // (no lock of the cycle's); only the one series found is asked of callbacks_.series, at most
  // kMaxSeriesPages at once (429 beyond: each costs a fit of the series' window on this worker).
  Response Series(const Request& request) const;
  // GET /api/v1/episodes and POST /api/v1/episodes/{id}/feedback (docs/api.md): the app's callbacks, the
  // body bounded by kMaxFeedbackBody.
  Response Episodes() const;
  Response Feedback(const Request& request, std::string id) const;
  std::shared_ptr<const exposition::Snapshot> CurrentSnapshot() const;

  // What depends only on one published snapshot, rendered at most once per snapshot by the first request
  // that needs each part and shared by all requests until the next publish: at 1,000 series the anomaly
  // families are ~1 MB of text that take tens of milliseconds to build and compress, which a scrape
  // should not pay each time. Each part is built under its own once_flag, so concurrent first requests
  // wait for one build instead of each doing it.
  struct Rendered {
    explicit Rendered(std::shared_ptr<const exposition::Snapshot> s) : snapshot(std::move(s)) {}
    const std::shared_ptr<const exposition::Snapshot> snapshot;
    std::once_flag text_once;
    std::string text;  // the anomaly_* families in the text format
    std::once_flag deflate_once;
    std::optional<DeflatedTail> deflated;  // `text` compressed; nullopt when zlib failed
    std::once_flag json_once[2];
    std::string json[2];  // /api/v1/anomalies: [0] flagged only, [1] ?all=1
    std::atomic<bool> scraped{false};  // /metrics served it at least once
  };
  std::shared_ptr<Rendered> RenderedFor(std::shared_ptr<const exposition::Snapshot> snapshot) const;
  void RenderText(Rendered& rendered) const;
  void RenderDeflated(Rendered& rendered) const;  // the text too

  // Constant after construction.
  const WebOptions options_;
  const std::shared_ptr<prometheus::Collectable> self_metrics_;
  const std::shared_ptr<exposition::AnomalyCollector> anomalies_;
  const Callbacks callbacks_;
  std::atomic<std::shared_ptr<const Access>> access_;
  // Where callbacks_.score runs; null when it is empty. Its threads are its own (thread-safe).
  const std::unique_ptr<ScorePool> score_pool_;
  mutable std::mutex rendered_mu_;
  mutable std::shared_ptr<Rendered> rendered_;  // guarded by rendered_mu_; the latest snapshot's
  mutable std::atomic<int64_t> text_renders_{0};
  static constexpr int kMaxSeriesPages = 2;
  mutable std::atomic<int> series_pages_in_flight_{0};
};

// Whether a request's Origin, else its Referer, names the host the request was sent to (Host): true when
// neither is given (not a browser's cross-site form), false for Origin "null" or an unparseable one.
bool SameOrigin(const Request& request);

// True when `query` ("a=1&all=1") sets `key` to 1 or true.
bool QueryFlag(std::string_view query, std::string_view key);

// True when an Accept-Encoding header value accepts gzip (a "gzip" token without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

// The score API's body format from a Content-Type ("text/csv; charset=utf-8": kCsv); nullopt for any
// other than application/json and text/csv (415).
std::optional<ScoreFormat> BodyFormat(std::string_view content_type);

// The score API's answer format from an Accept header: kCsv when text/csv is accepted with a higher
// weight than application/json (or JSON is not named), else kJson (the default, also for no header).
ScoreFormat AnswerFormat(std::string_view accept);

}  // namespace anomaly::http
