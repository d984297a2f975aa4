// The daemon's command line (Prometheus flag conventions), `check-config` and `check-web-config`.
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include "anomaly/app/commands.h"
#include "anomaly/base/log.h"
#include "anomaly/config/config_loader.h"
#include "anomaly/config/web_config.h"
#include "anomaly/http/web_server.h"
#include "exporter/app/daemon.h"
#include "exporter/app/flags.h"
#include "exporter/app/revision.h"
#include "exporter/app/signals.h"

#ifndef ANOMALY_VERSION
#define ANOMALY_VERSION "unknown"
#endif

namespace anomaly::app {
namespace {

constexpr std::string_view kProgram = "anomaly_exporter";

std::string DaemonUsage(const FlagSet& flags) {
  return "usage: anomaly_exporter --config.file=FILE [flags]\n"
         "       anomaly_exporter check-config FILE\n"
         "       anomaly_exporter check-web-config FILE\n"
         "       anomaly_exporter stl --period=P --seasonal=S|periodic [flags]   (see stl --help)\n\n"
         "Runs the configured PromQL queries against Prometheus on their own intervals, scores every series\n"
         "with robust STL, and serves the results on the telemetry path.\n\nFlags:\n" +
         flags.Usage();
}

// The OpenSSL shims TLS needs (http/tls_context.h) sit in lib/anomaly_exporter beside the binary in a
// build tree and in ../lib/anomaly_exporter when installed (<prefix>/bin and <prefix>/lib).
std::vector<std::string> TlsShimDirs() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const std::filesystem::path dir = exe.parent_path();
  return {(dir / "lib/anomaly_exporter").string(),
          (dir / "../lib/anomaly_exporter").lexically_normal().string()};
}

}  // namespace

int RunDaemon(std::span<const std::string_view> args) {
  DaemonOptions options;
  std::string listen = ":10650";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool help = false;
  bool version = false;
  FlagSet flags;
  flags.AddString("config.file", "FILE", "the YAML config file (required; see docs/configuration.md)",
                  &options.config_file);
  flags.AddString("web.listen-address", "ADDRESSES",
                  "addresses to listen on, comma-separated HOST:PORT or :PORT (default :10650)", &listen);
  flags.AddString("web.telemetry-path", "PATH", "path under which metrics are served (default /metrics)",
                  &options.telemetry_path);
  flags.AddString("web.config.file", "FILE",
                  "web config (exporter-toolkit format): TLS, mutual TLS, basic auth and headers for every\n"
                  "endpoint; re-read on reload (see docs/security.md)",
                  &options.web_config_file);
  flags.AddInt("web.max-requests", "N", "maximum number of parallel HTTP requests (default 40)",
               &options.max_requests);
  int score_max_body_bytes = static_cast<int>(options.score.max_body_bytes);
  int score_max_samples = static_cast<int>(options.score_limits.max_samples);
  flags.AddInt("web.score-max-body-bytes", "N",
               "POST /api/v1/score: largest request body read, in bytes; longer ones get 413 (default 4194304)",
               &score_max_body_bytes);
  flags.AddInt("web.score-concurrency", "N",
               "POST /api/v1/score: requests scored at once on its own threads; more get 429 (default 1)",
               &options.score.concurrency);
  flags.AddDuration("web.score-timeout", "D",
                    "POST /api/v1/score: the most one request may take; then 503 (default 30s)",
                    &options.score.timeout);
  flags.AddInt("web.score-max-samples", "N",
               "POST /api/v1/score: the most samples one request may hold; more get 400 (default 100000)",
               &score_max_samples);
  flags.AddString("web.external-url", "URL",
                  "the URL under which the exporter is reached from outside (e.g. behind a reverse proxy): the\n"
                  "series page links of /api/v1/anomalies and the alert rules are made absolute under it",
                  &options.external_url);
  flags.AddString(
      "web.shard-url-template", "URL",
      "each shard's base URL, {shard} standing for its index (e.g. http://anomaly-exporter-{shard}.\n"
      "anomaly-exporter-headless:10650): feedback sent to a shard that does not own the episode is\n"
      "redirected there (307); not set: answered 421 naming the owning shard",
      &options.shard_url_template);
  flags.AddString("storage.path", "DIR",
                  "a folder where episodes and feedback are kept across restarts (file DIR/state, rewritten\n"
                  "atomically); not set: in memory only",
                  &options.storage_path);
  flags.AddInt("shard.index", "I", "this replica's shard, 0 <= I < shard.count (overrides the config)",
               &options.shard_index);
  flags.AddInt("shard.count", "N", "number of shards the series are split into (overrides the config)",
               &options.shard_count);
  flags.AddString("log.level", "LEVEL", "only log messages at or above: debug, info, warn, error (default info)",
                  &log_level);
  flags.AddString("log.format", "FORMAT", "log format: logfmt or json (default logfmt)", &log_format);
  flags.AddBool("version", "print the version and exit", &version);
  flags.AddBool("help", "show this help and exit", &help);

  Result<std::vector<std::string_view>> positional = flags.Parse(args);
  if (!positional) {
    std::cerr << kProgram << ": " << positional.error().message << "\n";
    return 2;
  }
  if (help) {
    std::cout << DaemonUsage(flags);
    return 0;
  }
  if (version) {
    std::cout << kProgram << ", version " << ANOMALY_VERSION << " (revision: " << ANOMALY_REVISION
              << ", git: " << ANOMALY_GIT_DESCRIBE << ")\n";
    return 0;
  }
  if (!positional->empty()) {
    std::cerr << kProgram << ": unknown command \"" << (*positional)[0] << "\" (see --help)\n";
    return 2;
  }
  std::optional<log::Level> level = log::ParseLevel(log_level);
  std::optional<log::Format> format = log::ParseFormat(log_format);
  if (!level || !format) {
    std::cerr << kProgram << ": "
              << (!level ? "flag --log.level: must be debug, info, warn or error"
                         : "flag --log.format: must be logfmt or json")
              << "\n";
    return 2;
  }
  log::Configure(*level, *format);
  if (options.config_file.empty()) {
    std::cerr << kProgram << ": flag --config.file is required (see --help)\n";
    return 2;
  }
  if ((options.shard_index >= 0) != (options.shard_count > 0)) {
    std::cerr << kProgram << ": flags --shard.index and --shard.count go together\n";
    return 2;
  }
  if (score_max_body_bytes < 1 || score_max_samples < 1) {
    std::cerr << kProgram << ": flags --web.score-max-body-bytes and --web.score-max-samples must be 1 or more\n";
    return 2;
  }
  while (!options.external_url.empty() && options.external_url.back() == '/') options.external_url.pop_back();
  if (!options.external_url.empty() && !options.external_url.starts_with("http://") &&
      !options.external_url.starts_with("https://")) {
    std::cerr << kProgram << ": flag --web.external-url: must be an absolute http:// or https:// URL\n";
    return 2;
  }
  if (!options.shard_url_template.empty() &&
      ((!options.shard_url_template.starts_with("http://") &&
        !options.shard_url_template.starts_with("https://")) ||
       options.shard_url_template.find(kShardPlaceholder) == std::string::npos)) {
    std::cerr << kProgram << ": flag --web.shard-url-template: must be an absolute http:// or https:// URL "
              << "holding {shard}\n";
    return 2;
  }
  options.score.max_body_bytes = static_cast<size_t>(score_max_body_bytes);
  options.score_limits.max_samples = static_cast<size_t>(score_max_samples);
  options.listen_addresses.clear();
  for (size_t pos = 0; pos <= listen.size();) {
    size_t comma = listen.find(',', pos);
    if (comma == std::string::npos) comma = listen.size();
    if (comma > pos) options.listen_addresses.push_back(listen.substr(pos, comma - pos));
    pos = comma + 1;
  }

  options.tls_shim_dirs = TlsShimDirs();
  InstallSignalHandlers();
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Create(options);
  if (!daemon) {
    log::Error("could not start", {{"err", daemon.error().message}});
    return daemon.error().code == ErrorCode::kInvalidConfig ? 2 : 1;
  }
  int code = (*daemon)->Run();
  daemon->reset();
  return code;
}

