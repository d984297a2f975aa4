// One configured detector at work: each RunCycle() queries its PromQL (and its maintenance condition) over
// the new range, feeds the answers to its detector core (series/detector.h, the path the backtest shares),
// and returns the reports to publish. This is the I/O around the core: queries, metrics, logs.
// Threading: RunCycle is called by one worker at a time (the daemon's scheduler never overlaps two cycles
// of one detector). The status accessors, SetClient and CopySeries may be called from any thread.
// The detector core is thread-compatible; RunCycle holds core_mu_ while it uses the core (not during its
// queries), and CopySeries takes it for the copy of one series only (exporter/app/series_page.h says why).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/config/config.h"
#include "anomaly/exposition/self_metrics.h"
#include "anomaly/exposition/snapshot.h"
#include "anomaly/http/episodes.h"
#include "anomaly/prom/range_query_client.h"
#include "anomaly/scoring/model.h"
#include "anomaly/series/detector.h"
#include "anomaly/series/group.h"
#include "anomaly/series/peers.h"
#include "exporter/app/episode_log.h"
#include "exporter/app/series_page.h"
#include "exporter/app/state_file.h"

namespace anomaly::app {

// Which series this process scores: those whose label-set hash falls in its shard (like Prometheus'
// hashmod), so N replicas cover every series exactly once and a series keeps its shard across restarts.
struct ShardFilter {
  int index = 0;
  int count = 1;
  bool Owns(const Labels& labels) const {
    return count <= 1 || HashLabels(labels) % static_cast<uint64_t>(count) == static_cast<uint64_t>(index);
  }
};

class DetectorRunner {
 public:
  // kInvalidConfig when the detector's parameters cannot make a valid model or store.
  [[nodiscard]] static Result<std::unique_ptr<DetectorRunner>> Create(
      const config::DetectorConfig& config, std::shared_ptr<prom::RangeQueryClient> client,
      exposition::SelfMetrics* metrics, ShardFilter shard);

  // Runs one cycle at `now` and returns this detector's reports, every owned series included (stale ones
  // keep their last verdict). Never fails: upstream errors are counted, logged once and reported as stale.
  // With `pool`, the series are fitted and scored on its threads as well as the calling one.
  std::vector<exposition::SeriesReport> RunCycle(std::chrono::system_clock::time_point now,
                                                 ParallelPool* pool = nullptr);

  // kind: multivariate: the groups' reports of the last RunCycle (empty for other kinds), moved out. Called
  // by the thread that ran the cycle, after it.
  std::vector<exposition::GroupReport> TakeGroupReports() { return std::move(group_reports_); }
  // kind: peers: the members' reports of the last RunCycle (empty for other kinds), moved out; the groups'
  // own are in TakeGroupReports. Called as TakeGroupReports.
  std::vector<exposition::PeerReport> TakePeerReports() { return std::move(peer_reports_); }

  const config::DetectorConfig& config() const { return config_; }
  void SetClient(std::shared_ptr<prom::RangeQueryClient> client) { client_.store(std::move(client)); }

  // The series page's copy of the series with exactly `labels` (the series' own labels, as in the
  // snapshot), its episodes and feedback margin as of now_ms. Waits up to `wait` for a cycle that holds the
  // core, then kTimeout ("the cycle is running"); kInvalidInput when this detector holds no such series (it
  // expired, or another shard owns it). The copy is bounded by the window's capacity; the core is held for
  // the copy only.
  [[nodiscard]] Result<SeriesCopy> CopySeries(const Labels& labels, int64_t now_ms,
                                              std::chrono::milliseconds wait) const;

  // GET /api/v1/episodes: this detector's kept episodes (EpisodeLog), each with its id and the series'
  // feedback margin at now_ms. Waits up to `wait` for a running cycle, then kTimeout, as CopySeries.
  [[nodiscard]] Result<std::vector<http::EpisodeInfo>> Episodes(int64_t now_ms, std::chrono::milliseconds wait) const;
  // POST /api/v1/episodes/{id}/feedback: records the feedback on the episode with that id and returns it.
  // kInvalidInput when this detector keeps no such episode; kTimeout as Episodes.
  [[nodiscard]] Result<http::EpisodeInfo> GiveFeedback(const http::FeedbackRequest& request, int64_t now_ms,
                                                       std::chrono::milliseconds wait);

  // --storage.path: this detector's episodes and margins to store, as of its last cycle or feedback (a
  // copy kept apart, so that storing never waits for a running cycle), and their restoration before the
  // first cycle (a margin waits for its series' first ingest; one still waiting is stored again).
  std::vector<StoredSeries> StateToStore() const;
  void RestoreState(std::vector<StoredSeries> state);  // also turns the stored copy on

  bool first_cycle_done() const { return first_cycle_done_.load(); }
  int64_t series_count() const { return series_count_.load(); }
  int64_t last_success_ms() const { return last_success_ms_.load(); }

