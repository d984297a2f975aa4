#include "anomaly/http/web_server.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "anomaly/exposition/self_metrics.h"
#include "result_matchers.h"

namespace anomaly::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct HttpResult {
  long status = 0;
  std::string content_type;
  std::string body;
  std::string headers;  // raw response header lines, lowercased
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One request with libcurl, as Prometheus would make it; gzip=true sends Accept-Encoding: gzip and lets
// curl decode the body.
HttpResult Fetch(const std::string& url, const std::string& method = "GET", bool gzip = false) {
  HttpResult r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  if (gzip) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  const CURLcode rc = curl_easy_perform(curl);
  EXPECT_EQ(rc, CURLE_OK) << url << ": " << curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) r.content_type = type;
  curl_easy_cleanup(curl);
  std::transform(r.headers.begin(), r.headers.end(), r.headers.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}

exposition::SeriesReport Series(std::string detector, Labels labels, double score, bool flagged,
                                scoring::SeriesState state = scoring::SeriesState::kOk) {
  exposition::SeriesReport r;
  r.detector = std::move(detector);
  r.labels = MakeLabels(std::move(labels));
  r.verdict.state = state;
  r.verdict.model = scoring::ModelKind::kStl;
  r.verdict.value = 10 * score;
  r.verdict.expected = 5;
  r.verdict.score = score;
  r.verdict.threshold = 3;
  r.verdict.anomalous = flagged;
  r.verdict.anomalous_since_ms = flagged ? 1767225000000 : 0;
  r.periods = "1d";
  return r;
}

// A server per test on a free loopback port, with a snapshot of three flagged series (one with a
// hostile label value), one scored normal series and one warming up.
class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    self_ = std::make_shared<exposition::SelfMetrics>("1.2.3", "deadbeef");
    self_->SetReady("api");
    collector_ = std::make_shared<exposition::AnomalyCollector>();
    exposition::Snapshot s;
    s.series.push_back(Series("api", {{"job", "a"}}, 1.5, true));
    s.series.push_back(Series("api", {{"job", "b"}}, 0.2, false));
    s.series.push_back(Series("api", {{"job", "c"}, {"__name__", "up"}}, 4.0, true));
    s.series.push_back(Series("api", {{"job", "d"}}, 0, false, scoring::SeriesState::kWarmingUp));
    s.series.push_back(Series("api", {{"job", "<script>alert(1)</script>"}}, 2.0, true));
    collector_->Publish(std::make_shared<const exposition::Snapshot>(std::move(s)));

    Callbacks callbacks;
    callbacks.ready = [this] { return ready_.load(); };
    callbacks.reload = [this]() -> Status {
      ++reloads_;
      if (reload_fails_) return MakeError(ErrorCode::kInvalidConfig, "config.yaml:3: step: bad duration");
      return {};
    };
    callbacks.landing = [] {
      return LandingInfo{"1.2.3", "deadbeef", {{"api<b>", 7, 1767225600000, true}}};
    };
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.max_requests = 4;
    auto server = WebServer::Create(options, self_->registry(), collector_, callbacks);
    ASSERT_THAT(server, testing::IsOk());
    server_ = std::move(*server);
    const std::vector<int> ports = server_->GetListeningPorts();
    ASSERT_EQ(ports.size(), 1u);
    ASSERT_GT(ports[0], 0);
    base_ = "http://127.0.0.1:" + std::to_string(ports[0]);
  }

  std::shared_ptr<exposition::SelfMetrics> self_;
  std::shared_ptr<exposition::AnomalyCollector> collector_;
  std::atomic<bool> ready_ = false;
  std::atomic<int> reloads_ = 0;
  std::atomic<bool> reload_fails_ = false;
  std::unique_ptr<WebServer> server_;  // last: stopped before the state its callbacks read
  std::string base_;
};

