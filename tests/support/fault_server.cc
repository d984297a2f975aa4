#include "support/fault_server.h"

#include <chrono>
#include <thread>

#include "support/http_fetch.h"

namespace anomaly::testing {

Result<std::unique_ptr<FaultServer>> FaultServer::Start() {
  std::string python = FindExecutable("python3");
  if (python.empty())
    return MakeError(ErrorCode::kInternal, "python3 is not on PATH; the fault server needs it");
  auto server = std::unique_ptr<FaultServer>(new FaultServer());
  const std::string port_file = server->dir_.File("port");
  auto child = ChildProcess::Start({
      .argv = {python, "-u", ANOMALY_FAULT_SERVER_PY, "--port-file", port_file},
      .log_file = server->dir_.File("fault_server.log"),
  });
  if (!child) return tl::unexpected(child.error());
  server->process_ = std::move(*child);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    std::string port = ReadFile(port_file);
    if (!port.empty()) {
      server->url_ = "http://127.0.0.1:" + port;
      return server;
    }
    if (!server->process_->Running() || std::chrono::steady_clock::now() >= deadline) {
      return MakeError(ErrorCode::kInternal, "fault server did not start:\n" + server->process_->LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int FaultServer::RequestCount(const std::string& key) const {
  Result<HttpResult> r = HttpGet(url_ + "/__count/" + key);
  if (!r || r->status != 200) return -1;
  return std::stoi(r->body);
}

}  // namespace anomaly::testing
