#include "exporter/app/daemon.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <condition_variable>
#include <exception>
#include <utility>

#include "anomaly/base/log.h"
#include "anomaly/config/config_loader.h"
#include "anomaly/config/detector_params.h"
#include "anomaly/config/web_config.h"
#include "exporter/app/revision.h"
#include "exporter/app/signals.h"

#ifndef ANOMALY_VERSION
#define ANOMALY_VERSION "unknown"
#endif

namespace anomaly::app {
namespace {

// A cycle frees what it only needed for a while: the query answer's text and decoded samples (48 MiB of
// JSON and 32 MiB of samples for a first cycle of 1,000 series x 2,016 points), fit scratch, the old
// reports. glibc keeps freed memory inside its heaps, where the series' windows allocated in between
// pin it, so without this the resident set stays near the first cycle's peak: measured 77 MiB against
// 45 MiB with it, at a cost of 7 ms after that first cycle and 0.1 ms after the others
// (bench/scale_bench.sh). malloc_trim(0) hands every free page of every arena back to the kernel.
void ReturnFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Large short-lived buffers (a query answer's text, a scrape's body of a megabyte or more, the rendered
// families) are mapped and unmapped on their own instead of coming from the heaps. glibc's default
// threshold starts at 128 KiB but rises to the size of every mapped block freed, up to 32 MiB, after
// which such buffers land in the heaps of the civetweb and cycle threads and stay there between trims:
// with 1,000 series scraped ten times a second the exporter held 45-48 MiB instead of 35 MiB. A fixed
// threshold keeps it at 256 KiB (setting it turns the rise off).
void TuneAllocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

using Clock = std::chrono::steady_clock;

// Asks Prometheus to parse `promql`. A refusal is a config error; an unreachable upstream is not (the
// exporter must start, and survive, while Prometheus is down), so it is only logged.
Status CheckQuery(prom::RangeQueryClient& client, const std::string& detector, std::string_view what,
                  const std::string& promql) {
  Status s = client.CheckQuery(promql);
  if (s) return s;
  if (s.error().code == ErrorCode::kUpstreamRejected) {
    return MakeError(ErrorCode::kInvalidConfig, "detector \"" + detector + "\": " + std::string(what) +
                                                    ": Prometheus refused it: " + s.error().message);
  }
  log::Warn("could not ask Prometheus to check the query; it will be checked by its first cycle",
            {{"detector", detector}, {"err", s.error().message}});
  return {};
}

// The web config file, or null when none is set. Its messages already name the file; the context says
// which file it is.
Result<std::shared_ptr<const config::WebConfig>> LoadWebConfig(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const config::WebConfig>();
  Result<config::WebConfig> web = config::LoadWebConfigFromFile(path);
  if (!web) return tl::unexpected(web.error().WithContext("web config"));
  return std::make_shared<const config::WebConfig>(std::move(*web));
}

// What a web config turns on, for the log: never a user name's hash or any key material.
void LogWebConfig(std::string_view msg, const std::string& path, const config::WebConfig* web) {
  if (path.empty() || web == nullptr) return;
  log::Info(msg, {{"file", path},
                  {"tls", web->tls_server_config ? "on" : "off"},
                  {"basic_auth_users", std::to_string(web->basic_auth_users.size())},
                  {"headers", std::to_string(web->headers.size())}});
}

}  // namespace

struct Daemon::Slot {
  std::shared_ptr<DetectorRunner> runner;
  std::atomic<bool> running{false};  // a cycle is queued or in progress
  std::atomic<bool> retired{false};  // removed by a reload: its last cycle must not publish
  std::atomic<Clock::rep> next_due{0};
  std::shared_ptr<const std::vector<exposition::SeriesReport>> reports;  // guarded by Daemon::mu_
  // Guarded by Daemon::mu_: the groups of multivariate and peers detectors, and the members of peers ones.
  std::shared_ptr<const std::vector<exposition::GroupReport>> groups;
  std::shared_ptr<const std::vector<exposition::PeerReport>> peers;
  int64_t failed_cycles = 0;  // of the failure streak in progress; owned by the cycle in progress
};

Daemon::Daemon(const DaemonOptions& options)
    : options_(options),
      metrics_(std::make_shared<exposition::SelfMetrics>(ANOMALY_VERSION, ANOMALY_REVISION)),
      collector_(std::make_shared<exposition::AnomalyCollector>()) {}

Result<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  TuneAllocator();
  std::unique_ptr<Daemon> d(new Daemon(options));
  d->collector_->Publish(std::make_shared<const exposition::Snapshot>());

