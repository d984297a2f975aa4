// Loading, validating and describing the YAML config (docs/configuration.md). The loader refuses
// unknown keys, wrong types, bad durations, missing required keys and broken cross-field rules, and
// reports every problem it finds, one per line, as "file:line: key.path: message" (promtool style).
// Pure functions of their inputs plus, for file paths named in the config, a readability check; safe
// to call from any thread.
//
//   Result<Config> cfg = LoadConfigFromFile("anomaly.yml");
//   if (!cfg) { std::cerr << cfg.error().message << "\n"; return 1; }
//   std::cout << DescribeConfig(*cfg);
#pragma once

#include <string>
#include <string_view>

#include "anomaly/base/result.h"
#include "anomaly/config/config.h"

namespace anomaly::config {

// Parses and validates `yaml`. `filename` names the source in messages and in Config::source_path, and
// its folder is the base for relative file paths in the config (bearer_token_file, tls.*,
// basic_auth.password_file), as Prometheus resolves them; those files must exist and be readable.
// Returns the Config with every default filled in, and any warnings in Config::warnings.
// kInvalidConfig: YAML syntax, schema or cross-field error; the message holds every error found,
// sorted by line, one per line, each "filename:line: key.path: message".
[[nodiscard]] Result<Config> LoadConfigFromString(std::string_view yaml, std::string_view filename);

// Reads `path` and calls LoadConfigFromString(content, path). kInvalidConfig also when the file
// cannot be read ("path: cannot read config file: No such file or directory"). Blocks on file I/O.
[[nodiscard]] Result<Config> LoadConfigFromFile(const std::string& path);

// A short human summary for `check-config` and the start-up log: a SUCCESS line naming the file and
// the number of detectors, one line per detector (query, step, history, seasonality), then each
// warning prefixed "WARNING: ". Ends with a newline. Holds no secrets (it never reads secret files).
std::string DescribeConfig(const Config& config);

// The effective config (defaults filled in) as YAML that LoadConfigFromString reads back to an equal
// Config, for a /config page or `check-config -v`. Secret files appear as paths only; their contents
// are never read.
std::string RenderConfig(const Config& config);

}  // namespace anomaly::config
