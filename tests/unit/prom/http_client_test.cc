// The client's retry, breaker, paging and auth logic over a scripted
// HttpTransport and a fake clock: no sockets, no real sleeps. The real
// transport is covered by tests/integration/prom_client_test.cc.
#include "exporter/prom/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "anomaly/base/log.h"
#include "support/result_matchers.h"

namespace anomaly::prom {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ScriptedTransport final : public HttpTransport {
 public:
  // Each Post pops the next answer; an empty script is a test bug.
  std::deque<Result<HttpResponse>> script;
  std::vector<HttpRequest> requests;

  Result<HttpResponse> Post(const HttpRequest& request) override {
    requests.push_back(request);
    if (script.empty()) return MakeError(ErrorCode::kInternal, "script exhausted");
    Result<HttpResponse> next = std::move(script.front());
    script.pop_front();
    return next;
  }

  // Bodies streamed in pieces of `piece` bytes; a failing request (by its index) may first stream a
  // 200's body part, as a connection cut mid-answer does.
  size_t piece = 7;
  std::map<size_t, std::string> partial_before_error;

  Result<HttpResponse> PostStreaming(const HttpRequest& request, BodyConsumer& consumer) override {
    const size_t index = requests.size();
    Result<HttpResponse> response = Post(request);
    std::string body;
    if (response) {
      consumer.Begin(response->status);
      body = std::move(response->body);
      response->body.clear();
    } else if (auto it = partial_before_error.find(index); it != partial_before_error.end()) {
      consumer.Begin(200);
      body = it->second;
    }
    for (size_t at = 0; at < body.size(); at += piece)
      consumer.Write(std::string_view(body).substr(at, piece));
    return response;
  }
};

HttpResponse Answer(long status, std::string body, std::optional<Duration> retry_after = std::nullopt) {
  return HttpResponse{status, std::move(body), retry_after};
}

std::string Matrix(const std::string& values) {
  return R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[)" +
         values + "]}]}}";
}

const std::string kUnavailable = R"({"status":"error","errorType":"unavailable","error":"overloaded"})";
const std::string kBadData =
    R"({"status":"error","errorType":"bad_data","error":"1:11: parse error: unclosed left parenthesis"})";

class HttpClientTest : public ::testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1'000)};
  std::vector<Duration> sleeps_;
  double unit_random_ = 0.5;
  ScriptedTransport* transport_ = nullptr;  // owned by client_
  std::unique_ptr<HttpRangeQueryClient> client_;
  std::vector<QueryEvent> events_;
  std::vector<std::string> event_queries_;

  void Build(ClientOptions options) {
    options.observer = [this](const QueryEvent& e) {
      events_.push_back(e);
      event_queries_.emplace_back(e.query);
    };
    ASSERT_THAT(ValidateClientOptions(options), IsOk());
    auto transport = std::make_unique<ScriptedTransport>();
    transport_ = transport.get();
    ClientEnv env{
        .now = [this] { return now_; },
        .sleep =
            [this](Duration d) {
              sleeps_.push_back(d);
              now_ += d;
            },
        .unit_random = [this] { return unit_random_; },
    };
    client_ =
        std::make_unique<HttpRangeQueryClient>(std::move(options), std::move(transport), std::move(env));
  }