  // The web config first: a broken one stops start-up before anything contacts Prometheus.
  Result<std::shared_ptr<const config::WebConfig>> web_config = LoadWebConfig(options.web_config_file);
  if (!web_config) return tl::unexpected(web_config.error());

  Result<config::Config> cfg = config::LoadConfigFromFile(options.config_file);
  if (!cfg) return tl::unexpected(cfg.error());
  for (const std::string& w : cfg->warnings) log::Warn("config", {{"warning", w}});
  const int threads = cfg->global.evaluation_threads;
  if (Status s = d->Apply(std::make_shared<const config::Config>(std::move(*cfg))); !s) {
    return tl::unexpected(s.error());
  }
  d->metrics_->ObserveReload(true, std::chrono::system_clock::now());
  d->metrics_->SetExternalUrl(options.external_url);
  d->pool_ = std::make_unique<WorkerPool>(static_cast<size_t>(std::max(1, threads)));
  d->fit_pool_ = std::make_unique<ParallelPool>(static_cast<size_t>(std::max(1, threads) - 1));

  http::WebOptions web;
  web.listen_addresses = options.listen_addresses;
  web.telemetry_path = options.telemetry_path;
  web.max_requests = options.max_requests;
  web.web_config = *web_config;
  web.tls_shim_dirs = options.tls_shim_dirs;
  web.score = options.score;
  web.external_url = options.external_url;
  http::Callbacks callbacks;
  Daemon* self = d.get();
  callbacks.ready = [self] { return self->ready(); };
  callbacks.reload = [self] { return self->Reload(); };
  callbacks.landing = [self] { return self->Landing(); };
  // The score API needs nothing of the daemon's state: it scores what the request brings, on the web
  // server's own score pool, and only counts its answers here.
  callbacks.score = [limits = options.score_limits](const http::ScoreRequest& r) { return Score(r, limits); };
  callbacks.score_answered = [metrics = d->metrics_](int status) { metrics->ObserveScoreRequest(status); };
  callbacks.series = [self](const std::string& detector, const Labels& labels) {
    return self->SeriesPage(detector, labels);
  };
  callbacks.episodes = [self] { return self->Episodes(); };
  callbacks.feedback = [self](const http::FeedbackRequest& r) { return self->Feedback(r); };
  callbacks.feedback_owner = [self](const std::string& id) { return self->FeedbackOwner(id); };
  Result<std::unique_ptr<http::WebServer>> server =
      http::WebServer::Create(web, d->metrics_->registry(), d->collector_, std::move(callbacks));
  if (!server) {
    // A certificate or key the web config names that cannot be used is the web config's error.
    if (server.error().code == ErrorCode::kInvalidConfig && *web_config) {
      return tl::unexpected(server.error().WithContext("web config " + options.web_config_file));
    }
    return tl::unexpected(server.error());
  }
  d->web_ = std::move(*server);
  LogWebConfig("web config loaded", options.web_config_file, web_config->get());

