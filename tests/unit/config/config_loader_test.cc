#include "anomaly/config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "anomaly/config/detector_params.h"
#include "support/result_matchers.h"

namespace anomaly::config {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

const std::string kDir = ANOMALY_TESTDATA_DIR "/config/";

std::string Data(const std::string& name) { return kDir + name; }

const char kMinimal[] = R"(prometheus:
  url: http://127.0.0.1:9090
detectors:
  - name: requests
    query: bars_requests
    step: 5m
    history: 7d
    interval: 30s
    seasonality: [1d]
)";

TEST(ConfigLoaderTest, LoadsTheMinimalExampleWithDefaults) {
  Result<Config> config = LoadConfigFromString(kMinimal, "config.yml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->source_path, "config.yml");
  EXPECT_EQ(config->prometheus.url, "http://127.0.0.1:9090");
  EXPECT_EQ(config->prometheus.timeout, 30s);
  EXPECT_EQ(config->prometheus.compression, prom::Compression::kNone);
  EXPECT_EQ(config->prometheus.bearer_token_file, "");
  EXPECT_FALSE(config->prometheus.basic_auth.has_value());
  EXPECT_EQ(config->prometheus.tls, TlsConfig{});
  EXPECT_THAT(config->prometheus.headers, IsEmpty());
  EXPECT_GE(config->global.evaluation_threads, 1);
  EXPECT_EQ(config->shard, (ShardConfig{0, 1}));
  EXPECT_THAT(config->warnings, IsEmpty());
  ASSERT_EQ(config->detectors.size(), 1u);
  const DetectorConfig& d = config->detectors[0];
  EXPECT_EQ(d.name, "requests");
  EXPECT_EQ(d.query, "bars_requests");
  EXPECT_EQ(d.step, 5min);
  EXPECT_EQ(d.history, 7 * 24h);
  EXPECT_EQ(d.interval, 30s);
  EXPECT_EQ(d.refit_interval, 1h);
  EXPECT_EQ(d.seasonality, (Seasonality{SeasonalityMode::kFixed, {24h}}));
  EXPECT_EQ(d.stl, StlOptions{});
  EXPECT_EQ(d.stl.seasonal_window, 7);
  EXPECT_TRUE(d.stl.robust);
  EXPECT_EQ(d.threshold.false_alarm_interval, 100 * 24h);
  EXPECT_EQ(d.threshold.floor, 3);
  EXPECT_EQ(d.threshold.window, 7 * 24h) << "defaults to history";
  EXPECT_EQ(d.direction, Direction::kBoth);
  EXPECT_EQ(d.resolve_after, 1h);
  EXPECT_EQ(d.rebaseline_after, 3h);
  EXPECT_EQ(d.persistence, 1);
  EXPECT_EQ(d.max_series, 1000);
  EXPECT_EQ(d.max_gap, 25min) << "defaults to 5 * step";
  EXPECT_EQ(d.series_ttl, 25min) << "defaults to max(5m, 5 * interval, 5 * step)";
  EXPECT_EQ(d.maintenance, MaintenanceConfig{});
}

TEST(ConfigLoaderTest, MinimalTestdataFileMatchesTheIssueExample) {
  Result<Config> from_file = LoadConfigFromFile(Data("minimal.yaml"));
  Result<Config> from_string = LoadConfigFromString(kMinimal, Data("minimal.yaml"));
  ASSERT_THAT(from_file, IsOk());
  EXPECT_EQ(*from_file, *from_string);
}

TEST(ConfigLoaderTest, LoadsEveryKeyOfGoodYaml) {
  Result<Config> config = LoadConfigFromFile(Data("good.yaml"));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->global.evaluation_threads, 3);
  const PrometheusConfig& p = config->prometheus;
  EXPECT_EQ(p.url, "https://mimir.example:8080/prometheus") << "trailing slash dropped";
  EXPECT_EQ(p.timeout, 45s);
  EXPECT_EQ(p.compression, prom::Compression::kGzip);
  ASSERT_TRUE(p.basic_auth.has_value());
  EXPECT_EQ(p.basic_auth->username, "anomaly");
  EXPECT_EQ(p.basic_auth->password_file, kDir + "secrets/password") << "resolved against the config's folder";
  EXPECT_EQ(p.tls, (TlsConfig{kDir + "secrets/ca.pem", kDir + "secrets/client.pem",
                              kDir + "secrets/client.key", true}));
  EXPECT_THAT(p.headers, ElementsAre(std::pair<const std::string, std::string>("X-Scope-OrgID", "team-a")));
  EXPECT_EQ(config->shard, (ShardConfig{1, 3}));
  ASSERT_EQ(config->detectors.size(), 3u);

  const DetectorConfig& r = config->detectors[0];
  EXPECT_EQ(r.name, "requests");
  EXPECT_EQ(r.query, "sum by (job) (rate(http_requests_total[5m]))");
  EXPECT_EQ(r.step, 5min);
  EXPECT_EQ(r.history, 21 * 24h) << "from defaults";
  EXPECT_EQ(r.interval, 30s);
  EXPECT_EQ(r.refit_interval, 2h);
  EXPECT_EQ(r.seasonality, (Seasonality{SeasonalityMode::kFixed, {24h, 7 * 24h}})) << "sorted ascending";
  EXPECT_EQ(r.stl, (StlOptions{13, false, false, 31, 289, 2, 0}));
  EXPECT_EQ(r.threshold, (ThresholdConfig{30 * 24h, 4, 3 * 24h})) << "floor from defaults, the rest its own";
  EXPECT_EQ(r.direction, Direction::kUp);
  EXPECT_EQ(r.persistence, 3);
  EXPECT_EQ(r.max_series, 50);
  EXPECT_EQ(r.max_gap, 1h);
  const TimePoint may1 = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1);
  const TimePoint jun1 = std::chrono::sys_days(std::chrono::year(2024) / 6 / 1);
  EXPECT_THAT(r.maintenance.windows, ElementsAre(MaintenanceWindow{may1 + 22h, may1 + 23h + 30min},
                                                 MaintenanceWindow{jun1 + 250ms, jun1 + 6h}));
  EXPECT_EQ(r.maintenance.condition, "max(maintenance_mode) > 0");

  const DetectorConfig& l = config->detectors[1];
  EXPECT_EQ(l.query,
            "histogram_quantile(0.99,\n  sum by (le) (rate(http_request_duration_seconds_bucket[5m])))\n");
  EXPECT_EQ(l.seasonality.mode, SeasonalityMode::kAuto);
  EXPECT_TRUE(l.stl.periodic);
  EXPECT_EQ(l.direction, Direction::kBoth) << "own value beats defaults";
  EXPECT_EQ(l.max_gap, 5min);

  const DetectorConfig& q = config->detectors[2];
  EXPECT_EQ(q.seasonality, (Seasonality{SeasonalityMode::kNone, {}}));
  EXPECT_EQ(q.step, 30s);
  EXPECT_EQ(q.threshold.window, 24h);
  EXPECT_THAT(config->warnings, IsEmpty());
}

