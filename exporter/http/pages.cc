#include "exporter/http/pages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include <nlohmann/json.hpp>

#include "anomaly/base/html.h"
#include "anomaly/base/labels.h"
#include "exporter/http/series_page.h"

namespace anomaly::http {
namespace {

using exposition::SeriesReport;

bool Flagged(const SeriesReport& r) {
  return r.verdict.state == scoring::SeriesState::kOk && r.verdict.anomalous;
}

// Highest score first; ties by detector, then labels, so the order is stable across requests.
std::vector<const SeriesReport*> Sorted(const exposition::Snapshot* snapshot, bool all) {
  std::vector<const SeriesReport*> out;
  if (snapshot == nullptr) return out;
  for (const SeriesReport& r : snapshot->series) {
    if (all ? r.verdict.state == scoring::SeriesState::kOk : Flagged(r)) out.push_back(&r);
  }
  std::sort(out.begin(), out.end(), [](const SeriesReport* a, const SeriesReport* b) {
    // NaN scores sort last rather than breaking the strict weak ordering.
    const double sa = std::isnan(a->verdict.score) ? -INFINITY : a->verdict.score;
    const double sb = std::isnan(b->verdict.score) ? -INFINITY : b->verdict.score;
    if (sa != sb) return sa > sb;
    if (a->detector != b->detector) return a->detector < b->detector;
    return a->labels < b->labels;
  });
  return out;
}

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// RFC 3339 in UTC, whole seconds; "never" for 0.
std::string FormatTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool GroupListed(const exposition::GroupReport& g, bool all) {
  // A peers group is not judged itself: its members are listed as peer outliers.
  return !g.peers && g.state == scoring::SeriesState::kOk && (all || g.anomalous);
}

// Flagged members of peers groups (every one in state ok with all), highest score first.
std::vector<const exposition::PeerReport*> PeersListed(const exposition::Snapshot* snapshot, bool all) {
  std::vector<const exposition::PeerReport*> out;
  if (snapshot == nullptr) return out;
  for (const exposition::PeerReport& p : snapshot->peers) {
    if (p.state == scoring::SeriesState::kOk && (all || p.anomalous)) out.push_back(&p);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->score > b->score; });
  return out;
}

// "mem{...} 62%, cpu 20%": a group's leading contributors and their shares of its distance.
std::string TopText(const exposition::GroupReport& g) {
  std::string out;
  for (const auto& [member, share] : g.top) {
    out += (out.empty() ? "" : ", ") + member + " " + std::to_string(static_cast<int>(std::lround(100 * share))) + "%";
  }
  return out;
}

}  // namespace