  ClientOptions Options() {
    ClientOptions o;
    o.url = "http://prom.example:9999/prefix/";
    o.timeout = std::chrono::seconds(20);
    o.initial_backoff = Duration(100);
    o.max_backoff = Duration(1'000);
    return o;
  }
};

TEST_F(HttpClientTest, PostsTheFormToTheQueryRangePath) {
  Build(Options());
  transport_->script.push_back(Answer(200, Matrix(R"([1700000000,"1"],[1700000060,"2"])")));
  auto r =
      client_->QueryRange({"rate(x{a=\"b c\"}[5m])", 1'700'000'000'000, 1'700'000'060'000, Duration(60'000)});
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_THAT((*r)[0].samples, ElementsAre(Sample{1'700'000'000'000, 1}, Sample{1'700'000'060'000, 2}));
  ASSERT_EQ(transport_->requests.size(), 1u);
  EXPECT_EQ(transport_->requests[0].url, "http://prom.example:9999/prefix/api/v1/query_range");
  EXPECT_EQ(transport_->requests[0].form_body,
            "query=rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29&step=60.000&timeout=20s"
            "&start=1700000000.000&end=1700000060.000");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].error, std::nullopt);
  EXPECT_EQ(events_[0].requests, 1);
}

TEST_F(HttpClientTest, PagesLongRangesAndMergesThem) {
  ClientOptions o = Options();
  o.max_points_per_request = 3;
  Build(o);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"0"],[60,"1"],[120,"2"])")));
  transport_->script.push_back(Answer(200, Matrix(R"([180,"3"],[240,"4"])")));
  auto r = client_->QueryRange({"x", 0, 240'000, Duration(60'000)});
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].samples.size(), 5u);
  ASSERT_EQ(transport_->requests.size(), 2u);
  EXPECT_THAT(transport_->requests[0].form_body, HasSubstr("&start=0.000&end=120.000"));
  EXPECT_THAT(transport_->requests[1].form_body, HasSubstr("&start=180.000&end=240.000"));
}

TEST_F(HttpClientTest, RetriesUnavailableWithJitteredBackoffThenSucceeds) {
  Build(Options());
  transport_->script.push_back(Answer(503, kUnavailable));
  transport_->script.push_back(MakeError(ErrorCode::kUpstreamUnavailable, "POST ...: Connection refused"));
  transport_->script.push_back(MakeError(ErrorCode::kTimeout, "POST ...: Operation timed out"));
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  ASSERT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}), IsOk());
  // unit_random 0.5 of ceilings 100, 200, 400 ms.
  EXPECT_THAT(sleeps_, ElementsAre(Duration(50), Duration(100), Duration(200)));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].requests, 4);
  EXPECT_EQ(events_[0].retries, 3);
  EXPECT_EQ(events_[0].elapsed, Duration(350));
}