TEST(ConfigLoaderTest, DetectorsInheritDefaultsKeyByKey) {
  Result<Config> config = LoadConfigFromFile(Data("defaults.yaml"));
  ASSERT_THAT(config, IsOk());
  ASSERT_EQ(config->detectors.size(), 2u);
  const DetectorConfig& a = config->detectors[0];
  EXPECT_EQ(a.step, 1min);
  EXPECT_EQ(a.history, 3 * 24h);
  EXPECT_EQ(a.seasonality, (Seasonality{SeasonalityMode::kFixed, {24h}}));
  EXPECT_EQ(a.threshold, (ThresholdConfig{90 * 24h, 5, 3 * 24h}));
  EXPECT_FALSE(a.stl.robust);
  EXPECT_EQ(a.max_gap, 5min) << "5 * the inherited step";
  EXPECT_EQ(a.maintenance.condition, "up{job=\"maintenance\"} == 1");
  EXPECT_THAT(a.maintenance.windows, IsEmpty());

  const DetectorConfig& b = config->detectors[1];
  EXPECT_EQ(b.step, 5min);
  EXPECT_EQ(b.seasonality, (Seasonality{SeasonalityMode::kNone, {}})) << "[] overrides the inherited [1d]";
  EXPECT_EQ(b.threshold, (ThresholdConfig{90 * 24h, 2, 3 * 24h})) << "nested blocks merge key by key";
  EXPECT_EQ(b.max_gap, 25min);
  EXPECT_EQ(b.maintenance.condition, "up{job=\"maintenance\"} == 1");
  EXPECT_EQ(b.maintenance.windows.size(), 1u);
}

