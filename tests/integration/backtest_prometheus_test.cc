// `anomaly_exporter backtest` against a real Prometheus backfilled with the demo workload's history, whose
// incidents (scripts/workload.py history_incidents) must be flagged while they last, and the quiet series
// must stay (nearly) quiet: the backtest reads the range through the real prom client and scores it with
// the daemon's path.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/backtest_csv.h"
#include "support/prometheus_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

TEST(BacktestPrometheusTest, FlagsTheInjectedHistoryIncidents) {
  TempDir dir("anomaly_backtest_prometheus");
  const int64_t end = static_cast<int64_t>(std::time(nullptr)) / 60 * 60 - 4 * 3600;  // older than the head block
  const std::string om = dir.File("history.om"), incidents = dir.File("incidents.json");
  const std::string gen = "python3 " ANOMALY_SOURCE_DIR "/scripts/workload.py backfill --days 7 --step 60 --end " +
                          std::to_string(end) + " --out " + om + " --incidents-out " + incidents;
  ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  auto prom = PrometheusProcess::Start({.openmetrics_file = om});
  ASSERT_TRUE(prom.has_value()) << prom.error().message;

  const std::string config = dir.File("config.yml");
  ASSERT_TRUE(WriteFile(config, "prometheus:\n  url: " + (*prom)->url() + "\n"
                                "defaults:\n  step: 1m\n  history: 2d\n  seasonality: [1d]\n"
                                "  threshold: {floor: 5}\n"
                                "detectors:\n"
                                "  - name: requests\n    query: demo_http_requests_per_second\n"
                                "  - name: latency\n    query: demo_http_request_duration_seconds\n"));
  // Two days of history before it, and a 2-day window throughout: fewer than kMinSeasonalCycles daily cycles,
  // so every sample is scored by the baseline's trailing median (docs/detection.md, section 1). With the
  // median held between hourly refits, the quiet flags here depended on the hour the test ran.
  const int64_t from = end - 5 * 86400 + 3600;
  std::map<std::string, std::vector<BacktestRow>> by_detector;
  for (const char* detector : {"requests", "latency"}) {
    const std::string out = dir.File(std::string(detector) + ".csv");
    const std::string cmd = std::string(ANOMALY_EXPORTER_BIN) + " backtest --config.file " + config +
                            " --detector " + detector + " --from " + std::to_string(from) + " --to " +
                            std::to_string(end) + " --output " + out + " --report " + out + ".html 2> " + out + ".err";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n" << ReadFile(out + ".err");
    by_detector[detector] = ParseBacktestCsv(ReadFile(out));
    EXPECT_GT(by_detector[detector].size(), 3u * 5 * 1400) << detector;  // 3 services x 5 days of minutes
  }

  const nlohmann::json schedule = nlohmann::json::parse(ReadFile(incidents));
  ASSERT_EQ(schedule.size(), 3u);
  for (const nlohmann::json& inc : schedule) {
    const std::string detector = inc["metric"] == "demo_http_requests_per_second" ? "requests" : "latency";
    const std::string service = "service=\"\"" + inc["service"].get<std::string>() + "\"\"";
    const int64_t start = inc["start"].get<int64_t>(), stop = inc["end"].get<int64_t>();
    int flagged = 0;
    for (const BacktestRow& r : by_detector[detector]) {
      if (r.series.find(service) != std::string::npos && r.t >= start && r.t < stop && r.flag) ++flagged;
    }
    // Flagged for most of its duration, not once by luck.
    EXPECT_GE(flagged, (stop - start) / 60 / 2) << detector << " " << service << " at " << start;
  }
  // Outside the incidents (and 30 minutes after each, while the model catches up) flags are rare.
  int quiet = 0, noisy = 0;
  for (const auto& [detector, rows] : by_detector) {
    for (const BacktestRow& r : rows) {
      if (r.state != "ok") continue;
      bool near_incident = false;
      for (const nlohmann::json& inc : schedule) {
        near_incident |= r.t >= inc["start"].get<int64_t>() && r.t < inc["end"].get<int64_t>() + 1800;
      }
      if (near_incident) continue;
      ++quiet;
      noisy += r.flag;
    }
  }
  EXPECT_GT(quiet, 20000);
  EXPECT_LT(noisy, quiet / 200) << noisy << " flags on " << quiet << " normal points";
}

}  // namespace
}  // namespace anomaly::testing
