// POST /api/v1/score on the real anomaly_exporter binary: the answer for a CSV is byte for byte what
// `anomaly_exporter backtest --input` writes for the same file and settings (the issue's "same engine,
// same results"), the JSON answer holds the same verdicts, and the body limit, the error shape and the
// self-metric hold on the real server (civetweb, keep-alive). The exporter queries a Prometheus address
// nobody listens on: the score API needs no upstream, and the daemon serves while its upstream is down.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

const std::string kCsvFile = ANOMALY_SOURCE_DIR "/tests/testdata/backtest/daily_spike.csv";

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One request on `curl` (reused: keep-alive, as a notebook's session would).
Reply Send(CURL* curl, const std::string& url, const std::string* body, const std::string& content_type,
           const std::string& accept = "") {
  Reply r;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  if (!accept.empty()) headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  return r;
}

// Standard output of `command`.
std::string Capture(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[65536];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  return out;
}

class ScoreApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_score_api_test");
    const std::string config = dir_->File("config.yml");
    ASSERT_TRUE(WriteFile(config, "prometheus:\n  url: http://127.0.0.1:" + std::to_string(FreePort()) +
                                      "\n  timeout: 1s\ndetectors:\n  - name: d\n    query: up\n    step: 1m\n"));
    port_ = FreePort();
    ChildOptions exporter;
    exporter.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + config,
                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                     // The test file is 23 KB: a limit between it and the oversized body below.
                     "--web.score-max-body-bytes=100000"};
    exporter.log_file = dir_->File("exporter.log");
    auto e = ChildProcess::Start(exporter);
    ASSERT_TRUE(e.has_value()) << e.error().message;
    exporter_ = e->release();
    curl_ = curl_easy_init();
    ASSERT_TRUE(Eventually([] { return Send(curl_, Url("/-/healthy"), nullptr, "text/plain").status == 200; },
                           seconds(30)))
        << exporter_->LogTail();
  }

  static void TearDownTestSuite() {
    curl_easy_cleanup(curl_);
    delete exporter_;
    delete dir_;
  }

  void TearDown() override {
    if (HasFailure() && exporter_ != nullptr) std::cerr << "exporter log:\n" << exporter_->LogTail() << "\n";
  }

  static std::string Url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  static inline TempDir* dir_ = nullptr;
  static inline ChildProcess* exporter_ = nullptr;
  static inline CURL* curl_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(ScoreApiTest, CsvAnswerIsByteForByteTheBacktestsOutput) {
  const std::string csv = ReadFile(kCsvFile);
  ASSERT_FALSE(csv.empty());
  for (const std::string settings : {"seasonality=1d", "seasonality=none&threshold_floor=4&persistence=2",
                                     "seasonality=auto&history=2d&refit_interval=2h"}) {
    std::string flags;
    for (size_t start = 0; start < settings.size();) {
      size_t amp = settings.find('&', start);
      if (amp == std::string::npos) amp = settings.size();
      std::string pair = settings.substr(start, amp - start);
      for (char& c : pair) c = c == '_' ? '-' : c;
      flags += " --" + pair;
      start = amp + 1;
    }
    const std::string backtest =
        Capture(std::string(ANOMALY_EXPORTER_BIN) + " backtest --no-progress --input " + kCsvFile + flags + " 2>/dev/null");
    ASSERT_THAT(backtest, HasSubstr("timestamp,value,expected")) << flags;
    Reply api = Send(curl_, Url("/api/v1/score?" + settings), &csv, "text/csv", "text/csv");
    ASSERT_EQ(api.status, 200) << api.body;
    EXPECT_THAT(api.headers, HasSubstr("Content-Type: text/csv"));
    EXPECT_TRUE(api.body == backtest) << settings << ": the API's CSV differs from the backtest's ("
                                      << api.body.size() << " vs " << backtest.size() << " bytes)";
  }
}

TEST_F(ScoreApiTest, JsonAnswerByDefault) {
  const std::string csv = ReadFile(kCsvFile);
  Reply api = Send(curl_, Url("/api/v1/score?seasonality=1d"), &csv, "text/csv");
  ASSERT_EQ(api.status, 200) << api.body;
  EXPECT_THAT(api.headers, HasSubstr("Content-Type: application/json"));
  EXPECT_THAT(api.body, ::testing::StartsWith("{\"status\":\"success\",\"data\":{\"model\":\"stl\",\"periods\":\"1d\""));
  EXPECT_THAT(api.body, HasSubstr("\"flag\":1,\"state\":\"ok\""));
}

TEST_F(ScoreApiTest, BadInputIs400InPrometheusErrorShape) {
  const std::string bad = "timestamp,value\n1700000000,1\n1700000060,x\n";
  Reply r = Send(curl_, Url("/api/v1/score"), &bad, "text/csv");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"input line 3: \\\"x\\\" is not a "
                    "number\"}\n");
}

TEST_F(ScoreApiTest, BodyOverTheLimitIs413AndTheNextRequestStillWorks) {
  const std::string big = "timestamp,value\n" + std::string(200000, '1');
  Reply r = Send(curl_, Url("/api/v1/score"), &big, "text/csv");
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("the body is 200016 bytes; at most 100000 bytes are accepted"));
  const std::string csv = ReadFile(kCsvFile);
  EXPECT_EQ(Send(curl_, Url("/api/v1/score?seasonality=none"), &csv, "text/csv").status, 200);
  Reply get = Send(curl_, Url("/api/v1/score"), nullptr, "text/plain");
  EXPECT_EQ(get.status, 405);
  EXPECT_THAT(get.headers, HasSubstr("Allow: POST"));
}

TEST_F(ScoreApiTest, AnswersAreCountedInTheSelfMetric) {
  Reply metrics = Send(curl_, Url("/metrics"), nullptr, "text/plain");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("anomaly_exporter_score_requests_total{code=\"200\"}"));
  EXPECT_THAT(metrics.body, ::testing::ContainsRegex("anomaly_exporter_score_requests_total\\{code=\"413\"\\} [1-9]"));
}

}  // namespace
}  // namespace anomaly::testing
