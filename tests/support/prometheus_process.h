// A real Prometheus (Debian's /usr/bin/prometheus 2.42) for integration tests,
// on 127.0.0.1 and a free port, with its own temp TSDB, optionally backfilled
// from OpenMetrics text with `promtool tsdb create-blocks-from openmetrics`
// (ECOSYSTEM.md §6). Missing binaries are an error, never a skip. The process
// dies with this object, and with the test binary (see ChildProcess).
//
//   auto prom = PrometheusProcess::Start({.openmetrics = om});
//   ASSERT_THAT(prom, IsOk());
//   QueryRange against (*prom)->url();
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {

struct PrometheusOptions {
  // OpenMetrics text to backfill ("# TYPE m gauge", "m{l=\"v\"} 1.5
  // 1700000000", ..., "# EOF"). Every sample must be older than now - 3h: newer
  // ones would overlap the head block.
  std::string openmetrics = {};
  std::string openmetrics_file = {};  // or a file with the same; both may be given
  // YAML items under `scrape_configs:`, indented by two spaces, e.g.
  //   "  - job_name: exporter\n    static_configs: [{targets:
  //   ['127.0.0.1:1234']}]\n"
  std::string scrape_configs = {};
  std::vector<std::string> rule_files = {};  // absolute paths
  Duration scrape_interval = std::chrono::seconds(15);
  Duration evaluation_interval = std::chrono::seconds(15);
  std::vector<std::string> extra_flags = {};  // e.g. "--query.max-samples=1000"
  Duration ready_timeout = std::chrono::seconds(60);
};

class PrometheusProcess {
 public:
  // Backfills, writes prometheus.yml, starts prometheus and waits for /-/ready.
  // kInternal when a binary is missing, promtool fails or prometheus is not
  // ready in time; the message then carries the tail of the log.
  [[nodiscard]] static Result<std::unique_ptr<PrometheusProcess>> Start(PrometheusOptions options);
  ~PrometheusProcess();  // kills prometheus, then removes the temp dir
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  const std::string& url() const { return url_; }  // http://127.0.0.1:<port>
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& dir() const { return dir_.path(); }  // config, log, TSDB live here
  bool running() const { return process_ != nullptr && process_->Running(); }

  // SIGTERM, then SIGKILL after `grace`. The TSDB stays for Restart().
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Stops if running, then starts again on the same port and data, and waits
  // for /-/ready.
  [[nodiscard]] Status Restart();
  // SIGKILL without a clean shutdown (fault tests).
  void Kill();

  std::string LogTail(size_t bytes = 4000) const;

 private:
  explicit PrometheusProcess(PrometheusOptions options) : options_(std::move(options)) {}
  [[nodiscard]] Status Launch();

  PrometheusOptions options_;
  TempDir dir_{"anomaly_prometheus"};
  std::string config_file_, data_dir_, log_file_, url_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;  // declared after dir_: destroyed (killed) before it
};

// Both binaries exist and are executable; kInternal naming the missing one
// otherwise.
[[nodiscard]] Status CheckPrometheusInstalled();

}  // namespace anomaly::testing