TEST(ConfigLoaderTest, ShortHistoryForSeasonalityIsAWarningNotAnError) {
  Result<Config> config = LoadConfigFromString(R"(prometheus: {url: "http://p:9090"}
detectors:
  - name: weekly
    query: q
    step: 1h
    history: 10d
    seasonality: [1d, 1w]
)",
                                               "c.yml");
  ASSERT_THAT(config, IsOk());
  EXPECT_THAT(
      config->warnings,
      ElementsAre("c.yml:6: detectors[0].history: history 10d is shorter than 3 periods of seasonality 1w "
                  "(3w): a seasonal fit needs 3 cycles to outvote a past incident, so that period is left "
                  "out of the fit"));
}

// Found by tests/fuzz/fuzz_config_loader (issue 8): a step or a seasonality period that parsed but was so
// long that 5 * step (the default max_gap) or 2 * period (the history check, now 3 * period) overflowed int64
// milliseconds, undefined behaviour that UBSan reported. Durations over 292 years (the most a Prometheus
// duration can hold) are now refused where they are written. Also the history check's boundary.
TEST(ConfigLoaderTest, Issue8DurationsPrometheusCannotHoldAreRefusedWithFileAndLine) {
  auto load = [](const std::string& step, const std::string& history, const std::string& period) {
    return LoadConfigFromString(
        "prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: " +
            step + "\n    history: " + history + "\n    seasonality: [" + period + "]\n",
        "c.yml");
  };
  EXPECT_THAT(load("1m", "30d", "142222222222223m"),
              ErrorIs(ErrorCode::kInvalidConfig,
                      HasSubstr("c.yml:7: detectors[0].seasonality[0]: invalid duration "
                                "\"142222222222223m\": too large (at most 292y")));
  EXPECT_THAT(load("100000000000002m", "30d", "1d"),
              ErrorIs(ErrorCode::kInvalidConfig,
                      HasSubstr("c.yml:5: detectors[0].step: invalid duration \"100000000000002m\": "
                                "too large")));

  // The window holds history / step + 1 points: 3 days less a step still holds 3 x 1440 of them.
  for (const char* enough : {"3d", "4319m"}) {
    Result<Config> exact = load("1m", enough, "1d");
    ASSERT_THAT(exact, IsOk());
    EXPECT_THAT(exact->warnings, IsEmpty()) << enough;
  }
  Result<Config> short_by_a_step = load("1m", "4318m", "1d");
  ASSERT_THAT(short_by_a_step, IsOk());
  EXPECT_THAT(short_by_a_step->warnings,
              ElementsAre(HasSubstr("is shorter than 3 periods of seasonality 1d (3d): a seasonal fit needs 3 "
                                    "cycles to outvote a past incident, so the detector falls back to the "
                                    "baseline")));
}

