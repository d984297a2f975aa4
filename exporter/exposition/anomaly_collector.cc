#include "anomaly/exposition/anomaly_collector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace anomaly::exposition {
namespace {

// Every HELP says where the values come from (ECOSYSTEM.md §0.1: a cached expensive computation must
// say so in HELP).
constexpr std::string_view kCached = " Computed by the exporter's periodic cycle and served from its cache.";

// Names we add to some family; a series label with one of these names is renamed.
constexpr std::array<std::string_view, 5> kReservedNames = {"detector", "state", "model", "periods",
                                                            kMetricNameLabel};

bool IsReserved(std::string_view name) {
  return std::find(kReservedNames.begin(), kReservedNames.end(), name) != kReservedNames.end();
}

std::string SanitizeName(std::string_view name) {
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

// The families, in the contract's order.
enum Family : size_t {
  kValue,
  kExpected,
  kLower,
  kUpper,
  kZscore,
  kThreshold,
  kScore,
  kFlag,
  kAnomalousSince,
  kState,
  kModelInfo,
  kGroupScore,
  kGroupFlag,
  kGroupZscore,
  kGroupThreshold,
  kGroupAnomalousSince,
  kGroupState,
  kGroupMembers,
  kGroupContributor,
  kPeerDeviation,
  kPeerZscore,
  kPeerThreshold,
  kPeerScore,
  kPeerFlag,
  kPeerAnomalousSince,
  kPeerState,
  kFamilyCount,
};

struct FamilySpec {
  std::string_view name;
  std::string_view help;
};

constexpr std::array<FamilySpec, kFamilyCount> kFamilies = {{
    {"anomaly_value", "The observed value scored, in the query's unit."},
    {"anomaly_expected", "The expected value: trend plus seasonal carried forward, in the query's unit."},
    {"anomaly_lower", "Lower edge of the normal band: expected - threshold * sigma."},
    {"anomaly_upper", "Upper edge of the normal band: expected + threshold * sigma."},
    {"anomaly_zscore", "Signed robust z-score: (value - expected) / sigma, sigma the forecast error's."},
    {"anomaly_threshold", "The |z| this sample needed to be anomalous, learned from the series' own errors."},
    {"anomaly_score",
     "Calibrated score: -log10(tail probability) over the false-alarm budget's; >= 1 anomalous."},
    {"anomaly_flag",
     "1 while an anomaly episode is open (from its onset until resolve_after of quiet), else 0."},
    {"anomaly_anomalous_since_timestamp_seconds",
     "Unix time the current flagged episode began; only while flagged."},
    {"anomaly_state",
     "1 for the series' current state (ok, warming_up, insufficient_data, gap, stale, maintenance); "
     "only series in state ok carry the other anomaly_* values."},
    {"anomaly_model_info", "Always 1; the model (stl, mstl, baseline) and its seasonal periods."},
    {"anomaly_group_score",
     "A multivariate group's calibrated score (as anomaly_score) of its members' joint deviation."},
    {"anomaly_group_flag", "1 while the group's anomaly episode is open, else 0."},
    {"anomaly_group_zscore",
     "The group's robust Mahalanobis distance of its members' z-scores, as a normal quantile."},
    {"anomaly_group_threshold", "The anomaly_group_zscore this row needed to be anomalous."},
    {"anomaly_group_anomalous_since_timestamp_seconds",
     "Unix time the group's flagged episode began; only while flagged."},
    {"anomaly_group_state",
     "1 for the group's current state (ok, warming_up, insufficient_data, insufficient_peers); "
     "only groups in state ok carry the other anomaly_group_* values."},
    {"anomaly_group_members", "Members (series) in the group now."},
    {"anomaly_group_contributor_share",
     "The members contributing most to the group's distance (rank 1 first): "
     "each one's share of the squared distance."},
    {"anomaly_peer_deviation",
     "A peers group member's deviation from the members' median, in the group's robust spread."},
    {"anomaly_peer_zscore", "The member's peer deviation standardised by its own past deviations (signed)."},
    {"anomaly_peer_threshold", "The |anomaly_peer_zscore| this sample needed to be anomalous."},
    {"anomaly_peer_score", "The member's calibrated peer score (as anomaly_score); >= 1 anomalous."},
    {"anomaly_peer_flag", "1 while the member's peer anomaly episode is open, else 0."},
    {"anomaly_peer_anomalous_since_timestamp_seconds",
     "Unix time the member's flagged peer episode began; only while "
     "flagged."},
    {"anomaly_peer_state",
     "1 for the member's current peer state (ok, warming_up, insufficient_peers); only members in "
     "state ok carry the other anomaly_peer_* values."},
}};

prometheus::ClientMetric Gauge(const std::vector<prometheus::ClientMetric::Label>& labels, double value) {
  prometheus::ClientMetric m;
  m.label = labels;
  m.gauge.value = value;
  return m;
}

// `labels` plus one more label, kept sorted by name.
std::vector<prometheus::ClientMetric::Label> With(const std::vector<prometheus::ClientMetric::Label>& labels,
                                                  std::string name, std::string value) {
  std::vector<prometheus::ClientMetric::Label> out = labels;
  prometheus::ClientMetric::Label extra{std::move(name), std::move(value)};
  out.insert(std::upper_bound(out.begin(), out.end(), extra,
                              [](const auto& a, const auto& b) { return a.name < b.name; }),
             std::move(extra));
  return out;
}

void AppendSeries(const SeriesReport& report, std::array<prometheus::MetricFamily, kFamilyCount>& families) {
  std::vector<prometheus::ClientMetric::Label> labels;
  for (Label& l : ExportedLabels(report)) labels.push_back({std::move(l.name), std::move(l.value)});

  const scoring::Verdict& v = report.verdict;
  const bool scored = v.state == scoring::SeriesState::kOk;
  if (scored || report.value_known) families[kValue].metric.push_back(Gauge(labels, v.value));
  if (scored) {
    families[kExpected].metric.push_back(Gauge(labels, v.expected));
    families[kLower].metric.push_back(Gauge(labels, v.lower));
    families[kUpper].metric.push_back(Gauge(labels, v.upper));
    families[kZscore].metric.push_back(Gauge(labels, v.zscore));
    families[kThreshold].metric.push_back(Gauge(labels, v.threshold));
    families[kScore].metric.push_back(Gauge(labels, v.score));
    families[kFlag].metric.push_back(Gauge(labels, v.anomalous ? 1 : 0));
    if (v.anomalous && v.anomalous_since_ms > 0) {
      families[kAnomalousSince].metric.push_back(Gauge(labels, static_cast<double>(v.anomalous_since_ms) / 1000.0));
    }
  }
  families[kState].metric.push_back(Gauge(With(labels, "state", std::string(StateLabelValue(v.state))), 1));
  families[kModelInfo].metric.push_back(
      Gauge(With(With(labels, "model", std::string(ModelLabelValue(v.model))), "periods", report.periods), 1));
}

void AppendContributors(const GroupReport& report, const std::vector<prometheus::ClientMetric::Label>& labels,
                        std::array<prometheus::MetricFamily, kFamilyCount>& families) {
  for (size_t i = 0; i < report.top.size(); ++i) {
    families[kGroupContributor].metric.push_back(
        Gauge(With(With(labels, "member", report.top[i].first), "rank", std::to_string(i + 1)),
              report.top[i].second));
  }
}

void AppendGroup(const GroupReport& report, std::array<prometheus::MetricFamily, kFamilyCount>& families) {
  std::vector<prometheus::ClientMetric::Label> labels;
  for (Label& l : ExportedGroupLabels(report)) labels.push_back({std::move(l.name), std::move(l.value)});
  families[kGroupMembers].metric.push_back(Gauge(labels, report.members));
  families[kGroupState].metric.push_back(Gauge(With(labels, "state", std::string(StateLabelValue(report.state))), 1));
  if (report.state != scoring::SeriesState::kOk) return;
  if (report.peers) {
    // A peers group is no judged unit (its members are): its outliers only, no score or flag to alert on
    // twice.
    AppendContributors(report, labels, families);
    return;
  }
  families[kGroupScore].metric.push_back(Gauge(labels, report.score));
  families[kGroupFlag].metric.push_back(Gauge(labels, report.anomalous ? 1 : 0));
  families[kGroupZscore].metric.push_back(Gauge(labels, report.zscore));
  families[kGroupThreshold].metric.push_back(Gauge(labels, report.threshold));
  if (report.anomalous && report.anomalous_since_ms > 0) {
    families[kGroupAnomalousSince].metric.push_back(
        Gauge(labels, static_cast<double>(report.anomalous_since_ms) / 1000.0));
  }
  AppendContributors(report, labels, families);
}

void AppendPeer(const PeerReport& report, std::array<prometheus::MetricFamily, kFamilyCount>& families) {
  SeriesReport as_series;
  as_series.detector = report.detector;
  as_series.labels = report.labels;
  std::vector<prometheus::ClientMetric::Label> labels;
  for (Label& l : ExportedLabels(as_series)) labels.push_back({std::move(l.name), std::move(l.value)});
  families[kPeerState].metric.push_back(
      Gauge(With(labels, "state", std::string(StateLabelValue(report.state))), 1));
  if (report.state != scoring::SeriesState::kOk) return;
  families[kPeerDeviation].metric.push_back(Gauge(labels, report.deviation));
  families[kPeerZscore].metric.push_back(Gauge(labels, report.zscore));
  families[kPeerThreshold].metric.push_back(Gauge(labels, report.threshold));
  families[kPeerScore].metric.push_back(Gauge(labels, report.score));
  families[kPeerFlag].metric.push_back(Gauge(labels, report.anomalous ? 1 : 0));
  if (report.anomalous && report.anomalous_since_ms > 0) {
    families[kPeerAnomalousSince].metric.push_back(
        Gauge(labels, static_cast<double>(report.anomalous_since_ms) / 1000.0));
  }
}

}  // namespace

Labels ExportedGroupLabels(const GroupReport& report) {
  SeriesReport as_series;
  as_series.detector = report.detector;
  as_series.labels = report.labels;
  Labels out = ExportedLabels(as_series);
  for (Label& l : out) {
    if (l.name != "member" && l.name != "rank") continue;
    std::string name = "exported_" + l.name;
    while (std::any_of(out.begin(), out.end(), [&](const Label& o) { return o.name == name; })) name = "exported_" + name;
    l.name = std::move(name);
  }
  return MakeLabels(std::move(out));
}

std::string_view StateLabelValue(scoring::SeriesState state) {
  switch (state) {
    case scoring::SeriesState::kOk: return "ok";
    case scoring::SeriesState::kWarmingUp: return "warming_up";
    case scoring::SeriesState::kInsufficientData: return "insufficient_data";
    case scoring::SeriesState::kGap: return "gap";
    case scoring::SeriesState::kStale: return "stale";
    case scoring::SeriesState::kMaintenance: return "maintenance";
    case scoring::SeriesState::kInsufficientPeers: return "insufficient_peers";
  }
  return "unknown";
}

std::string_view ModelLabelValue(scoring::ModelKind model) {
  switch (model) {
    case scoring::ModelKind::kStl: return "stl";
    case scoring::ModelKind::kMstl: return "mstl";
    case scoring::ModelKind::kBaseline: return "baseline";
  }
  return "unknown";
}

Labels ExportedLabels(const SeriesReport& report) {
  // Names already spoken for: ours, and the series' labels that keep their name. Those win; a label
  // that must be renamed takes `exported_` prefixes until its name is free, as Prometheus does.
  std::vector<std::string> taken(kReservedNames.begin(), kReservedNames.end());
  for (const Label& l : report.labels) {
    if (!l.name.starts_with("__") && !IsReserved(l.name) && SanitizeName(l.name) == l.name) taken.push_back(l.name);
  }
  auto is_taken = [&taken](const std::string& name) {
    return std::find(taken.begin(), taken.end(), name) != taken.end();
  };
  Labels out;
  out.reserve(report.labels.size() + 1);
  for (const Label& l : report.labels) {
    if (l.name == "__name__") {
      out.push_back({std::string(kMetricNameLabel), l.value});
      continue;
    }
    if (l.name.starts_with("__")) continue;  // reserved for Prometheus' internal use; never ingested
    std::string name = SanitizeName(l.name);
    if (name != l.name || IsReserved(name)) {
      while (is_taken(name)) name = "exported_" + name;
      taken.push_back(name);
    }
    out.push_back({std::move(name), l.value});
  }
  out.push_back({"detector", report.detector});
  return MakeLabels(std::move(out));
}

void AnomalyCollector::Publish(std::shared_ptr<const Snapshot> snapshot) { snapshot_.store(std::move(snapshot)); }

std::shared_ptr<const Snapshot> AnomalyCollector::Current() const { return snapshot_.load(); }

std::vector<prometheus::MetricFamily> AnomalyCollector::Collect() const noexcept {
  return CollectFrom(snapshot_.load().get());
}

std::vector<prometheus::MetricFamily> AnomalyCollector::CollectFrom(const Snapshot* snapshot) noexcept {
  try {
    if (snapshot == nullptr) return {};
    std::array<prometheus::MetricFamily, kFamilyCount> families;
    for (size_t i = 0; i < kFamilyCount; ++i) {
      families[i].name = kFamilies[i].name;
      families[i].help = std::string(kFamilies[i].help) + std::string(kCached);
      families[i].type = prometheus::MetricType::Gauge;
    }
    for (const SeriesReport& report : snapshot->series) AppendSeries(report, families);
    for (const GroupReport& report : snapshot->groups) AppendGroup(report, families);
    for (const PeerReport& report : snapshot->peers) AppendPeer(report, families);
    std::vector<prometheus::MetricFamily> out;
    for (auto& family : families) {
      if (!family.metric.empty()) out.push_back(std::move(family));
    }
    return out;
  } catch (...) {
    return {};  // std::bad_alloc only: nothing else here throws
  }
}

}  // namespace anomaly::exposition