  d->RestoreState();
  d->scheduler_ = std::jthread([self](std::stop_token stop) { self->SchedulerLoop(stop); });
  return d;
}

Daemon::~Daemon() {
  // No new cycles, then wait for the cycles in flight (they prerender into the web server), then no new
  // requests: until the last moment scrapes get the last snapshot.
  if (scheduler_.joinable()) {
    scheduler_.request_stop();
    scheduler_.join();
  }
  pool_.reset();
  fit_pool_.reset();
  web_.reset();
}

Status Daemon::Apply(std::shared_ptr<const config::Config> config) {
  std::shared_ptr<const config::Config> old;
  std::shared_ptr<prom::RangeQueryClient> client;
  std::vector<std::shared_ptr<Slot>> old_slots;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = config_;
    client = client_;
    old_slots = slots_;
  }
  if (!old || !(old->prometheus == config->prometheus)) {
    const prom::ClientOptions client_options =
        config::ClientOptionsFor(config->prometheus, std::string("anomaly_exporter/") + ANOMALY_VERSION);
    Result<std::unique_ptr<prom::RangeQueryClient>> made =
        options_.new_client ? options_.new_client(client_options) : prom::NewHttpClient(client_options);
    if (!made) return tl::unexpected(made.error().WithContext("prometheus"));
    client = std::move(*made);
  }
  ShardFilter shard{config->shard.index, config->shard.count};
  if (options_.shard_count > 0) shard = ShardFilter{options_.shard_index, options_.shard_count};
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    return MakeError(ErrorCode::kInvalidConfig, "shard: index must be in [0, count)");
  }

  std::vector<std::shared_ptr<Slot>> slots;
  for (const config::DetectorConfig& dc : config->detectors) {
    std::shared_ptr<Slot> kept;
    for (const std::shared_ptr<Slot>& s : old_slots) {
      if (s->runner->config() == dc && old && old->shard == config->shard) kept = s;
    }
    if (kept) {
      kept->runner->SetClient(client);
      slots.push_back(kept);
      continue;
    }
    if (Status s = CheckQuery(*client, dc.name, "query", dc.query); !s) return s;
    if (!dc.maintenance.condition.empty()) {
      if (Status s = CheckQuery(*client, dc.name, "maintenance.condition", dc.maintenance.condition); !s) return s;
    }
    Result<std::unique_ptr<DetectorRunner>> runner = DetectorRunner::Create(dc, client, metrics_.get(), shard);
    if (!runner) return tl::unexpected(runner.error());
    auto slot = std::make_shared<Slot>();
    slot->runner = std::move(*runner);
    if (!options_.storage_path.empty()) {
      // A detector the reload rebuilt (its settings changed) keeps its episodes and margins: the old
      // runner's copy as of its last cycle (one still running is not waited for; its episodes are lost).
      std::vector<StoredSeries> state;
      for (const std::shared_ptr<Slot>& s : old_slots) {
        if (s->runner->config().name == dc.name) state = s->runner->StateToStore();
      }
      slot->runner->RestoreState(std::move(state));
    }
    slots.push_back(std::move(slot));
  }

  std::lock_guard<std::mutex> lock(mu_);
  for (const std::shared_ptr<Slot>& s : old_slots) {
    bool still = false;
    for (const std::shared_ptr<Slot>& n : slots) still = still || n == s;
    if (still) continue;
    s->retired.store(true);
    bool name_kept = false;
    for (const std::shared_ptr<Slot>& n : slots) name_kept = name_kept || n->runner->config().name == s->runner->config().name;
    if (!name_kept) metrics_->RemoveDetector(s->runner->config().name);
  }
  slots_ = std::move(slots);
  config_ = std::move(config);
  client_ = std::move(client);
  metrics_->SetShard(shard.index, shard.count);  // only once applied: a failed reload keeps the old shard
  PublishLocked();
  return {};
}

Status Daemon::Reload() {
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  const auto now = std::chrono::system_clock::now();
  // The web config is read and built (its certificates and keys parsed) before the config is touched,
  // and installed only once the config is applied: either failing keeps both running ones.
  std::shared_ptr<const http::PreparedWebConfig> web;
  std::shared_ptr<const config::WebConfig> web_config_read;
  Status applied;
  if (!options_.web_config_file.empty()) {
    Result<std::shared_ptr<const config::WebConfig>> web_config = LoadWebConfig(options_.web_config_file);
    if (!web_config) {
      applied = tl::unexpected(web_config.error());
    } else if (auto prepared = web_->PrepareWebConfig(*web_config); !prepared) {
      applied = tl::unexpected(prepared.error().WithContext("web config " + options_.web_config_file));
    } else {
      web = std::move(*prepared);
      web_config_read = *web_config;
    }
  }
  if (applied) {
    Result<config::Config> cfg = config::LoadConfigFromFile(options_.config_file);
    applied = cfg ? Apply(std::make_shared<const config::Config>(std::move(*cfg)))
                  : Status(tl::unexpected(cfg.error()));
  }
  if (applied && web) {
    web_->InstallWebConfig(std::move(web));
    LogWebConfig("web config reloaded", options_.web_config_file, web_config_read.get());
  }
  metrics_->ObserveReload(applied.has_value(), now);
  if (!applied) {
    log::Error("config reload failed; the running config is kept", {{"err", applied.error().message}});
    return applied;
  }
  for (const std::string& w : config_->warnings) log::Warn("config", {{"warning", w}});
  log::Info("config reloaded", {{"file", options_.config_file}});
  return {};
}

