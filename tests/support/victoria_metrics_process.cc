#include "support/victoria_metrics_process.h"

#include <unistd.h>

#include <thread>
#include <utility>

#include "support/free_port.h"
#include "support/http_fetch.h"

namespace anomaly::testing {
namespace {

std::string WithLog(const std::string& message, const std::string& log) {
  return message + "\n--- log tail ---\n" + log + "\n--- end of log ---";
}

}  // namespace

Status CheckVictoriaMetricsInstalled() {
  if (::access(ANOMALY_VICTORIA_METRICS_BIN, X_OK) != 0) {
    return MakeError(ErrorCode::kInternal,
                     std::string(ANOMALY_VICTORIA_METRICS_BIN) +
                         " is missing: install Debian's victoria-metrics package (make deps); "
                         "integration tests fail rather than skip without it");
  }
  return {};
}

Result<std::unique_ptr<VictoriaMetricsProcess>> VictoriaMetricsProcess::Start(
    VictoriaMetricsOptions options) {
  if (Status installed = CheckVictoriaMetricsInstalled(); !installed) {
    return tl::unexpected(installed.error());
  }
  auto vm = std::unique_ptr<VictoriaMetricsProcess>(new VictoriaMetricsProcess(std::move(options)));
  const int port = FreePort();
  vm->url_ = "http://127.0.0.1:" + std::to_string(port);
  std::vector<std::string> argv = {
      ANOMALY_VICTORIA_METRICS_BIN,
      "-storageDataPath=" + vm->dir_.File("data"),
      "-httpListenAddr=127.0.0.1:" + std::to_string(port),
      "-retentionPeriod=100y",
  };
  argv.insert(argv.end(), vm->options_.extra_flags.begin(), vm->options_.extra_flags.end());
  auto child = ChildProcess::Start(
      {.argv = argv, .log_file = vm->dir_.File("victoria-metrics.log"), .working_dir = vm->dir_.path()});
  if (!child) return tl::unexpected(child.error());
  vm->process_ = std::move(*child);

  const auto deadline = std::chrono::steady_clock::now() + vm->options_.ready_timeout;
  while (true) {
    if (!vm->process_->Running()) {
      return MakeError(ErrorCode::kInternal, WithLog("victoria-metrics on " + vm->url_ +
                                                         " exited before it was ready",
                                                     vm->LogTail()));
    }
    Result<HttpResult> health = HttpGet(vm->url_ + "/health", std::chrono::seconds(2));
    if (health && health->status == 200) return vm;
    if (std::chrono::steady_clock::now() >= deadline) {
      return MakeError(ErrorCode::kInternal,
                       WithLog("victoria-metrics not ready on " + vm->url_, vm->LogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

VictoriaMetricsProcess::~VictoriaMetricsProcess() {
  if (process_) process_->Stop(std::chrono::seconds(5));
}

Status VictoriaMetricsProcess::Import(const std::string& text) {
  auto post = [&](const std::string& path, const std::string& body) -> Status {
    Result<HttpResult> r = HttpPost(url_ + path, body, "text/plain", std::chrono::seconds(120));
    if (!r) return MakeError(ErrorCode::kInternal, "POST " + path + ": " + r.error().message);
    if (r->status / 100 != 2) {
      return MakeError(ErrorCode::kInternal,
                       "POST " + path + " answered " + std::to_string(r->status) + ": " + r->body);
    }
    return {};
  };
  if (Status imported = post("/api/v1/import/prometheus", text); !imported) return imported;
  // Imported rows sit in memory buffers for up to a second before a query can see them.
  return post("/internal/force_flush", "");
}

Status VictoriaMetricsProcess::ImportFile(const std::string& path) {
  std::string text = ReadFile(path);
  if (text.empty()) return MakeError(ErrorCode::kInternal, "nothing to import in " + path);
  return Import(text);
}

std::string VictoriaMetricsProcess::LogTail(size_t bytes) const {
  return process_ ? process_->LogTail(bytes) : std::string();
}

}  // namespace anomaly::testing
