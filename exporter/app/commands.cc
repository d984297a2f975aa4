// Main(): picks the subcommand from the first argument. A subcommand is a row of kSubcommands; every
// other command line belongs to the daemon, which is not built yet (see RunDefault).
#include "anomaly/app/commands.h"

#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#ifndef ANOMALY_VERSION
#define ANOMALY_VERSION "unknown"
#endif

namespace anomaly::app {
namespace {

constexpr std::string_view kProgram = "anomaly_exporter";

struct Subcommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(std::span<const std::string_view> args);
};

// Every subcommand, in the order --help lists them.
constexpr Subcommand kSubcommands[] = {
    {"stl", "decompose one series into seasonal, trend and remainder; CSV out", &RunStlCommand},
};

std::string Usage() {
  std::string out = "usage: " + std::string(kProgram) + " <command> [flags]\n\nCommands:\n";
  for (const Subcommand& sub : kSubcommands) {
    out += "  " + std::string(sub.name) + "   " + std::string(sub.summary) + "\n";
  }
  out += "\nFlags:\n"
         "  --help      show this help; \"" + std::string(kProgram) + " <command> --help\" shows a command's flags\n"
         "  --version   print the version\n";
  return out;
}

// The command line of the daemon: everything that is not a subcommand, --help or --version.
// The daemon replaces this body with `return RunDaemon(args);` (and may take over --help/--version).
int RunDefault(std::span<const std::string_view> args) {
  if (args.empty()) {
    std::cerr << kProgram << ": no command given (the daemon is not available yet)\n";
  } else {
    std::cerr << kProgram << ": unknown command or flag \"" << args[0] << "\"\n";
  }
  std::cerr << Usage();
  return 2;
}

}  // namespace

int Main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty()) {
    for (const Subcommand& sub : kSubcommands) {
      if (args[0] == sub.name) return sub.run(std::span(args).subspan(1));
    }
    if (args.size() == 1 && args[0] == "--version") {
      std::cout << kProgram << ", version " << ANOMALY_VERSION << "\n";
      return 0;
    }
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << Usage();
      return 0;
    }
  }
  return RunDefault(args);
}

}  // namespace anomaly::app