// Every invalid-*.yaml file with every line of the message it must produce ("<path>" prefixed).
TEST(ConfigLoaderTest, RejectsInvalidFilesWithFileLineAndKey) {
  struct Case {
    const char* file;
    std::vector<std::string> lines;
  } cases[] = {
      {"invalid-syntax.yaml", {":5: invalid YAML: illegal map value"}},
      {"invalid-bad-duration.yaml",
       {":6: detectors[0].step: invalid duration \"5x\": unknown unit \"x\" (one of ms, s, m, h, d, w, y)"}},
      {"invalid-unknown-keys.yaml",
       {":3: prometheus.timout: unknown key (known keys here: url, timeout, compression, bearer_token_file, "
        "basic_auth, tls, headers)",
        ":9: detectors[0].threshold.percentil: unknown key (known keys here: false_alarm_interval, floor, window, percentile)",
        ":10: alerting: unknown key (known keys here: global, prometheus, defaults, detectors, shard)"}},
      {"invalid-missing-required.yaml",
       {":1: prometheus.url: required (e.g. http://prometheus:9090)",
        ":4: detectors[0].query: required (a PromQL expression)",
        ":4: detectors[0].step: required (the query resolution, e.g. 5m)"}},
      {"invalid-duplicate-name.yaml",
       {":7: detectors[1].name: duplicate detector name \"requests\" (first defined at line 4)"}},
      {"invalid-wrong-types.yaml",
       {":3: prometheus.timeout: expected a duration such as 30s, 5m, 1h or 7d, got a sequence",
        ":8: detectors[0].persistence: expected an integer, got the quoted string \"3\" (write it without "
        "quotes)",
        ":9: detectors[0].max_series: expected an integer, got \"1.5\"",
        ":11: detectors[0].stl.robust: expected true or false, got \"yes\"",
        ":12: detectors[0].threshold: expected a mapping, got a scalar"}},
      {"invalid-bad-name.yaml",
       {":4: detectors[0].name: invalid name \"2xx-requests\": must match [a-zA-Z_][a-zA-Z0-9_]*",
        ":5: detectors[0].query: must not be empty"}},
      {"invalid-seasonality.yaml",
       {":8: detectors[0].seasonality[1]: duplicate period 1d",
        ":8: detectors[0].seasonality[3]: must be > 0, got 0s",
        ":8: detectors[0].seasonality[0]: 1d is not a whole multiple of step 7m",
        ":8: detectors[0].seasonality[2]: 7m is shorter than 2 steps of 7m (a period needs at least 2 "
        "samples)",
        ":12: detectors[1].seasonality: expected a list of durations such as [1d] or [1d, 1w], or auto, or "
        "none, "
        "got \"1d\""}},
      {"invalid-step.yaml",
       {":6: detectors[0].step: must be whole seconds, got 1500ms",
        ":9: detectors[1].step: must be > 0, got 0s"}},
      {"invalid-short-history.yaml",
       {":7: detectors[0].history: history 45m holds only 9 steps of 5m; need at least 10"}},
      {"invalid-intervals.yaml",
       {":8: detectors[0].refit_interval: refit_interval 1m must be >= interval 5m",
        ":12: detectors[1].interval: must be at least 1s, got 100ms"}},
      {"invalid-threshold.yaml",
       {":8: detectors[0].threshold.false_alarm_interval: must be > 0, got 0s",
        ":9: detectors[0].threshold.floor: must be > 0, got -1",
        ":10: detectors[0].threshold.window: window 1m must be >= step 5m",
        ":11: detectors[0].direction: expected both, up or down, got \"sideways\"",
        ":12: detectors[0].persistence: must be >= 1, got 0",
        ":13: detectors[0].max_series: must be >= 1, got 0"}},
      {"invalid-stl.yaml",
       {":9: detectors[0].stl.seasonal_window: must be an odd integer >= 3 or \"periodic\", got 4",
        ":10: detectors[0].stl.trend_window: must be an odd integer >= 3, got 1",
        ":11: detectors[0].stl.lowpass_window: must be an odd integer >= 3, got 12",
        ":12: detectors[0].stl.inner_iterations: must be >= 1, got 0",
        ":13: detectors[0].stl.outer_iterations: must be >= 0, got -1"}},
      {"invalid-maintenance.yaml",
       {":9: detectors[0].maintenance.windows[0].start: invalid time \"2024-05-01 22:00\": expected RFC 3339 "
        "with "
        "a zone, e.g. 2024-05-01T22:00:00Z",
        ":12: detectors[0].maintenance.windows[1].end: must be after start",
        ":13: detectors[0].maintenance.windows[2].start: invalid time \"2024-02-30T00:00:00Z\": expected RFC "
        "3339 "
        "with a zone, e.g. 2024-05-01T22:00:00Z",
        ":13: detectors[0].maintenance.windows[2].end: required (an RFC 3339 time such as "
        "2024-05-01T22:00:00Z)",
        ":14: detectors[0].maintenance.windows[3].begin: unknown key (known keys here: start, end)",
        ":15: detectors[0].maintenance.condition: must not be empty (remove the key for no condition)",
        ":19: detectors[1].maintenance.windows[0]: expected {start: ..., end: ...}, got nothing",
        ":20: detectors[2]: expected a detector (a mapping with name, query, step, ...), got a scalar"}},
      {"invalid-prometheus.yaml",
       {":2: prometheus.url: invalid URL \"ftp://prometheus:9090\": must start with http:// or https://",
        ":3: prometheus.timeout: must be > 0, got 0s",
        ":4: prometheus.bearer_token_file: cannot read \"{dir}secrets/missing-token\": No such file or "
        "directory",
        ":5: prometheus.basic_auth.username: required",
        ":5: prometheus.basic_auth: set either bearer_token_file or basic_auth, not both",
        ":6: prometheus.basic_auth.password_file: \"{dir}secrets\" is a directory, not a file",
        ":7: prometheus.tls: cert_file and key_file must be set together",
        ":10: prometheus.headers.Authorization: refused: secrets come only from files; use bearer_token_file "
        "or "
        "basic_auth",
        ":12: prometheus.headers.x-scope-orgid: duplicate header (header names ignore case)",
        ":13: prometheus.compression: expected none or gzip, got \"brotli\""}},
      {"invalid-url-credentials.yaml",
       {":2: prometheus.url: credentials in the URL are refused; use basic_auth with password_file"}},
      {"invalid-defaults.yaml",
       {":4: defaults.name: unknown key (known keys here: step, history, interval, refit_interval, "
        "seasonality, "
        "stl, threshold, direction, resolve_after, rebaseline_after, persistence, max_series, max_gap, series_ttl, "
        "maintenance)",
        ":6: defaults.persistence: expected an integer, got \"many\"",
        ":9: detectors[0].seasonality[0]: 1d is not a whole multiple of step 7m (inherited from defaults at "
        "line 7)",
        ":11: detectors[1].seasonality[0]: 1d is not a whole multiple of step 7m (inherited from defaults at "
        "line "
        "7)"}},
      {"invalid-shard.yaml",
       {":2: global.evaluation_threads: must be >= 1, got 0",
        ":10: shard.index: must be < shard.count (3), got 3"}},
      {"invalid-duplicate-key.yaml", {":7: detectors[0].step: duplicate key"}},
      {"invalid-no-detectors.yaml",
       {":3: detectors: expected a list with at least one detector, got an empty list"}},
      {"invalid-empty.yaml",
       {": prometheus: required (at least prometheus.url)",
        ": detectors: required (a list with at least one detector)"}},
      {"invalid-two-documents.yaml", {":4: more than one YAML document; a config file holds exactly one"}},
  };
  for (const Case& c : cases) {
    std::string expected;
    for (std::string line : c.lines) {
      if (size_t dir = line.find("{dir}"); dir != std::string::npos) line.replace(dir, 5, kDir);
      expected += (expected.empty() ? "" : "\n") + Data(c.file) + line;
    }
    Result<Config> config = LoadConfigFromFile(Data(c.file));
    EXPECT_THAT(config, ErrorIs(ErrorCode::kInvalidConfig, Eq(expected)))
        << c.file << " gave:\n"
        << (config ? "" : config.error().message);
  }
}