TEST_F(HttpClientTest, GivesUpAfterMaxRetriesWithTheLastCause) {
  Build(Options());
  for (int i = 0; i < 4; ++i) transport_->script.push_back(Answer(503, kUnavailable));
  EXPECT_THAT(client_->QueryRange({"rate(x[5m])", 0, 0, Duration(1'000)}),
              ErrorIs(ErrorCode::kUpstreamUnavailable,
                      "query \"rate(x[5m])\" (4 requests): prometheus answered "
                      "503: unavailable: overloaded"));
  EXPECT_EQ(transport_->requests.size(), 4u);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].error, ErrorCode::kUpstreamUnavailable);
}

TEST_F(HttpClientTest, NeverRetriesBadData) {
  Build(Options());
  transport_->script.push_back(Answer(400, kBadData));
  EXPECT_THAT(client_->QueryRange({"rate(x[5m]", 0, 0, Duration(1'000)}),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      "query \"rate(x[5m]\": prometheus answered 400: "
                      "bad_data: 1:11: parse error: unclosed left "
                      "parenthesis"));
  EXPECT_EQ(transport_->requests.size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(HttpClientTest, HonoursRetryAfterOn429CappedAtMaxBackoff) {
  Build(Options());
  transport_->script.push_back(Answer(429, "slow down", Duration(700)));
  transport_->script.push_back(Answer(429, "slow down", Duration(60'000)));
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  ASSERT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}), IsOk());
  EXPECT_THAT(sleeps_, ElementsAre(Duration(700), Duration(1'000)));
}

TEST_F(HttpClientTest, BreakerOpensFailsFastThenHalfOpens) {
  ClientOptions o = Options();
  o.max_retries = 0;
  o.breaker_failure_threshold = 2;
  o.breaker_cooldown = std::chrono::seconds(30);
  Build(o);
  transport_->script.push_back(MakeError(ErrorCode::kUpstreamUnavailable, "refused"));
  transport_->script.push_back(MakeError(ErrorCode::kUpstreamUnavailable, "refused"));
  const RangeQuery q{"x", 0, 0, Duration(1'000)};
  EXPECT_THAT(client_->QueryRange(q), ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("refused")));
  EXPECT_THAT(client_->QueryRange(q), ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("refused")));
  // Open: no request goes out.
  EXPECT_THAT(client_->QueryRange(q),
              ErrorIs(ErrorCode::kCancelled, AllOf(HasSubstr("circuit open after 2 consecutive failures of "
                                                             "http://prom.example:9999/prefix"),
                                                   HasSubstr("next trial in 30s"))));
  EXPECT_EQ(transport_->requests.size(), 2u);
  EXPECT_EQ(events_.back().requests, 0);
  now_ += std::chrono::seconds(30);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  EXPECT_THAT(client_->QueryRange(q), IsOk());  // the trial closes it
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  EXPECT_THAT(client_->QueryRange(q), IsOk());
  EXPECT_EQ(transport_->requests.size(), 4u);
}

TEST_F(HttpClientTest, BadDataDoesNotOpenTheBreaker) {
  ClientOptions o = Options();
  o.breaker_failure_threshold = 1;
  Build(o);
  for (int i = 0; i < 3; ++i) transport_->script.push_back(Answer(400, kBadData));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}),
                ErrorIs(ErrorCode::kUpstreamRejected, HasSubstr("bad_data")));
  }
}

TEST_F(HttpClientTest, FailingPageNamesItself) {
  ClientOptions o = Options();
  o.max_points_per_request = 2;
  o.max_retries = 0;
  Build(o);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"0"],[1,"1"])")));
  transport_->script.push_back(Answer(200, R"({"status":"success","data":{"resultType":"matr)"));
  EXPECT_THAT(
      client_->QueryRange({"x", 0, 3'000, Duration(1'000)}),
      ErrorIs(ErrorCode::kUpstreamMalformed, AllOf(StartsWith("query \"x\" (2 requests) page 2/2 [2.000, "
                                                              "3.000]: prometheus answered 200: "
                                                              "body is not valid JSON at byte offset"))));
}

TEST_F(HttpClientTest, RejectsBadRangesWithoutARequest) {
  Build(Options());
  EXPECT_THAT(client_->QueryRange({"x", 0, 10, Duration(0)}),
              ErrorIs(ErrorCode::kInvalidInput, HasSubstr("step")));
  EXPECT_THAT(client_->QueryRange({"x", 10'000, 0, Duration(1'000)}),
              ErrorIs(ErrorCode::kInvalidInput, "query \"x\": end 0.000 is before start 10.000"));
  EXPECT_TRUE(transport_->requests.empty());
}

TEST_F(HttpClientTest, CheckQueryUsesFormatQuery) {
  Build(Options());
  transport_->script.push_back(Answer(200, R"json({"status":"success","data":"rate(x[5m])"})json"));
  EXPECT_THAT(client_->CheckQuery("rate(x[5m])"), IsOk());
  transport_->script.push_back(Answer(400, kBadData));
  EXPECT_THAT(client_->CheckQuery("rate(x[5m]"),
              ErrorIs(ErrorCode::kUpstreamRejected, HasSubstr("parse error: unclosed left parenthesis")));
  ASSERT_EQ(transport_->requests.size(), 2u);
  EXPECT_EQ(transport_->requests[0].url, "http://prom.example:9999/prefix/api/v1/format_query");
  EXPECT_EQ(transport_->requests[0].form_body, "query=rate%28x%5B5m%5D%29");
}

TEST_F(HttpClientTest, CheckQueryFallsBackToAnInstantQueryAtTimeZeroOn404) {
  Build(Options());
  transport_->script.push_back(Answer(404, "404 page not found"));
  transport_->script.push_back(Answer(400, kBadData));
  EXPECT_THAT(client_->CheckQuery("rate(x[5m]"),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      HasSubstr("query \"rate(x[5m]\" (2 requests): prometheus answered "
                                "400: bad_data: 1:11: parse error")));
  ASSERT_EQ(transport_->requests.size(), 2u);
  EXPECT_EQ(transport_->requests[1].url, "http://prom.example:9999/prefix/api/v1/query");
  EXPECT_EQ(transport_->requests[1].form_body, "query=rate%28x%5B5m%5D&time=0");
}

