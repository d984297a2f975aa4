#include "anomaly/exposition/self_metrics.h"

#include <map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace anomaly::exposition {
namespace {

// query_range calls take from milliseconds (a small window on a local Prometheus) to the query timeout
// (default 2m, ECOSYSTEM.md §2); the upper buckets show queries drifting toward it.
const prometheus::Histogram::BucketBoundaries kQueryBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                               1,     2.5,  5,     10,   30,  60,   120};
// One STL/MSTL fit of one series: sub-millisecond for a short baseline, up to seconds for MSTL over weeks.
const prometheus::Histogram::BucketBoundaries kFitBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// Reasons a query can fail with; created at zero so that increase() sees the first error.
constexpr ErrorCode kQueryErrorCodes[] = {ErrorCode::kUpstreamUnavailable, ErrorCode::kUpstreamRejected,
                                          ErrorCode::kUpstreamMalformed,   ErrorCode::kTimeout,
                                          ErrorCode::kCancelled,           ErrorCode::kInternal};

double ToSeconds(SelfMetrics::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

struct SelfMetrics::DetectorMetrics {
  prometheus::Histogram* query_duration;
  prometheus::Counter* queries;
  std::map<ErrorCode, prometheus::Counter*> query_errors;
  prometheus::Histogram* fit_duration;
  prometheus::Gauge* cycle_duration;
  prometheus::Counter* cycle_failures;
  prometheus::Gauge* last_success;
  prometheus::Gauge* series;
  prometheus::Gauge* series_dropped;
  prometheus::Counter* samples;
  prometheus::Gauge* ready;
};

struct SelfMetrics::DetectorMap : std::map<std::string, DetectorMetrics, std::less<>> {};

SelfMetrics::SelfMetrics(std::string_view version, std::string_view revision)
    : registry_(std::make_shared<prometheus::Registry>()), detectors_(std::make_unique<DetectorMap>()) {
  prometheus::Registry& r = *registry_;
  prometheus::BuildGauge()
      .Name("anomaly_exporter_build_info")
      .Help("A metric with a constant '1' value labeled by version and revision of the exporter.")
      .Register(r)
      .Add({{"version", std::string(version)}, {"revision", std::string(revision)}})
      .Set(1);
  query_duration_ = &prometheus::BuildHistogram()
                         .Name("anomaly_exporter_query_duration_seconds")
                         .Help("Duration of one query_range call per detector, pages and retries included.")
                         .Register(r);
  queries_ = &prometheus::BuildCounter()
                  .Name("anomaly_exporter_queries_total")
                  .Help("query_range calls made per detector, failed ones included.")
                  .Register(r);
  query_errors_ = &prometheus::BuildCounter()
                       .Name("anomaly_exporter_query_errors_total")
                       .Help("query_range calls that failed, per detector and reason.")
                       .Register(r);
  fit_duration_ = &prometheus::BuildHistogram()
                       .Name("anomaly_exporter_fit_duration_seconds")
                       .Help("Duration of one model fit (STL, MSTL or baseline) of one series.")
                       .Register(r);
  cycle_duration_ = &prometheus::BuildGauge()
                         .Name("anomaly_exporter_cycle_duration_seconds")
                         .Help("Duration of the detector's last cycle: query, score and publish.")
                         .Register(r);
  cycle_failures_ = &prometheus::BuildCounter()
                        .Name("anomaly_exporter_cycle_failures_total")
                        .Help("Cycles of the detector that failed with an exception and published nothing.")
                        .Register(r);
  last_success_ = &prometheus::BuildGauge()
                       .Name("anomaly_exporter_last_successful_cycle_timestamp_seconds")
                       .Help("Unix time the detector's last successful cycle finished.")
                       .Register(r);
  series_ = &prometheus::BuildGauge()
                 .Name("anomaly_exporter_series")
                 .Help("Series the detector scores now.")
                 .Register(r);
  series_dropped_ = &prometheus::BuildGauge()
                         .Name("anomaly_exporter_series_dropped")
                         .Help("Series left out of the detector's last cycle because of max_series.")
                         .Register(r);
  samples_ = &prometheus::BuildCounter()
                  .Name("anomaly_exporter_samples_ingested_total")
                  .Help("Samples read from query_range responses per detector.")
                  .Register(r);
  ready_ = &prometheus::BuildGauge()
                .Name("anomaly_exporter_detector_ready")
                .Help("1 once the detector's first cycle has published, else 0.")
                .Register(r);
  reload_ok_ = &prometheus::BuildGauge()
                    .Name("anomaly_exporter_config_last_reload_successful")
                    .Help("1 if the last configuration load succeeded, else 0.")
                    .Register(r)
                    .Add({});
  reload_timestamp_ = &prometheus::BuildGauge()
                           .Name("anomaly_exporter_config_last_reload_success_timestamp_seconds")
                           .Help("Unix time of the last successful configuration load.")
                           .Register(r)
                           .Add({});
  shard_info_ = &prometheus::BuildGauge()
                     .Name("anomaly_exporter_shard_info")
                     .Help("A metric with a constant '1' value labeled by the shard index and shard count "
                           "this process scores.")
                     .Register(r);
  shard_ = &shard_info_->Add({{"index", "0"}, {"count", "1"}});
  shard_->Set(1);
  score_requests_ = &prometheus::BuildCounter()
                         .Name("anomaly_exporter_score_requests_total")
                         .Help("Requests to POST /api/v1/score, by HTTP status code.")
                         .Register(r);
  // The answers a working API gives, created at zero so that increase() sees the first one.
  for (int code : {200, 400, 413, 429}) score_requests_->Add({{"code", std::to_string(code)}});
  feedback_ = &prometheus::BuildCounter()
                   .Name("anomaly_exporter_feedback_total")
                   .Help("Feedback taken on episodes (POST /api/v1/episodes/{id}/feedback), by verdict.")
                   .Register(r);
  for (const char* verdict : {"false_positive", "true_positive"}) feedback_->Add({{"verdict", verdict}});
  web_info_ = &prometheus::BuildGauge()
                   .Name("anomaly_exporter_web_info")
                   .Help("A metric with a constant '1' value labeled by the URL the exporter is reached at "
                         "from outside (--web.external-url; empty when not set).")
                   .Register(r);
  web_ = &web_info_->Add({{"external_url", ""}});
  web_->Set(1);
}

void SelfMetrics::ObserveScoreRequest(int status) {
  // Family::Add is thread-safe and returns the existing counter for known labels.
  score_requests_->Add({{"code", std::to_string(status)}}).Increment();
}

void SelfMetrics::ObserveFeedback(std::string_view verdict) {
  feedback_->Add({{"verdict", std::string(verdict)}}).Increment();
}

SelfMetrics::~SelfMetrics() = default;

SelfMetrics::DetectorMetrics& SelfMetrics::Detector(std::string_view detector) {
  auto it = detectors_->find(detector);
  if (it != detectors_->end()) return it->second;
  const prometheus::Labels labels = {{"detector", std::string(detector)}};
  DetectorMetrics m{};
  m.query_duration = &query_duration_->Add(labels, kQueryBuckets);
  m.queries = &queries_->Add(labels);
  for (ErrorCode code : kQueryErrorCodes) {
    m.query_errors[code] = &query_errors_->Add({{"detector", std::string(detector)},
                                                {"reason", std::string(ErrorCodeName(code))}});
  }
  m.fit_duration = &fit_duration_->Add(labels, kFitBuckets);
  m.cycle_duration = &cycle_duration_->Add(labels);
  m.cycle_failures = &cycle_failures_->Add(labels);
  m.last_success = &last_success_->Add(labels);
  m.series = &series_->Add(labels);
  m.series_dropped = &series_dropped_->Add(labels);
  m.samples = &samples_->Add(labels);
  m.ready = &ready_->Add(labels);
  return detectors_->emplace(std::string(detector), m).first->second;
}

void SelfMetrics::AddDetector(std::string_view detector) {
  std::lock_guard lock(mu_);
  Detector(detector);
}

void SelfMetrics::RemoveDetector(std::string_view detector) {
  std::lock_guard lock(mu_);
  auto it = detectors_->find(detector);
  if (it == detectors_->end()) return;
  DetectorMetrics& m = it->second;
  query_duration_->Remove(m.query_duration);
  queries_->Remove(m.queries);
  for (auto& [code, counter] : m.query_errors) query_errors_->Remove(counter);
  fit_duration_->Remove(m.fit_duration);
  cycle_duration_->Remove(m.cycle_duration);
  cycle_failures_->Remove(m.cycle_failures);
  last_success_->Remove(m.last_success);
  series_->Remove(m.series);
  series_dropped_->Remove(m.series_dropped);
  samples_->Remove(m.samples);
  ready_->Remove(m.ready);
  detectors_->erase(it);
}

void SelfMetrics::ObserveQuery(std::string_view detector, double seconds, std::optional<ErrorCode> error) {
  std::lock_guard lock(mu_);
  DetectorMetrics& m = Detector(detector);
  m.queries->Increment();
  m.query_duration->Observe(seconds);
  if (!error) return;
  prometheus::Counter*& counter = m.query_errors[*error];
  if (counter == nullptr) {
    counter = &query_errors_->Add({{"detector", std::string(detector)},
                                   {"reason", std::string(ErrorCodeName(*error))}});
  }
  counter->Increment();
}

void SelfMetrics::ObserveFit(std::string_view detector, double seconds) {
  std::lock_guard lock(mu_);
  Detector(detector).fit_duration->Observe(seconds);
}

void SelfMetrics::ObserveCycle(std::string_view detector, double seconds, bool success, TimePoint now) {
  std::lock_guard lock(mu_);
  DetectorMetrics& m = Detector(detector);
  m.cycle_duration->Set(seconds);
  if (success) m.last_success->Set(ToSeconds(now));
}

void SelfMetrics::ObserveCycleFailure(std::string_view detector) {
  std::lock_guard lock(mu_);
  Detector(detector).cycle_failures->Increment();
}

void SelfMetrics::SetSeries(std::string_view detector, int64_t scored, int64_t dropped) {
  std::lock_guard lock(mu_);
  DetectorMetrics& m = Detector(detector);
  m.series->Set(static_cast<double>(scored));
  m.series_dropped->Set(static_cast<double>(dropped));
}

void SelfMetrics::AddSamples(std::string_view detector, uint64_t samples) {
  std::lock_guard lock(mu_);
  Detector(detector).samples->Increment(static_cast<double>(samples));
}

void SelfMetrics::SetReady(std::string_view detector, bool ready) {
  std::lock_guard lock(mu_);
  Detector(detector).ready->Set(ready ? 1 : 0);
}

void SelfMetrics::ObserveReload(bool ok, TimePoint now) {
  std::lock_guard lock(mu_);
  reload_ok_->Set(ok ? 1 : 0);
  if (ok) reload_timestamp_->Set(ToSeconds(now));
}

void SelfMetrics::SetExternalUrl(std::string_view url) {
  std::lock_guard lock(mu_);
  web_info_->Remove(web_);
  web_ = &web_info_->Add({{"external_url", std::string(url)}});
  web_->Set(1);
}

void SelfMetrics::SetShard(int index, int count) {
  std::lock_guard lock(mu_);
  if (index == shard_index_ && count == shard_count_) return;
  shard_info_->Remove(shard_);
  shard_ = &shard_info_->Add({{"index", std::to_string(index)}, {"count", std::to_string(count)}});
  shard_->Set(1);
  shard_index_ = index;
  shard_count_ = count;
}

}  // namespace anomaly::exposition
