#include "exporter/app/signals.h"

#include <atomic>
#include <csignal>
#include <thread>

namespace anomaly::app {
namespace {

// Lock-free atomics are async-signal-safe; these are written by the handlers and read by the main thread.
std::atomic<bool> g_terminate{false};
std::atomic<bool> g_reload{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSignal(int sig) {
  if (sig == SIGHUP) {
    g_reload.store(true);
  } else {
    g_terminate.store(true);
  }
}

}  // namespace

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
}

SignalEvent WaitForSignal(std::chrono::milliseconds timeout) {
  // Polling at 50 ms keeps the handler trivial (no self-pipe) and bounds shutdown latency.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (g_terminate.load()) return SignalEvent::kTerminate;
    if (g_reload.exchange(false)) return SignalEvent::kReload;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return SignalEvent::kNone;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(50)));
  }
}

}  // namespace anomaly::app