// series_ttl: the default follows interval and step, a given value (own or inherited) is kept, and one
// shorter than interval is refused where it was written.
TEST(ConfigLoaderTest, SeriesTtlDefaultsInheritsAndIsCheckedAgainstInterval) {
  struct Case {
    const char* what;
    std::string detector;  // the keys after name/query, flow style
    std::string defaults;  // the `defaults:` block's keys, flow style
    Duration want;
  } cases[] = {
      {"default, 5m floor", "step: 10s, interval: 10s", "{}", 5min},
      {"default, 5 * interval", "step: 10s, interval: 2m", "{}", 10min},
      {"default, 5 * step", "step: 1h, interval: 1m", "{}", 5h},
      {"own value", "step: 10s, interval: 10s, series_ttl: 30s", "{}", 30s},
      {"equal to interval", "step: 10s, interval: 1m, series_ttl: 1m", "{}", 1min},
      {"inherited", "step: 10s, interval: 10s", "{series_ttl: 45s}", 45s},
      {"own beats inherited", "step: 10s, interval: 10s, series_ttl: 1h", "{series_ttl: 45s}", 1h},
  };
  for (const Case& c : cases) {
    std::string yaml = "prometheus: {url: \"http://p:9090\"}\ndefaults: " + c.defaults +
                       "\ndetectors:\n  - {name: a, query: q, " + c.detector + "}\n";
    Result<Config> config = LoadConfigFromString(yaml, "c.yml");
    ASSERT_THAT(config, IsOk()) << c.what;
    EXPECT_EQ(config->detectors[0].series_ttl, c.want) << c.what;
  }

  struct Bad {
    std::string yaml;
    std::string message;
  } bad[] = {
      {"prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: 10s\n"
       "    interval: 1m\n    series_ttl: 30s\n",
       "c.yml:7: detectors[0].series_ttl: series_ttl 30s must be >= interval 1m"},
      {"prometheus: {url: \"http://p:9090\"}\ndefaults:\n  series_ttl: 20s\ndetectors:\n  - name: a\n"
       "    query: q\n    step: 10s\n    interval: 1m\n",
       "c.yml:5: detectors[0].series_ttl: series_ttl 20s must be >= interval 1m (inherited from defaults at "
       "line 3)"},
      {"prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: 10s\n"
       "    series_ttl: 0s\n",
       "c.yml:6: detectors[0].series_ttl: must be > 0, got 0s"},
      {"prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: 10s\n"
       "    series_ttl: soon\n",
       "c.yml:6: detectors[0].series_ttl: invalid duration \"soon\""},
  };
  for (const Bad& b : bad) {
    EXPECT_THAT(LoadConfigFromString(b.yaml, "c.yml"),
                ErrorIs(ErrorCode::kInvalidConfig, HasSubstr(b.message)))
        << b.yaml;
  }
}

