// The exporter's web server: the telemetry path (default /metrics), the landing page `/`, /-/healthy,
// /-/ready, POST /-/reload and /api/v1/anomalies (ARCHITECTURE.md, http). Scrapes never wait for a
// cycle: they serialize the self-metrics and the last snapshot published to the AnomalyCollector. The
// snapshot's part (and its gzip, and the API's JSON) is rendered once per published snapshot and shared by
// every request until the next publish (exporter/http/router.h); connections are kept alive for 5 s.
//
// With a web config (--web.config.file) every endpoint is protected alike: TLS (optionally mutual),
// basic auth and extra response headers; docs/security.md. Reload swaps it with PrepareWebConfig +
// InstallWebConfig, and the next handshakes and requests use the new one without a restart.
//
// Threads: civetweb workers (at most WebOptions::max_requests at once) run every handler and call the
// Callbacks concurrently, so the callbacks must be thread-safe. Handlers never throw into civetweb: an
// exception from a callback becomes a 500 and a log line.
//
//   auto server = http::WebServer::Create(options, self->registry(), collector, callbacks);
//   if (!server) return Fail(server.error());
//   log::Info("listening", {{"port", std::to_string((*server)->GetListeningPorts()[0])}});
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/config/web_config.h"
#include "anomaly/exposition/anomaly_collector.h"

namespace anomaly::http {

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

// Provided by the app. Each may be called from several civetweb workers at once, must not block for
// long (a scrape or probe is waiting), and may be left empty.
struct Callbacks {
  std::function<bool()> ready;       // /-/ready: 200 when true, else 503. Empty: never ready
  std::function<Status()> reload;    // POST /-/reload: 200, or 500 with the error message. Empty: 500
  std::function<LandingInfo()> landing;  // `/`. Empty: no version, no detectors
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
