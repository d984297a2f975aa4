// The validated configuration: plain values, every default already filled in, every cross-field rule
// already checked. Built only by LoadConfigFromString/LoadConfigFromFile (config_loader.h); the app
// shares it between threads as std::shared_ptr<const Config> and swaps it whole on reload. Immutable
// after loading, so any number of threads may read it. docs/configuration.md describes the YAML keys in
// the same order as the fields below.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/prom/range_query_client.h"

namespace anomaly::config {

// A wall-clock instant (RFC 3339 in YAML, always with a zone; held as UTC).
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// `global:`. Process-wide settings.
struct GlobalConfig {
  // Threads that run detector cycles and fit and score their series. Each detector's cycle is one task
  // on one worker, which fits and scores its series there and on this many - 1 shared helper threads
  // (series::Detector::Evaluate), so a detector's first cycle or refit round uses them all. Default:
  // std::thread::hardware_concurrency() (at least 1); fewer leave CPU to the web server and other
  // processes. Read at start-up only: a reload keeps the threads.
  int evaluation_threads = 1;
  friend bool operator==(const GlobalConfig&, const GlobalConfig&) = default;
};

// `prometheus.basic_auth:`. Exclusive with bearer_token_file.
struct BasicAuth {
  std::string username;  // required
  // Path of a file whose content (trailing newline stripped by the reader) is the password. The path
  // only: the loader checks that the file is readable but never reads it. Relative paths are resolved
  // against the config file's folder. Empty = no password.
  std::string password_file;
  friend bool operator==(const BasicAuth&, const BasicAuth&) = default;
};

// `prometheus.tls:`. Every path resolved against the config file's folder and checked readable.
struct TlsConfig {
  std::string ca_file;    // CA bundle to verify the server; empty = the system's roots
  std::string cert_file;  // client certificate (mTLS); set together with key_file
  std::string key_file;   // client key; set together with cert_file
  // Skip server certificate verification. Default false. Only for tests: it makes TLS worthless
  // against a man in the middle.
  bool insecure_skip_verify = false;
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// `prometheus:`. The one upstream every detector queries (Prometheus, Thanos, Mimir, VictoriaMetrics).
struct PrometheusConfig {
  // Base URL, http:// or https://, with any path prefix the API lives under
  // (e.g. http://mimir:8080/prometheus); /api/v1/query_range is appended. Required.
  std::string url;
  // Per-request timeout, sent as the `timeout` parameter as well. Default 30s. Longer lets heavy
  // queries finish; shorter frees a cycle sooner when the upstream hangs.
  Duration timeout = std::chrono::seconds(30);
  // Path of a file holding a bearer token (sent as "Authorization: Bearer ..."). Empty = none.
  // Exclusive with basic_auth. Checked readable, never read here.
  std::string bearer_token_file;
  std::optional<BasicAuth> basic_auth;  // absent = no basic auth
  TlsConfig tls;
  // Extra request headers, e.g. X-Scope-OrgID for a Mimir/Cortex tenant. Not for secrets: Authorization
  // is refused here (use bearer_token_file or basic_auth), and these values appear in RenderConfig.
  std::map<std::string, std::string> headers;
  // `compression: none | gzip`: whether answers are asked for gzip-compressed. Default none: the exporter
  // usually runs beside the store on a fast network, where compressing costs more than it saves.
  prom::Compression compression = prom::Compression::kNone;
  friend bool operator==(const PrometheusConfig&, const PrometheusConfig&) = default;
};

// `seasonality:` of a detector.
enum class SeasonalityMode {
  kNone,   // `none` or []: non-seasonal robust baseline only
  kAuto,   // `auto`: the period is detected from the data at each refit
  kFixed,  // a list of durations: one period = STL, several = MSTL
};

struct Seasonality {
  // Default kAuto: most service metrics follow the calendar (a daily cycle, often a weekly one), and a
  // non-seasonal model reads every night as an incident. Only 1h, 1d and 1w are considered, and a change of
  // periods needs the new answer at every refit for one cycle of the longest period (docs/detection.md).
  SeasonalityMode mode = SeasonalityMode::kAuto;
  // kFixed only: ascending, distinct, each a whole multiple (>= 2) of the detector's step.
  std::vector<Duration> periods;
  friend bool operator==(const Seasonality&, const Seasonality&) = default;
};

// `stl:` options, passed to scoring::StlParams (R's stl() names in comments).
struct StlOptions {
  // s.window: odd >= 3, in periods. Default 7. Larger = a smoother, slower-changing seasonal shape.
  int seasonal_window = 7;
  // s.window = "periodic": the seasonal shape is the same in every period. Default false.
  bool periodic = false;
  // Robustness iterations that down-weight outliers in the fit. Default true: anomalies in the
  // history must not bend the expected values. false is faster and fine for clean data.
  bool robust = true;
  std::optional<int> trend_window;      // t.window: odd >= 3; absent = R's default
  std::optional<int> lowpass_window;    // l.window: odd >= 3; absent = next odd >= period
  std::optional<int> inner_iterations;  // inner: >= 1; absent = 1 if robust, else 2
  std::optional<int> outer_iterations;  // outer: >= 0; absent = 15 if robust, else 0
  friend bool operator==(const StlOptions&, const StlOptions&) = default;
};

// `threshold:`. A sample is anomalous when the tail probability of its recent errors, under the
// distribution of the series' own past errors, is below step / false_alarm_interval (docs/detection.md),
// and its own |z| is at least floor.
struct ThresholdConfig {
  // The false-alarm budget as a time, > step: on normal data about one alarm per series per this long,
  // at most. Default 100d. Shorter = more sensitive. The same value means the same on every step.
  Duration false_alarm_interval = std::chrono::days(100);
  // Lowest |z| that can be anomalous, > 0. Default 3. Keeps a very regular series from flagging noise.
  double floor = 3;
  // Trailing span of error history the calibration learns from, >= step. Default: the detector's
  // history. Longer = a steadier threshold that adapts more slowly.
  Duration window = Duration(0);
  friend bool operator==(const ThresholdConfig&, const ThresholdConfig&) = default;
};

// `direction:`: which side of the band counts as anomalous.
enum class Direction { kBoth, kUp, kDown };

// `kind:` of a detector: what is judged.
enum class DetectorKind {
  kSeries,        // `series` (default): every series of the query alone
  kMultivariate,  // `multivariate`: the series of one group (group_by) judged together (docs/detection.md)
  kPeers,         // `peers`: each series of one group (group_by) judged against the other members
};

// One fixed maintenance range [start, end).
struct MaintenanceWindow {
  TimePoint start;
  TimePoint end;  // > start
  friend bool operator==(const MaintenanceWindow&, const MaintenanceWindow&) = default;
};

// `maintenance:`. While in maintenance a detector neither fits nor scores (state `maintenance`).
struct MaintenanceConfig {
  std::vector<MaintenanceWindow> windows;  // fixed ranges, in file order
  // PromQL; while it returns any sample the detector is in maintenance. Empty = none.
  std::string condition;
  friend bool operator==(const MaintenanceConfig&, const MaintenanceConfig&) = default;
};

// One entry of `detectors:`. Every key except name and query may also be given once in `defaults:`.
struct DetectorConfig {
  // [a-zA-Z_][a-zA-Z0-9_]*, unique; the `detector` label value. Required.
  std::string name;
  // PromQL, non-empty; checked by the upstream at start-up, not here. Required.
  std::string query;
  // Resolution of query_range, whole seconds, > 0. Required. Smaller = finer detail, more samples
  // (memory and fit time grow as history / step).
  Duration step = Duration(0);
  // Fit window. Default 7d. history / step >= 10. Needs 2 periods of the longest seasonality for
  // STL/MSTL; shorter histories fall back to the baseline (a warning, not an error).
  Duration history = std::chrono::days(7);
  // Scoring cadence: a cycle runs this often. Default 1m, >= 1s.
  Duration interval = std::chrono::minutes(1);
  // How often the model is refitted. Default 1h, >= interval. Shorter adapts sooner at more CPU.
  Duration refit_interval = std::chrono::hours(1);
  Seasonality seasonality;
  StlOptions stl;
  ThresholdConfig threshold;
  Direction direction = Direction::kBoth;
  // An incident (episode) ends after this long without an anomalous sample; until then the flag stays up
  // and no new alert starts. Default 1h, >= 0.
  Duration resolve_after = std::chrono::hours(1);
  // An episode that lasts this long with its errors on one side is a new normal (a deploy, a migration):
  // the model re-baselines on it at once. Default 3h; 0 = never.
  Duration rebaseline_after = std::chrono::hours(3);
  // Consecutive anomalous samples before the flag rises, >= 1. Default 1. Higher = fewer alerts on
  // single spikes, later alerts.
  int persistence = 1;
  // Cardinality cap, >= 1. Default 1000. Series beyond it are dropped and counted in
  // anomaly_exporter_series_dropped.
  int max_series = 1000;
  // Gaps up to this long are interpolated; longer ones put the series in state `gap`. >= 0.
  // Default 5 * step.
  Duration max_gap = Duration(0);
  // A series absent from every successful answer for this long leaves /metrics (and the store). >= interval.
  // Default max(5m, 5 * interval, 5 * step): long enough to ride out a few empty answers, short enough
  // that churned series do not linger. Shorter frees memory and clears /metrics sooner under churn; a
  // TTL near interval drops a series at its first missed sample. Failed queries never age series: they
  // only mark them stale. 0 here (a DetectorConfig built in code) means that same default.
  Duration series_ttl = Duration(0);
  MaintenanceConfig maintenance;
  DetectorKind kind = DetectorKind::kSeries;
  // multivariate, peers: the series whose values of these labels are equal form one group (each a member,
  // named by its other labels); empty = every series of the query is one group. Valid label names, distinct.
  std::vector<std::string> group_by;
  // multivariate (>= 2), peers (>= 3): the fewest members a group is judged with. Default 3. A smaller
  // multivariate group is in state insufficient_data, a smaller peers group's members in
  // insufficient_peers; neither carries a score.
  int min_group_size = 3;
  friend bool operator==(const DetectorConfig&, const DetectorConfig&) = default;
};

// `shard:`. This process scores only the series whose HashLabels() % count == index.
struct ShardConfig {
  int index = 0;  // 0 <= index < count
  int count = 1;  // >= 1; default 1 = no sharding
  friend bool operator==(const ShardConfig&, const ShardConfig&) = default;
};

struct Config {
  GlobalConfig global;
  PrometheusConfig prometheus;
  std::vector<DetectorConfig> detectors;  // at least one, in file order
  ShardConfig shard;
  // Not from YAML: the file name given to the loader, and facts that are not errors but change
  // behaviour ("file:line: key: message"), e.g. a history too short for the seasonality.
  std::string source_path;
  std::vector<std::string> warnings;
  friend bool operator==(const Config&, const Config&) = default;
};

}  // namespace anomaly::config