// Stores without format_query answer it in their own ways (issue 15: VictoriaMetrics' 400 kept the
// exporter from ever becoming ready). Each of these must fall back to the instant query at time 0, sent
// once, and the store's verdict there decides.
struct NoFormatQueryCase {
  const char* store;
  long status;
  std::string body;
};

class CheckQueryFallbackTest : public HttpClientTest,
                               public ::testing::WithParamInterface<NoFormatQueryCase> {};

TEST_P(CheckQueryFallbackTest, FallsBackToAnInstantQuery) {
  Build(Options());
  transport_->script.push_back(Answer(GetParam().status, GetParam().body));
  transport_->script.push_back(
      Answer(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})"));
  EXPECT_THAT(client_->CheckQuery("rate(x[5m])"), IsOk());
  ASSERT_EQ(transport_->requests.size(), 2u) << GetParam().store << ": format_query retried, or no fallback";
  EXPECT_EQ(transport_->requests[1].url, "http://prom.example:9999/prefix/api/v1/query");
  EXPECT_EQ(transport_->requests[1].form_body, "query=rate%28x%5B5m%5D%29&time=0");
}

TEST_P(CheckQueryFallbackTest, TheInstantQueryStillRefusesABadQuery) {
  Build(Options());
  transport_->script.push_back(Answer(GetParam().status, GetParam().body));
  // VictoriaMetrics refuses an unparsable query with 422 and its own errorType.
  transport_->script.push_back(Answer(
      422, R"({"status":"error","errorType":"422","error":"cannot parse "rate(x[5m]": unexpected end"})"));
  EXPECT_THAT(client_->CheckQuery("rate(x[5m]"),
              ErrorIs(ErrorCode::kUpstreamRejected,
                      HasSubstr("cannot parse \"rate(x[5m]\": unexpected end")));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, CheckQueryFallbackTest,
    ::testing::Values(
        NoFormatQueryCase{"Prometheus older than 2.38", 404, "404 page not found"},
        NoFormatQueryCase{"VictoriaMetrics", 400,
                          "remoteAddr: \"127.0.0.1:50000\"; requestURI: /api/v1/format_query; "
                          "unsupported path requested: \"/api/v1/format_query\"\n"},
        NoFormatQueryCase{"a proxy answering 422", 422, "<html><body>Not Found</body></html>"},
        NoFormatQueryCase{"a GET-only proxy", 405, "Method Not Allowed"},
        NoFormatQueryCase{"an API without the path", 501, "Not Implemented"}),
    [](const ::testing::TestParamInfo<NoFormatQueryCase>& p) {
      return "Status" + std::to_string(p.param.status);
    });

// A 400/422 that is an API answer about the query is the store's verdict, whatever its words: no fallback.
TEST_F(HttpClientTest, CheckQueryRefusesWhatTheStoreRejectsWithoutFallingBack) {
  const std::vector<HttpResponse> refusals = {
      Answer(400, kBadData),
      Answer(422, R"({"status":"error","errorType":"bad_data","error":"function \"rat\" not found"})"),
      Answer(400, "bad request: query too long"),
  };
  for (const HttpResponse& refusal : refusals) {
    Build(Options());
    transport_->script.push_back(refusal);
    EXPECT_THAT(client_->CheckQuery("rat(x[5m]"),
                ErrorIs(ErrorCode::kUpstreamRejected, HasSubstr("query \"rat(x")))
        << refusal.body;
    EXPECT_EQ(transport_->requests.size(), 1u) << refusal.body;
  }
}

