// The command-line entry points. main() calls Main(); each subcommand returns a process exit code:
// 0 success, 1 runtime failure, 2 bad flags or bad input (a one-line message on stderr).
//
//   anomaly_exporter [flags]               the daemon (see --help)
//   anomaly_exporter stl [flags]           decompose one series, CSV out
//   anomaly_exporter check-config FILE     validate a config file
//   anomaly_exporter backtest [flags]      score history as the daemon would have (docs/backtest.md)
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace anomaly::app {

int Main(int argc, char** argv);

// Subcommands; args exclude the program name and the subcommand word.
int RunStlCommand(std::span<const std::string_view> args);

// Replays a CSV file or a Prometheus range through the daemon's scoring; CSV, NAB CSV and an HTML report.
int RunBacktestCommand(std::span<const std::string_view> args);

// The daemon (anything that is not a subcommand): Prometheus-style flags, see --help.
int RunDaemon(std::span<const std::string_view> args);

// Validates a config file without contacting Prometheus: 0, or 2 with every error as file:line: key: msg.
int RunCheckConfig(std::span<const std::string_view> args);

// Validates a web config (--web.config.file) as start-up would, certificate and key files included: 0,
// or 2 with every error as file:line: key: msg (or the file that OpenSSL refused).
int RunCheckWebConfig(std::span<const std::string_view> args);

// The same on explicit streams (tests): `in` is read for `--input -` (the default), the CSV goes to
// `out`, --help to `out`, and the one-line error to `err`. Nothing reaches `out` unless the whole
// decomposition succeeded.
int RunStlCommand(std::span<const std::string_view> args, std::istream& in, std::ostream& out,
                  std::ostream& err);

}  // namespace anomaly::app
