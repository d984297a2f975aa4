// The exporter's own metrics, anomaly_exporter_* (ARCHITECTURE.md, self-metrics: names and labels are
// the contract). Direct instrumentation in a prometheus::Registry that the HTTP server exposes next to
// the anomaly_* families. Thread-safe: the cycle thread, the reload path and scrapes may call any method
// concurrently; every method takes one short internal lock and never blocks on I/O.
//
//   auto self = std::make_shared<exposition::SelfMetrics>(version, revision);
//   self->ObserveQuery("api_latency", 0.12, std::nullopt);
//   server_collectables.push_back(self->registry());
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <prometheus/registry.h>

#include "anomaly/base/result.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace anomaly::exposition {

class SelfMetrics {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Registers every family and sets anomaly_exporter_build_info{version,revision} = 1.
  // anomaly_exporter_config_last_reload_successful starts at 0: call ObserveReload(true, now) once the
  // initial config has loaded.
  SelfMetrics(std::string_view version, std::string_view revision);
  ~SelfMetrics();
  SelfMetrics(const SelfMetrics&) = delete;
  SelfMetrics& operator=(const SelfMetrics&) = delete;

  // The registry holding these metrics (a prometheus::Collectable), for the HTTP server. Shared: it
  // stays valid as long as any holder keeps it.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Creates the detector's series at zero (ready 0, counters 0, one query_errors_total per reason), so
  // they exist before the first event (ECOSYSTEM.md §1.2). The Observe/Set methods also create them.
  void AddDetector(std::string_view detector);
  // Removes every series labelled with the detector (a reload removed it from the config).
  void RemoveDetector(std::string_view detector);

  // One query_range call (all its pages and retries): queries_total += 1, the duration observed, and
  // query_errors_total{reason=ErrorCodeName(*error)} += 1 when it failed.
  void ObserveQuery(std::string_view detector, double seconds, std::optional<ErrorCode> error);
  // One model fit (STL/MSTL/baseline) of one series.
  void ObserveFit(std::string_view detector, double seconds);
  // One whole cycle: cycle_duration_seconds = seconds; on success also
  // last_successful_cycle_timestamp_seconds = now.
  void ObserveCycle(std::string_view detector, double seconds, bool success, TimePoint now);
  // A cycle that ended in an exception instead of reports (a bug or resource exhaustion, never an
  // upstream error, which the cycle itself counts): cycle_failures_total += 1.
  void ObserveCycleFailure(std::string_view detector);
  // Series scored now, and series left out by max_series in the last cycle.
  void SetSeries(std::string_view detector, int64_t scored, int64_t dropped);
  void AddSamples(std::string_view detector, uint64_t samples);
  // detector_ready = 1 (0 until called): the detector's first cycle has published.
  void SetReady(std::string_view detector, bool ready = true);
  // A config (re)load: config_last_reload_successful = ok; on success also
  // config_last_reload_success_timestamp_seconds = now.
  void ObserveReload(bool ok, TimePoint now);
  // anomaly_exporter_shard_info{index,count} = 1 for the shard this process scores (the previous
  // shard's series is removed). Starts as {index="0",count="1"}, the unsharded default.
  void SetShard(int index, int count);
  // One answer of POST /api/v1/score: score_requests_total{code=status} += 1 (200, 400, 413 and 429 are
  // created at zero).
  void ObserveScoreRequest(int status);
  // Feedback taken on an episode (POST /api/v1/episodes/{id}/feedback): feedback_total{verdict} += 1;
  // verdict is false_positive or true_positive, both created at zero.
  void ObserveFeedback(std::string_view verdict);
  // anomaly_exporter_web_info{external_url} = 1: --web.external-url, for the alert rules' links to the
  // series page (docs/ui.md). Starts as {external_url=""}: none set.
  void SetExternalUrl(std::string_view url);

 private:
  struct DetectorMetrics;
  DetectorMetrics& Detector(std::string_view detector);  // REQUIRES: mu_ held; creates on first use

  // Constant after construction. The families are owned by registry_.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>* query_duration_;
  prometheus::Family<prometheus::Counter>* queries_;
  prometheus::Family<prometheus::Counter>* query_errors_;
  prometheus::Family<prometheus::Histogram>* fit_duration_;
  prometheus::Family<prometheus::Gauge>* cycle_duration_;
  prometheus::Family<prometheus::Counter>* cycle_failures_;
  prometheus::Family<prometheus::Gauge>* last_success_;
  prometheus::Family<prometheus::Gauge>* series_;
  prometheus::Family<prometheus::Gauge>* series_dropped_;
  prometheus::Family<prometheus::Counter>* samples_;
  prometheus::Family<prometheus::Gauge>* ready_;
  prometheus::Gauge* reload_ok_;
  prometheus::Gauge* reload_timestamp_;
  prometheus::Family<prometheus::Gauge>* shard_info_;
  prometheus::Family<prometheus::Counter>* score_requests_;
  prometheus::Family<prometheus::Counter>* feedback_;
  prometheus::Family<prometheus::Gauge>* web_info_;

  // Guards detectors_ and the use of the metric pointers inside it: RemoveDetector deletes the metrics,
  // so every update happens under the lock.
  mutable std::mutex mu_;
  struct DetectorMap;
  std::unique_ptr<DetectorMap> detectors_;
  prometheus::Gauge* shard_ = nullptr;  // the one shard_info series; guarded by mu_
  int shard_index_ = 0, shard_count_ = 1;  // guarded by mu_
  prometheus::Gauge* web_ = nullptr;  // the one web_info series; guarded by mu_
};

}  // namespace anomaly::exposition