// The store drops a series after exactly series_ttl; a DetectorConfig built in code (series_ttl 0, as the
// backtest's) gets the loader's default.
TEST(ConfigLoaderTest, SeriesTtlIsTheStoresStaleAfter) {
  Result<Config> config = LoadConfigFromString(
      "prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - {name: a, query: q, step: 1s, interval: 1s, "
      "series_ttl: 7s}\n",
      "c.yml");
  ASSERT_THAT(config, IsOk());
  Result<series::StoreOptions> store = StoreOptionsFor(config->detectors[0]);
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(store->series_ttl, 7s);

  DetectorConfig in_code = config->detectors[0];
  in_code.series_ttl = Duration(0);
  in_code.interval = 2min;
  store = StoreOptionsFor(in_code);
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(store->series_ttl, 10min);
  EXPECT_EQ(DefaultSeriesTtl(in_code), 10min);
}

// Found by tests/fuzz/fuzz_config_loader (issue 8): a quoted key or value holding a line break split
// its error over two lines, breaking "one error per line, each file:line: key.path: message".
TEST(ConfigLoaderTest, Issue8LineBreaksInKeysAndValuesKeepOneErrorPerLine) {
  Result<Config> config = LoadConfigFromString(R"(prometheus: {url: "http://p:9090"}
detectors:
  - name: a
    query: x
    step: "1\nm"
    "seas\r\nality": 1d
)",
                                               "c.yml");
  ASSERT_FALSE(config.has_value());
  const std::string& message = config.error().message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_THAT(message, HasSubstr("c.yml:5: detectors[0].step: invalid duration \"1\\nm\""));
  EXPECT_THAT(message, HasSubstr("\nc.yml:6: detectors[0].seas\\r\\nality: unknown key"));
}

