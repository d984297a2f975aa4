// Faults against real processes (issue 8, "Load and faults"): the real anomaly_exporter binary, a real
// Prometheus (backfilled with the demo workload, and scraping a churn target), and the fault proxy
// between them. Beyond daemon_test.cc's broken answers: Prometheus SIGKILLed mid-query and started
// again, answers slower than the timeout and bodies cut mid-JSON (each logged once, with its cause),
// 429 with Retry-After (honoured, measured at the proxy), series churn against series_ttl, and 100
// reloads while cycles run. Each test starts its own exporter; Prometheus, the proxy and the churn
// target serve the whole suite. docs/reliability.md lists what each fault gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/free_port.h"
#include "support/http_fetch.h"
#include "support/metrics_text.h"
#include "support/prometheus_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

const std::map<std::string, std::string> kRequests = {{"detector", "requests"}};

#ifdef ANOMALY_SANITIZED
constexpr bool kSanitized = true;  // slower binaries, RSS dominated by the sanitizer's own memory
constexpr double kSlack = 3;       // time bounds widen by this factor
#else
constexpr bool kSanitized = false;
constexpr double kSlack = 1;
#endif
const char* const kServices[] = {"checkout", "search", "login", "catalog"};

// One detector over the workload's 4 request series; a cycle every second. Timeout 1 s keeps the
// slow-answer test short (4 attempts, each cut at 1 s).
std::string RequestsConfig(const std::string& upstream, const std::string& detector_extra = "",
                           const std::string& more_detectors = "") {
  return "prometheus:\n"
         "  url: " +
         upstream +
         "\n"
         "  timeout: 1s\n"
         "defaults:\n"
         "  step: 1m\n"
         "  history: 2d\n"
         "  interval: 1s\n"
         "  seasonality: [1d]\n"
         "  threshold: {floor: 5}\n"
         "detectors:\n"
         "  - name: requests\n"
         "    query: demo_http_requests_per_second\n" +
         detector_extra + more_detectors;
}

