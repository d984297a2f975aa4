// A real VictoriaMetrics (Debian's /usr/bin/victoria-metrics, single-node) for integration tests, on
// 127.0.0.1 and a free port, with its own temp -storageDataPath. Samples go in through its import API,
// at any age (it has no head block, unlike Prometheus), and are flushed so the next query sees them.
// Missing binaries are an error, never a skip (STYLE.md B8). The process dies with this object, and with
// the test binary (see ChildProcess).
//
//   auto vm = VictoriaMetricsProcess::Start({});
//   ASSERT_THAT((*vm)->Import(openmetrics_text), IsOk());
//   QueryRange against (*vm)->url();
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

struct VictoriaMetricsOptions {
  std::vector<std::string> extra_flags = {};  // e.g. "-search.maxPointsPerTimeseries=2000"
  Duration ready_timeout = std::chrono::seconds(60);
};

class VictoriaMetricsProcess {
 public:
  // Starts victoria-metrics (retention 100y, so no imported sample is too old) and waits for /health.
  // kInternal when the binary is missing or it is not ready in time; the message then carries the tail
  // of its log.
  [[nodiscard]] static Result<std::unique_ptr<VictoriaMetricsProcess>> Start(VictoriaMetricsOptions options);
  ~VictoriaMetricsProcess();  // kills victoria-metrics, then removes the temp dir
  VictoriaMetricsProcess(const VictoriaMetricsProcess&) = delete;
  VictoriaMetricsProcess& operator=(const VictoriaMetricsProcess&) = delete;

  const std::string& url() const { return url_; }  // http://127.0.0.1:<port>
  bool running() const { return process_ != nullptr && process_->Running(); }

  // POSTs Prometheus text exposition with timestamps (OpenMetrics' seconds or Prometheus'
  // milliseconds: VictoriaMetrics tells them apart; # lines are ignored) to /api/v1/import/prometheus,
  // then /internal/force_flush. kInternal, with the answer, when either is not a 2xx.
  [[nodiscard]] Status Import(const std::string& text);
  [[nodiscard]] Status ImportFile(const std::string& path);

  std::string LogTail(size_t bytes = 4000) const;

 private:
  explicit VictoriaMetricsProcess(VictoriaMetricsOptions options) : options_(std::move(options)) {}

  VictoriaMetricsOptions options_;
  TempDir dir_{"anomaly_victoria_metrics"};
  std::string url_;
  std::unique_ptr<ChildProcess> process_;  // declared after dir_: destroyed (killed) before it
};

// The binary exists and is executable; kInternal naming it otherwise.
[[nodiscard]] Status CheckVictoriaMetricsInstalled();

}  // namespace anomaly::testing
