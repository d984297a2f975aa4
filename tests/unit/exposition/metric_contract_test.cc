// The metric contract (ARCHITECTURE.md, "Metrics"; docs/metrics.md) against what the exposition stage
// really serves: every family either document lists is served, every family served is listed in both,
// with the same type and the same labels. Rules and dashboards are written against those tables, so a
// rename, a new family or a changed label must change them in the same commit. Not one source file's
// test (STYLE.md B8 mirrors files one to one): it reads both documents and both collectors.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "anomaly/exposition/anomaly_collector.h"
#include "anomaly/exposition/self_metrics.h"

namespace anomaly::exposition {
namespace {

// What one document (or the code) says about one family.
struct FamilyContract {
  std::string type;  // gauge, counter or histogram
  std::set<std::string> labels;
  friend bool operator==(const FamilyContract&, const FamilyContract&) = default;
};
using Contract = std::map<std::string, FamilyContract>;
using ::testing::IsEmpty;

std::string ReadDoc(const std::string& relative) {
  std::ifstream in(std::string(ANOMALY_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The rows ("| ... |" lines, header and rule excluded) of the first table after the first line that
// starts with `heading`, split into trimmed cells.
std::vector<std::vector<std::string>> TableAfter(const std::string& doc, const std::string& heading) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(doc);
  std::string line;
  bool found = false, in_table = false;
  int header_lines = 0;
  while (std::getline(in, line)) {
    if (!found) {
      found = line.rfind(heading, 0) == 0;
      continue;
    }
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    if (header_lines++ < 2) continue;  // "| metric | ... |" and "|---|...|"
    std::vector<std::string> cells;
    // Split on '|' not escaped as "\|" (|z| in a meaning cell).
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|' && line[i - 1] != '\\') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    for (std::string& c : cells) {
      c.erase(0, c.find_first_not_of(' '));
      c.erase(c.find_last_not_of(' ') + 1);
    }
    rows.push_back(cells);
  }
  EXPECT_TRUE(found) << "no line starting with \"" << heading << "\"";
  EXPECT_FALSE(rows.empty()) << "no table after \"" << heading << "\"";
  return rows;
}

// The `code spans` of a cell.
std::vector<std::string> CodeSpans(const std::string& cell) {
  std::vector<std::string> spans;
  for (size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open)) {
    const size_t close = cell.find('`', open + 1);
    if (close == std::string::npos) break;
    spans.push_back(cell.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return spans;
}

// "name{a,b}" -> name, {a, b}; "name" -> name, nullopt.
std::pair<std::string, std::optional<std::set<std::string>>> NameAndLabels(const std::string& span) {
  const size_t brace = span.find('{');
  if (brace == std::string::npos) return {span, std::nullopt};
  std::set<std::string> labels;
  std::istringstream in(span.substr(brace + 1, span.size() - brace - 2));
  for (std::string label; std::getline(in, label, ',');) labels.insert(label);
  return {span.substr(0, brace), labels};
}

std::string FirstWord(const std::string& cell) { return cell.substr(0, cell.find_first_of(" ,;")); }

// ARCHITECTURE.md: per-series rows `name{extra labels}` (gauges, labels: detector + the series' own);
// self-metric rows `name{labels}` | type, where a name without braces has `detector` unless the type
// cell says "(no label)".
Contract ArchitecturePerSeries(const std::string& doc) {
  Contract c;
  for (const auto& row : TableAfter(doc, "## Metrics")) {
    for (const std::string& span : CodeSpans(row.at(0))) {
      auto [name, labels] = NameAndLabels(span);
      c[name] = {"gauge", labels.value_or(std::set<std::string>{})};
    }
  }
  return c;
}

Contract ArchitectureSelf(const std::string& doc) {
  Contract c;
  for (const auto& row : TableAfter(doc, "Self-metrics (`anomaly_exporter_`)")) {
    auto [name, labels] = NameAndLabels(CodeSpans(row.at(0)).at(0));
    const bool none = row.at(1).find("(no label)") != std::string::npos;
    c[name] = {FirstWord(row.at(1)), labels.value_or(none ? std::set<std::string>{}
                                                          : std::set<std::string>{"detector"})};
  }
  return c;
}

// docs/metrics.md: per-series `name` | extra labels (all gauges); self `name` | type | labels.
Contract DocsPerSeries(const std::string& doc) {
  Contract c;
  for (const auto& row : TableAfter(doc, "## Per-series metrics")) {
    std::vector<std::string> labels = CodeSpans(row.at(1));
    c[CodeSpans(row.at(0)).at(0)] = {"gauge", {labels.begin(), labels.end()}};
  }
  return c;
}

Contract DocsSelf(const std::string& doc) {
  Contract c;
  for (const auto& row : TableAfter(doc, "## Self-metrics")) {
    std::vector<std::string> labels = CodeSpans(row.at(2));
    c[CodeSpans(row.at(0)).at(0)] = {row.at(1), {labels.begin(), labels.end()}};
  }
  return c;
}

std::string TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Summary: return "summary";
    default: return "untyped";
  }
}

// Families as served; labels are the union over their samples, less `ignore` (per-series: detector and
// the series' own labels, which every family carries).
Contract Served(const std::vector<prometheus::MetricFamily>& families, const std::set<std::string>& ignore) {
  Contract c;
  for (const prometheus::MetricFamily& f : families) {
    FamilyContract& fc = c[f.name];
    fc.type = TypeName(f.type);
    for (const prometheus::ClientMetric& m : f.metric) {
      for (const prometheus::ClientMetric::Label& l : m.label) {
        if (!ignore.count(l.name)) fc.labels.insert(l.name);
      }
    }
  }
  return c;
}

std::string Describe(const FamilyContract& f) {
  std::string out = f.type + " {";
  for (const std::string& l : f.labels) out += l + (l == *f.labels.rbegin() ? "" : ",");
  return out + "}";
}

// One line per family that the document and the code disagree on; empty when they agree.
std::vector<std::string> Differences(const std::string& doc, const Contract& documented,
                                     const Contract& served) {
  std::vector<std::string> out;
  for (const auto& [name, f] : documented) {
    auto it = served.find(name);
    if (it == served.end()) {
      out.push_back(doc + " lists " + name + ", which is not served");
    } else if (!(it->second == f)) {
      out.push_back(name + ": " + doc + " says " + Describe(f) + ", served " + Describe(it->second));
    }
  }
  for (const auto& [name, f] : served) {
    if (!documented.count(name)) out.push_back(name + " (" + Describe(f) + ") is served but not in " + doc);
  }
  return out;
}

// A flagged, scored series: every per-series family has a sample.
std::vector<prometheus::MetricFamily> PerSeriesFamilies() {
  SeriesReport r;
  r.detector = "d";
  r.labels = MakeLabels({{"job", "j"}});
  r.verdict.state = scoring::SeriesState::kOk;
  r.verdict.model = scoring::ModelKind::kStl;
  r.verdict.timestamp_ms = 1767225600000;
  r.verdict.value = 131;
  r.verdict.expected = 100;
  r.verdict.lower = 90;
  r.verdict.upper = 110;
  r.verdict.zscore = 12;
  r.verdict.threshold = 4;
  r.verdict.score = 3;
  r.verdict.anomalous = true;
  r.verdict.anomalous_since_ms = 1767225000000;
  r.periods = "1d";
  Snapshot s;
  s.generated_at_ms = r.verdict.timestamp_ms;
  s.series.push_back(r);
  // And a flagged group of a multivariate detector: every anomaly_group_* family has a sample.
  GroupReport g;
  g.detector = "d";
  g.labels = MakeLabels({{"job", "j"}});
  g.state = scoring::SeriesState::kOk;
  g.timestamp_ms = r.verdict.timestamp_ms;
  g.zscore = 9;
  g.threshold = 5;
  g.score = 2;
  g.anomalous = true;
  g.anomalous_since_ms = r.verdict.anomalous_since_ms;
  g.members = 4;
  g.top = {{"cpu", 0.7}, {"memory", 0.2}};
  s.groups.push_back(g);
  // And a flagged member of a peers group: every anomaly_peer_* family has a sample.
  PeerReport p;
  p.detector = "pods";
  p.labels = MakeLabels({{"job", "j"}});
  p.state = scoring::SeriesState::kOk;
  p.timestamp_ms = r.verdict.timestamp_ms;
  p.deviation = 6;
  p.zscore = 5;
  p.threshold = 4;
  p.score = 2;
  p.anomalous = true;
  p.anomalous_since_ms = r.verdict.anomalous_since_ms;
  s.peers.push_back(p);
  return AnomalyCollector::CollectFrom(&s);
}

Contract ServedPerSeries() { return Served(PerSeriesFamilies(), {"detector", "job"}); }

// Every self-metric family with its series: a detector added and one event of each kind observed.
std::vector<prometheus::MetricFamily> SelfMetricsFamilies() {
  SelfMetrics m("1.2.3", "abc1234");
  m.AddDetector("d");
  m.ObserveQuery("d", 0.1, ErrorCode::kTimeout);
  m.ObserveFit("d", 0.01);
  return m.registry()->Collect();
}

Contract ServedSelf() { return Served(SelfMetricsFamilies(), {}); }

TEST(MetricContractTest, ArchitecturePerSeriesTableIsWhatTheCollectorServes) {
  EXPECT_THAT(
      Differences("ARCHITECTURE.md", ArchitecturePerSeries(ReadDoc("ARCHITECTURE.md")), ServedPerSeries()),
      IsEmpty());
}

TEST(MetricContractTest, ArchitectureSelfMetricsTableIsWhatSelfMetricsRegisters) {
  EXPECT_THAT(Differences("ARCHITECTURE.md", ArchitectureSelf(ReadDoc("ARCHITECTURE.md")), ServedSelf()),
              IsEmpty());
}

TEST(MetricContractTest, MetricsReferencePerSeriesTableIsWhatTheCollectorServes) {
  EXPECT_THAT(Differences("docs/metrics.md", DocsPerSeries(ReadDoc("docs/metrics.md")), ServedPerSeries()),
              IsEmpty());
}

TEST(MetricContractTest, MetricsReferenceSelfMetricsTableIsWhatSelfMetricsRegisters) {
  EXPECT_THAT(Differences("docs/metrics.md", DocsSelf(ReadDoc("docs/metrics.md")), ServedSelf()), IsEmpty());
}

// Every family says what it is in its HELP line (ECOSYSTEM.md §1): an empty HELP is a contract nobody
// wrote down.
TEST(MetricContractTest, EveryServedFamilyHasHelp) {
  std::vector<prometheus::MetricFamily> families = SelfMetricsFamilies();
  for (prometheus::MetricFamily& f : PerSeriesFamilies()) families.push_back(std::move(f));
  for (const prometheus::MetricFamily& f : families) EXPECT_FALSE(f.help.empty()) << f.name;
}

}  // namespace
}  // namespace anomaly::exposition
