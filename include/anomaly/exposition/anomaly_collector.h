// Turns the latest published Snapshot into the anomaly_* metric families (ARCHITECTURE.md, Metrics:
// the names, labels and meanings are the contract). The cycle thread calls Publish(); civetweb workers
// call Collect() concurrently. Collect() takes no lock of ours and never waits for a cycle: it reads the
// snapshot pointer atomically and builds fresh families from it, so a series missing from the newest
// snapshot vanishes from the next scrape.
//
// Label policy (docs/metrics.md): every sample carries `detector` plus the series' own labels, except
//   - `__name__` (reserved; Prometheus cannot ingest it as a label) is exported as `metric_name`;
//   - a series label named like one we add (detector, state, model, periods, metric_name) is exported
//     as `exported_<name>` (repeated until unique), on every family alike, so joins keep working;
//   - any other name starting with `__` is dropped, and characters outside [a-zA-Z0-9_] become `_`.
//
//   auto collector = std::make_shared<exposition::AnomalyCollector>();
//   collector->Publish(std::make_shared<const exposition::Snapshot>(std::move(snapshot)));
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "anomaly/base/labels.h"
#include "anomaly/exposition/snapshot.h"

namespace anomaly::exposition {

// The label a series' `__name__` is exported under.
inline constexpr std::string_view kMetricNameLabel = "metric_name";

// The labels one series is exported with: `detector` first, then the series' labels renamed by the
// policy above, sorted by name. Exposed for the tests and the HTTP API's documentation of the mapping.
Labels ExportedLabels(const SeriesReport& report);
// The labels a group is exported with: `detector` and its group labels, renamed by the same policy, and
// also a group label named `member` or `rank` (the contributor family's own) as `exported_<name>`.
Labels ExportedGroupLabels(const GroupReport& report);

class AnomalyCollector : public prometheus::Collectable {
 public:
  AnomalyCollector() = default;
  AnomalyCollector(const AnomalyCollector&) = delete;
  AnomalyCollector& operator=(const AnomalyCollector&) = delete;

  // Replaces the snapshot the next Collect() reads. Any thread; never blocks on a scrape. A null
  // snapshot exports no anomaly_* families (as before the first cycle).
  void Publish(std::shared_ptr<const Snapshot> snapshot);

  // The snapshot last published, or null before the first Publish(). Any thread.
  std::shared_ptr<const Snapshot> Current() const;

  // The anomaly_* families, in the contract's order, each with HELP and type gauge; families with no
  // samples are left out. Never throws: on allocation failure it returns no families at all rather
  // than a partial set.
  std::vector<prometheus::MetricFamily> Collect() const noexcept override;
  // The same families for a given snapshot (null: none). A pure function of `snapshot`, so a caller may
  // render them once per published snapshot and reuse the result (the web server does).
  static std::vector<prometheus::MetricFamily> CollectFrom(const Snapshot* snapshot) noexcept;

 private:
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;  // written by Publish, read by any thread
};

}  // namespace anomaly::exposition
