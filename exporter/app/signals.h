// Process signals for the daemon. The handlers only set atomic flags (async-signal-safe); the main
// thread polls them with WaitForSignal and acts (STYLE.md B5).
#pragma once

#include <chrono>

namespace anomaly::app {

enum class SignalEvent { kNone, kTerminate, kReload };

// Installs handlers for SIGTERM and SIGINT (terminate) and SIGHUP (reload); ignores SIGPIPE.
void InstallSignalHandlers();

// Waits up to `timeout` for a signal. Terminate wins over reload when both arrived.
SignalEvent WaitForSignal(std::chrono::milliseconds timeout);

}  // namespace anomaly::app