TEST_F(WebServerTest, ServesMetricsFromBothSources) {
  HttpResult r = Fetch(base_ + "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("anomaly_exporter_build_info{revision=\"deadbeef\",version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(r.body, HasSubstr("anomaly_score{detector=\"api\",job=\"a\"} 1.5\n"));
  EXPECT_THAT(r.body, HasSubstr("anomaly_state{detector=\"api\",job=\"d\",state=\"warming_up\"} 1\n"));
  EXPECT_THAT(r.headers, Not(HasSubstr("content-encoding")));
}

TEST_F(WebServerTest, ServesGzipWhenAsked) {
  HttpResult plain = Fetch(base_ + "/metrics");
  HttpResult gz = Fetch(base_ + "/metrics", "GET", /*gzip=*/true);
  EXPECT_EQ(gz.status, 200);
  EXPECT_THAT(gz.headers, HasSubstr("content-encoding: gzip"));
  EXPECT_EQ(gz.body, plain.body);  // curl decoded it
}

TEST_F(WebServerTest, MetricsFollowNewSnapshot) {
  collector_->Publish(std::make_shared<const exposition::Snapshot>());
  HttpResult r = Fetch(base_ + "/metrics");
  EXPECT_THAT(r.body, Not(HasSubstr("anomaly_score")));
  EXPECT_THAT(r.body, HasSubstr("anomaly_exporter_detector_ready{detector=\"api\"} 1"));
}

TEST_F(WebServerTest, HealthyAlwaysOk) {
  HttpResult r = Fetch(base_ + "/-/healthy");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
}

TEST_F(WebServerTest, ReadyFollowsCallback) {
  EXPECT_EQ(Fetch(base_ + "/-/ready").status, 503);
  ready_ = true;
  EXPECT_EQ(Fetch(base_ + "/-/ready").status, 200);
  ready_ = false;
  EXPECT_EQ(Fetch(base_ + "/-/ready").status, 503);
}

TEST_F(WebServerTest, ReloadCallsCallbackAndReportsError) {
  HttpResult ok = Fetch(base_ + "/-/reload", "POST");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(reloads_, 1);
  reload_fails_ = true;
  HttpResult failed = Fetch(base_ + "/-/reload", "POST");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "failed to reload config: config.yaml:3: step: bad duration\n");
  EXPECT_EQ(reloads_, 2);
}

TEST_F(WebServerTest, ReloadRejectsGet) {
  HttpResult r = Fetch(base_ + "/-/reload");
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, HasSubstr("allow: post"));
  EXPECT_EQ(reloads_, 0);
}

TEST_F(WebServerTest, UnknownPathIs404) {
  EXPECT_EQ(Fetch(base_ + "/nope").status, 404);
  EXPECT_EQ(Fetch(base_ + "/metrics/extra").status, 404);
  EXPECT_EQ(Fetch(base_ + "/api/v1/anomalies/x").status, 404);
}

TEST_F(WebServerTest, MetricsRejectsPost) { EXPECT_EQ(Fetch(base_ + "/metrics", "POST").status, 405); }

TEST_F(WebServerTest, AnomaliesApiListsFlaggedByScoreDescending) {
  HttpResult r = Fetch(base_ + "/api/v1/anomalies");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "success");
  ASSERT_EQ(body["data"].size(), 3u);
  EXPECT_EQ(body["data"][0]["labels"]["job"], "c");
  EXPECT_EQ(body["data"][0]["labels"]["__name__"], "up");
  EXPECT_EQ(body["data"][1]["labels"]["job"], "<script>alert(1)</script>");
  EXPECT_EQ(body["data"][2]["labels"]["job"], "a");
  const nlohmann::json& top = body["data"][0];
  EXPECT_EQ(top["detector"], "api");
  EXPECT_EQ(top["score"], 4.0);
  EXPECT_EQ(top["value"], 40.0);
  EXPECT_EQ(top["expected"], 5.0);
  EXPECT_EQ(top["threshold"], 3.0);
  EXPECT_EQ(top["anomalous"], true);
  EXPECT_EQ(top["anomalous_since"], 1767225000.0);
  EXPECT_EQ(top["state"], "ok");
  EXPECT_EQ(top["model"], "stl");
  EXPECT_EQ(top["periods"], "1d");
  for (const char* key : {"lower", "upper", "zscore", "timestamp"}) EXPECT_TRUE(top.contains(key)) << key;
}

