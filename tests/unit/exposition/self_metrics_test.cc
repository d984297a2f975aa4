#include "anomaly/exposition/self_metrics.h"

#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

namespace anomaly::exposition {
namespace {

using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAreArray;

std::map<std::string, prometheus::MetricFamily> Families(const SelfMetrics& m) {
  std::map<std::string, prometheus::MetricFamily> out;
  for (auto& f : m.registry()->Collect()) out[f.name] = f;
  return out;
}

// The value of the sample in `family` whose labels include all of `want`; NaN when there is none.
double Value(const SelfMetrics& m, const std::string& family, std::map<std::string, std::string> want) {
  auto families = Families(m);
  auto it = families.find(family);
  if (it == families.end()) return std::nan("");
  for (const auto& metric : it->second.metric) {
    std::map<std::string, std::string> labels;
    for (const auto& l : metric.label) labels[l.name] = l.value;
    bool match = true;
    for (const auto& [k, v] : want) match = match && labels.count(k) && labels[k] == v;
    if (!match) continue;
    switch (it->second.type) {
      case prometheus::MetricType::Counter: return metric.counter.value;
      case prometheus::MetricType::Gauge: return metric.gauge.value;
      case prometheus::MetricType::Histogram: return static_cast<double>(metric.histogram.sample_count);
      default: return std::nan("");
    }
  }
  return std::nan("");
}

TEST(SelfMetricsTest, RegistersExactlyTheContractFamilies) {
  SelfMetrics m("1.2.3", "abc123");
  m.AddDetector("d");
  std::map<std::string, prometheus::MetricType> types;
  for (const auto& [name, f] : Families(m)) types[name] = f.type;
  using T = prometheus::MetricType;
  EXPECT_THAT(types, UnorderedElementsAreArray(std::map<std::string, T>{
                         {"anomaly_exporter_build_info", T::Gauge},
                         {"anomaly_exporter_query_duration_seconds", T::Histogram},
                         {"anomaly_exporter_queries_total", T::Counter},
                         {"anomaly_exporter_query_errors_total", T::Counter},
                         {"anomaly_exporter_fit_duration_seconds", T::Histogram},
                         {"anomaly_exporter_cycle_duration_seconds", T::Gauge},
                         {"anomaly_exporter_cycle_failures_total", T::Counter},
                         {"anomaly_exporter_last_successful_cycle_timestamp_seconds", T::Gauge},
                         {"anomaly_exporter_series", T::Gauge},
                         {"anomaly_exporter_series_dropped", T::Gauge},
                         {"anomaly_exporter_samples_ingested_total", T::Counter},
                         {"anomaly_exporter_detector_ready", T::Gauge},
                         {"anomaly_exporter_config_last_reload_successful", T::Gauge},
                         {"anomaly_exporter_config_last_reload_success_timestamp_seconds", T::Gauge},
                         {"anomaly_exporter_shard_info", T::Gauge},
                         {"anomaly_exporter_score_requests_total", T::Counter},
                         {"anomaly_exporter_feedback_total", T::Counter},
                         {"anomaly_exporter_web_info", T::Gauge},
                     }));
  EXPECT_EQ(Value(m, "anomaly_exporter_build_info", {{"version", "1.2.3"}, {"revision", "abc123"}}), 1);
}

TEST(SelfMetricsTest, WebInfoCarriesTheExternalUrl) {
  SelfMetrics m("v", "r");
  EXPECT_EQ(Value(m, "anomaly_exporter_web_info", {{"external_url", ""}}), 1);
  m.SetExternalUrl("https://anomaly.example.com/x");
  EXPECT_EQ(Value(m, "anomaly_exporter_web_info", {{"external_url", "https://anomaly.example.com/x"}}), 1);
  size_t series = 0;
  for (const prometheus::MetricFamily& f : m.registry()->Collect()) {
    if (f.name == "anomaly_exporter_web_info") series = f.metric.size();
  }
  EXPECT_EQ(series, 1u);
}

TEST(SelfMetricsTest, ScoreRequestsAreCountedByCode) {
  SelfMetrics m("v", "r");
  for (const char* code : {"200", "400", "413", "429"}) {
    EXPECT_EQ(Value(m, "anomaly_exporter_score_requests_total", {{"code", code}}), 0) << code;
  }
  m.ObserveScoreRequest(200);
  m.ObserveScoreRequest(200);
  m.ObserveScoreRequest(503);
  EXPECT_EQ(Value(m, "anomaly_exporter_score_requests_total", {{"code", "200"}}), 2);
  EXPECT_EQ(Value(m, "anomaly_exporter_score_requests_total", {{"code", "503"}}), 1);
}

TEST(SelfMetricsTest, FeedbackIsCountedByVerdict) {
  SelfMetrics m("v", "r");
  for (const char* verdict : {"false_positive", "true_positive"}) {
    EXPECT_EQ(Value(m, "anomaly_exporter_feedback_total", {{"verdict", verdict}}), 0) << verdict;
  }
  m.ObserveFeedback("false_positive");
  m.ObserveFeedback("false_positive");
  m.ObserveFeedback("true_positive");
  EXPECT_EQ(Value(m, "anomaly_exporter_feedback_total", {{"verdict", "false_positive"}}), 2);
  EXPECT_EQ(Value(m, "anomaly_exporter_feedback_total", {{"verdict", "true_positive"}}), 1);
}

TEST(SelfMetricsTest, AddDetectorCreatesZeroSeries) {
  SelfMetrics m("v", "r");
  m.AddDetector("d");
  EXPECT_EQ(Value(m, "anomaly_exporter_detector_ready", {{"detector", "d"}}), 0);
  EXPECT_EQ(Value(m, "anomaly_exporter_queries_total", {{"detector", "d"}}), 0);
  EXPECT_EQ(Value(m, "anomaly_exporter_cycle_failures_total", {{"detector", "d"}}), 0);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_errors_total", {{"detector", "d"}, {"reason", "timeout"}}), 0);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_errors_total", {{"detector", "d"}, {"reason", "upstream_unavailable"}}),
            0);
}

