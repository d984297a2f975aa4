// The exporter's web server: the telemetry path (default /metrics), the landing page `/`, /-/healthy,
// /-/ready, POST /-/reload, /api/v1/anomalies, POST /api/v1/score, the series page /series and
// the episodes API /api/v1/episodes (ARCHITECTURE.md,
// http; docs/api.md, docs/ui.md). Scrapes never wait for a
// cycle: they serialize the self-metrics and the last snapshot published to the AnomalyCollector. The
// snapshot's part (and its gzip, and the API's JSON) is rendered once per published snapshot and shared by
// every request until the next publish (exporter/http/router.h); connections are kept alive for 5 s.
//
// With a web config (--web.config.file) every endpoint is protected alike: TLS (optionally mutual),
// basic auth and extra response headers; docs/security.md. Reload swaps it with PrepareWebConfig +
// InstallWebConfig, and the next handshakes and requests use the new one without a restart.
//
// Threads: civetweb workers (at most WebOptions::max_requests at once) run every handler and call the
// Callbacks concurrently, so the callbacks must be thread-safe. Callbacks::score alone runs elsewhere: on
// the score pool's own ScoreOptions::concurrency threads, never on a civetweb worker. Handlers never throw into civetweb: an
// exception from a callback becomes a 500 and a log line.
//
//   auto server = http::WebServer::Create(options, self->registry(), collector, callbacks);
//   if (!server) return Fail(server.error());
//   log::Info("listening", {{"port", std::to_string((*server)->GetListeningPorts()[0])}});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/result.h"
#include "anomaly/config/web_config.h"
#include "anomaly/exposition/anomaly_collector.h"
#include "anomaly/http/episodes.h"
#include "anomaly/http/series_page.h"