TEST_F(WebServerTest, AnomaliesApiAllIncludesEveryScoredSeries) {
  nlohmann::json body = nlohmann::json::parse(Fetch(base_ + "/api/v1/anomalies?all=1").body);
  ASSERT_EQ(body["data"].size(), 4u);  // the warming-up series has no score and stays out
  std::vector<double> scores;
  for (const auto& row : body["data"]) scores.push_back(row["score"]);
  EXPECT_EQ(scores, (std::vector<double>{4.0, 2.0, 1.5, 0.2}));
  EXPECT_EQ(body["data"][3]["anomalous_since"], nullptr);
}

TEST_F(WebServerTest, LandingPageEscapesEverything) {
  HttpResult r = Fetch(base_ + "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("<a href=\"/metrics\">"));
  EXPECT_THAT(r.body, HasSubstr("1.2.3"));
  EXPECT_THAT(r.body, HasSubstr("api&lt;b&gt;"));
  EXPECT_THAT(r.body, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(r.body, Not(HasSubstr("<script>")));
  EXPECT_THAT(r.body, Not(HasSubstr("api<b>")));
  EXPECT_THAT(r.body, HasSubstr("Current anomalies (3)"));
  EXPECT_THAT(r.body, HasSubstr("2026-01-01T00:00:00Z"));  // the detector's last cycle
}

TEST(WebServerCreateTest, ThrowingCallbackBecomes500) {
  Callbacks callbacks;
  callbacks.ready = []() -> bool { throw std::runtime_error("boom"); };
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  auto server = WebServer::Create(options, nullptr, nullptr, callbacks);
  ASSERT_THAT(server, testing::IsOk());
  const std::string base = "http://127.0.0.1:" + std::to_string((*server)->GetListeningPorts().at(0));
  EXPECT_EQ(Fetch(base + "/-/ready").status, 500);
  EXPECT_EQ(Fetch(base + "/-/healthy").status, 200);  // the server survives it
  EXPECT_EQ(Fetch(base + "/-/reload", "POST").status, 500);  // no reload callback
}

// civetweb's workers have 100 KiB stacks; the series page's fit overflowed one under AddressSanitizer.
// Every endpoint but the telemetry path must run where a deep call (STL, YAML, JSON) has room.
TEST(WebServerCreateTest, HandlersOtherThanMetricsRunOnAFullSizedStack) {
  std::atomic<size_t> stack_size = 0;
  Callbacks callbacks;
  callbacks.ready = [&stack_size] {
    pthread_attr_t attr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstacksize(&attr, &size);
      pthread_attr_destroy(&attr);
    }
    stack_size = size;
    return true;
  };
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  auto server = WebServer::Create(options, nullptr, std::make_shared<exposition::AnomalyCollector>(), callbacks);
  ASSERT_THAT(server, testing::IsOk());
  const std::string base = "http://127.0.0.1:" + std::to_string((*server)->GetListeningPorts().at(0));
  EXPECT_EQ(Fetch(base + "/-/ready").status, 200);
  EXPECT_GE(stack_size.load(), size_t{1} << 20);
  EXPECT_EQ(Fetch(base + "/metrics").status, 200);
}

TEST(WebServerCreateTest, CustomTelemetryPathAndTwoAddresses) {
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0", "localhost:0"};
  options.telemetry_path = "/prom";
  auto server = WebServer::Create(options, nullptr, std::make_shared<exposition::AnomalyCollector>(), {});
  ASSERT_THAT(server, testing::IsOk());
  const std::vector<int> ports = (*server)->GetListeningPorts();
  ASSERT_EQ(ports.size(), 2u);
  for (int port : ports) {
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    EXPECT_EQ(Fetch(base + "/prom").status, 200);
    EXPECT_EQ(Fetch(base + "/metrics").status, 404);
    EXPECT_EQ(Fetch(base + "/api/v1/anomalies").body, "{\"data\":[],\"status\":\"success\"}\n");
  }
}

TEST(WebServerCreateTest, PortInUseIsAnError) {
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  auto first = WebServer::Create(options, nullptr, nullptr, {});
  ASSERT_THAT(first, testing::IsOk());
  options.listen_addresses = {"127.0.0.1:" + std::to_string((*first)->GetListeningPorts().at(0))};
  EXPECT_THAT(WebServer::Create(options, nullptr, nullptr, {}),
              testing::ErrorIs(ErrorCode::kInternal, StartsWith("starting web server on 127.0.0.1:")));
}