void Daemon::SchedulerLoop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    std::vector<std::shared_ptr<Slot>> slots;
    {
      std::lock_guard<std::mutex> lock(mu_);
      slots = slots_;
    }
    const Clock::time_point now = Clock::now();
    for (const std::shared_ptr<Slot>& s : slots) {
      if (s->running.load() || now.time_since_epoch().count() < s->next_due.load()) continue;
      s->running.store(true);
      s->next_due.store((now + s->runner->config().interval).time_since_epoch().count());
      if (!pool_->Submit([this, s] { RunSlot(s); })) s->running.store(false);
    }
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
  }
}

void Daemon::RunSlot(const std::shared_ptr<Slot>& slot) {
  // However the cycle ends, the slot is free again afterwards: one left `running` is never scheduled.
  struct RunningReset {
    Slot& slot;
    ~RunningReset() { slot.running.store(false); }
  } reset{*slot};

  // RunCycle reports upstream errors in its reports and never fails; an exception is a bug or resource
  // exhaustion. Caught here, not only by the pool's last-resort catch, so that it is counted per detector
  // and the detector runs again at its next interval, keeping its last reports meanwhile.
  std::shared_ptr<const std::vector<exposition::SeriesReport>> reports;
  std::shared_ptr<const std::vector<exposition::GroupReport>> groups;
  std::shared_ptr<const std::vector<exposition::PeerReport>> peers;
  try {
    reports = std::make_shared<const std::vector<exposition::SeriesReport>>(
        slot->runner->RunCycle(std::chrono::system_clock::now(), fit_pool_.get()));
    groups = std::make_shared<const std::vector<exposition::GroupReport>>(slot->runner->TakeGroupReports());
    peers = std::make_shared<const std::vector<exposition::PeerReport>>(slot->runner->TakePeerReports());
  } catch (const std::exception& e) {
    NoteCycleFailure(*slot, e.what());
    return;
  } catch (...) {
    NoteCycleFailure(*slot, "unknown exception");
    return;
  }
  if (slot->failed_cycles > 0) {
    log::Info("cycle succeeded again", {{"detector", slot->runner->config().name},
                                        {"failed_cycles", std::to_string(slot->failed_cycles)}});
    slot->failed_cycles = 0;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slot->retired.load()) {
      slot->reports = std::move(reports);
      slot->groups = std::move(groups);
      slot->peers = std::move(peers);
      PublishLocked();
    }
  }
  StoreState();
  // Scrapes then find /metrics rendered (the web server exists while cycles run: ~Daemon).
  if (web_) web_->Prerender();
  ReturnFreedMemory();
}

void Daemon::NoteCycleFailure(Slot& slot, std::string_view cause) {
  // A retired detector's series are gone; counting would bring them back.
  if (slot.retired.load()) return;
  metrics_->ObserveCycleFailure(slot.runner->config().name);
  // Logged once per failure streak: a cycle failing at every interval must not flood the log.
  if (slot.failed_cycles++ > 0) return;
  log::Error("cycle failed; the detector keeps its last reports and runs again at its next interval",
             {{"detector", slot.runner->config().name}, {"err", std::string(cause)}});
}

