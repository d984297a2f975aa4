#include "support/prometheus_process.h"

#include <signal.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include "support/free_port.h"
#include "support/http_fetch.h"

namespace anomaly::testing {
namespace {

std::string Seconds(Duration d) { return std::to_string(std::max<int64_t>(1, d.count() / 1000)) + "s"; }

std::string WithLog(const std::string& message, const std::string& log) {
  return message + "\n--- log tail ---\n" + log + "\n--- end of log ---";
}

}  // namespace

Status CheckPrometheusInstalled() {
  for (const char* binary : {ANOMALY_PROMETHEUS_BIN, ANOMALY_PROMTOOL_BIN}) {
    if (::access(binary, X_OK) != 0) {
      return MakeError(ErrorCode::kInternal,
                       std::string(binary) +
                           " is missing: install Debian's prometheus package (make deps); "
                           "integration tests fail rather than skip without it");
    }
  }
  return {};
}

Result<std::unique_ptr<PrometheusProcess>> PrometheusProcess::Start(PrometheusOptions options) {
  if (Status installed = CheckPrometheusInstalled(); !installed) return tl::unexpected(installed.error());
  auto prom = std::unique_ptr<PrometheusProcess>(new PrometheusProcess(std::move(options)));
  prom->config_file_ = prom->dir_.File("prometheus.yml");
  prom->data_dir_ = prom->dir_.File("data");
  prom->log_file_ = prom->dir_.File("prometheus.log");

  std::vector<std::string> inputs;
  if (!prom->options_.openmetrics_file.empty()) inputs.push_back(prom->options_.openmetrics_file);
  if (!prom->options_.openmetrics.empty()) {
    std::string file = prom->dir_.File("backfill.om");
    if (!WriteFile(file, prom->options_.openmetrics))
      return MakeError(ErrorCode::kInternal, "writing " + file);
    inputs.push_back(file);
  }
  for (const std::string& input : inputs) {
    std::string promtool_log = prom->dir_.File("promtool.log");
    auto promtool = ChildProcess::Start({
        .argv = {ANOMALY_PROMTOOL_BIN, "tsdb", "create-blocks-from", "openmetrics",
                 "--max-block-duration=24h", "-q", input, prom->data_dir_},
        .log_file = promtool_log,
    });
    if (!promtool) return tl::unexpected(promtool.error());
    std::optional<int> status = (*promtool)->Wait(std::chrono::minutes(5));
    if (!status || *status != 0) {
      return MakeError(ErrorCode::kInternal,
                       WithLog("promtool backfill of " + input + " " +
                                   (status ? DescribeWaitStatus(*status) : std::string("timed out")),
                               (*promtool)->LogTail()));
    }
  }

  std::string config = "global:\n  scrape_interval: " + Seconds(prom->options_.scrape_interval) +
                       "\n  evaluation_interval: " + Seconds(prom->options_.evaluation_interval) + "\n";
  if (!prom->options_.rule_files.empty()) {
    config += "rule_files:\n";
    for (const std::string& f : prom->options_.rule_files) config += "  - '" + f + "'\n";
  }
  if (!prom->options_.scrape_configs.empty()) config += "scrape_configs:\n" + prom->options_.scrape_configs;
  if (!WriteFile(prom->config_file_, config))
    return MakeError(ErrorCode::kInternal, "writing " + prom->config_file_);

  prom->port_ = FreePort();
  prom->url_ = "http://127.0.0.1:" + std::to_string(prom->port_);
  if (Status launched = prom->Launch(); !launched) return tl::unexpected(launched.error());
  return prom;
}

Status PrometheusProcess::Launch() {
  std::vector<std::string> argv = {
      ANOMALY_PROMETHEUS_BIN,
      "--config.file=" + config_file_,
      "--storage.tsdb.path=" + data_dir_,
      "--web.listen-address=127.0.0.1:" + std::to_string(port_),
      "--storage.tsdb.retention.time=30d",
      "--web.enable-lifecycle",
  };
  argv.insert(argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  auto child = ChildProcess::Start({.argv = argv, .log_file = log_file_, .working_dir = dir_.path()});
  if (!child) return tl::unexpected(child.error());
  process_ = std::move(*child);

  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (true) {
    if (!process_->Running()) {
      return MakeError(
          ErrorCode::kInternal,
          WithLog("prometheus on port " + std::to_string(port_) + " exited before it was ready", LogTail()));
    }
    Result<HttpResult> ready = HttpGet(url_ + "/-/ready", std::chrono::seconds(2));
    if (ready && ready->status == 200) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string log = LogTail();
      process_->Stop(std::chrono::seconds(5));
      return MakeError(
          ErrorCode::kInternal,
          WithLog("prometheus not ready on " + url_ + " within " + Seconds(options_.ready_timeout), log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

PrometheusProcess::~PrometheusProcess() {
  if (process_) process_->Stop(std::chrono::seconds(5));
}

void PrometheusProcess::Stop(std::chrono::milliseconds grace) {
  if (process_) process_->Stop(grace);
}

void PrometheusProcess::Kill() {
  if (process_) {
    process_->Signal(SIGKILL);
    process_->Wait(std::chrono::seconds(10));
  }
}

Status PrometheusProcess::Restart() {
  Stop();
  return Launch();
}

std::string PrometheusProcess::LogTail(size_t bytes) const {
  return process_ ? process_->LogTail(bytes) : ReadFile(log_file_);
}

}  // namespace anomaly::testing
