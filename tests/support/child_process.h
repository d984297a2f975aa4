// A child process for integration tests: argv (argv[0] an absolute path), extra
// environment, stdout and stderr appended to a log file, stdin from /dev/null.
// Used by PrometheusProcess and FaultServer, and later by Alertmanager and
// exporter-binary tests.
//
// The child never outlives the test binary:
//  - the destructor SIGKILLs its process group and reaps it;
//  - an exit guard (atexit plus handlers for
//  SIGINT/SIGTERM/SIGHUP/SIGABRT/SIGSEGV/SIGBUS/SIGFPE/SIGILL)
//    SIGKILLs every live child, then lets the signal take its default course;
//  - PR_SET_PDEATHSIG kills it when the thread that started it dies, even by
//  SIGKILL (a ctest
//    TIMEOUT). So start children from the test's main thread.
// Each child leads its own process group, so a signal reaches its helpers too.
// Not thread-safe: one test thread drives each object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::testing {

struct ChildOptions {
  std::vector<std::string> argv = {};  // argv[0]: an absolute path to an executable
  std::vector<std::string> env = {};   // "KEY=VALUE", added to (or replacing in) this process' environment
  std::string log_file = {};           // stdout and stderr, appended; required
  std::string working_dir = {};        // empty: this process' working directory
};

class ChildProcess {
 public:
  // kInternal when argv[0] cannot be executed (the message says why) or the log
  // cannot be opened.
  [[nodiscard]] static Result<std::unique_ptr<ChildProcess>> Start(const ChildOptions& options);
  ~ChildProcess();  // SIGKILL and reap, if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_file() const { return log_file_; }

  // True until the child has exited (reaps it when it has).
  bool Running();
  // Sends `signal` to the child's process group; no-op once it has exited.
  void Signal(int signal);
  // Waits up to `timeout` for the child to exit; its wait status (see waitpid)
  // or nullopt on timeout.
  std::optional<int> Wait(Duration timeout);
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. Returns the wait
  // status.
  int Stop(Duration grace = std::chrono::seconds(10));

  // The last `bytes` of the log file, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  ChildProcess(pid_t pid, std::string log_file) : pid_(pid), log_file_(std::move(log_file)) {}
  void Reaped(int status);

  pid_t pid_;
  std::string log_file_;
  std::optional<int> exit_status_;  // set once reaped
};

// "exited 0", "exited 3", "killed by signal 9": for messages.
std::string DescribeWaitStatus(int status);

// The absolute path of `name` on $PATH, or "" when absent. A name with a '/' is
// returned as is.
std::string FindExecutable(const std::string& name);

}  // namespace anomaly::testing