std::string RenderLandingPage(const LandingInfo& info, const exposition::Snapshot* snapshot,
                              std::string_view telemetry_path) {
  const std::string path = EscapeHtml(telemetry_path);
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>anomaly_exporter</title>\n";
  html += "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style>\n";
  html += "</head>\n<body>\n<h1>anomaly_exporter</h1>\n";
  html += "<p>Seasonal anomaly detection over Prometheus range queries (STL). Version " +
          EscapeHtml(info.version.empty() ? "unknown" : info.version);
  if (!info.revision.empty()) html += " (revision " + EscapeHtml(info.revision) + ")";
  html += ".</p>\n<ul>\n<li><a href=\"" + path + "\">" + path + "</a></li>\n";
  html += "<li><a href=\"/api/v1/anomalies\">/api/v1/anomalies</a> (<a href=\"/api/v1/anomalies?all=1\">all "
          "scored series</a>)</li>\n<li><a href=\"/-/healthy\">/-/healthy</a>, <a "
          "href=\"/-/ready\">/-/ready</a></li>\n</ul>\n";

  html += "<h2>Detectors</h2>\n<table>\n<tr><th>detector</th><th>series</th><th>last cycle</th><th>ready</th></tr>\n";
  for (const DetectorSummary& d : info.detectors) {
    html += "<tr><td>" + EscapeHtml(d.name) + "</td><td>" + std::to_string(d.series) + "</td><td>" +
            FormatTime(d.last_cycle_ms) + "</td><td>" + (d.ready ? "yes" : "no") + "</td></tr>\n";
  }
  html += "</table>\n";

  const std::vector<const SeriesReport*> flagged = Sorted(snapshot, false);
  html += "<h2>Current anomalies (" + std::to_string(flagged.size()) + ")</h2>\n";
  if (snapshot == nullptr) html += "<p>No cycle has published yet.</p>\n";
  html += "<table>\n<tr><th>detector</th><th>series</th><th>value</th><th>expected</th><th>band</th>"
          "<th>score</th><th>since</th></tr>\n";
  for (const SeriesReport* r : flagged) {
    const scoring::Verdict& v = r->verdict;
    html += "<tr><td>" + EscapeHtml(r->detector) + "</td><td><a href=\"" + EscapeHtml(SeriesPath(*r)) + "\">" +
            EscapeHtml(LabelsToString(r->labels)) + "</a></td><td>" + FormatNumber(v.value) + "</td><td>" + FormatNumber(v.expected) + "</td><td>" +
            FormatNumber(v.lower) + " … " + FormatNumber(v.upper) + "</td><td>" + FormatNumber(v.score) +
            "</td><td>" + FormatTime(v.anomalous_since_ms) + "</td></tr>\n";
  }
  html += "</table>\n";
  if (snapshot != nullptr && !snapshot->groups.empty()) {
    std::vector<const exposition::GroupReport*> groups;
    for (const exposition::GroupReport& g : snapshot->groups) {
      if (GroupListed(g, false)) groups.push_back(&g);
    }
    html += "<h2>Groups in anomaly (" + std::to_string(groups.size()) + " of " +
            std::to_string(snapshot->groups.size()) + ")</h2>\n<table>\n<tr><th>detector</th><th>group</th>"
            "<th>members</th><th>score</th><th>since</th><th>contributors</th></tr>\n";
    for (const exposition::GroupReport* g : groups) {
      html += "<tr><td>" + EscapeHtml(g->detector) + "</td><td>" + EscapeHtml(LabelsToString(g->labels)) +
              "</td><td>" + std::to_string(g->members) + "</td><td>" + FormatNumber(g->score) + "</td><td>" +
              FormatTime(g->anomalous_since_ms) + "</td><td>" + EscapeHtml(TopText(*g)) + "</td></tr>\n";
    }
    html += "</table>\n";
  }
  if (snapshot != nullptr && !snapshot->peers.empty()) {
    const std::vector<const exposition::PeerReport*> outliers = PeersListed(snapshot, false);
    html += "<h2>Peer outliers (" + std::to_string(outliers.size()) + " of " +
            std::to_string(snapshot->peers.size()) +
            ")</h2>\n<table>\n<tr><th>detector</th><th>series</th><th>deviation</th><th>zscore</th>"
            "<th>score</th><th>since</th></tr>\n";
    for (const exposition::PeerReport* p : outliers) {
      html += "<tr><td>" + EscapeHtml(p->detector) + "</td><td>" + EscapeHtml(LabelsToString(p->labels)) +
              "</td><td>" + FormatNumber(p->deviation) + "</td><td>" + FormatNumber(p->zscore) + "</td><td>" +
              FormatNumber(p->score) + "</td><td>" + FormatTime(p->anomalous_since_ms) + "</td></tr>\n";
    }
    html += "</table>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

std::string RenderAnomaliesJson(const exposition::Snapshot* snapshot, bool all, std::string_view external_url) {
  nlohmann::json data = nlohmann::json::array();
  for (const SeriesReport* r : Sorted(snapshot, all)) {
    const scoring::Verdict& v = r->verdict;
    nlohmann::json labels = nlohmann::json::object();
    for (const Label& l : r->labels) labels[l.name] = l.value;
    data.push_back({
        {"kind", "series"},
        {"detector", r->detector},
        {"labels", std::move(labels)},
        {"state", std::string(exposition::StateLabelValue(v.state))},
        {"model", std::string(exposition::ModelLabelValue(v.model))},
        {"periods", r->periods},
        {"timestamp", static_cast<double>(v.timestamp_ms) / 1000.0},
        {"value", Number(v.value)},
        {"expected", Number(v.expected)},
        {"lower", Number(v.lower)},
        {"upper", Number(v.upper)},
        {"zscore", Number(v.zscore)},
        {"threshold", Number(v.threshold)},
        {"score", Number(v.score)},
        {"anomalous", v.anomalous},
        {"peak_score", v.anomalous ? Number(v.peak_score) : nlohmann::json(nullptr)},
        {"relearning", v.relearning},
        {"anomalous_since", v.anomalous && v.anomalous_since_ms > 0
                                ? nlohmann::json(static_cast<double>(v.anomalous_since_ms) / 1000.0)
                                : nlohmann::json(nullptr)},
        {"url", std::string(external_url) + SeriesPath(*r)},
    });
  }
  // Groups of multivariate detectors (flagged ones; every one in state ok with all), after the series,
  // highest score first: "kind": "group", their labels, members, and the contributors named in the alert.
  if (snapshot != nullptr) {
    std::vector<const exposition::GroupReport*> listed;
    for (const exposition::GroupReport& g : snapshot->groups) {
      if (GroupListed(g, all)) listed.push_back(&g);
    }
    std::stable_sort(listed.begin(), listed.end(), [](const auto* a, const auto* b) {
      const double sa = std::isnan(a->score) ? -INFINITY : a->score;
      const double sb = std::isnan(b->score) ? -INFINITY : b->score;
      return sa > sb;
    });
    for (const exposition::GroupReport* gp : listed) {
      const exposition::GroupReport& g = *gp;
      nlohmann::json labels = nlohmann::json::object();
      for (const Label& l : g.labels) labels[l.name] = l.value;
      nlohmann::json top = nlohmann::json::array();
      for (const auto& [member, share] : g.top) top.push_back({{"member", member}, {"share", Number(share)}});
      data.push_back({
          {"kind", "group"},
          {"detector", g.detector},
          {"labels", std::move(labels)},
          {"state", std::string(exposition::StateLabelValue(g.state))},
          {"members", g.members},
          {"timestamp", static_cast<double>(g.timestamp_ms) / 1000.0},
          {"zscore", Number(g.zscore)},
          {"threshold", Number(g.threshold)},
          {"score", Number(g.score)},
          {"anomalous", g.anomalous},
          {"peak_score", g.anomalous ? Number(g.peak_score) : nlohmann::json(nullptr)},
          {"anomalous_since", g.anomalous && g.anomalous_since_ms > 0
                                  ? nlohmann::json(static_cast<double>(g.anomalous_since_ms) / 1000.0)
                                  : nlohmann::json(nullptr)},
          {"top", std::move(top)},
      });
    }
  }
  // Members of peers detectors' groups, after the groups: "kind": "peer", the series' labels and its
  // deviation from its peers.
  for (const exposition::PeerReport* p : PeersListed(snapshot, all)) {
    nlohmann::json labels = nlohmann::json::object();
    for (const Label& l : p->labels) labels[l.name] = l.value;
    data.push_back({
        {"kind", "peer"},
        {"detector", p->detector},
        {"labels", std::move(labels)},
        {"state", std::string(exposition::StateLabelValue(p->state))},
        {"timestamp", static_cast<double>(p->timestamp_ms) / 1000.0},
        {"deviation", Number(p->deviation)},
        {"zscore", Number(p->zscore)},
        {"threshold", Number(p->threshold)},
        {"score", Number(p->score)},
        {"anomalous", p->anomalous},
        {"peak_score", p->anomalous ? Number(p->peak_score) : nlohmann::json(nullptr)},
        {"anomalous_since", p->anomalous && p->anomalous_since_ms > 0
                                ? nlohmann::json(static_cast<double>(p->anomalous_since_ms) / 1000.0)
                                : nlohmann::json(nullptr)},
    });
  }
  nlohmann::json body = {{"status", "success"}, {"data", std::move(data)}};
  // Label values are arbitrary bytes: replace invalid UTF-8 rather than throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace anomaly::http
