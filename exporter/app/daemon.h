// The exporter daemon: loads the config, serves HTTP, runs every detector's cycle on its own interval on a
// worker pool, publishes one immutable snapshot after each cycle, and reloads the config on SIGHUP or
// POST /-/reload through one path (a failed reload keeps the running config).
// Threading: Create/Run on the main thread; Reload from any thread (serialised by reload_mu_); cycles on
// the pool; scrapes read the published snapshot only and never wait for a cycle.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/config/config.h"
#include "anomaly/exposition/anomaly_collector.h"
#include "anomaly/exposition/self_metrics.h"
#include "anomaly/http/web_server.h"
#include "anomaly/prom/range_query_client.h"
#include "exporter/app/detector_runner.h"
#include "exporter/app/score_handler.h"
#include "exporter/app/worker_pool.h"

namespace anomaly::app {

struct DaemonOptions {
  std::string config_file;
  std::vector<std::string> listen_addresses{":10650"};
  std::string telemetry_path = "/metrics";
  int max_requests = 40;
  int shard_index = -1;  // -1: take the config's shard
  int shard_count = -1;
  // --web.config.file: TLS, basic auth and headers for every endpoint (exporter-toolkit's format). Empty:
  // plain HTTP, open. Re-read by every Reload.
  std::string web_config_file;
  // Where the OpenSSL shims for civetweb are (http::WebOptions::tls_shim_dirs); next to the binary.
  std::vector<std::string> tls_shim_dirs;
  // POST /api/v1/score (docs/api.md): --web.score-max-body-bytes, --web.score-concurrency,
  // --web.score-timeout, and --web.score-max-samples.
  http::ScoreOptions score;
  ScoreLimits score_limits;
  // --web.external-url: where the exporter is reached from outside, without a trailing slash; empty: none.
  // The anomalies API's series page links are absolute under it, and anomaly_exporter_web_info carries it
  // for the alert rules' links.
  std::string external_url;
  // --web.shard-url-template: each shard's base URL with kShardPlaceholder for its index, e.g.
  // "http://anomaly-exporter-{shard}.anomaly-exporter-headless:10650" (the Helm chart sets it when
  // sharded). Feedback sent to a shard that does not own the episode's series is then redirected to the
  // owner (307); empty: answered 421 naming the owner (docs/api.md, "With shards").
  std::string shard_url_template;
  // --storage.path: a folder where the episodes and the feedback are kept across restarts (state_file.h);
  // rewritten after every cycle that publishes and every feedback. Empty: in memory only.
  std::string storage_path;
  // Makes the query client for the config's `prometheus` section. Empty: prom::NewHttpClient. The
  // RangeQueryClient seam (STYLE.md B8), so that unit tests can run the daemon on a fake upstream.
  std::function<Result<std::unique_ptr<prom::RangeQueryClient>>(const prom::ClientOptions&)> new_client;
};

inline constexpr std::string_view kShardPlaceholder = "{shard}";
// `url_template` with every kShardPlaceholder replaced by `shard`, without a trailing slash; empty for an
// empty template.
std::string ShardUrl(std::string_view url_template, int shard);

class Daemon {
 public:
  // Runs the start-up steps in order: config, metrics, query client, PromQL check, detectors, web server,
  // scheduler. kInvalidConfig for a bad config or a query Prometheus refuses to parse; kInternal when the
  // listen address cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<Daemon>> Create(const DaemonOptions& options);
  ~Daemon();  // teardown in reverse: scheduler, pool, web server

  // Blocks until SIGTERM/SIGINT; handles SIGHUP reloads meanwhile. Returns the exit code.
  int Run();

  // Re-reads the web config file (when set) and the config file; on success swaps both in, keeping the
  // state of unchanged detectors. Either one failing keeps both running ones.
  [[nodiscard]] Status Reload();

  bool ready() const;
  std::vector<int> listening_ports() const { return web_->GetListeningPorts(); }

 private:
  struct Slot;  // one detector: its runner, schedule and last reports

  explicit Daemon(const DaemonOptions& options);
  [[nodiscard]] Status Apply(std::shared_ptr<const config::Config> config);
  void SchedulerLoop(std::stop_token stop);
  void RunSlot(const std::shared_ptr<Slot>& slot);
  void NoteCycleFailure(Slot& slot, std::string_view cause);
  void PublishLocked();  // REQUIRES: mu_ held
  http::LandingInfo Landing() const;
  // GET /series: the page data of one series, copied from its detector's runner (series_page.h).
  Result<http::SeriesPage> SeriesPage(const std::string& detector, const Labels& labels) const;
  // GET /api/v1/episodes and POST /api/v1/episodes/{id}/feedback: every runner's episodes; the feedback
  // goes to the runner that keeps the episode (kInvalidInput when none does).
  [[nodiscard]] Result<std::vector<http::EpisodeInfo>> Episodes() const;
  [[nodiscard]] Result<http::EpisodeInfo> Feedback(const http::FeedbackRequest& request);
  // With shards, the shard that owns the episode `id` names (EpisodeShardHash modulo the shard count) when
  // it is not this one; nullopt when this one owns it, there is one shard, or `id` is not an id.
  std::optional<http::FeedbackOwner> FeedbackOwner(const std::string& id) const;
  // The shard this process scores now: the flags', else the running config's.
  ShardFilter CurrentShard() const;
  std::vector<std::shared_ptr<DetectorRunner>> Runners() const;
  // --storage.path: restores every runner from the state file (start-up), and rewrites it.
  void RestoreState();
  void StoreState();

  // Constant after construction.
  const DaemonOptions options_;
  std::shared_ptr<exposition::SelfMetrics> metrics_;
  std::shared_ptr<exposition::AnomalyCollector> collector_;

  std::mutex reload_mu_;  // serialises Reload (SIGHUP and POST /-/reload share the one path)

  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> config_;        // guarded by mu_
  std::shared_ptr<prom::RangeQueryClient> client_;      // guarded by mu_
  std::vector<std::shared_ptr<Slot>> slots_;            // guarded by mu_

  std::mutex storage_mu_;  // serialises StoreState (cycles of several detectors, feedback)
  std::string storage_error_;  // guarded by storage_mu_: the last write failure logged, so a streak logs once

  std::unique_ptr<WorkerPool> pool_;
  // evaluation_threads - 1 helpers: a detector's cycle fits and scores its series on its own worker and
  // these, so one detector uses every evaluation thread (series::Detector::Evaluate).
  std::unique_ptr<ParallelPool> fit_pool_;
  std::unique_ptr<http::WebServer> web_;
  std::jthread scheduler_;
};

}  // namespace anomaly::app
