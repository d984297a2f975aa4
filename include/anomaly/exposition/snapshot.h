// The immutable picture of every series' verdict that one cycle publishes and every scrape reads
// (STYLE.md B5, snapshot publishing). Built by the app on the cycle thread, never modified once
// published: share it as std::shared_ptr<const Snapshot>. Plain data; depends on base labels and the
// scoring verdict only, not on the series stage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/scoring/verdict.h"

namespace anomaly::exposition {

// One series of one detector, as exported.
struct SeriesReport {
  std::string detector;      // the configured detector (query) name; the `detector` label
  Labels labels;             // the series' own labels as the query returned them, `__name__` included
  scoring::Verdict verdict;  // the newest verdict; only state kOk carries a score
  std::string periods;       // model periods, e.g. "1d" or "1h,1d"; empty for the baseline model
  // For a state other than kOk: whether verdict.value is the newest observed sample, so that
  // anomaly_value is still exported. Ignored for kOk, which always exports its value.
  bool value_known = false;
};

// One group of a multivariate detector (docs/detection.md), as exported.
struct GroupReport {
  std::string detector;
  Labels labels;              // the group's labels: its group_by values (none: the query's one group)
  scoring::SeriesState state = scoring::SeriesState::kWarmingUp;  // only kOk carries the values below
  int64_t timestamp_ms = 0;   // the row judged
  double zscore = 0;          // the distance as a one-sided normal quantile
  double threshold = 0;       // the zscore the row needed
  double score = 0;           // calibrated: >= 1 anomalous
  bool anomalous = false;     // the group's flag
  int64_t anomalous_since_ms = 0;
  double peak_score = 0;
  int members = 0;            // members in the group now
  // The members contributing most to the distance, best first: the member's name (its labels other
  // than group_by, e.g. `metric_name=node_load1`) and its share of the squared distance.
  std::vector<std::pair<std::string, double>> top;
  // kind: peers: the group's own score is not judged (its members are, as PeerReports): only state
  // (ok, warming_up, insufficient_peers), members and top (shares of the squared peer z-scores) are
  // meaningful.
  bool peers = false;
};

// One member of a peers detector's group (docs/detection.md): the series judged against its peers.
struct PeerReport {
  std::string detector;
  Labels labels;  // the series' own labels, as SeriesReport's
  // ok, warming_up or insufficient_peers; only kOk carries the values below.
  scoring::SeriesState state = scoring::SeriesState::kWarmingUp;
  int64_t timestamp_ms = 0;  // the slot judged
  double deviation = 0;      // from the group's median, in group spreads
  double zscore = 0;         // the deviation standardised by the member's own past deviations
  double threshold = 0;      // the |zscore| this sample needed
  double score = 0;          // calibrated: >= 1 anomalous
  bool anomalous = false;    // the member's flag
  int64_t anomalous_since_ms = 0;
  double peak_score = 0;
};

struct Snapshot {
  std::vector<SeriesReport> series;  // exported in this order
  std::vector<GroupReport> groups;   // multivariate and peers detectors' groups, exported after the series
  std::vector<PeerReport> peers;     // peers detectors' members, exported after the groups
  int64_t generated_at_ms = 0;       // when the cycle that built it finished (Unix ms)
};

// The label values the exposition contract uses (ARCHITECTURE.md, Metrics): `state` of anomaly_state
// and `model` of anomaly_model_info, and the "state" field of /api/v1/anomalies.
std::string_view StateLabelValue(scoring::SeriesState state);  // ok, warming_up, insufficient_data, ...,
                                                               // insufficient_peers
std::string_view ModelLabelValue(scoring::ModelKind model);    // stl, mstl, baseline

}  // namespace anomaly::exposition