 private:
  DetectorRunner(const config::DetectorConfig& config, std::shared_ptr<prom::RangeQueryClient> client,
                 exposition::SelfMetrics* metrics, ShardFilter shard, series::Detector core);

  // The first cycle's query, streamed (RangeQueryClient::QueryRangeStreamed): each series handed over is
  // ingested at once and evaluated on `pool` while the download goes on (Detector::PrepareEvaluation).
  // On an error, every series the answer created is forgotten, so the core is as before the call (it
  // held no series: a first cycle). Adds the samples placed to *appended. REQUIRES: core_mu_ held.
  [[nodiscard]] Status StreamAnswer(prom::RangeQueryClient& client, const prom::RangeQuery& query,
                                    int64_t now_ms, int64_t end_ms,
                                    const std::vector<int64_t>& condition_times, ParallelPool* pool,
                                    uint64_t* appended);
  // Timestamps (ms) where the maintenance condition holds, sorted.
  Result<std::vector<int64_t>> MaintenanceTimes(int64_t start_ms, int64_t end_ms);
  // `sweep`: forget the episodes of series no longer held (only an answer shows which series exist, and a
  // restored log must survive a first cycle whose query failed).
  std::vector<exposition::SeriesReport> Reports(int64_t now_ms, bool maintenance_now, ParallelPool* pool, bool sweep);
  void NoteQueryFailure(const Error& error);
  void NoteQuerySuccess();
  std::string PeriodsLabel(const series::SeriesEntry& entry) const;
  // An episode of the log as the API shows it. REQUIRES: core_mu_ held.
  http::EpisodeInfo EpisodeInfoOf(const Labels& labels, const EpisodeRecord& record, int64_t now_ms) const;
  // kind: multivariate: the members' z-scores of this cycle, judged group by group.
  struct MemberZ {
    Labels labels;
    std::vector<series::SlotZ> z_scores;
    const series::SeriesEntry* entry = nullptr;  // the store's, valid until the next Ingest
  };
  void JudgeGroups(int64_t now_ms, std::vector<MemberZ>& members);
  // kind: peers: each group's members judged against each other.
  void JudgePeers(int64_t now_ms, std::vector<MemberZ>& members);
  // The members by group (their GroupKey), each with its name in the group (its labels other than
  // group_by) and its index in `members`, in name order.
  std::map<Labels, std::vector<std::pair<Labels, size_t>>> ByGroup(const std::vector<MemberZ>& members) const;
  // The labels of a series' group: those named by group_by.
  Labels GroupKey(const Labels& labels) const;
  // What ShardFilter hashes for a series: its labels, or for kind multivariate its group's (a group is
  // never split across shards).
  Labels ShardKey(const Labels& labels) const;

  // Constant after construction.
  const config::DetectorConfig config_;
  exposition::SelfMetrics* const metrics_;  // borrowed; outlives the runner
  const ShardFilter shard_;

  std::atomic<std::shared_ptr<prom::RangeQueryClient>> client_;

  // Guards core_ and episodes_: held by RunCycle from its first use of the core to its reports, and by
  // CopySeries for one series' copy. A timed mutex, so that a page waits for a long cycle a bounded time.
  mutable std::timed_mutex core_mu_;
  series::Detector core_;  // samples to verdicts (series/detector.h), shared with the backtest; core_mu_
  EpisodeLog episodes_;    // the flagged episodes the cycles published; guarded by core_mu_
  struct PendingMargin {
    double margin = 0;
    int64_t at_ms = 0;
  };
  std::map<Labels, PendingMargin> pending_margins_;  // restored, until the series is ingested; core_mu_
  void CacheStateLocked();  // REQUIRES: core_mu_ held. Refreshes stored_ when storing_
  bool storing_ = false;    // RestoreState was called (--storage.path is set); guarded by core_mu_
  mutable std::mutex stored_mu_;
  std::vector<StoredSeries> stored_;  // guarded by stored_mu_: what StateToStore returns

  // Owned by the cycle in progress (one at a time).
  int64_t fetched_until_ms_ = 0;  // end of the last successful query; 0: fetch the whole history next
  std::string last_error_;        // reason of the failure last logged, so a failure streak logs once
  // kind: multivariate: each group by its labels (group_by values); its members in label order.
  struct Group {
    std::vector<Labels> members;
    std::optional<series::GroupDetector> detector;  // absent while under min_group_size
  };
  std::map<Labels, Group> groups_;
  std::vector<exposition::GroupReport> group_reports_;
  // kind: peers: each group by its labels. A group keeps its detector while its members come and go (a
  // new one is judged against the others at once); it goes when no member is left.
  std::map<Labels, series::PeerGroupDetector> peer_groups_;
  std::vector<exposition::PeerReport> peer_reports_;

  // Read by other threads (landing page, readiness).
  std::atomic<bool> first_cycle_done_{false};
  std::atomic<int64_t> series_count_{0};
  std::atomic<int64_t> last_success_ms_{0};
};

}  // namespace anomaly::app
