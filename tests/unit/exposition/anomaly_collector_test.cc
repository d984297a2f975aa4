#include "anomaly/exposition/anomaly_collector.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace anomaly::exposition {
namespace {

using scoring::ModelKind;
using scoring::SeriesState;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

SeriesReport Scored(std::string detector, Labels labels, double value, bool flagged) {
  SeriesReport r;
  r.detector = std::move(detector);
  r.labels = MakeLabels(std::move(labels));
  r.verdict.state = SeriesState::kOk;
  r.verdict.model = ModelKind::kStl;
  r.verdict.timestamp_ms = 1767225600000;
  r.verdict.value = value;
  r.verdict.expected = 100;
  r.verdict.lower = 90;
  r.verdict.upper = 110;
  r.verdict.zscore = (value - 100) / 2.5;
  r.verdict.threshold = 4;
  r.verdict.score = std::abs(r.verdict.zscore) / 4;
  r.verdict.anomalous = flagged;
  r.verdict.anomalous_since_ms = flagged ? 1767225000000 : 0;
  r.periods = "1d";
  return r;
}

SeriesReport Unscored(std::string detector, Labels labels, SeriesState state, bool value_known) {
  SeriesReport r = Scored(std::move(detector), std::move(labels), 42, true);
  r.verdict.state = state;
  r.verdict.model = ModelKind::kBaseline;
  r.periods = "";
  r.value_known = value_known;
  return r;
}

// The fixed snapshot behind tests/golden/metrics_snapshot.prom: scored, flagged, MSTL, warming up
// with clashing labels, and label values that need escaping.
Snapshot GoldenSnapshot() {
  Snapshot s;
  s.generated_at_ms = 1767225600000;
  s.series.push_back(Scored("http_latency",
                            {{"__name__", "http_request_duration_seconds"}, {"job", "web"}, {"instance", "web-1:9100"}},
                            104, false));
  SeriesReport flagged = Scored(
      "http_latency", {{"__name__", "http_request_duration_seconds"}, {"job", "web"}, {"instance", "web-2:9100"}}, 131.5,
      true);
  flagged.verdict.model = ModelKind::kMstl;
  flagged.periods = "1h,1d";
  s.series.push_back(flagged);
  s.series.push_back(Unscored("errors",
                              {{"job", "api"},
                               {"detector", "upstream"},
                               {"exported_detector", "older"},
                               {"state", "CA"},
                               {"model", "x1"},
                               {"periods", "p"},
                               {"metric_name", "mine"}},
                              SeriesState::kWarmingUp, true));
  s.series.push_back(Unscored("errors", {{"job", "api"}, {"path", "/a\"b\\c\nd"}, {"weird-name", "ü"}},
                              SeriesState::kInsufficientData, false));
  s.series.push_back(Unscored("errors", {{"job", "api"}, {"path", "/gap"}}, SeriesState::kGap, false));
  return s;
}

std::string Serialize(const AnomalyCollector& collector) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collector.Collect());
  return out.str();
}

// family name -> label set of each sample, labels as `name=value` strings.
std::map<std::string, std::vector<std::map<std::string, std::string>>> Samples(const AnomalyCollector& c) {
  std::map<std::string, std::vector<std::map<std::string, std::string>>> out;
  for (const auto& family : c.Collect()) {
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : metric.label) labels[l.name] = l.value;
      out[family.name].push_back(labels);
    }
  }
  return out;
}