// Found by tests/fuzz/fuzz_config_loader (issue 8): yaml-cpp 0.7's LoadAll never returns on a stream
// with a stray ',' where a node should start (jbeder/yaml-cpp#1040); it appended null documents until
// memory ran out, so a typo in the config hung start-up or a reload.
TEST(ConfigLoaderTest, Issue8StrayCommaIsASyntaxErrorNotAHang) {
  for (const std::string& yaml :
       {std::string(","), std::string(",a\n"),
        std::string(",prometheus: {url: \"http://p:9090\"}\ndetectors:090\ndetectors: []\n")}) {
    EXPECT_THAT(LoadConfigFromString(yaml, "c.yml"),
                ErrorIs(ErrorCode::kInvalidConfig, Eq("c.yml:1: invalid YAML: unexpected token")))
        << yaml;
  }
}

TEST(ConfigLoaderTest, ReportsAMissingConfigFile) {
  EXPECT_THAT(LoadConfigFromFile(Data("no-such-file.yaml")),
              ErrorIs(ErrorCode::kInvalidConfig, Eq(Data("no-such-file.yaml") +
                                                    ": cannot read config file: No such file or directory")));
}

TEST(ConfigLoaderTest, RelativeSecretPathsResolveAgainstTheConfigFolder) {
  const std::string yaml = R"(prometheus:
  url: http://p:9090
  bearer_token_file: secrets/token
detectors: [{name: a, query: a, step: 1m}]
)";
  Result<Config> config = LoadConfigFromString(yaml, kDir + "inline.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->prometheus.bearer_token_file, kDir + "secrets/token");
  EXPECT_THAT(LoadConfigFromString(yaml, "/nonexistent-dir/inline.yaml"),
              ErrorIs(ErrorCode::kInvalidConfig,
                      HasSubstr("inline.yaml:3: prometheus.bearer_token_file: cannot read "
                                "\"/nonexistent-dir/secrets/token\": No such file or directory")));
}

TEST(ConfigLoaderTest, ExamplesLoad) {
  for (const char* name : {"minimal.yml", "full.yml"}) {
    Result<Config> config = LoadConfigFromFile(std::string(ANOMALY_EXAMPLES_DIR "/") + name);
    EXPECT_THAT(config, IsOk()) << name;
    if (config) {
      EXPECT_THAT(config->warnings, IsEmpty()) << name;
    }
  }
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ConfigLoaderTest, DocsShowTheFullExampleVerbatim) {
  std::string docs = ReadWhole(ANOMALY_DOCS_DIR "/configuration.md");
  size_t section = docs.find("## Full example");
  ASSERT_NE(section, std::string::npos);
  size_t begin = docs.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  size_t end = docs.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(docs.substr(begin, end - begin), ReadWhole(ANOMALY_EXAMPLES_DIR "/full.yml"));
}


