#include "exporter/app/detector_runner.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <set>
#include <thread>
#include <utility>

#include "anomaly/base/duration.h"
#include "anomaly/base/log.h"
#include "anomaly/config/detector_params.h"

namespace anomaly::app {
namespace {

using Clock = std::chrono::steady_clock;

// lock.try_lock_for(wait), by polling try_lock every millisecond. libstdc++ 12 implements try_lock_for
// with pthread_mutex_clocklock, which GCC 12's ThreadSanitizer does not intercept (it intercepts
// pthread_mutex_timedlock only), so it did not see those locks and reported every unlock after one as
// the unlock of an unlocked mutex. A series page or an API call waits at most `wait`, a millisecond more
// than it asked at worst; a cycle holds the lock for seconds at most.
bool LockWithin(std::unique_lock<std::timed_mutex>& lock, std::chrono::milliseconds wait) {
  const Clock::time_point deadline = Clock::now() + wait;
  while (!lock.try_lock()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void ToSeriesSamples(const prom::SeriesSamples& s, std::vector<series::Sample>* out) {
  out->clear();
  out->reserve(s.samples.size());
  for (const prom::Sample& p : s.samples) out->push_back(series::Sample{p.timestamp_ms, p.value});
}

}  // namespace

Result<std::unique_ptr<DetectorRunner>> DetectorRunner::Create(const config::DetectorConfig& config,
                                                               std::shared_ptr<prom::RangeQueryClient> client,
                                                               exposition::SelfMetrics* metrics,
                                                               ShardFilter shard) {
  Result<series::DetectorOptions> options = config::DetectorOptionsFor(config);
  if (!options) return tl::unexpected(options.error());
  Result<series::Detector> core = series::Detector::Create(std::move(*options));
  if (!core) return tl::unexpected(core.error().WithContext("detector \"" + config.name + "\""));
  return std::unique_ptr<DetectorRunner>(
      new DetectorRunner(config, std::move(client), metrics, shard, std::move(*core)));
}

DetectorRunner::DetectorRunner(const config::DetectorConfig& config,
                               std::shared_ptr<prom::RangeQueryClient> client, exposition::SelfMetrics* metrics,
                               ShardFilter shard, series::Detector core)
    : config_(config), metrics_(metrics), shard_(shard), client_(std::move(client)), core_(std::move(core)) {
  metrics_->AddDetector(config_.name);
}

std::vector<exposition::SeriesReport> DetectorRunner::RunCycle(std::chrono::system_clock::time_point now,
                                                               ParallelPool* pool) {
  const Clock::time_point cycle_start = Clock::now();
  const int64_t now_ms = ToMs(now);
  const int64_t step = config_.step.count();
  const int64_t end = now_ms / step * step;
  const int64_t history_start = end - config_.history.count();
  // Later cycles fetch only what is new, with two steps of overlap: the newest step may have been
  // evaluated before its last sample arrived. The store drops what it already has.
  const int64_t start = fetched_until_ms_ > 0 ? std::max(fetched_until_ms_ - 2 * step, history_start)
                                              : history_start;
  std::shared_ptr<prom::RangeQueryClient> client = client_.load();
  const prom::RangeQuery query{config_.query, start, end, config_.step};

  // The maintenance condition's times mask the samples as they are ingested. The whole-answer path asks
  // for them after the query succeeded (so a failed query reports its own cause); the streamed one before
  // it, and takes the whole-answer path when they fail, so that the cause reported is the same.
  std::vector<int64_t> condition_times;
  std::optional<Error> condition_error;
  bool condition_fetched = false;
  auto fetch_condition = [&] {
    if (config_.maintenance.condition.empty() || std::exchange(condition_fetched, true)) return;
    Result<std::vector<int64_t>> times = MaintenanceTimes(start, end);
    if (times) {
      condition_times = std::move(*times);
    } else {
      condition_error = times.error().WithContext("maintenance condition");
    }
  };

  Status outcome;
  uint64_t appended = 0;
  std::unique_lock<std::timed_mutex> core_lock(core_mu_, std::defer_lock);
  bool streamed = false;
  // The first cycle (the whole history) streams its answer into the core: each series is stored and
  // fitted while the rest downloads, and neither the answer's text nor its decoded whole is ever held
  // (issue 16). It holds the core through the download: a series page waits (2 s, then 503) only then,
  // when there is nothing to show yet. Later cycles fetch a few steps and take the whole-answer path,
  // without the core.
  if (fetched_until_ms_ == 0) {
    fetch_condition();
    if (!condition_error) {
      core_lock.lock();
      if (core_.store().size() == 0) {  // always, unless a bug left series behind: no rollback needed
        streamed = true;
        core_.BeginCycle();
        outcome = StreamAnswer(*client, query, now_ms, end, condition_times, pool, &appended);
      } else {
        core_lock.unlock();
      }
    }
  }
  if (!streamed) {
    const Clock::time_point query_start = Clock::now();
    Result<std::vector<prom::SeriesSamples>> answer = client->QueryRange(query);
    metrics_->ObserveQuery(config_.name, SecondsSince(query_start),
                           answer ? std::nullopt : std::optional<ErrorCode>(answer.error().code));
    if (answer) {
      fetch_condition();
      if (condition_error) answer = tl::unexpected(*condition_error);
    }
    // The core from here on: the queries above ran without it, so a series page waits at most for the
    // ingest and the scoring, not for an upstream.
    core_lock.lock();
    core_.BeginCycle();
    if (answer) {
      std::vector<series::Sample> samples;
      for (const prom::SeriesSamples& s : *answer) {
        // A multivariate or peers detector shards by group (its group_by labels), so a group is never split.
        if (!shard_.Owns(ShardKey(s.labels))) continue;
        ToSeriesSamples(s, &samples);
        // Maintenance samples are neither fitted nor scored: the core stores them as missing.
        appended += core_.Ingest(s.labels, samples, now_ms, condition_times).appended;
      }
    } else {
      outcome = tl::unexpected(answer.error());
    }
  }
  if (outcome) {
    NoteQuerySuccess();
    fetched_until_ms_ = end;
    metrics_->AddSamples(config_.name, appended);
  } else {
    NoteQueryFailure(outcome.error());
    core_.MarkAllStale();
  }

  for (auto it = pending_margins_.begin(); it != pending_margins_.end();) {
    it = core_.SetFeedbackMargin(it->first, it->second.margin, it->second.at_ms) ? pending_margins_.erase(it) : std::next(it);
  }

  // Only an answer can show that a series vanished: a failed query marks series stale but never ages them
  // out, so an upstream outage longer than series_ttl keeps every series' state (docs/reliability.md).
  if (outcome) core_.Expire(now_ms);
  std::vector<exposition::SeriesReport> reports =
      Reports(now_ms, core_.InMaintenance(end, condition_times), pool, outcome.has_value());

  const series::SeriesStore& store = core_.store();
  series_count_.store(static_cast<int64_t>(store.size()));
  metrics_->SetSeries(config_.name, static_cast<int64_t>(store.size()),
                      static_cast<int64_t>(store.refused_in_cycle()));
  metrics_->ObserveCycle(config_.name, SecondsSince(cycle_start), outcome.has_value(), now);
  if (outcome) last_success_ms_.store(now_ms);
  if (!first_cycle_done_.exchange(true)) metrics_->SetReady(config_.name);
  return reports;
}

Status DetectorRunner::StreamAnswer(prom::RangeQueryClient& client, const prom::RangeQuery& query,
                                    int64_t now_ms, int64_t end_ms,
                                    const std::vector<int64_t>& condition_times, ParallelPool* pool,
                                    uint64_t* appended) {
  // The download runs on one thread (the producer: curl's write callback decodes, and the sink below
  // ingests); the other workers of the loop fit and score the series it hands them. The first item of the
  // loop to start produces, so a loop that gets no helper (all busy with another detector) still makes
  // progress: its caller produces, then evaluates everything itself. A worker waits for the producer only
  // while it runs. The core is the producer's (Ingest, PrepareEvaluation) except for the entries handed
  // over, each one the worker's that took it (series/detector.h).
  const bool maintenance_now = core_.InMaintenance(end_ms, condition_times);
  std::mutex mu;
  std::condition_variable ready_cv;
  std::deque<series::Detector::PreparedEvaluation*> ready;  // guarded by mu
  bool producer_claimed = false;                            // guarded by mu
  bool produced = false;                                    // guarded by mu
  bool abandon = false;                                     // guarded by mu: the answer failed

  // The producer's own.
  std::vector<Labels> created;  // series this answer created: forgotten if it fails
  std::set<Labels> seen;
  std::vector<prom::SeriesSamples> again;  // a label set the answer holds twice: ingested after it
  std::vector<series::Sample> samples;
  uint64_t added = 0;
  auto sink = [&](prom::SeriesSamples&& s) {
    if (!shard_.Owns(ShardKey(s.labels))) return;
    if (!seen.insert(s.labels).second) {
      again.push_back(std::move(s));
      return;
    }
    ToSeriesSamples(s, &samples);
    const series::IngestResult r = core_.Ingest(s.labels, samples, now_ms, condition_times);
    added += r.appended;
    if (r.refused) return;
    created.push_back(s.labels);
    // A restored margin counts from the series' first scoring on; it stays pending until the answer is
    // whole (RunCycle), so a failed answer keeps it.
    if (auto it = pending_margins_.find(s.labels); it != pending_margins_.end()) {
      core_.SetFeedbackMargin(s.labels, it->second.margin, it->second.at_ms);
    }
    if (maintenance_now) return;  // nothing is scored: Evaluate reports each series' last verdict
    series::Detector::PreparedEvaluation* task = core_.PrepareEvaluation(s.labels, now_ms);
    if (task == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.push_back(task);
    }
    ready_cv.notify_one();
  };

  Status outcome;
  auto produce = [&] {
    const Clock::time_point query_start = Clock::now();
    // Whatever happens, the workers stop waiting.
    struct Done {
      std::mutex& mu;
      std::condition_variable& cv;
      bool& produced;
      bool& abandon;
      const Status& outcome;
      ~Done() {
        {
          std::lock_guard<std::mutex> lock(mu);
          produced = true;
          abandon = !outcome.has_value() || std::uncaught_exceptions() > 0;
        }
        cv.notify_all();
      }
    } done{mu, ready_cv, produced, abandon, outcome};
    outcome = client.QueryRangeStreamed(query, sink);
    metrics_->ObserveQuery(config_.name, SecondsSince(query_start),
                           outcome ? std::nullopt : std::optional<ErrorCode>(outcome.error().code));
  };
  auto evaluate = [&](size_t worker) {
    for (;;) {
      series::Detector::PreparedEvaluation* task = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu);
        ready_cv.wait(lock, [&] { return !ready.empty() || produced; });
        if (ready.empty() || abandon) return;
        task = ready.front();
        ready.pop_front();
      }
      core_.RunPrepared(*task, worker);
    }
  };
  // No half answer: every series it created goes, with what was fitted on it.
  auto roll_back = [&] {
    core_.DropPrepared();
    for (const Labels& labels : created) core_.Forget(labels);
    core_.BeginCycle();  // its refusals (max_series) were of no answer either
  };
  core_.ReserveWorkers(pool != nullptr ? pool->max_workers() : 1);
  try {
    if (pool != nullptr) {
      pool->For(pool->max_workers(), [&](size_t, size_t worker) {
        bool producer = false;
        {
          std::lock_guard<std::mutex> lock(mu);
          producer = !std::exchange(producer_claimed, true);
        }
        if (producer) produce();
        evaluate(worker);
      });
    } else {
      produce();
      evaluate(0);
    }
  } catch (...) {
    roll_back();  // the daemon counts the cycle as failed and runs it again
    throw;
  }
  if (!outcome) {
    roll_back();
    return outcome;
  }
  for (const prom::SeriesSamples& s : again) {
    ToSeriesSamples(s, &samples);
    added += core_.Ingest(s.labels, samples, now_ms, condition_times).appended;
  }
  *appended = added;
  return outcome;
}

Result<SeriesCopy> DetectorRunner::CopySeries(const Labels& labels, int64_t now_ms,
                                              std::chrono::milliseconds wait) const {
  std::unique_lock<std::timed_mutex> lock(core_mu_, std::defer_lock);
  if (!LockWithin(lock, wait)) {
    return MakeError(ErrorCode::kTimeout, "detector \"" + config_.name +
                                              "\" is scoring its series right now; retry in a few seconds");
  }
  const series::SeriesEntry* entry = core_.store().Find(labels);
  if (entry == nullptr) {
    return MakeError(ErrorCode::kInvalidInput, "detector \"" + config_.name + "\" holds no series " +
                                                   LabelsToString(labels) + " any more");
  }
  std::vector<http::EpisodeInfo> episodes;
  for (const EpisodeRecord& e : episodes_.Of(labels)) episodes.push_back(EpisodeInfoOf(labels, e, now_ms));
  return SeriesCopy{.window = entry->window,
                    .level_shifts = entry->level_shifts,
                    .anomalous_slots = entry->baseline_excluded,
                    .model = entry->model,
                    .verdict = entry->verdict,
                    .episodes = std::move(episodes),
                    .step = core_.options().store.step,
                    .params = core_.options().evaluate.model,
                    .margin = series::FeedbackMarginAt(*entry, now_ms)};
}

http::EpisodeInfo DetectorRunner::EpisodeInfoOf(const Labels& labels, const EpisodeRecord& record,
                                                int64_t now_ms) const {
  const series::SeriesEntry* entry = core_.store().Find(labels);
  return http::EpisodeInfo{.id = EpisodeId(config_.name, ShardKey(labels), labels, record.start_ms),
                           .detector = config_.name,
                           .labels = labels,
                           .start_ms = record.start_ms,
                           .end_ms = record.end_ms,
                           .peak_score = record.peak_score,
                           .peak_ms = record.peak_ms,
                           .peak_value = record.peak_value,
                           .peak_expected = record.peak_expected,
                           .feedback = record.feedback,
                           .margin = entry != nullptr ? series::FeedbackMarginAt(*entry, now_ms) : 0};
}

Result<std::vector<http::EpisodeInfo>> DetectorRunner::Episodes(int64_t now_ms, std::chrono::milliseconds wait) const {
  std::unique_lock<std::timed_mutex> lock(core_mu_, std::defer_lock);
  if (!LockWithin(lock, wait)) {
    return MakeError(ErrorCode::kTimeout, "detector \"" + config_.name +
                                              "\" is scoring its series right now; retry in a few seconds");
  }
  std::vector<http::EpisodeInfo> out;
  episodes_.ForEach([&](const Labels& labels, const EpisodeRecord& e) { out.push_back(EpisodeInfoOf(labels, e, now_ms)); });
  return out;
}

Result<http::EpisodeInfo> DetectorRunner::GiveFeedback(const http::FeedbackRequest& request, int64_t now_ms,
                                                       std::chrono::milliseconds wait) {
  std::unique_lock<std::timed_mutex> lock(core_mu_, std::defer_lock);
  if (!LockWithin(lock, wait)) {
    return MakeError(ErrorCode::kTimeout, "detector \"" + config_.name +
                                              "\" is scoring its series right now; retry in a few seconds");
  }
  // Ids are hashes: the log is searched (at most 16 episodes a series, flagged series only).
  const Labels* labels = nullptr;
  int64_t start_ms = 0;
  episodes_.ForEach([&](const Labels& l, const EpisodeRecord& e) {
    if (labels == nullptr && EpisodeId(config_.name, ShardKey(l), l, e.start_ms) == request.id) {
      labels = &l;
      start_ms = e.start_ms;
    }
  });
  if (labels == nullptr) {
    return MakeError(ErrorCode::kInvalidInput, "detector \"" + config_.name + "\" keeps no episode \"" + request.id + "\"");
  }
  EpisodeRecord* record = episodes_.Find(*labels, start_ms);
  // Only the first false positive on an episode makes the series less sensitive: saying it twice is one
  // dismissal, and a true positive never changes the series (docs/api.md).
  const bool dismissed_before = record->feedback && record->feedback->verdict == http::FeedbackVerdict::kFalsePositive;
  if (request.verdict == http::FeedbackVerdict::kFalsePositive && !dismissed_before) {
    const std::optional<double> margin = core_.AddFalsePositive(*labels, record->peak_score, now_ms);
    log::Info("false positive: series made less sensitive",
              {{"detector", config_.name},
               {"series", LabelsToString(*labels)},
               {"episode", request.id},
               {"margin", margin ? std::to_string(*margin) : std::string("none: the series expired")}});
  }
  record->feedback = http::EpisodeFeedback{request.verdict, request.comment, now_ms};
  http::EpisodeInfo info = EpisodeInfoOf(*labels, *record, now_ms);
  CacheStateLocked();
  return info;
}

std::vector<StoredSeries> DetectorRunner::StateToStore() const {
  std::lock_guard<std::mutex> lock(stored_mu_);
  return stored_;
}

void DetectorRunner::CacheStateLocked() {
  if (!storing_) return;  // in memory only: no copy to keep
  std::map<Labels, StoredSeries> by_series;
  auto series_of = [&](const Labels& labels) -> StoredSeries& {
    StoredSeries& s = by_series[labels];
    s.detector = config_.name;
    s.labels = labels;
    return s;
  };
  episodes_.ForEach([&](const Labels& labels, const EpisodeRecord& e) { series_of(labels).episodes.push_back(e); });
  core_.store().ForEach([&](const Labels& labels, const series::SeriesEntry& entry) {
    if (entry.feedback_margin > 0) {
      StoredSeries& s = series_of(labels);
      s.margin = entry.feedback_margin;
      s.margin_ms = entry.feedback_margin_ms;
    }
  });
  for (const auto& [labels, pending] : pending_margins_) {
    StoredSeries& s = series_of(labels);
    s.margin = pending.margin;
    s.margin_ms = pending.at_ms;
  }
  std::vector<StoredSeries> out;
  for (auto& [labels, s] : by_series) out.push_back(std::move(s));
  std::lock_guard<std::mutex> lock(stored_mu_);
  stored_ = std::move(out);
}

void DetectorRunner::RestoreState(std::vector<StoredSeries> state) {
  std::lock_guard<std::timed_mutex> lock(core_mu_);
  storing_ = true;
  for (StoredSeries& s : state) {
    if (!shard_.Owns(ShardKey(s.labels))) continue;  // the shards changed: another one scores it now
    if (s.margin > 0) pending_margins_[s.labels] = PendingMargin{s.margin, s.margin_ms};
    episodes_.Restore(s.labels, std::move(s.episodes));
  }
  CacheStateLocked();
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

std::vector<exposition::SeriesReport> DetectorRunner::Reports(int64_t now_ms, bool maintenance_now,
                                                              ParallelPool* pool, bool sweep) {
  std::vector<exposition::SeriesReport> out;
  out.reserve(core_.store().size());
  const bool groups = config_.kind != config::DetectorKind::kSeries;
  std::vector<MemberZ> members;
  core_.Evaluate(now_ms, maintenance_now,
                 [&](const Labels& labels, const series::SeriesEntry& entry, const series::Evaluation& ev) {
                   if (ev.fitted) metrics_->ObserveFit(config_.name, ev.fit_seconds);
                   if (!ev.fit_status && log::Enabled(log::Level::kDebug)) {
                     log::Debug("fit failed", {{"detector", config_.name},
                                               {"series", LabelsToString(labels)},
                                               {"err", ev.fit_status.error().message}});
                   }
                   exposition::SeriesReport report;
                   report.detector = config_.name;
                   report.labels = labels;
                   report.value_known = entry.last_observed_ms.has_value();
                   report.verdict = ev.verdict;
                   report.periods = PeriodsLabel(entry);
                   episodes_.Observe(labels, ev.verdict);
                   out.push_back(std::move(report));
                   if (groups) members.push_back({labels, ev.z_scores, &entry});
                 },
                 pool);
  if (sweep) episodes_.Sweep();
  CacheStateLocked();
  if (config_.kind == config::DetectorKind::kMultivariate) JudgeGroups(now_ms, members);
  if (config_.kind == config::DetectorKind::kPeers) JudgePeers(now_ms, members);
  return out;
}

namespace {

// A member's name within its group: its labels other than group_by, as Prometheus writes a series
// (`node_cpu_seconds{mode="user"}`, or `{device="sda"}` without a metric name).
std::string MemberName(const Labels& member) {
  std::string name(LabelValue(member, "__name__"));
  std::string rest;
  for (const Label& l : member) {
    if (l.name == "__name__") continue;
    rest += (rest.empty() ? "" : ",") + l.name + "=\"" + l.value + "\"";
  }
  if (!rest.empty() || name.empty()) name += "{" + rest + "}";
  return name;
}

}  // namespace

Labels DetectorRunner::ShardKey(const Labels& labels) const {
  return config_.kind != config::DetectorKind::kSeries ? GroupKey(labels) : labels;
}

Labels DetectorRunner::GroupKey(const Labels& labels) const {
  Labels key;
  for (const Label& l : labels) {
    if (std::find(config_.group_by.begin(), config_.group_by.end(), l.name) != config_.group_by.end()) key.push_back(l);
  }
  return key;
}

std::map<Labels, std::vector<std::pair<Labels, size_t>>> DetectorRunner::ByGroup(
    const std::vector<MemberZ>& members) const {
  // Each series to its group (the labels named by group_by) and its name there (the rest).
  std::map<Labels, std::vector<std::pair<Labels, size_t>>> by_group;
  for (size_t i = 0; i < members.size(); ++i) {
    Labels rest;
    for (const Label& l : members[i].labels) {
      if (std::find(config_.group_by.begin(), config_.group_by.end(), l.name) == config_.group_by.end()) rest.push_back(l);
    }
    by_group[GroupKey(members[i].labels)].emplace_back(std::move(rest), i);
  }
  for (auto& [key, list] : by_group) std::sort(list.begin(), list.end());
  return by_group;
}

void DetectorRunner::JudgeGroups(int64_t now_ms, std::vector<MemberZ>& members) {
  std::map<Labels, std::vector<std::pair<Labels, size_t>>> by_group = ByGroup(members);
  std::erase_if(groups_, [&](const auto& g) { return !by_group.contains(g.first); });
  const int64_t slot = now_ms / config_.step.count();
  group_reports_.clear();
  for (auto& [key, list] : by_group) {
    std::vector<Labels> names;
    for (const auto& [name, i] : list) names.push_back(name);
    Group& g = groups_[key];
    if (g.members != names || !g.detector) {
      // A change of members is a new group: the covariance and the calibration of the old one describe
      // other members. It learns again from the members' next z-scores (docs/detection.md).
      g.members = std::move(names);
      g.detector.reset();
      if (static_cast<int>(g.members.size()) >= config_.min_group_size) {
        Result<series::GroupDetector> d =
            series::GroupDetector::Create(series::GroupOptionsFor(core_.options(), static_cast<int>(g.members.size())));
        if (d) g.detector.emplace(std::move(*d));
      }
    }
    exposition::GroupReport report;
    report.detector = config_.name;
    report.labels = key;
    report.members = static_cast<int>(g.members.size());
    if (!g.detector) {
      report.state = scoring::SeriesState::kInsufficientData;
      group_reports_.push_back(std::move(report));
      continue;
    }
    for (size_t m = 0; m < list.size(); ++m) g.detector->Add(static_cast<int>(m), members[list[m].second].z_scores, members[list[m].second].entry);
    const series::GroupVerdict& v = g.detector->Evaluate(slot);
    report.state = v.state;
    report.timestamp_ms = v.timestamp_ms;
    report.zscore = v.zscore;
    report.threshold = v.threshold;
    report.score = v.score;
    report.anomalous = v.anomalous;
    report.anomalous_since_ms = v.anomalous_since_ms;
    report.peak_score = v.peak_score;
    for (const series::Contributor& c : v.top) {
      report.top.emplace_back(MemberName(g.members[static_cast<size_t>(c.member)]), c.share);
    }
    group_reports_.push_back(std::move(report));
  }
}

void DetectorRunner::JudgePeers(int64_t now_ms, std::vector<MemberZ>& members) {
  std::map<Labels, std::vector<std::pair<Labels, size_t>>> by_group = ByGroup(members);
  std::erase_if(peer_groups_, [&](const auto& g) { return !by_group.contains(g.first); });
  const int64_t slot = now_ms / config_.step.count();
  group_reports_.clear();
  peer_reports_.clear();
  for (auto& [key, list] : by_group) {
    auto it = peer_groups_.find(key);
    if (it == peer_groups_.end()) {
      Result<series::PeerGroupDetector> d =
          series::PeerGroupDetector::Create(series::PeerOptionsFor(core_.options(), config_.min_group_size));
      if (!d) continue;  // the config's validation makes the options valid
      it = peer_groups_.emplace(key, std::move(*d)).first;
    }
    series::PeerGroupDetector& g = it->second;
    std::vector<std::string> names;
    for (const auto& [name, i] : list) names.push_back(MemberName(name));
    g.Retain(names);
    // From the members' windows, so that a member whose own series is not scored yet (a pod that just
    // started) is judged against its peers at once.
    for (size_t m = 0; m < list.size(); ++m) g.AddWindow(names[m], *members[list[m].second].entry);
    const series::PeerGroupVerdict& v = g.Evaluate(slot);
    exposition::GroupReport report;
    report.detector = config_.name;
    report.labels = key;
    report.members = static_cast<int>(list.size());
    report.peers = true;
    // A group smaller than min_group_size has no peer verdict, whatever its members' last slot said.
    const bool too_few = report.members < config_.min_group_size;
    report.state = too_few ? scoring::SeriesState::kInsufficientPeers : v.state;
    report.timestamp_ms = v.timestamp_ms;
    if (!too_few) {
      for (const series::PeerOutlier& o : v.top) report.top.emplace_back(o.member, o.share);
    }
    group_reports_.push_back(std::move(report));
    for (size_t m = 0; m < list.size(); ++m) {
      exposition::PeerReport p;
      p.detector = config_.name;
      p.labels = members[list[m].second].labels;
      const series::PeerVerdict* pv = g.member(names[m]);
      if (too_few) {
        p.state = scoring::SeriesState::kInsufficientPeers;
      } else if (pv != nullptr) {
        p.state = pv->state;
        p.timestamp_ms = pv->timestamp_ms;
        p.deviation = pv->deviation;
        p.zscore = pv->zscore;
        p.threshold = pv->threshold;
        p.score = pv->score;
        p.anomalous = pv->anomalous;
        p.anomalous_since_ms = pv->anomalous_since_ms;
        p.peak_score = pv->peak_score;
      }
      peer_reports_.push_back(std::move(p));
    }
  }
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