// How many times `needle` occurs in `text` after byte `from`.
int Count(const std::string& text, const std::string& needle, size_t from = 0) {
  int n = 0;
  for (size_t at = text.find(needle, from); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

struct Exporter {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string config_file;

  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  std::vector<TextSample> Scrape() const {
    auto r = HttpGet(Url("/metrics"));
    if (!r || r->status != 200) return {};
    return ParseMetricsText(r->body);
  }
  double Value(const std::string& name, const std::map<std::string, std::string>& match) const {
    return SampleValue(Scrape(), name, match).value_or(0);
  }
  std::string Log() const { return ReadFile(process->log_file()); }
};

class FaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_faults_test");
    const std::string om = dir_->File("history.om");
    std::string cmd = "python3 " ANOMALY_SOURCE_DIR
                      "/scripts/workload.py backfill --days 3 --step 60 "
                      "--recent-incident 15 --out " +
                      om;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

    churn_ = StartHelper("churn", {ANOMALY_SOURCE_DIR "/tests/support/churn_target.py"}, &churn_url_);
    ASSERT_NE(churn_, nullptr);
    PrometheusOptions popts;
    popts.openmetrics_file = om;
    popts.scrape_interval = seconds(1);
    popts.scrape_configs =
        "  - job_name: churn\n"
        "    static_configs:\n"
        "      - targets: ['" +
        churn_url_.substr(7) + "']\n";
    auto prom = PrometheusProcess::Start(popts);
    ASSERT_TRUE(prom.has_value()) << prom.error().message;
    prometheus_ = prom->release();
    proxy_ = StartHelper(
        "proxy", {ANOMALY_SOURCE_DIR "/tests/support/fault_proxy.py", "--upstream", prometheus_->url()},
        &proxy_url_);
    ASSERT_NE(proxy_, nullptr);
  }

  static void TearDownTestSuite() {
    delete proxy_;
    delete prometheus_;
    delete churn_;
    delete dir_;
  }

  void TearDown() override {
    SetMode("pass");
    if (HasFailure() && exporter_.process)
      std::cerr << "exporter log:\n" << exporter_.process->LogTail() << "\n";
    exporter_ = Exporter{};
  }

  // A Python helper from tests/support that binds 127.0.0.1:0 and writes its port to --port-file.
  static ChildProcess* StartHelper(const std::string& name, std::vector<std::string> args, std::string* url) {
    const std::string port_file = dir_->File(name + ".port");
    ChildOptions o;
    o.argv = {FindExecutable("python3")};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.argv.insert(o.argv.end(), {"--port-file", port_file});
    o.log_file = dir_->File(name + ".log");
    auto p = ChildProcess::Start(o);
    if (!p) return nullptr;
    if (!Eventually([&] { return !ReadFile(port_file).empty(); }, seconds(10))) return nullptr;
    *url = "http://127.0.0.1:" + ReadFile(port_file);
    return p->release();
  }

  // Starts the real binary on `yaml` and waits for /-/ready.
  void StartExporter(const std::string& name, const std::string& yaml) {
    exporter_.config_file = dir_->File(name + ".yml");
    ASSERT_TRUE(WriteFile(exporter_.config_file, yaml));
    exporter_.port = FreePort();
    ChildOptions o;
    o.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + exporter_.config_file,
              "--web.listen-address=127.0.0.1:" + std::to_string(exporter_.port)};
    o.log_file = dir_->File(name + ".log");
    auto e = ChildProcess::Start(o);
    ASSERT_TRUE(e.has_value()) << e.error().message;
    exporter_.process = std::move(*e);
    ASSERT_TRUE(Eventually(
        [&] {
          auto r = HttpGet(exporter_.Url("/-/ready"));
          return r && r->status == 200;
        },
        seconds(90)))
        << exporter_.process->LogTail();
  }

  static void SetMode(const std::string& mode) {
    auto r = HttpPost(proxy_url_ + "/__mode?mode=" + mode, "");
    ASSERT_TRUE(r.has_value() && r->status == 200) << mode;
  }

  size_t CountInState(const std::string& state) const {
    return FindSamples(exporter_.Scrape(), "anomaly_state", {{"detector", "requests"}, {"state", state}})
        .size();
  }

  std::map<std::string, double> Expected() const {
    std::map<std::string, double> out;
    std::vector<TextSample> m = exporter_.Scrape();
    for (const char* s : kServices) {
      out[s] = SampleValue(m, "anomaly_expected", {{"detector", "requests"}, {"service", s}}).value_or(-1);
    }
    return out;
  }

  // After a fault: every series back to `ok` (up to two breaker cooldowns of 30 s), with its state kept:
  // the expected values of before, no warm-up, and far fewer samples ingested than a new history load.
  void ExpectRecoveredWithStateKept(const std::map<std::string, double>& expected_before,
                                    double ingested_before) {
    EXPECT_TRUE(Eventually([&] { return CountInState("ok") == 4; }, seconds(100)));
    std::map<std::string, double> after = Expected();
    for (const char* s : kServices) {
      EXPECT_NEAR(after[s], expected_before.at(s), 0.05 * expected_before.at(s)) << s;
    }
    // A history reload would read 2d / 1m = 2,880 samples per series again.
    EXPECT_LT(exporter_.Value("anomaly_exporter_samples_ingested_total", kRequests) - ingested_before,
              4 * 2880 / 2);
    EXPECT_THAT(exporter_.Log(), HasSubstr("msg=\"query recovered\" detector=requests"));
    EXPECT_TRUE(exporter_.process->Running());
  }

  static inline TempDir* dir_ = nullptr;
  static inline PrometheusProcess* prometheus_ = nullptr;
  static inline ChildProcess* proxy_ = nullptr;
  static inline ChildProcess* churn_ = nullptr;
  static inline std::string proxy_url_, churn_url_;
  Exporter exporter_;
};