// kind, group_by, min_group_size (issue 17): a multivariate detector's groups.
TEST(ConfigLoaderTest, MultivariateKindReadsItsGroupKeysAndRefusesThemElsewhere) {
  Result<Config> config = LoadConfigFromString(R"(prometheus: {url: "http://p:9090"}
detectors:
  - name: servers
    query: '{__name__=~"cpu|mem|disk_io"}'
    step: 1m
    kind: multivariate
    group_by: [instance]
    min_group_size: 2
  - name: plain
    query: q
    step: 1m
)",
                                               "c.yml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->detectors[0].kind, DetectorKind::kMultivariate);
  EXPECT_EQ(config->detectors[0].group_by, std::vector<std::string>{"instance"});
  EXPECT_EQ(config->detectors[0].min_group_size, 2);
  EXPECT_EQ(config->detectors[1].kind, DetectorKind::kSeries);
  EXPECT_EQ(config->detectors[1].min_group_size, 3);

  auto error_of = [](const std::string& keys) {
    Result<Config> c = LoadConfigFromString(
        "prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: 1m\n" + keys, "c.yml");
    return c ? std::string() : c.error().message;
  };
  EXPECT_THAT(error_of("    kind: pods\n"),
              HasSubstr("c.yml:6: detectors[0].kind: expected series, multivariate or peers, got \"pods\""));
  EXPECT_THAT(error_of("    group_by: [instance]\n"),
              HasSubstr("c.yml:6: detectors[0].group_by: only for kind: multivariate or peers"));
  EXPECT_THAT(error_of("    kind: multivariate\n    group_by: [instance, instance]\n"),
              HasSubstr("detectors[0].group_by[1]: label \"instance\" is named twice"));
  EXPECT_THAT(error_of("    kind: multivariate\n    group_by: [\"9x\"]\n"),
              HasSubstr("detectors[0].group_by[0]: invalid label name \"9x\""));
  EXPECT_THAT(error_of("    kind: multivariate\n    min_group_size: 1\n"),
              HasSubstr("c.yml:7: detectors[0].min_group_size: must be >= 2, got 1"));
  EXPECT_THAT(error_of("    kind: multivariate\n    group_by: instance\n"),
              HasSubstr("detectors[0].group_by: expected a list of label names"));
}

TEST(ConfigLoaderTest, PeersKindReadsItsGroupKeysWithAtLeastThreeMembers) {
  Result<Config> config = LoadConfigFromString(R"(prometheus: {url: "http://p:9090"}
detectors:
  - name: pods
    query: 'rate(http_request_duration_seconds_sum[5m])'
    step: 1m
    kind: peers
    group_by: [service]
  - name: sized
    query: q
    step: 1m
    min_group_size: 10
    kind: peers
)",
                                               "c.yml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->detectors[0].kind, DetectorKind::kPeers);
  EXPECT_EQ(config->detectors[0].group_by, std::vector<std::string>{"service"});
  EXPECT_EQ(config->detectors[0].min_group_size, 3);
  EXPECT_EQ(config->detectors[1].min_group_size, 10);
  EXPECT_THAT(DescribeConfig(*config),
              HasSubstr("  pods: step 1m, history 1w, interval 1m, seasonality auto, kind peers, "
                        "group_by [service], min_group_size 3, query:"));
  Result<Config> again = LoadConfigFromString(RenderConfig(*config), "rendered.yml");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->detectors[0].kind, DetectorKind::kPeers);
  EXPECT_EQ(again->detectors[1].min_group_size, 10);

  Result<Config> two = LoadConfigFromString(
      "prometheus: {url: \"http://p:9090\"}\ndetectors:\n  - name: a\n    query: q\n    step: 1m\n"
      "    kind: peers\n    min_group_size: 2\n",
      "c.yml");
  EXPECT_THAT(two, ErrorIs(ErrorCode::kInvalidConfig,
                           HasSubstr("c.yml:7: detectors[0].min_group_size: must be >= 3, got 2")));
}

}  // namespace
}  // namespace anomaly::config
