#include "exporter/app/detector_runner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "anomaly/base/duration.h"
#include "anomaly/base/log.h"
#include "anomaly/config/detector_params.h"

namespace anomaly::app {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<DetectorRunner>> DetectorRunner::Create(const config::DetectorConfig& config,
                                                               std::shared_ptr<prom::RangeQueryClient> client,
                                                               exposition::SelfMetrics* metrics,
                                                               ShardFilter shard) {
  Result<scoring::ModelParams> model = config::ModelParamsFor(config);
  if (!model) return tl::unexpected(model.error());
  Result<series::StoreOptions> store_options = config::StoreOptionsFor(config);
  if (!store_options) return tl::unexpected(store_options.error());
  Result<series::SeriesStore> store = series::SeriesStore::Create(*store_options);
  if (!store) return tl::unexpected(store.error().WithContext("detector \"" + config.name + "\""));
  series::EvaluateOptions evaluate;
  evaluate.model = *model;
  evaluate.refit_interval = config.refit_interval;
  return std::unique_ptr<DetectorRunner>(
      new DetectorRunner(config, std::move(client), metrics, shard, std::move(*store), evaluate));
}

DetectorRunner::DetectorRunner(const config::DetectorConfig& config,
                               std::shared_ptr<prom::RangeQueryClient> client, exposition::SelfMetrics* metrics,
                               ShardFilter shard, series::SeriesStore store,
                               series::EvaluateOptions evaluate_options)
    : config_(config),
      metrics_(metrics),
      shard_(shard),
      client_(std::move(client)),
      store_(std::move(store)),
      evaluate_options_(std::move(evaluate_options)) {
  metrics_->AddDetector(config_.name);
}

std::vector<exposition::SeriesReport> DetectorRunner::RunCycle(std::chrono::system_clock::time_point now) {
  const Clock::time_point cycle_start = Clock::now();
  const int64_t now_ms = ToMs(now);
  const int64_t step = config_.step.count();
  const int64_t end = now_ms / step * step;
  const int64_t history_start = end - config_.history.count();
  // Later cycles fetch only what is new, with two steps of overlap: the newest step may have been
  // evaluated before its last sample arrived. The store drops what it already has.
  const int64_t start = fetched_until_ms_ > 0 ? std::max(fetched_until_ms_ - 2 * step, history_start)
                                              : history_start;
  store_.BeginCycle();

  std::shared_ptr<prom::RangeQueryClient> client = client_.load();
  const Clock::time_point query_start = Clock::now();
  Result<std::vector<prom::SeriesSamples>> answer =
      client->QueryRange(prom::RangeQuery{config_.query, start, end, config_.step});
  metrics_->ObserveQuery(config_.name, SecondsSince(query_start),
                         answer ? std::nullopt : std::optional<ErrorCode>(answer.error().code));

  std::vector<int64_t> condition_times;
  if (answer && !config_.maintenance.condition.empty()) {
    Result<std::vector<int64_t>> times = MaintenanceTimes(start, end);
    if (times) {
      condition_times = std::move(*times);
    } else {
      answer = tl::unexpected(times.error().WithContext("maintenance condition"));
    }
  }

  if (answer) {
    NoteQuerySuccess();
    uint64_t appended = 0;
    std::vector<series::Sample> samples;
    for (const prom::SeriesSamples& s : *answer) {
      if (!shard_.Owns(s.labels)) continue;
      samples.clear();
      samples.reserve(s.samples.size());
      for (const prom::Sample& p : s.samples) {
        // Maintenance samples are neither fitted nor scored: they enter the store as missing.
        double v = InMaintenance(p.timestamp_ms, condition_times) ? std::numeric_limits<double>::quiet_NaN()
                                                                   : p.value;
        samples.push_back(series::Sample{p.timestamp_ms, v});
      }
      appended += store_.Ingest(s.labels, samples, now_ms).appended;
    }
    fetched_until_ms_ = end;
    metrics_->AddSamples(config_.name, appended);
  } else {
    NoteQueryFailure(answer.error());
    store_.MarkAllStale();
  }

  // Only an answer can show that a series vanished: a failed query marks series stale but never ages them
  // out, so an upstream outage longer than series_ttl keeps every series' state (docs/reliability.md).
  if (answer) store_.Expire(now_ms);
  std::vector<exposition::SeriesReport> reports = Reports(now_ms, InMaintenance(end, condition_times));

  series_count_.store(static_cast<int64_t>(store_.size()));
  metrics_->SetSeries(config_.name, static_cast<int64_t>(store_.size()),
                      static_cast<int64_t>(store_.refused_in_cycle()));
  metrics_->ObserveCycle(config_.name, SecondsSince(cycle_start), answer.has_value(), now);
  if (answer) last_success_ms_.store(now_ms);
  if (!first_cycle_done_.exchange(true)) metrics_->SetReady(config_.name);
  return reports;
}

Result<std::vector<int64_t>> DetectorRunner::MaintenanceTimes(int64_t start_ms, int64_t end_ms) {
  std::shared_ptr<prom::RangeQueryClient> client = client_.load();
  Result<std::vector<prom::SeriesSamples>> answer =
      client->QueryRange(prom::RangeQuery{config_.maintenance.condition, start_ms, end_ms, config_.step});
  if (!answer) return tl::unexpected(answer.error());
  std::vector<int64_t> times;
  for (const prom::SeriesSamples& s : *answer) {
    for (const prom::Sample& p : s.samples) times.push_back(p.timestamp_ms);
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

bool DetectorRunner::InMaintenance(int64_t t_ms, const std::vector<int64_t>& condition_times) const {
  for (const config::MaintenanceWindow& w : config_.maintenance.windows) {
    if (t_ms >= w.start.time_since_epoch().count() && t_ms < w.end.time_since_epoch().count()) return true;
  }
  return std::binary_search(condition_times.begin(), condition_times.end(), t_ms);
}

std::vector<exposition::SeriesReport> DetectorRunner::Reports(int64_t now_ms, bool maintenance_now) {
  std::vector<exposition::SeriesReport> out;
  out.reserve(store_.size());
  const bool auto_periods = config_.seasonality.mode == config::SeasonalityMode::kAuto;
  store_.ForEach([&](const Labels& labels, series::SeriesEntry& entry) {
    exposition::SeriesReport report;
    report.detector = config_.name;
    report.labels = labels;
    report.value_known = entry.last_observed_ms.has_value();
    if (maintenance_now) {
      report.verdict = entry.verdict;
      report.verdict.state = scoring::SeriesState::kMaintenance;
      report.verdict.anomalous = false;
      report.verdict.anomalous_since_ms = 0;
      entry.flag = {};
    } else {
      series::EvaluateOptions options = evaluate_options_;
      if (auto_periods) {
        auto it = detected_periods_.find(labels);
        const bool detected_before = it != detected_periods_.end();
        if (series::SeasonalityDetectionDue(entry, detected_before, now_ms, config_.refit_interval)) {
          std::vector<int> periods = series::DetectPeriodsOnWindow(entry, config_.step);
          it = detected_periods_.insert_or_assign(labels, std::move(periods)).first;
        }
        options.model.periods = it->second;
      }
      const Clock::time_point t0 = Clock::now();
      series::Evaluation ev = series::Evaluate(entry, store_.options(), options, now_ms, workspace_);
      if (ev.fitted) metrics_->ObserveFit(config_.name, SecondsSince(t0));
      if (!ev.fit_status && log::Enabled(log::Level::kDebug)) {
        log::Debug("fit failed", {{"detector", config_.name},
                                  {"series", LabelsToString(labels)},
                                  {"err", ev.fit_status.error().message}});
      }
      report.verdict = ev.verdict;
    }
    report.periods = PeriodsLabel(entry);
    out.push_back(std::move(report));
  });
  if (auto_periods) {
    std::erase_if(detected_periods_, [this](const auto& kv) { return store_.Find(kv.first) == nullptr; });
  }
  return out;
}

std::string DetectorRunner::PeriodsLabel(const series::SeriesEntry& entry) const {
  std::string out;
  if (!entry.model) return out;
  for (int p : entry.model->periods) {
    if (!out.empty()) out += ',';
    out += FormatDuration(config_.step * p);
  }
  return out;
}

void DetectorRunner::NoteQueryFailure(const Error& error) {
  // Logged once per failure streak and reason: the messages of one cause differ in details (the breaker's
  // "next trial in 4s"), so the reason is the key. Every failure is still counted by reason.
  std::string key(ErrorCodeName(error.code));
  if (key == last_error_) return;
  last_error_ = std::move(key);
  log::Warn("query failed; series keep their last verdict and are marked stale",
            {{"detector", config_.name}, {"reason", std::string(ErrorCodeName(error.code))}, {"err", error.message}});
}

void DetectorRunner::NoteQuerySuccess() {
  if (last_error_.empty()) return;
  last_error_.clear();
  log::Info("query recovered", {{"detector", config_.name}});
}

}  // namespace anomaly::app