TEST_F(FaultsTest, PrometheusKilledMidQueryAndRestartedRecoversKeepingState) {
  // series_ttl 3s, far shorter than the outage: failed queries must not age the series out.
  StartExporter("killed", RequestsConfig(proxy_url_, "    series_ttl: 3s\n"));
  ASSERT_TRUE(Eventually([&] { return CountInState("ok") == 4; }, seconds(30)));
  const std::map<std::string, double> expected = Expected();
  const double ingested = exporter_.Value("anomaly_exporter_samples_ingested_total", kRequests);
  const double unavailable_before = exporter_.Value(
      "anomaly_exporter_query_errors_total", {{"detector", "requests"}, {"reason", "upstream_unavailable"}});

  // Hold each query 300 ms in the proxy, and kill Prometheus while one is in flight.
  SetMode("delay:300");
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = HttpGet(proxy_url_ + "/__inflight");
        return r && r->body != "0";
      },
      seconds(10)));
  prometheus_->Kill();
  SetMode("pass");

  EXPECT_TRUE(Eventually(
      [&] {
        std::vector<TextSample> m = exporter_.Scrape();
        return SampleValue(m, "anomaly_exporter_query_errors_total",
                           {{"detector", "requests"}, {"reason", "upstream_unavailable"}})
                       .value_or(0) > unavailable_before &&
               FindSamples(m, "anomaly_state", {{"detector", "requests"}, {"state", "stale"}}).size() == 4;
      },
      seconds(30)));
  // Stale: no score, no flag (docs/metrics.md); every series still there, past its series_ttl.
  std::this_thread::sleep_for(seconds(5));  // > series_ttl: a deliberate wait, not a synchronisation
  std::vector<TextSample> m = exporter_.Scrape();
  EXPECT_EQ(FindSamples(m, "anomaly_state", {{"detector", "requests"}, {"state", "stale"}}).size(), 4u);
  EXPECT_TRUE(FindSamples(m, "anomaly_flag", kRequests).empty());
  EXPECT_TRUE(FindSamples(m, "anomaly_score", kRequests).empty());
  EXPECT_EQ(SampleValue(m, "anomaly_exporter_series", kRequests), 4.0);
  EXPECT_EQ(SampleValue(m, "anomaly_exporter_detector_ready", kRequests), 1.0);
  auto health = HttpGet(exporter_.Url("/-/healthy"));
  EXPECT_TRUE(health && health->status == 200);

  ASSERT_TRUE(prometheus_->Restart().has_value()) << prometheus_->LogTail();
  ExpectRecoveredWithStateKept(expected, ingested);
}

// Answers slower than the timeout, and bodies cut mid-JSON: counted under their reason, logged once for
// the whole failure streak with the cause, series stale meanwhile, and the state kept.
TEST_F(FaultsTest, SlowAndCutAnswersAreCountedLoggedOnceAndKeepState) {
  StartExporter("slow_cut", RequestsConfig(proxy_url_));
  struct Fault {
    const char* mode;
    const char* reason;
    int failed_cycles;  // wait for at least this many failed cycles under `reason`
    const char* cause;  // in the logged err
  } faults[] = {
      // Each cycle makes 4 attempts of 1 s; the breaker opens during the second (then reason cancelled).
      {"slow", "timeout", 1, "timed out"},
      {"malformed", "upstream_malformed", 4, "not valid JSON"},
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(f.mode);
    ASSERT_TRUE(Eventually([&] { return CountInState("ok") == 4; }, seconds(100)));
    const std::map<std::string, double> expected = Expected();
    const double ingested = exporter_.Value("anomaly_exporter_samples_ingested_total", kRequests);
    const std::map<std::string, std::string> reason = {{"detector", "requests"}, {"reason", f.reason}};
    const double before = exporter_.Value("anomaly_exporter_query_errors_total", reason);
    const size_t log_from = exporter_.Log().size();
    SetMode(f.mode);
    EXPECT_TRUE(Eventually(
        [&] {
          return exporter_.Value("anomaly_exporter_query_errors_total", reason) >= before + f.failed_cycles &&
                 CountInState("stale") == 4;
        },
        seconds(60)));
    if (std::string(f.mode) == "slow") {
      EXPECT_TRUE(Eventually(
          [&] {
            return exporter_.Value("anomaly_exporter_query_errors_total",
                                   {{"detector", "requests"}, {"reason", "cancelled"}}) > 0;
          },
          seconds(30)))
          << "the breaker opens after 5 consecutive timeouts";
    }
    const std::string log = exporter_.Log();
    EXPECT_EQ(Count(log, "detector=requests reason=" + std::string(f.reason), log_from), 1)
        << log.substr(log_from);
    size_t line = log.find("reason=" + std::string(f.reason), log_from);
    ASSERT_NE(line, std::string::npos);
    EXPECT_THAT(log.substr(line, log.find('\n', line) - line), HasSubstr(f.cause));
    EXPECT_EQ(exporter_.Value("anomaly_exporter_series", kRequests), 4.0);
    SetMode("pass");
    ExpectRecoveredWithStateKept(expected, ingested);
  }
}

