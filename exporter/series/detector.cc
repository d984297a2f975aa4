#include "anomaly/series/detector.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <unordered_map>
#include <utility>

namespace anomaly::series {

Result<Detector> Detector::Create(DetectorOptions options) {
  if (Status s = scoring::ValidateModelParams(options.evaluate.model); !s) return tl::unexpected(s.error());
  Result<SeriesStore> store = SeriesStore::Create(options.store);
  if (!store) return tl::unexpected(store.error());
  return Detector(std::move(options), std::move(*store));
}

bool Detector::InMaintenance(int64_t t_ms, std::span<const int64_t> condition_times) const {
  for (const TimeRange& w : options_.maintenance) {
    if (t_ms >= w.start_ms && t_ms < w.end_ms) return true;
  }
  return std::binary_search(condition_times.begin(), condition_times.end(), t_ms);
}

IngestResult Detector::Ingest(const Labels& labels, std::span<const Sample> samples, int64_t now_ms,
                              std::span<const int64_t> condition_times) {
  if (options_.maintenance.empty() && condition_times.empty()) return store_.Ingest(labels, samples, now_ms);
  std::vector<Sample> masked(samples.begin(), samples.end());
  for (Sample& s : masked) {
    if (InMaintenance(s.timestamp_ms, condition_times)) s.value = std::numeric_limits<double>::quiet_NaN();
  }
  return store_.Ingest(labels, masked, now_ms);
}

std::optional<double> Detector::AddFalsePositive(const Labels& labels, double peak_score, int64_t now_ms) {
  SeriesEntry* entry = store_.Find(labels);
  if (entry == nullptr) return std::nullopt;
  return series::AddFalsePositive(*entry, peak_score, now_ms);
}

bool Detector::SetFeedbackMargin(const Labels& labels, double margin, int64_t at_ms) {
  SeriesEntry* entry = store_.Find(labels);
  if (entry == nullptr) return false;
  entry->feedback_margin = std::min(margin, kMaxFeedbackMargin);
  entry->feedback_margin_ms = at_ms;
  return true;
}

size_t Detector::Expire(int64_t now_ms) {
  const size_t dropped = store_.Expire(now_ms);
  if (dropped > 0) {
    std::erase_if(detected_periods_, [this](const auto& kv) { return store_.Find(kv.first) == nullptr; });
  }
  return dropped;
}

void Detector::Evaluate(int64_t now_ms, bool maintenance_now, const SeriesFn& fn, ParallelPool* pool) {
  if (maintenance_now) {
    store_.ForEach([&](const Labels& labels, SeriesEntry& entry) {
      Evaluation ev;
      ev.verdict = entry.verdict;
      ev.verdict.state = scoring::SeriesState::kMaintenance;
      ev.verdict.anomalous = false;
      ev.verdict.anomalous_since_ms = 0;
      ev.verdict.peak_score = 0;
      ev.verdict.relearning = false;
      EndEpisode(entry);
      fn(labels, entry, ev);
    });
    prepared_.clear();
    return;
  }
  // One task per series, in label order. Everything a task touches is its own: the entry, its period
  // choice (created here, before any task runs, so the map does not change under them) and the worker's
  // workspace. A task PrepareEvaluation made for this now_ms is taken as it is (its result, when
  // RunPrepared ran it).
  std::unordered_map<const SeriesEntry*, PreparedEvaluation*> ran;
  for (const auto& p : prepared_) {
    if (p->now_ms == now_ms) ran.emplace(p->entry, p.get());
  }
  struct Task {
    const Labels* labels = nullptr;
    PreparedEvaluation* run = nullptr;  // ran ahead, or own_
    PreparedEvaluation own;
  };
  std::vector<Task> tasks(store_.size());
  size_t n = 0;
  store_.ForEach([&](const Labels& labels, SeriesEntry& entry) {
    Task& t = tasks[n++];
    t.labels = &labels;
    if (auto it = ran.find(&entry); it != ran.end()) {
      t.run = it->second;
      return;
    }
    t.run = &t.own;
    Prepare(t.own, labels, entry, now_ms);
  });
  const size_t workers = pool != nullptr ? pool->max_workers() : 1;
  ReserveWorkers(workers);

  auto run = [&](size_t i, size_t worker) {
    if (!tasks[i].run->done) RunPrepared(*tasks[i].run, worker);
  };
  if (pool != nullptr) {
    pool->For(tasks.size(), run);
  } else {
    for (size_t i = 0; i < tasks.size(); ++i) run(i, 0);
  }
  for (const Task& t : tasks) {
    if (t.run->periods_changed && on_periods_) on_periods_(*t.labels, t.run->choice->current);
    fn(*t.labels, *t.run->entry, t.run->ev);
  }
  prepared_.clear();
}

void Detector::Prepare(PreparedEvaluation& task, const Labels& labels, SeriesEntry& entry, int64_t now_ms) {
  task.entry = &entry;
  task.now_ms = now_ms;
  if (options_.auto_seasonality) {
    auto [it, inserted] = detected_periods_.try_emplace(labels);
    task.choice = &it->second;
    task.detected_before = !inserted;
  }
}

void Detector::ReserveWorkers(size_t workers) {
  if (workspaces_.size() < workers) workspaces_.resize(workers);
}

Detector::PreparedEvaluation* Detector::PrepareEvaluation(const Labels& labels, int64_t now_ms) {
  SeriesEntry* entry = store_.Find(labels);
  if (entry == nullptr) return nullptr;
  auto task = std::make_unique<PreparedEvaluation>();
  Prepare(*task, labels, *entry, now_ms);
  prepared_.push_back(std::move(task));
  return prepared_.back().get();
}

void Detector::RunPrepared(PreparedEvaluation& t, size_t worker) {
  const int64_t now_ms = t.now_ms;
  EvaluateOptions options = options_.evaluate;
  if (t.choice != nullptr) {
    if (SeasonalityDetectionDue(*t.entry, t.detected_before, now_ms, options.refit_interval)) {
      std::vector<int> periods = DetectPeriodsOnWindow(*t.entry, options_.store.step);
      t.periods_changed =
          UpdatePeriodChoice(*t.choice, std::move(periods), !t.detected_before, now_ms, options_.store.step);
    }
    options.model.periods = t.choice->current;
  }
  const auto t0 = std::chrono::steady_clock::now();
  t.ev = series::Evaluate(*t.entry, options_.store, options, now_ms, workspaces_[worker]);
  if (t.ev.fitted) {
    t.ev.fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  t.done = true;
}

bool Detector::Forget(const Labels& labels) {
  detected_periods_.erase(labels);
  return store_.Erase(labels);
}

}  // namespace anomaly::series