TEST_F(HttpClientTest, CheckQuerySkipsWithOneLogLineWhereTheStoreCanCheckNothing) {
  std::ostringstream log_lines;
  log::Configure(log::Level::kInfo, log::Format::kLogfmt, &log_lines);
  Build(Options());
  for (int i = 0; i < 2; ++i) {
    transport_->script.push_back(Answer(404, "404 page not found"));
    transport_->script.push_back(Answer(404, "404 page not found"));
    EXPECT_THAT(client_->CheckQuery("rate(x[5m])"), IsOk());
  }
  log::Configure(log::Level::kInfo, log::Format::kLogfmt, nullptr);
  EXPECT_EQ(transport_->requests.size(), 4u);
  const std::string text = log_lines.str();
  EXPECT_THAT(text, HasSubstr("cannot check queries"));
  EXPECT_EQ(text.find("cannot check queries"), text.rfind("cannot check queries")) << text;
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_FALSE(events_[0].error.has_value());
}

TEST_F(HttpClientTest, A501IsNotRetried) {
  Build(Options());
  transport_->script.push_back(Answer(501, "Not Implemented"));
  EXPECT_THAT(client_->QueryRange(RangeQuery{"x", 0, 60'000, Duration(60'000)}),
              ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("501")));
  EXPECT_EQ(transport_->requests.size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents)
      : path_(std::filesystem::temp_directory_path() /
              ("prom_secret_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
               std::to_string(reinterpret_cast<uintptr_t>(this)))) {
    Write(contents);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void Write(const std::string& contents) { std::ofstream(path_, std::ios::trunc) << contents; }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_F(HttpClientTest, ReadsTheBearerTokenOnEveryCallSoRotationWorks) {
  TempFile token("first-token\n");
  ClientOptions o = Options();
  o.bearer_token_file = token.path();
  o.headers = {{"X-Scope-OrgID", "tenant-1"}};
  Build(o);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  ASSERT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}), IsOk());
  token.Write("second-token");
  ASSERT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}), IsOk());
  EXPECT_THAT(transport_->requests[0].headers,
              ElementsAre("Authorization: Bearer first-token", "X-Scope-OrgID: tenant-1"));
  EXPECT_THAT(transport_->requests[1].headers, Contains("Authorization: Bearer second-token"));
}

TEST_F(HttpClientTest, BasicAuthAndAMissingSecretFileNeverLeakTheSecret) {
  TempFile password("s3cret\n");
  ClientOptions o = Options();
  o.basic_auth_username = "alice";
  o.basic_auth_password_file = password.path();
  Build(o);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"1"])")));
  ASSERT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}), IsOk());
  EXPECT_THAT(transport_->requests[0].headers, ElementsAre("Authorization: Basic YWxpY2U6czNjcmV0"));

  ClientOptions missing = Options();
  missing.bearer_token_file = "/nonexistent/token";
  Build(missing);
  EXPECT_THAT(client_->QueryRange({"x", 0, 0, Duration(1'000)}),
              ErrorIs(ErrorCode::kInternal, AllOf(HasSubstr("reading bearer_token_file /nonexistent/token"),
                                                  Not(HasSubstr("s3cret")))));
  EXPECT_TRUE(transport_->requests.empty());
}

TEST(ValidateClientOptionsTest, NamesTheBadOption) {
  ClientOptions o;
  o.url = "prometheus:9090";
  EXPECT_THAT(ValidateClientOptions(o), ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("url: want http://")));
  o.url = "http://user:pw@prometheus:9090";
  EXPECT_THAT(ValidateClientOptions(o), ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("credentials")));
  o.url = "https://prometheus:9090/prefix";
  EXPECT_THAT(ValidateClientOptions(o), IsOk());
  o.max_points_per_request = 0;
  EXPECT_THAT(ValidateClientOptions(o),
              ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("max_points_per_request")));
  o.max_points_per_request = 11000;
  o.headers = {{"X-Bad\r\nInjected", "v"}};
  EXPECT_THAT(ValidateClientOptions(o), ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("headers")));
  EXPECT_THAT(NewHttpClient(ClientOptions{}),
              ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("query client: url")));
}

