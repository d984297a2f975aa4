#include "support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string_view>
#include <thread>

extern char** environ;

namespace anomaly::testing {
namespace {

// Live children, for the exit guard. Plain atomics so the signal handler may
// read them.
constexpr size_t kMaxChildren = 64;
std::array<std::atomic<pid_t>, kMaxChildren> g_children{};

void KillAllChildren() {
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(-pid, SIGKILL);
  }
}

void OnFatalSignal(int signal) {
  KillAllChildren();
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

void InstallExitGuardOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(KillAllChildren);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
      struct sigaction action {};
      action.sa_handler = OnFatalSignal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESETHAND;
      ::sigaction(sig, &action, nullptr);
    }
  });
}

void Register(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void Unregister(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const std::string& x : extra)
      overridden = overridden || x.compare(0, key.size() + 1, key + "=") == 0;
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// GCC 12's libubsan, linked beside libasan, ignores UBSAN_OPTIONS' log_path and prints its reports on the
// process' stderr: for a child, the log file, which lives in a test's temporary directory. A report while
// the child shuts down (a static destructor, say) changes nothing a test can see, so it would be lost
// with that directory. When log_path is set (scripts/test-sanitized.sh sets it), a reaped child's report
// is copied there as <log_path>.child.<pid>, where the script's check finds every report file.
void ForwardUndefinedBehaviorReport(const std::string& log_file, pid_t pid) {
  const char* options = std::getenv("UBSAN_OPTIONS");
  if (options == nullptr) return;
  std::string log_path;
  const std::string all(options);
  size_t begin = 0;
  while (begin <= all.size()) {  // "a=1:b=2" (sanitizer flags also split on spaces); the last one wins
    size_t end = all.find_first_of(": ", begin);
    if (end == std::string::npos) end = all.size();
    std::string_view flag(all.data() + begin, end - begin);
    if (flag.starts_with("log_path=")) log_path = std::string(flag.substr(9));
    begin = end + 1;
  }
  if (log_path.empty() || log_path == "stderr" || log_path == "stdout") return;
  std::ifstream in(log_file, std::ios::binary);
  if (!in) return;
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t summary = log.find("SUMMARY: UndefinedBehaviorSanitizer");
  if (summary == std::string::npos) return;
  // From the first "runtime error:" (UBSan's report line) up to 64 KiB; else the 8 KiB before the summary.
  size_t start = log.find("runtime error:");
  if (start == std::string::npos || start > summary) start = summary > 8192 ? summary - 8192 : 0;
  const size_t line_start = start == 0 ? std::string::npos : log.rfind('\n', start - 1);
  start = line_start == std::string::npos ? 0 : line_start + 1;
  std::ofstream out(log_path + ".child." + std::to_string(pid), std::ios::binary | std::ios::trunc);
  out << "UndefinedBehaviorSanitizer report from child " << pid << ", copied from " << log_file << ":\n"
      << log.substr(start, 64 * 1024);
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(begin, end - begin) + "/" + name;
    if (end > begin && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return "";
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildOptions& options) {
  if (options.argv.empty() || options.argv[0].empty() || options.argv[0][0] != '/') {
    return MakeError(ErrorCode::kInternal, "ChildProcess: argv[0] must be an absolute path");
  }
  if (::access(options.argv[0].c_str(), X_OK) != 0) {
    return MakeError(ErrorCode::kInternal, "cannot execute " + options.argv[0] + ": " + std::strerror(errno));
  }
  InstallExitGuardOnce();

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = MergedEnvironment(options.env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  int log_fd = ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return MakeError(ErrorCode::kInternal, "opening " + options.log_file + ": " + std::strerror(errno));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_pipe[2];  // the child writes errno here if exec fails; CLOEXEC
                     // closes it on success
  if (null_fd < 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return MakeError(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(err));
  }
  const pid_t parent = ::getpid();
  const char* working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::setpgid(0, 0);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (working_dir && ::chdir(working_dir) != 0) {
      int err = errno;
      (void)!::write(exec_pipe[1], &err, sizeof err);
      ::_exit(127);
    }
    ::execve(argv[0], argv.data(), envp.data());
    int err = errno;
    (void)!::write(exec_pipe[1], &err, sizeof err);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  ::close(exec_pipe[1]);
  if (pid < 0) {
    ::close(exec_pipe[0]);
    return MakeError(ErrorCode::kInternal, std::string("fork: ") + std::strerror(fork_errno));
  }
  ::setpgid(pid,
            pid);  // also here, so the group exists before we might signal it
  Register(pid);
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess(pid, options.log_file));
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n == sizeof exec_errno) {
    child->Wait(std::chrono::seconds(5));
    return MakeError(ErrorCode::kInternal, "exec " + options.argv[0] + ": " + std::strerror(exec_errno));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

void ChildProcess::Reaped(int status) {
  exit_status_ = status;
  Unregister(pid_);
  ForwardUndefinedBehaviorReport(log_file_, pid_);
}

bool ChildProcess::Running() {
  if (exit_status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    Reaped(status);
    return false;
  }
  return r == 0;
}

void ChildProcess::Signal(int signal) {
  if (Running()) ::kill(-pid_, signal);
}

std::optional<int> ChildProcess::Wait(Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int ChildProcess::Stop(Duration grace) {
  Signal(SIGTERM);
  if (auto status = Wait(grace)) return *status;
  Signal(SIGKILL);
  if (auto status = Wait(std::chrono::seconds(10))) return *status;
  return -1;  // unkillable: nothing more a test can do
}

std::string ChildProcess::LogTail(size_t bytes) const {
  std::ifstream in(log_file_, std::ios::binary | std::ios::ate);
  if (!in) return "(no log at " + log_file_ + ")";
  std::streamoff size = in.tellg();
  std::streamoff start =
      size > static_cast<std::streamoff>(bytes) ? size - static_cast<std::streamoff>(bytes) : 0;
  in.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return tail;
}

}  // namespace anomaly::testing