void Daemon::PublishLocked() {
  auto snapshot = std::make_shared<exposition::Snapshot>();
  size_t total = 0;
  for (const std::shared_ptr<Slot>& s : slots_) total += s->reports ? s->reports->size() : 0;
  snapshot->series.reserve(total);
  for (const std::shared_ptr<Slot>& s : slots_) {
    if (s->reports) snapshot->series.insert(snapshot->series.end(), s->reports->begin(), s->reports->end());
    if (s->groups) snapshot->groups.insert(snapshot->groups.end(), s->groups->begin(), s->groups->end());
    if (s->peers) snapshot->peers.insert(snapshot->peers.end(), s->peers->begin(), s->peers->end());
  }
  snapshot->generated_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  collector_->Publish(std::move(snapshot));
}

bool Daemon::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (slots_.empty()) return false;
  for (const std::shared_ptr<Slot>& s : slots_) {
    if (!s->runner->first_cycle_done()) return false;
  }
  return true;
}

http::LandingInfo Daemon::Landing() const {
  http::LandingInfo info;
  info.version = ANOMALY_VERSION;
  info.revision = ANOMALY_GIT_DESCRIBE;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::shared_ptr<Slot>& s : slots_) {
    info.detectors.push_back(http::DetectorSummary{s->runner->config().name, s->runner->series_count(),
                                                   s->runner->last_success_ms(), s->runner->first_cycle_done()});
  }
  return info;
}

namespace {

// The API waits at most this long for each detector's running cycle, as the series page does.
constexpr std::chrono::seconds kEpisodesWait{2};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<http::SeriesPage> Daemon::SeriesPage(const std::string& detector, const Labels& labels) const {
  std::shared_ptr<DetectorRunner> runner;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::shared_ptr<Slot>& s : slots_) {
      if (s->runner->config().name == detector) runner = s->runner;
    }
  }
  if (!runner) return MakeError(ErrorCode::kInvalidInput, "no detector \"" + detector + "\" is configured now");
  // A page waits at most this long for a cycle that is scoring the detector's series, then is told to
  // retry: long enough for most cycles to finish, short enough for a person at a browser.
  Result<SeriesCopy> copy = runner->CopySeries(labels, NowMs(), std::chrono::seconds(2));
  if (!copy) return tl::unexpected(copy.error());
  // The fit and the page are built here, on the web worker, from the copy: the cycle is not held for them.
  scoring::ModelWorkspace workspace;
  return BuildSeriesPage(*copy, workspace);
}

std::vector<std::shared_ptr<DetectorRunner>> Daemon::Runners() const {
  std::vector<std::shared_ptr<DetectorRunner>> runners;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::shared_ptr<Slot>& s : slots_) runners.push_back(s->runner);
  return runners;
}

Result<std::vector<http::EpisodeInfo>> Daemon::Episodes() const {
  std::vector<http::EpisodeInfo> out;
  const int64_t now_ms = NowMs();
  for (const std::shared_ptr<DetectorRunner>& runner : Runners()) {
    Result<std::vector<http::EpisodeInfo>> got = runner->Episodes(now_ms, kEpisodesWait);
    if (!got) return tl::unexpected(got.error());
    out.insert(out.end(), std::make_move_iterator(got->begin()), std::make_move_iterator(got->end()));
  }
  return out;
}

Result<http::EpisodeInfo> Daemon::Feedback(const http::FeedbackRequest& request) {
  const int64_t now_ms = NowMs();
  for (const std::shared_ptr<DetectorRunner>& runner : Runners()) {
    Result<http::EpisodeInfo> given = runner->GiveFeedback(request, now_ms, kEpisodesWait);
    if (given) {
      metrics_->ObserveFeedback(http::FeedbackVerdictName(request.verdict));
      StoreState();
    }
    if (given || given.error().code != ErrorCode::kInvalidInput) return given;
  }
  std::string message = "no episode \"" + request.id + "\" among this exporter's recent episodes (GET /api/v1/episodes)";
  const ShardFilter shard = CurrentShard();
  if (shard.count > 1) {
    // FeedbackOwner sent elsewhere the ids of other shards' series: this shard owns this one's.
    message +=
        "; this is shard " + std::to_string(shard.index) + " of " + std::to_string(shard.count) +
        ", the one that scores its series, and it keeps no such episode (it ended long ago, or the id is "
        "mistyped)";
  }
  return MakeError(ErrorCode::kInvalidInput, message);
}