namespace anomaly::http {

// POST /api/v1/score's limits (docs/api.md): what one request may cost a daemon that is also serving scrapes.
struct ScoreOptions {
  // --web.score-max-body-bytes: the largest request body read; a longer one is answered 413 unread (by
  // Content-Length) or as soon as the limit is passed (chunked). 4 MiB holds about 200,000 CSV rows.
  size_t max_body_bytes = 4 << 20;
  // --web.score-concurrency: requests scored at once, each on one thread of the score pool; one more is
  // answered 429 with Retry-After at once, without reading its body. A request holds its slot from before
  // its body is read until it is answered, so at most this many bodies are held in memory.
  int concurrency = 1;
  // --web.score-timeout: the most one request may take from taking its slot to its answer; past it the
  // scorer stops (it checks between samples) and the client gets 503 errorType "timeout".
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct WebOptions {
  // --web.listen-address, repeatable, at least one. "HOST:PORT" (HOST an IPv4 address or localhost),
  // "[IPV6]:PORT" or ":PORT" (every IPv4 interface). Port 0 binds a free port; GetListeningPorts() says
  // which. No default here: the daemon's flag owns the default port (ECOSYSTEM.md §1.7).
  std::vector<std::string> listen_addresses;
  // --web.telemetry-path: where the metrics are served. Must start with '/' and not be one of the other
  // endpoints.
  std::string telemetry_path = "/metrics";
  // --web.max-requests: requests served in parallel (civetweb worker threads). 0 means civetweb's own
  // default (50). More allows more concurrent scrapes at the cost of one thread each.
  int max_requests = 40;
  // --web.config.file, loaded: TLS, basic auth and headers. Null: plain HTTP, open to every client.
  // Whether TLS is on is fixed for the server's lifetime (InstallWebConfig cannot turn it on or off).
  std::shared_ptr<const config::WebConfig> web_config;
  // Where the OpenSSL shims civetweb needs for TLS live (tls_context.h), tried in order; only read when
  // web_config turns TLS on. The daemon passes the folders next to its binary.
  std::vector<std::string> tls_shim_dirs;
  ScoreOptions score;
  // --web.external-url: the URL under which the exporter is reached from outside (behind a proxy), with no
  // trailing slash; the series page's `url` in /api/v1/anomalies is absolute under it. Empty: the `url`
  // is a path ("/series?..."). The exporter still serves at its root: a proxy with a path strips it.
  std::string external_url;
};

// A web config checked and built (TLS material read from its files), ready to install. Opaque.
struct PreparedWebConfig;

// One detector's line on the landing page.
struct DetectorSummary {
  std::string name;
  int64_t series = 0;                     // series scored now
  int64_t last_cycle_ms = 0;              // Unix ms the last successful cycle finished; 0: none yet
  bool ready = false;                     // first cycle published
};

// What the landing page shows besides the current anomalies (which come from the snapshot).
struct LandingInfo {
  std::string version;
  std::string revision;
  std::vector<DetectorSummary> detectors;
};

// The formats of POST /api/v1/score, chosen by Content-Type (request) and Accept (answer).
enum class ScoreFormat { kJson, kCsv };

// One POST /api/v1/score request, checked by the web server: the body is within max_body_bytes, its
// Content-Type is JSON or CSV.
struct ScoreRequest {
  std::string query;  // the raw query string (detector settings), not yet decoded
  ScoreFormat body_format = ScoreFormat::kJson;
  ScoreFormat answer_format = ScoreFormat::kJson;
  std::string body;
  // The scorer stops by then: it returns kTimeout, and the client gets 503 (a late answer is dropped).
  std::chrono::steady_clock::time_point deadline;
};

// A successful answer's body; its Content-Type follows ScoreRequest::answer_format.
struct ScoreAnswer {
  std::string body;
};

// Provided by the app. Each may be called from several civetweb workers at once, must not block for
// long (a scrape or probe is waiting), and may be left empty.
struct Callbacks {
  std::function<bool()> ready;       // /-/ready: 200 when true, else 503. Empty: never ready
  std::function<Status()> reload;    // POST /-/reload: 200, or 500 with the error message. Empty: 500
  std::function<LandingInfo()> landing;  // `/`. Empty: no version, no detectors
  // POST /api/v1/score: scores the request (runs on the score pool, so it may take up to the deadline).
  // Its error becomes the answer, in Prometheus' API error shape: kInvalidInput/kInvalidConfig 400
  // "bad_data", kTimeout 503 "timeout", anything else 500 "internal"; the message is shown to the client as
  // it is. Empty: the endpoint answers 404, as for a path that does not exist.
  std::function<Result<ScoreAnswer>(const ScoreRequest&)> score;
  // Called once per answer of /api/v1/score, whatever its status (401, 405, 413, 429, 400, 503, 200, ...),
  // on the thread that answers it: for the self-metric. Must be quick. Empty: not counted.
  std::function<void(int status)> score_answered;
  // GET /series: the window, fit and episodes of the one series of `detector` with exactly `labels` (as the
  // snapshot names it: the series' own labels). Runs on the civetweb worker; it may wait a little for the
  // detector's cycle, so it must bound that wait. kInvalidInput: the series is gone (404); kTimeout: the
  // detector's cycle holds the series, retry later (503 with Retry-After); anything else 500. Empty: the
  // page shows the snapshot's verdict only.
  std::function<Result<SeriesPage>(const std::string& detector, const Labels& labels)> series;
  // GET /api/v1/episodes: every detector's recent episodes (episodes.h; the router orders and bounds
  // them). Runs on the civetweb worker and must bound its wait for a running cycle: kTimeout is answered
  // 503 with Retry-After, anything else 500. Empty: an empty list.
  std::function<Result<std::vector<EpisodeInfo>>()> episodes;
  // POST /api/v1/episodes/{id}/feedback, the body checked: records the feedback and returns the episode
  // with it. kInvalidInput: no such episode here (404 "not_found", the message shown as it is: with shards
  // with shards, feedback_owner said this shard owns it); kTimeout 503; anything else 500. Empty: the path
  // answers 404.
  std::function<Result<EpisodeInfo>(const FeedbackRequest&)> feedback;
  // Asked first, with the {id} of a feedback's path: the shard that owns the episode when it is not this
  // one. The answer is then 307 to the owner's URL with the same path (the body is kept), or 421
  // "misdirected" naming the owner when its URL is unknown; the body is not read. Empty, or nullopt: the
  // feedback is this process's.
  std::function<std::optional<FeedbackOwner>(const std::string& id)> feedback_owner;
};

// Checks `web` as a start-up would, without a server: parses its certificate, key and CA files and
// proves OpenSSL accepts them. kInvalidConfig naming the key and file. For `check-web-config`.
[[nodiscard]] Status CheckWebConfig(const config::WebConfig& web);

class WebServer {
 public:
  // Starts listening on every address and serving. kInvalidConfig for a malformed option (the message
  // names it), kInternal when civetweb cannot start (e.g. the port is taken; civetweb's message
  // included). `self_metrics` (e.g. SelfMetrics::registry()) and `anomalies` are served on the
  // telemetry path, in that order; the server keeps both alive.
  [[nodiscard]] static Result<std::unique_ptr<WebServer>> Create(WebOptions options,
                                                                 std::shared_ptr<prometheus::Collectable> self_metrics,
                                                                 std::shared_ptr<exposition::AnomalyCollector> anomalies,
                                                                 Callbacks callbacks);

  // Stops accepting, waits for the requests in flight (each bounded by civetweb's 30 s request
  // timeout), then returns; milliseconds when idle.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // The ports bound, one per listen address, in order (the real port for a requested port 0).
  std::vector<int> GetListeningPorts() const;

  // Builds `web` without installing it: reads its certificate, key and CA files. kInvalidConfig naming the
  // key and file for a bad one, or when `web` would turn TLS on or off (that needs a restart: the
  // listeners are HTTPS or not from the start). Thread-safe; blocks on file I/O.
  [[nodiscard]] Result<std::shared_ptr<const PreparedWebConfig>> PrepareWebConfig(
      std::shared_ptr<const config::WebConfig> web) const;
  // The next handshakes and requests use `prepared`; connections up keep their TLS session.
  void InstallWebConfig(std::shared_ptr<const PreparedWebConfig> prepared);

  // Renders /metrics' anomaly families for the snapshot just published, so that scrapes only copy them.
  // Thread-safe; call it after AnomalyCollector::Publish.
  void Prerender() const;

 private:
  struct Impl;  // the routing and the civetweb context; exporter/http/web_server.cc
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace anomaly::http