// 429 with Retry-After: every retry waits at least that long (measured at the proxy). Three 429s fit in
// the retries (no error, never stale); four exhaust them (one error, counted and logged, state kept).
TEST_F(FaultsTest, TooManyRequestsHonoursRetryAfter) {
  StartExporter("throttle", RequestsConfig(proxy_url_));
  ASSERT_TRUE(Eventually([&] { return CountInState("ok") == 4; }, seconds(30)));
  auto proxy_log = [] {
    auto r = HttpGet(proxy_url_ + "/__log");
    return r ? nlohmann::json::parse(r->body) : nlohmann::json::array();
  };
  auto errors = [&] {
    return exporter_.Value("anomaly_exporter_query_errors_total",
                           {{"detector", "requests"}, {"reason", "upstream_unavailable"}});
  };
  // Every 429 in the proxy's log from `from` on, and the gap to the request after it.
  auto gaps_after_429 = [&](size_t from) {
    std::vector<double> gaps;
    nlohmann::json log = proxy_log();
    for (size_t i = from; i + 1 < log.size(); ++i) {
      if (log[i][1] == 429) gaps.push_back(log[i + 1][0].get<double>() - log[i][0].get<double>());
    }
    return gaps;
  };

  const double errors_before = errors();
  size_t from = proxy_log().size();
  SetMode("throttle:3:2");
  ASSERT_TRUE(Eventually([&] { return gaps_after_429(from).size() == 3; }, seconds(30)));
  for (double gap : gaps_after_429(from)) EXPECT_GE(gap, 1.95) << "Retry-After: 2 not honoured";
  EXPECT_EQ(errors(), errors_before) << "the fourth attempt succeeded";
  EXPECT_EQ(CountInState("ok"), 4u);

  const std::map<std::string, double> expected = Expected();
  const double ingested = exporter_.Value("anomaly_exporter_samples_ingested_total", kRequests);
  const size_t log_from = exporter_.Log().size();
  from = proxy_log().size();
  SetMode("throttle:4:1");
  EXPECT_TRUE(Eventually([&] { return errors() == errors_before + 1; }, seconds(30)));
  std::vector<double> gaps = gaps_after_429(from);
  ASSERT_GE(gaps.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_GE(gaps[i], 0.95) << "Retry-After: 1 not honoured, retry " << i;
  const std::string log = exporter_.Log();
  EXPECT_EQ(Count(log, "detector=requests reason=upstream_unavailable", log_from), 1) << log.substr(log_from);
  EXPECT_THAT(log.substr(log_from), HasSubstr("429"));
  ExpectRecoveredWithStateKept(expected, ingested);
}

// Series churn through a real scrape: a series removed from the target gets Prometheus' staleness marker,
// leaves the answers, and leaves /metrics once series_ttl has passed; a new one is scored from the next
// cycle.
TEST_F(FaultsTest, ChurnedSeriesLeaveAfterTheTtlAndNewOnesArePickedUp) {
  ASSERT_TRUE(HttpPost(churn_url_ + "/__set?ids=a,b", "").has_value());
  StartExporter("churn", "prometheus: {url: \"" + proxy_url_ +
                             "\", timeout: 2s}\n"
                             "detectors:\n"
                             "  - name: churn\n"
                             "    query: churn_value\n"
                             "    step: 1s\n"
                             "    history: 1m\n"
                             "    interval: 1s\n"
                             "    series_ttl: 6s\n");
  auto has = [&](const std::string& id) {
    return !FindSamples(exporter_.Scrape(), "anomaly_state", {{"detector", "churn"}, {"id", id}}).empty();
  };
  ASSERT_TRUE(Eventually([&] { return has("a") && has("b"); }, seconds(30)));

  ASSERT_TRUE(HttpPost(churn_url_ + "/__set?ids=a,c", "").has_value());
  const auto removed = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - removed).count();
  };
  EXPECT_TRUE(Eventually([&] { return has("c"); }, seconds(static_cast<int>(10 * kSlack))))
      << "new series not picked up";
  const double c_seen = since();
  EXPECT_LT(c_seen, 5.0 * kSlack) << "one scrape (1 s) and the next cycle (1 s), with slack";
  ASSERT_TRUE(Eventually([&] { return !has("b"); }, seconds(static_cast<int>(30 * kSlack))));
  const double b_gone = since();
  // b was last in an answer at most ~3 s after its removal (the fetch overlaps 2 steps), then 6 s of TTL.
  EXPECT_GE(b_gone, 5.0) << "b left before series_ttl";
  EXPECT_LE(b_gone, 15.0 * kSlack);
  EXPECT_TRUE(has("a"));
  std::cout << "churn: new series scored after " << c_seen << " s, vanished one gone after " << b_gone
            << " s (series_ttl 6s)\n";
}