std::string TwoSeries() {
  return R"({"status":"success","warnings":["w"],"data":{"resultType":"matrix","result":[)"
         R"({"metric":{"job":"b"},"values":[[60,"2"],[0,"1"]]},{"metric":{"job":"a"},"values":[[0,"3"]]}]}})";
}

TEST_F(HttpClientTest, StreamsSeriesInTheAnswersOrder) {
  Build(Options());
  transport_->script.push_back(Answer(200, TwoSeries()));
  std::vector<SeriesSamples> got;
  ASSERT_THAT(client_->QueryRangeStreamed({"x", 0, 60'000, Duration(60'000)},
                                          [&](SeriesSamples&& s) { got.push_back(std::move(s)); }),
              IsOk());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(LabelValue(got[0].labels, "job"), "b");
  EXPECT_THAT(got[0].samples, ElementsAre(Sample{0, 1}, Sample{60'000, 2}));
  EXPECT_EQ(LabelValue(got[1].labels, "job"), "a");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].error, std::nullopt);
}

TEST_F(HttpClientTest, StreamedQueryOfSeveralPagesMergesThemFirst) {
  ClientOptions o = Options();
  o.max_points_per_request = 3;
  Build(o);
  transport_->script.push_back(Answer(200, Matrix(R"([0,"0"],[60,"1"],[120,"2"])")));
  transport_->script.push_back(Answer(200, Matrix(R"([180,"3"],[240,"4"])")));
  std::vector<SeriesSamples> got;
  ASSERT_THAT(client_->QueryRangeStreamed({"x", 0, 240'000, Duration(60'000)},
                                          [&](SeriesSamples&& s) { got.push_back(std::move(s)); }),
              IsOk());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 5u);
}

TEST_F(HttpClientTest, StreamedQueryRetriesAFailureBeforeAnySeriesWasHandedOver) {
  Build(Options());
  transport_->script.push_back(MakeError(ErrorCode::kUpstreamUnavailable, "connection reset"));
  transport_->partial_before_error[0] =
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metr)";
  transport_->script.push_back(Answer(503, kUnavailable));
  transport_->script.push_back(Answer(200, TwoSeries()));
  size_t got = 0;
  ASSERT_THAT(
      client_->QueryRangeStreamed({"x", 0, 60'000, Duration(60'000)}, [&](SeriesSamples&&) { ++got; }),
      IsOk());
  EXPECT_EQ(got, 2u);
  EXPECT_EQ(transport_->requests.size(), 3u);
}

// The caller has stored (and is fitting) what it was handed: the request is not sent again, and the error
// tells it to drop them.
TEST_F(HttpClientTest, StreamedQueryDoesNotRetryAFailureAfterASeriesWasHandedOver) {
  Build(Options());
  transport_->script.push_back(MakeError(ErrorCode::kUpstreamUnavailable, "connection reset"));
  transport_->partial_before_error[0] = TwoSeries().substr(0, TwoSeries().find(R"({"metric":{"job":"a")"));
  transport_->script.push_back(Answer(200, TwoSeries()));
  size_t got = 0;
  EXPECT_THAT(
      client_->QueryRangeStreamed({"x", 0, 60'000, Duration(60'000)}, [&](SeriesSamples&&) { ++got; }),
      ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("connection reset")));
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(transport_->requests.size(), 1u);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].error, ErrorCode::kUpstreamUnavailable);
}

TEST_F(HttpClientTest, StreamedQueryReportsAnAnswerBrokenMidWay) {
  Build(Options());
  std::string body = TwoSeries();
  body.replace(body.find(R"("3")"), 3, R"("x")");
  transport_->script.push_back(Answer(200, body));
  size_t got = 0;
  EXPECT_THAT(
      client_->QueryRangeStreamed({"x", 0, 60'000, Duration(60'000)}, [&](SeriesSamples&&) { ++got; }),
      ErrorIs(ErrorCode::kUpstreamMalformed,
              AllOf(StartsWith("query \"x\": "), HasSubstr("data.result[1].values[0]: value \"x\""))));
  EXPECT_EQ(got, 1u);
}

}  // namespace
}  // namespace anomaly::prom
