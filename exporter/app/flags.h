// A small command-line flag parser shared by every subcommand and the daemon. Flags are long only:
// `--name=value` or `--name value`; a boolean flag is `--name` (or `--name=true|false`). Names may hold
// dots and dashes, Prometheus style (`--config.file`, `--web.listen-address`). An unknown flag, a
// repeated flag, a missing value or a value of the wrong type is an error naming the flag. `--` ends the
// flags; other arguments (and `-` alone) are returned as positionals. Not thread-safe; one per parse.
//
//   FlagSet flags;
//   flags.AddInt("period", "P", "samples per season", &period);
//   flags.AddBool("robust", "use robustness weights", &robust);
//   Result<std::vector<std::string_view>> rest = flags.Parse(args);
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::app {

class FlagSet {
 public:
  // Parses one value; returns kInvalidConfig with a message that does not repeat the flag name
  // (Parse prefixes "flag --name: ").
  using Setter = std::function<Status(std::string_view value)>;

  // The general form: `value_name` is shown in the usage ("--period=P"). The typed forms below wrap it.
  void Add(std::string name, std::string value_name, std::string help, Setter set);

  // The target must outlive Parse. A flag that is not given leaves its target unchanged, so the
  // caller's initial value is the default.
  void AddString(std::string name, std::string value_name, std::string help, std::string* target);
  void AddInt(std::string name, std::string value_name, std::string help, int* target);
  void AddInt(std::string name, std::string value_name, std::string help, std::optional<int>* target);
  void AddDouble(std::string name, std::string value_name, std::string help, double* target);
  void AddDuration(std::string name, std::string value_name, std::string help, Duration* target);
  void AddBool(std::string name, std::string help, bool* target);

  // Applies the flags in `args` (program name and subcommand excluded) and returns the positional
  // arguments, which view into `args`. kInvalidConfig on the first bad argument:
  //   "unknown flag --foo", "flag --period needs a value", "flag --period given twice",
  //   "flag --period: \"x\" is not an integer", "flag --robust: \"x\" is not true or false".
  [[nodiscard]] Result<std::vector<std::string_view>> Parse(std::span<const std::string_view> args);

  // One line per flag in the order added, aligned: "  --period=P   samples per season".
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // empty for a boolean flag
    std::string help;
    Setter set;
    bool seen = false;
  };
  Flag* Find(std::string_view name);

  std::vector<Flag> flags_;
};

}  // namespace anomaly::app