TEST(SelfMetricsTest, ObserveQueryCountsTotalAndErrorsByReason) {
  SelfMetrics m("v", "r");
  m.ObserveQuery("d", 0.2, std::nullopt);
  m.ObserveQuery("d", 1.5, ErrorCode::kTimeout);
  m.ObserveQuery("d", 0.1, ErrorCode::kUpstreamUnavailable);
  m.ObserveQuery("d", 0.1, ErrorCode::kUpstreamUnavailable);
  EXPECT_EQ(Value(m, "anomaly_exporter_queries_total", {{"detector", "d"}}), 4);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_duration_seconds", {{"detector", "d"}}), 4);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_errors_total", {{"detector", "d"}, {"reason", "timeout"}}), 1);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_errors_total", {{"detector", "d"}, {"reason", "upstream_unavailable"}}),
            2);
  EXPECT_EQ(Value(m, "anomaly_exporter_query_errors_total", {{"detector", "d"}, {"reason", "upstream_rejected"}}), 0);
}

TEST(SelfMetricsTest, CycleSeriesSamplesReadyAndFit) {
  SelfMetrics m("v", "r");
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  m.ObserveCycle("d", 2.5, true, now);
  m.ObserveCycle("d", 7, false, now + std::chrono::seconds(60));
  m.SetSeries("d", 120, 3);
  m.AddSamples("d", 1000);
  m.AddSamples("d", 24);
  m.SetReady("d");
  m.ObserveFit("d", 0.01);
  m.ObserveCycleFailure("d");
  m.ObserveCycleFailure("d");
  EXPECT_EQ(Value(m, "anomaly_exporter_cycle_duration_seconds", {{"detector", "d"}}), 7);
  EXPECT_EQ(Value(m, "anomaly_exporter_cycle_failures_total", {{"detector", "d"}}), 2);
  EXPECT_EQ(Value(m, "anomaly_exporter_last_successful_cycle_timestamp_seconds", {{"detector", "d"}}), 1767225600);
  EXPECT_EQ(Value(m, "anomaly_exporter_series", {{"detector", "d"}}), 120);
  EXPECT_EQ(Value(m, "anomaly_exporter_series_dropped", {{"detector", "d"}}), 3);
  EXPECT_EQ(Value(m, "anomaly_exporter_samples_ingested_total", {{"detector", "d"}}), 1024);
  EXPECT_EQ(Value(m, "anomaly_exporter_detector_ready", {{"detector", "d"}}), 1);
  EXPECT_EQ(Value(m, "anomaly_exporter_fit_duration_seconds", {{"detector", "d"}}), 1);
}

TEST(SelfMetricsTest, ReloadKeepsLastSuccessTimestampOnFailure) {
  SelfMetrics m("v", "r");
  EXPECT_EQ(Value(m, "anomaly_exporter_config_last_reload_successful", {}), 0);
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  m.ObserveReload(true, t0);
  EXPECT_EQ(Value(m, "anomaly_exporter_config_last_reload_successful", {}), 1);
  m.ObserveReload(false, t0 + std::chrono::seconds(5));
  EXPECT_EQ(Value(m, "anomaly_exporter_config_last_reload_successful", {}), 0);
  EXPECT_EQ(Value(m, "anomaly_exporter_config_last_reload_success_timestamp_seconds", {}), 1000);
}

TEST(SelfMetricsTest, RemoveDetectorRemovesOnlyItsSeries) {
  SelfMetrics m("v", "r");
  m.ObserveQuery("gone", 0.1, ErrorCode::kTimeout);
  m.ObserveCycleFailure("gone");
  m.SetReady("gone");
  m.SetReady("kept");
  m.RemoveDetector("gone");
  std::set<std::string> detectors;
  for (const auto& [name, f] : Families(m)) {
    for (const auto& metric : f.metric) {
      for (const auto& l : metric.label) {
        if (l.name == "detector") detectors.insert(l.value);
      }
    }
  }
  EXPECT_EQ(detectors, std::set<std::string>{"kept"});
  m.RemoveDetector("never-added");  // a no-op
  m.SetReady("gone");               // comes back at its new value when used again
  EXPECT_EQ(Value(m, "anomaly_exporter_detector_ready", {{"detector", "gone"}}), 1);
  EXPECT_EQ(Value(m, "anomaly_exporter_queries_total", {{"detector", "gone"}}), 0);
}

TEST(SelfMetricsTest, ShardInfoStartsUnshardedAndShowsOnlyTheCurrentShard) {
  SelfMetrics m("v", "r");
  auto shard_series = [&] {
    std::set<std::string> out;
    auto families = Families(m);
    for (const auto& metric : families["anomaly_exporter_shard_info"].metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : metric.label) labels[l.name] = l.value;
      out.insert(labels["index"] + "/" + labels["count"] + "=" + std::to_string(metric.gauge.value));
    }
    return out;
  };
  EXPECT_EQ(shard_series(), std::set<std::string>{"0/1=1.000000"});
  m.SetShard(2, 3);
  EXPECT_EQ(shard_series(), std::set<std::string>{"2/3=1.000000"});
  m.SetShard(2, 3);  // unchanged: still exactly one series
  EXPECT_EQ(shard_series(), std::set<std::string>{"2/3=1.000000"});
  m.SetShard(0, 1);
  EXPECT_EQ(shard_series(), std::set<std::string>{"0/1=1.000000"});
}

}  // namespace
}  // namespace anomaly::exposition