ShardFilter Daemon::CurrentShard() const {
  ShardFilter shard;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (config_) shard = ShardFilter{config_->shard.index, config_->shard.count};
  }
  if (options_.shard_count > 0) shard = ShardFilter{options_.shard_index, options_.shard_count};
  return shard;
}

std::optional<http::FeedbackOwner> Daemon::FeedbackOwner(const std::string& id) const {
  const ShardFilter shard = CurrentShard();
  if (shard.count <= 1) return std::nullopt;
  const std::optional<uint64_t> hash = EpisodeShardHash(id);
  if (!hash) return std::nullopt;  // not an id at all: answered 404 by Feedback
  const int owner = static_cast<int>(*hash % static_cast<uint64_t>(shard.count));
  if (owner == shard.index) return std::nullopt;
  return http::FeedbackOwner{.shard = owner,
                             .count = shard.count,
                             .this_shard = shard.index,
                             .url = ShardUrl(options_.shard_url_template, owner)};
}

std::string ShardUrl(std::string_view url_template, int shard) {
  std::string url(url_template);
  const std::string index = std::to_string(shard);
  for (size_t at = url.find(kShardPlaceholder); at != std::string::npos;
       at = url.find(kShardPlaceholder, at + index.size())) {
    url.replace(at, kShardPlaceholder.size(), index);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

namespace {

std::string StateFilePath(const std::string& storage_path) { return storage_path + "/state"; }

}  // namespace

void Daemon::RestoreState() {
  if (options_.storage_path.empty()) {
    log::Info("episodes and feedback are kept in memory only (--storage.path not set)");
    return;
  }
  const std::string path = StateFilePath(options_.storage_path);
  std::vector<StoredSeries> state = LoadStateOrMoveAside(path);
  size_t restored = 0;
  for (const std::shared_ptr<DetectorRunner>& runner : Runners()) {
    std::vector<StoredSeries> mine;
    for (StoredSeries& s : state) {
      if (s.detector == runner->config().name) mine.push_back(std::move(s));
    }
    restored += mine.size();
    runner->RestoreState(std::move(mine));
  }
  log::Info("episodes and feedback are stored", {{"path", path}, {"series_restored", std::to_string(restored)}});
}

void Daemon::StoreState() {
  if (options_.storage_path.empty()) return;
  std::vector<StoredSeries> state;
  for (const std::shared_ptr<DetectorRunner>& runner : Runners()) {
    std::vector<StoredSeries> mine = runner->StateToStore();
    state.insert(state.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
  }
  const std::string text = EncodeState(state);
  std::lock_guard<std::mutex> lock(storage_mu_);
  const Status written = WriteFileAtomically(StateFilePath(options_.storage_path), text);
  if (!written) {
    // Logged once per streak: a full disk must not log every cycle. The old file stays as it was.
    if (storage_error_ != written.error().message) {
      storage_error_ = written.error().message;
      log::Error("storing episodes and feedback failed; the last stored state is kept", {{"err", storage_error_}});
    }
  } else if (!storage_error_.empty()) {
    storage_error_.clear();
    log::Info("storing episodes and feedback works again", {{"path", StateFilePath(options_.storage_path)}});
  }
}

int Daemon::Run() {
  std::string ports;
  for (int p : web_->GetListeningPorts()) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  log::Info("anomaly_exporter started", {{"version", ANOMALY_VERSION},
                                         {"revision", ANOMALY_GIT_DESCRIBE},
                                         {"config", options_.config_file},
                                         {"ports", ports},
                                         {"telemetry_path", options_.telemetry_path}});
  for (;;) {
    SignalEvent ev = WaitForSignal(std::chrono::seconds(1));
    if (ev == SignalEvent::kTerminate) break;
    if (ev == SignalEvent::kReload) (void)Reload();  // logged and counted inside
  }
  log::Info("shutting down");
  return 0;
}

}  // namespace anomaly::app
