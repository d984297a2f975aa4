// Main(): picks the subcommand from the first argument. A subcommand is a row of kSubcommands; every
// other command line belongs to the daemon (RunDaemon), which also answers --help and --version.
#include "anomaly/app/commands.h"

#include <span>
#include <string_view>
#include <vector>

namespace anomaly::app {
namespace {

struct Subcommand {
  std::string_view name;
  int (*run)(std::span<const std::string_view> args);
};

constexpr Subcommand kSubcommands[] = {
    {"stl", &RunStlCommand},
    {"check-config", &RunCheckConfig},
    {"check-web-config", &RunCheckWebConfig},
    {"backtest", &RunBacktestCommand},
};

}  // namespace

int Main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty()) {
    for (const Subcommand& sub : kSubcommands) {
      if (args[0] == sub.name) return sub.run(std::span(args).subspan(1));
    }
  }
  return RunDaemon(args);
}

}  // namespace anomaly::app
