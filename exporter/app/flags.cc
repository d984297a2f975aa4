#include "exporter/app/flags.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

namespace anomaly::app {
namespace {

// Built by appends: g++ 12 at -O3 reports a false -Wrestrict on `"literal" + std::string&&` (GCC bug 105329).
std::string Quote(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.append(1, '"').append(text).append(1, '"');
  return quoted;
}

Status BadValue(std::string_view value, std::string_view what) {
  return MakeError(ErrorCode::kInvalidConfig, Quote(value) + " is not " + std::string(what));
}

Result<int> ParseInt(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return MakeError(ErrorCode::kInvalidConfig, Quote(text) + " is not an integer");
  }
  return value;
}

}  // namespace

void FlagSet::Add(std::string name, std::string value_name, std::string help, Setter set) {
  flags_.push_back(Flag{std::move(name), std::move(value_name), std::move(help), std::move(set)});
}

void FlagSet::AddString(std::string name, std::string value_name, std::string help, std::string* target) {
  Add(std::move(name), std::move(value_name), std::move(help), [target](std::string_view v) -> Status {
    target->assign(v.data(), v.size());
    return {};
  });
}

void FlagSet::AddInt(std::string name, std::string value_name, std::string help, int* target) {
  Add(std::move(name), std::move(value_name), std::move(help), [target](std::string_view v) -> Status {
    Result<int> parsed = ParseInt(v);
    if (!parsed) return tl::unexpected(parsed.error());
    *target = *parsed;
    return {};
  });
}

void FlagSet::AddInt(std::string name, std::string value_name, std::string help,
                     std::optional<int>* target) {
  Add(std::move(name), std::move(value_name), std::move(help), [target](std::string_view v) -> Status {
    Result<int> parsed = ParseInt(v);
    if (!parsed) return tl::unexpected(parsed.error());
    *target = *parsed;
    return {};
  });
}

void FlagSet::AddDouble(std::string name, std::string value_name, std::string help, double* target) {
  Add(std::move(name), std::move(value_name), std::move(help), [target](std::string_view v) -> Status {
    double value = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(value)) {
      return BadValue(v, "a finite number");
    }
    *target = value;
    return {};
  });
}

void FlagSet::AddDuration(std::string name, std::string value_name, std::string help, Duration* target) {
  Add(std::move(name), std::move(value_name), std::move(help), [target](std::string_view v) -> Status {
    Result<Duration> parsed = ParseDuration(v);
    if (!parsed) return BadValue(v, "a duration such as 30s, 5m or 1h");
    *target = *parsed;
    return {};
  });
}

void FlagSet::AddBool(std::string name, std::string help, bool* target) {
  Add(std::move(name), "", std::move(help), [target](std::string_view v) -> Status {
    if (v == "true") {
      *target = true;
    } else if (v == "false") {
      *target = false;
    } else {
      return BadValue(v, "true or false");
    }
    return {};
  });
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  auto it = std::find_if(flags_.begin(), flags_.end(), [name](const Flag& f) { return f.name == name; });
  return it == flags_.end() ? nullptr : &*it;
}

Result<std::vector<std::string_view>> FlagSet::Parse(std::span<const std::string_view> args) {
  std::vector<std::string_view> positionals;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      positionals.insert(positionals.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {  // includes "-", which conventionally means stdin
      positionals.push_back(arg);
      continue;
    }
    if (!arg.starts_with("--")) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "unknown flag " + std::string(arg) + " (flags are long: --name=value)");
    }
    std::string_view body = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const std::string display = "--" + std::string(body);
    Flag* flag = Find(body);
    if (flag == nullptr) return MakeError(ErrorCode::kInvalidConfig, "unknown flag " + display);
    if (flag->seen) return MakeError(ErrorCode::kInvalidConfig, "flag " + display + " given twice");
    flag->seen = true;
    if (!value) {
      if (flag->value_name.empty()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return MakeError(ErrorCode::kInvalidConfig, "flag " + display + " needs a value");
      }
    }
    if (Status set = flag->set(*value); !set) return tl::unexpected(set.error().WithContext("flag " + display));
  }
  return positionals;
}

std::string FlagSet::Usage() const {
  std::vector<std::string> lefts;
  size_t width = 0;
  for (const Flag& f : flags_) {
    lefts.push_back("--" + f.name + (f.value_name.empty() ? "" : "=" + f.value_name));
    width = std::max(width, lefts.back().size());
  }
  // Continuation lines of a multi-line help text line up under its first line.
  const std::string indent(width + 5, ' ');
  std::string out;
  for (size_t i = 0; i < flags_.size(); ++i) {
    out += "  " + lefts[i] + std::string(width - lefts[i].size() + 3, ' ');
    for (char c : flags_[i].help) {
      out += c;
      if (c == '\n') out += indent;
    }
    out += '\n';
  }
  return out;
}

}  // namespace anomaly::app
