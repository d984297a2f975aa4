// tests/support/fault_server.py as a child process on 127.0.0.1 (a port it
// binds itself): an HTTP upstream that answers slowly, cuts bodies, sends 429
// with Retry-After or 503 then success. The fault is chosen by URL prefix; see
// the script's docstring.
//
//   auto faults = FaultServer::Start();
//   client options.url = (*faults)->url() + "/flaky/2";
#pragma once

#include <memory>
#include <string>

#include "anomaly/base/result.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {

class FaultServer {
 public:
  // kInternal when python3 is missing or the server does not come up within 10s
  // (with its log).
  [[nodiscard]] static Result<std::unique_ptr<FaultServer>> Start();
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  const std::string& url() const { return url_; }  // http://127.0.0.1:<port>
  // How many requests the prefix `key` (e.g. "flaky/2") received; -1 if the
  // server did not answer.
  int RequestCount(const std::string& key) const;
  std::string LogTail() const { return process_->LogTail(); }

 private:
  FaultServer() = default;
  TempDir dir_{"anomaly_fault_server"};
  std::string url_;
  std::unique_ptr<ChildProcess> process_;  // after dir_: killed before the dir goes
};

}  // namespace anomaly::testing