// 100 reloads while cycles run (after 50 that warm the allocator up), alternating SIGHUP and POST
// /-/reload, cycling through two good configs and two broken ones: no crash, each reload counted once with
// the right outcome, the last good config in force, and RSS flat. Measured over 600 reloads, RSS rose
// 17.7 MiB (10) -> 18.1 (50) -> 18.7 (100) -> 19.3 (200) -> 19.8 (400) and then stayed there: malloc
// arenas settling, not a per-reload leak (which `make test-asan`'s leak checker would also report).
TEST_F(FaultsTest, HundredReloadsWhileCyclesRunKeepTheLastGoodConfigAndFlatMemory) {
  const std::string good1 = RequestsConfig(proxy_url_);
  const std::string good2 = RequestsConfig(proxy_url_, "    threshold: {floor: 50}\n",
                                           "  - name: latency\n"
                                           "    query: demo_http_request_duration_seconds\n");
  const std::string bad1 = good1 + "    bogus_key: 1\n";
  const std::string bad2 = good2 + "    step: 5x\n";
  const std::string* sequence[] = {&good1, &good2, &bad1, &good2, &bad2};
  StartExporter("reloads", good1);

  auto count_reloads = [&](int* ok, int* failed) {
    std::string log = exporter_.Log();
    *ok = Count(log, "msg=\"config reloaded\"");
    *failed = Count(log, "msg=\"config reload failed");
  };
  int want_ok = 0, want_failed = 0;
  long rss_after_50 = 0;
  for (int i = 0; i < 150; ++i) {
    SCOPED_TRACE("reload " + std::to_string(i));
    const std::string& yaml = *sequence[i % 5];
    const bool good = &yaml == &good1 || &yaml == &good2;
    ASSERT_TRUE(WriteFile(exporter_.config_file, yaml));
    if (i % 2 == 0) {
      exporter_.process->Signal(SIGHUP);
    } else {
      auto r = HttpPost(exporter_.Url("/-/reload"), "", "application/x-www-form-urlencoded", seconds(30));
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->status, good ? 200 : 500) << r->body;
    }
    (good ? want_ok : want_failed)++;
    int ok = 0, failed = 0;
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    do {
      count_reloads(&ok, &failed);
      if (ok + failed >= want_ok + want_failed) break;
      std::this_thread::sleep_for(milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(ok, want_ok);
    ASSERT_EQ(failed, want_failed);
    ASSERT_EQ(exporter_.Value("anomaly_exporter_config_last_reload_successful", {}), good ? 1.0 : 0.0);
    ASSERT_TRUE(exporter_.process->Running());
    if (i == 49) rss_after_50 = RssKiB(exporter_.process->pid());
  }
  // The last reload (i = 149) was bad2, the last good one good2: floor 50 and the latency detector.
  EXPECT_TRUE(Eventually(
      [&] {
        std::vector<TextSample> m = exporter_.Scrape();
        std::vector<TextSample> thresholds = FindSamples(m, "anomaly_threshold", kRequests);
        if (thresholds.size() != 4) return false;
        for (const TextSample& t : thresholds) {
          if (t.value < 50) return false;
        }
        return SampleValue(m, "anomaly_exporter_detector_ready", {{"detector", "latency"}}) == 1.0;
      },
      seconds(60)));
  // Let the last runners finish their first cycles, then compare resident memory.
  std::this_thread::sleep_for(seconds(3));
  const long rss_after_150 = RssKiB(exporter_.process->pid());
  std::cout << "reloads: RSS after 50 = " << rss_after_50 << " KiB, after 150 = " << rss_after_150
            << " KiB, ratio " << static_cast<double>(rss_after_150) / static_cast<double>(rss_after_50)
            << "\n";
  if (!kSanitized) {
    EXPECT_LE(rss_after_150, rss_after_50 * 11 / 10) << "RSS grew more than 10% over 100 reloads";
  }
}

}  // namespace
}  // namespace anomaly::testing