TEST(AnomalyCollectorTest, MatchesGoldenExposition) {
  AnomalyCollector collector;
  collector.Publish(std::make_shared<const Snapshot>(GoldenSnapshot()));
  const std::string actual = Serialize(collector);
  const std::string path = std::string(ANOMALY_GOLDEN_DIR) + "/metrics_snapshot.prom";
  const char* update = std::getenv("ANOMALY_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing " << path << "; run with ANOMALY_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "run with ANOMALY_UPDATE_GOLDEN=1 to accept the new output";
}

TEST(AnomalyCollectorTest, ExportsNothingBeforeFirstPublish) {
  AnomalyCollector collector;
  EXPECT_TRUE(collector.Collect().empty());
  EXPECT_EQ(collector.Current(), nullptr);
}

TEST(AnomalyCollectorTest, ScoredSeriesExportsEveryFamilyWithContractNames) {
  AnomalyCollector collector;
  Snapshot s;
  s.series.push_back(Scored("d", {{"job", "a"}}, 131.5, true));
  collector.Publish(std::make_shared<const Snapshot>(s));
  std::map<std::string, double> values;
  for (const auto& family : collector.Collect()) {
    EXPECT_EQ(family.type, prometheus::MetricType::Gauge) << family.name;
    EXPECT_THAT(family.help, ::testing::HasSubstr("cache")) << family.name;
    ASSERT_EQ(family.metric.size(), 1u) << family.name;
    EXPECT_EQ(family.metric[0].timestamp_ms, 0) << family.name << " must carry no timestamp";
    values[family.name] = family.metric[0].gauge.value;
  }
  EXPECT_THAT(values, UnorderedElementsAre(
                          std::pair<const std::string, double>("anomaly_value", 131.5),
                          std::pair<const std::string, double>("anomaly_expected", 100),
                          std::pair<const std::string, double>("anomaly_lower", 90),
                          std::pair<const std::string, double>("anomaly_upper", 110),
                          std::pair<const std::string, double>("anomaly_zscore", 12.6),
                          std::pair<const std::string, double>("anomaly_threshold", 4),
                          std::pair<const std::string, double>("anomaly_score", 3.15),
                          std::pair<const std::string, double>("anomaly_flag", 1),
                          std::pair<const std::string, double>("anomaly_anomalous_since_timestamp_seconds", 1767225000),
                          std::pair<const std::string, double>("anomaly_state", 1),
                          std::pair<const std::string, double>("anomaly_model_info", 1)));
}

TEST(AnomalyCollectorTest, AnomalousSinceOnlyWhileFlagged) {
  AnomalyCollector collector;
  Snapshot s;
  s.series.push_back(Scored("d", {{"job", "a"}}, 104, false));
  collector.Publish(std::make_shared<const Snapshot>(s));
  auto samples = Samples(collector);
  EXPECT_EQ(samples.count("anomaly_anomalous_since_timestamp_seconds"), 0u);
  ASSERT_EQ(samples.count("anomaly_flag"), 1u);
}

struct StateCase {
  SeriesState state;
  bool value_known;
  const char* state_label;
};

class UnscoredStateTest : public ::testing::TestWithParam<StateCase> {};

TEST_P(UnscoredStateTest, ExportsOnlyStateModelAndKnownValue) {
  const StateCase& c = GetParam();
  AnomalyCollector collector;
  Snapshot s;
  s.series.push_back(Unscored("d", {{"job", "a"}}, c.state, c.value_known));
  collector.Publish(std::make_shared<const Snapshot>(s));
  auto samples = Samples(collector);
  std::vector<std::string> names;
  for (const auto& [name, rows] : samples) names.push_back(name);
  if (c.value_known) {
    EXPECT_THAT(names, ElementsAre("anomaly_model_info", "anomaly_state", "anomaly_value"));
  } else {
    EXPECT_THAT(names, ElementsAre("anomaly_model_info", "anomaly_state"));
  }
  ASSERT_EQ(samples["anomaly_state"].size(), 1u) << "one anomaly_state series: the current state only";
  EXPECT_EQ(samples["anomaly_state"][0]["state"], c.state_label);
  EXPECT_EQ(samples["anomaly_model_info"][0]["model"], "baseline");
  EXPECT_EQ(samples["anomaly_model_info"][0]["periods"], "");
}

INSTANTIATE_TEST_SUITE_P(States, UnscoredStateTest,
                         ::testing::Values(StateCase{SeriesState::kWarmingUp, true, "warming_up"},
                                           StateCase{SeriesState::kWarmingUp, false, "warming_up"},
                                           StateCase{SeriesState::kInsufficientData, true, "insufficient_data"},
                                           StateCase{SeriesState::kGap, false, "gap"},
                                           StateCase{SeriesState::kStale, true, "stale"},
                                           StateCase{SeriesState::kMaintenance, false, "maintenance"}));

struct LabelCase {
  const char* name;
  Labels in;
  Labels want;  // detector="d" is added to every expectation
};

class ExportedLabelsTest : public ::testing::TestWithParam<LabelCase> {};

TEST_P(ExportedLabelsTest, AppliesLabelPolicy) {
  SeriesReport r;
  r.detector = "d";
  r.labels = MakeLabels(GetParam().in);
  Labels want = GetParam().want;
  want.push_back({"detector", "d"});
  EXPECT_EQ(ExportedLabels(r), MakeLabels(want));
}

INSTANTIATE_TEST_SUITE_P(
    Policy, ExportedLabelsTest,
    ::testing::Values(
        LabelCase{"KeepsOwnLabels", {{"job", "a"}, {"instance", "h:1"}}, {{"job", "a"}, {"instance", "h:1"}}},
        LabelCase{"NameBecomesMetricName", {{"__name__", "up"}}, {{"metric_name", "up"}}},
        LabelCase{"ClashGetsExportedPrefix",
                  {{"detector", "x"}, {"state", "s"}, {"model", "m"}, {"periods", "p"}, {"metric_name", "n"}},
                  {{"exported_detector", "x"},
                   {"exported_state", "s"},
                   {"exported_model", "m"},
                   {"exported_periods", "p"},
                   {"exported_metric_name", "n"}}},
        LabelCase{"PrefixRepeatsUntilUnique",
                  {{"detector", "x"}, {"exported_detector", "y"}},
                  {{"exported_exported_detector", "x"}, {"exported_detector", "y"}}},
        LabelCase{"DropsOtherReservedNames", {{"__meta_x", "1"}, {"job", "a"}}, {{"job", "a"}}},
        LabelCase{"SanitizesInvalidNames", {{"a-b", "1"}, {"0c", "2"}}, {{"a_b", "1"}, {"_c", "2"}}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(AnomalyCollectorTest, RenamedLabelsAreTheSameOnEveryFamily) {
  AnomalyCollector collector;
  Snapshot s;
  s.series.push_back(Scored("d", {{"state", "CA"}, {"detector", "x"}}, 104, false));
  collector.Publish(std::make_shared<const Snapshot>(s));
  for (const auto& [family, rows] : Samples(collector)) {
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].at("exported_state"), "CA") << family;
    EXPECT_EQ(rows[0].at("exported_detector"), "x") << family;
    EXPECT_EQ(rows[0].at("detector"), "d") << family;
  }
}

TEST(AnomalyCollectorTest, VanishedSeriesVanishAfterNewPublish) {
  AnomalyCollector collector;
  Snapshot first;
  first.series.push_back(Scored("d", {{"job", "a"}}, 104, false));
  first.series.push_back(Scored("d", {{"job", "b"}}, 104, false));
  collector.Publish(std::make_shared<const Snapshot>(first));
  ASSERT_EQ(Samples(collector)["anomaly_value"].size(), 2u);

  Snapshot second;
  second.series.push_back(Scored("d", {{"job", "b"}}, 105, false));
  collector.Publish(std::make_shared<const Snapshot>(second));
  auto samples = Samples(collector);
  for (const auto& [family, rows] : samples) {
    ASSERT_EQ(rows.size(), 1u) << family;
    EXPECT_EQ(rows[0].at("job"), "b") << family;
  }

  collector.Publish(std::make_shared<const Snapshot>());
  EXPECT_TRUE(collector.Collect().empty());
}

}  // namespace
}  // namespace anomaly::exposition