namespace {

// The shape both check commands share: `--help`, exactly one FILE, then `check(path)`, which returns
// the summary for stdout or the error for stderr. Exit 0, or 2 for a usage error or an invalid file.
int RunFileCheck(std::span<const std::string_view> args, const char* usage,
                 const std::function<Result<std::string>(const std::string&)>& check) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << usage;
    return 0;
  }
  if (args.size() != 1) {
    std::cerr << usage;
    return 2;
  }
  Result<std::string> summary = check(std::string(args[0]));
  if (!summary) {
    std::cerr << summary.error().message << "\n";
    return 2;
  }
  std::cout << *summary;
  return 0;
}

}  // namespace

int RunCheckConfig(std::span<const std::string_view> args) {
  return RunFileCheck(args,
                      "usage: anomaly_exporter check-config FILE\n"
                      "Loads and validates FILE as the daemon would, without contacting Prometheus; exits 0 if it is\n"
                      "valid, else 2 with every error as file:line: key: message.\n",
                      [](const std::string& path) -> Result<std::string> {
                        Result<config::Config> cfg = config::LoadConfigFromFile(path);
                        if (!cfg) return tl::unexpected(cfg.error());
                        return config::DescribeConfig(*cfg);
                      });
}

int RunCheckWebConfig(std::span<const std::string_view> args) {
  return RunFileCheck(
      args,
      "usage: anomaly_exporter check-web-config FILE\n"
      "Loads FILE as --web.config.file would, reading its certificate, key and CA files; exits 0 if\n"
      "it is valid, else 2 with every error as file:line: key: message. Prints no secrets.\n",
      [](const std::string& path) -> Result<std::string> {
        Result<config::WebConfig> web = config::LoadWebConfigFromFile(path);
        if (!web) return tl::unexpected(web.error());
        if (Status s = http::CheckWebConfig(*web); !s) {
          return MakeError(s.error().code, path + ": " + s.error().message);
        }
        return "SUCCESS: " + path + " is valid: TLS " + (web->tls_server_config ? "on" : "off") + ", " +
               std::to_string(web->basic_auth_users.size()) + " basic auth user(s), " +
               std::to_string(web->headers.size()) + " header(s)\n";
      });
}

}  // namespace anomaly::app