struct BadOptionCase {
  const char* name;
  std::vector<std::string> addresses;
  std::string telemetry_path;
  const char* message;
};

class WebServerOptionsTest : public ::testing::TestWithParam<BadOptionCase> {};

TEST_P(WebServerOptionsTest, RejectsWithMessage) {
  WebOptions options;
  options.listen_addresses = GetParam().addresses;
  options.telemetry_path = GetParam().telemetry_path;
  EXPECT_THAT(WebServer::Create(options, nullptr, nullptr, {}),
              testing::ErrorIs(ErrorCode::kInvalidConfig, std::string(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Options, WebServerOptionsTest,
    ::testing::Values(
        BadOptionCase{"NoAddress", {}, "/metrics", "web.listen-address: at least one address is required"},
        BadOptionCase{"NoPort", {"127.0.0.1"}, "/metrics",
                      "web.listen-address \"127.0.0.1\": want HOST:PORT, [IPV6]:PORT or :PORT"},
        BadOptionCase{"BadPort", {":99999"}, "/metrics",
                      "web.listen-address \":99999\": port must be a number from 0 to 65535"},
        BadOptionCase{"Hostname", {"example.com:80"}, "/metrics",
                      "web.listen-address \"example.com:80\": host must be an IPv4 address, [IPv6 address] or "
                      "localhost"},
        BadOptionCase{"RelativePath", {":0"}, "metrics", "web.telemetry-path \"metrics\": must start with /"},
        BadOptionCase{"PathTaken", {":0"}, "/-/ready", "web.telemetry-path \"/-/ready\": is another endpoint"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

// HTTPS with the test certificates (tests/testdata/web): verified by libcurl against the test CA.
TEST(WebServerTlsTest, ServesHttpsAndRefusesToTurnTlsOffOnReload) {
  const std::string dir = ANOMALY_TESTDATA_DIR "/web/";
  auto web = std::make_shared<config::WebConfig>();
  web->tls_server_config.emplace();
  web->tls_server_config->cert_file = dir + "server.crt";
  web->tls_server_config->key_file = dir + "server.key";
  web->headers = {{"X-Frame-Options", "deny"}};
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  options.web_config = web;
  options.tls_shim_dirs = {ANOMALY_TLS_SHIM_DIR};
  auto server = WebServer::Create(options, nullptr, nullptr, {});
  ASSERT_THAT(server, testing::IsOk());
  const std::string url =
      "https://localhost:" + std::to_string((*server)->GetListeningPorts()[0]) + "/-/healthy";

  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, (dir + "ca.crt").c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "OK\n");

  EXPECT_THAT((*server)->PrepareWebConfig(nullptr),
              testing::ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("turning TLS off needs a restart")));
  auto broken = std::make_shared<config::WebConfig>(*web);
  broken->tls_server_config->key_file = dir + "other.key";
  EXPECT_THAT((*server)->PrepareWebConfig(broken),
              testing::ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("does not match the first certificate")));
  EXPECT_THAT((*server)->PrepareWebConfig(web), testing::IsOk());
}

TEST(WebServerTlsTest, PlainServerRefusesToTurnTlsOn) {
  WebOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  auto server = WebServer::Create(options, nullptr, nullptr, {});
  ASSERT_THAT(server, testing::IsOk());
  auto web = std::make_shared<config::WebConfig>();
  web->tls_server_config.emplace();
  EXPECT_THAT((*server)->PrepareWebConfig(web),
              testing::ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("turning TLS on needs a restart")));
  web->tls_server_config.reset();
  web->basic_auth_users = {{"a", "$2b$04$isYqruMTttSL5wWhi.h.ku0UlmV9i.VJ5Sjv8GsOVA6P4UHKX9uym"}};
  auto prepared = (*server)->PrepareWebConfig(web);
  ASSERT_THAT(prepared, testing::IsOk());
  (*server)->InstallWebConfig(*prepared);
  HttpResult r =
      Fetch("http://127.0.0.1:" + std::to_string((*server)->GetListeningPorts()[0]) + "/-/healthy");
  EXPECT_EQ(r.status, 401) << "basic auth installed by a reload applies to plain HTTP too";
}

}  // namespace
}  // namespace anomaly::http
