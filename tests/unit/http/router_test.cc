#include "exporter/http/router.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "anomaly/exposition/anomaly_collector.h"
#include "anomaly/exposition/snapshot.h"

namespace anomaly::http {
namespace {

TEST(RouterTest, QueryFlag) {
  EXPECT_TRUE(QueryFlag("all=1", "all"));
  EXPECT_TRUE(QueryFlag("x=2&all=true", "all"));
  EXPECT_FALSE(QueryFlag("all=0", "all"));
  EXPECT_FALSE(QueryFlag("all", "all"));
  EXPECT_FALSE(QueryFlag("ball=1", "all"));
  EXPECT_FALSE(QueryFlag("", "all"));
}

TEST(RouterTest, AcceptsGzip) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip(" gzip ; q=1"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
}

TEST(RouterTest, HeadGetsHeadersOnlyEndpointsAndOtherMethods405) {
  Router router(WebOptions{}, nullptr, nullptr, {});
  EXPECT_EQ(router.Serve({"HEAD", "/-/healthy", "", ""}).status, 200);
  EXPECT_EQ(router.Serve({"DELETE", "/-/healthy", "", ""}).status, 405);
  EXPECT_EQ(router.Serve({"PUT", "/-/reload", "", ""}).status, 405);
  Response r = router.Serve({"GET", "/-/reload", "", ""});
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("Allow", "POST")));
}

// "Basic " + base64("admin:pw").
constexpr const char* kAdmin = "Basic YWRtaW46cHc=";

std::shared_ptr<const Access> AdminOnly(std::vector<std::pair<std::string, std::string>> headers = {}) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  auto access = std::make_shared<Access>();
  access->auth = std::make_shared<const BasicAuthenticator>(
      std::map<std::string, std::string>{{"admin", crypt_r("pw", salt, &data)}});
  access->headers = std::move(headers);
  return access;
}

TEST(RouterTest, BasicAuthGuardsEveryPathAndMethod) {
  Callbacks callbacks;
  int reloads = 0;
  callbacks.reload = [&reloads]() -> Status {
    ++reloads;
    return {};
  };
  callbacks.ready = [] { return true; };
  int scores = 0;
  callbacks.score = [&scores](const ScoreRequest&) -> Result<ScoreAnswer> {
    ++scores;
    return ScoreAnswer{"{}"};
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  router.SetAccess(AdminOnly());
  for (const char* method : {"GET", "HEAD", "POST", "DELETE"}) {
    for (const char* path : {"/metrics", "/", "/-/healthy", "/-/ready", "/-/reload", "/api/v1/anomalies",
                             "/api/v1/score", "/nope"}) {
      Request request{method, path, "", ""};
      request.content_type = "text/csv";
      Response denied = router.Serve(request);
      EXPECT_EQ(denied.status, 401) << method << " " << path;
      EXPECT_THAT(denied.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                      "WWW-Authenticate", "Basic realm=\"anomaly_exporter\"")));
      request.authorization = "Basic YWRtaW46d3Jvbmc=";  // admin:wrong
      EXPECT_EQ(router.Serve(request).status, 401) << method << " " << path;
      request.authorization = kAdmin;
      EXPECT_NE(router.Serve(request).status, 401) << method << " " << path;
    }
  }
  EXPECT_EQ(reloads, 1) << "only the authorized POST /-/reload reaches the callback";
  EXPECT_EQ(scores, 1) << "only the authorized POST /api/v1/score reaches the callback";
}

// POST /api/v1/score with `body` of `content_type`; the body is read only when the router asks for it.
Request ScorePost(std::string body, std::string content_type = "text/csv", std::string accept = "",
                  bool* body_read = nullptr) {
  Request r{"POST", "/api/v1/score", "seasonality=none", ""};
  r.content_type = std::move(content_type);
  r.accept = std::move(accept);
  r.content_length = body.size();
  r.read_body = [body, body_read](size_t limit) -> Result<std::string> {
    if (body_read != nullptr) *body_read = true;
    if (body.size() > limit) return MakeError(ErrorCode::kInvalidInput, "too long");
    return body;
  };
  return r;
}

std::optional<std::string> HeaderOf(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

TEST(RouterTest, ScoreAnswerFormatFollowsAcceptAndBodyFormatContentType) {
  EXPECT_EQ(BodyFormat("application/json"), ScoreFormat::kJson);
  EXPECT_EQ(BodyFormat("Text/CSV; charset=utf-8"), ScoreFormat::kCsv);
  EXPECT_EQ(BodyFormat("text/plain"), std::nullopt);
  EXPECT_EQ(BodyFormat(""), std::nullopt);
  EXPECT_EQ(AnswerFormat(""), ScoreFormat::kJson);
  EXPECT_EQ(AnswerFormat("*/*"), ScoreFormat::kJson);
  EXPECT_EQ(AnswerFormat("text/csv"), ScoreFormat::kCsv);
  EXPECT_EQ(AnswerFormat("text/csv, */*;q=0.8"), ScoreFormat::kCsv);
  EXPECT_EQ(AnswerFormat("application/json, text/csv"), ScoreFormat::kJson);
  EXPECT_EQ(AnswerFormat("application/json;q=0.5, text/csv"), ScoreFormat::kCsv);
  EXPECT_EQ(AnswerFormat("text/csv;q=0"), ScoreFormat::kJson);
}

TEST(RouterTest, ScoreHandsTheRequestToTheCallbackAndAnswersInTheFormatAsked) {
  Callbacks callbacks;
  ScoreRequest seen;
  callbacks.score = [&seen](const ScoreRequest& r) -> Result<ScoreAnswer> {
    seen = r;
    return ScoreAnswer{"scored"};
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  Response json = router.Serve(ScorePost("t,v\n1,2\n"));
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(json.body, "scored");
  EXPECT_EQ(seen.query, "seasonality=none");
  EXPECT_EQ(seen.body, "t,v\n1,2\n");
  EXPECT_EQ(seen.body_format, ScoreFormat::kCsv);
  EXPECT_EQ(seen.answer_format, ScoreFormat::kJson);
  Response csv = router.Serve(ScorePost(R"({"samples":[]})", "application/json", "text/csv"));
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(seen.body_format, ScoreFormat::kJson);
  EXPECT_EQ(seen.answer_format, ScoreFormat::kCsv);
}

TEST(RouterTest, ScoreIsPostOnly) {
  Callbacks callbacks;
  callbacks.score = [](const ScoreRequest&) -> Result<ScoreAnswer> { return ScoreAnswer{}; };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
    Response r = router.Serve({method, "/api/v1/score", "", ""});
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(HeaderOf(r, "Allow"), "POST") << method;
  }
  // Not wired (no callback): the path does not exist.
  EXPECT_EQ(Router(WebOptions{}, nullptr, nullptr, {}).Serve(ScorePost("")).status, 404);
}

TEST(RouterTest, ScoreErrorsHaveThePrometheusApiShape) {
  Callbacks callbacks;
  callbacks.score = [](const ScoreRequest&) -> Result<ScoreAnswer> {
    return MakeError(ErrorCode::kInvalidInput, "input line 3: \"abc\" is not a number");
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  Response r = router.Serve(ScorePost("t,v\n1,2\n2,abc\n", "text/csv", "text/csv"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"input line 3: \\\"abc\\\" is not a number\"}\n");
  Response type = router.Serve(ScorePost("x", "text/plain"));
  EXPECT_EQ(type.status, 415);
  EXPECT_THAT(type.body, ::testing::HasSubstr("Content-Type must be application/json or text/csv, got \\\"text/plain\\\""));
}

TEST(RouterTest, ScoreBodyOverTheLimitIs413) {
  Callbacks callbacks;
  int scores = 0;
  callbacks.score = [&scores](const ScoreRequest&) -> Result<ScoreAnswer> {
    ++scores;
    return ScoreAnswer{};
  };
  WebOptions options;
  options.score.max_body_bytes = 10;
  Router router(options, nullptr, nullptr, callbacks);
  // Content-Length says so: refused unread, and the connection is not reused for the rest of it.
  bool read = false;
  Response by_length = router.Serve(ScorePost(std::string(11, 'x'), "text/csv", "", &read));
  EXPECT_EQ(by_length.status, 413);
  EXPECT_FALSE(read);
  EXPECT_EQ(HeaderOf(by_length, "Connection"), "close");
  EXPECT_THAT(by_length.body, ::testing::HasSubstr("the body is 11 bytes; at most 10 bytes are accepted"));
  // No Content-Length (chunked): refused once the limit is passed while reading.
  Request chunked = ScorePost(std::string(11, 'x'));
  chunked.content_length.reset();
  Response by_reading = router.Serve(chunked);
  EXPECT_EQ(by_reading.status, 413);
  EXPECT_THAT(by_reading.body, ::testing::HasSubstr("the body is longer than 10 bytes"));
  EXPECT_EQ(router.Serve(ScorePost(std::string(10, 'x'))).status, 200);
  EXPECT_EQ(scores, 1);
}

TEST(RouterTest, ScoreAnswers429WithRetryAfterWhileEverySlotIsBusy) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  Callbacks callbacks;
  callbacks.score = [&started, released](const ScoreRequest&) -> Result<ScoreAnswer> {
    started.set_value();
    released.wait();
    return ScoreAnswer{"done"};
  };
  WebOptions options;
  options.score.concurrency = 1;
  Router router(options, nullptr, nullptr, callbacks);
  std::future<Response> first = std::async(std::launch::async, [&router] { return router.Serve(ScorePost("a")); });
  started.get_future().wait();
  bool read = false;
  Response busy = router.Serve(ScorePost("b", "text/csv", "", &read));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(HeaderOf(busy, "Retry-After"), "1");
  EXPECT_FALSE(read) << "a refused request's body is not read";
  EXPECT_THAT(busy.body, ::testing::HasSubstr("\"errorType\":\"unavailable\""));
  release.set_value();
  EXPECT_EQ(first.get().status, 200);
}

TEST(RouterTest, ScorePastItsDeadlineIs503Timeout) {
  Callbacks callbacks;
  // A scorer that honours the deadline, as the app's does between samples.
  callbacks.score = [](const ScoreRequest& r) -> Result<ScoreAnswer> {
    std::this_thread::sleep_until(r.deadline);
    return MakeError(ErrorCode::kTimeout, "scoring took longer than --web.score-timeout allows");
  };
  WebOptions options;
  options.score.timeout = std::chrono::milliseconds(20);
  Router router(options, nullptr, nullptr, callbacks);
  Response r = router.Serve(ScorePost("a"));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, ::testing::HasSubstr("\"errorType\":\"timeout\""));
}

TEST(RouterTest, EveryScoreAnswerIsCounted) {
  Callbacks callbacks;
  std::vector<int> counted;
  callbacks.score = [](const ScoreRequest& r) -> Result<ScoreAnswer> {
    if (r.body == "bad") return MakeError(ErrorCode::kInvalidInput, "bad");
    return ScoreAnswer{};
  };
  callbacks.score_answered = [&counted](int status) { counted.push_back(status); };
  WebOptions options;
  options.score.max_body_bytes = 5;
  Router router(options, nullptr, nullptr, callbacks);
  router.Serve(ScorePost("ok"));
  router.Serve(ScorePost("bad"));
  router.Serve(ScorePost("too long"));
  router.Serve({"GET", "/api/v1/score", "", ""});
  router.Serve({"GET", "/-/healthy", "", ""});
  EXPECT_THAT(counted, ::testing::ElementsAre(200, 400, 413, 405));
}

TEST(RouterTest, ConfiguredHeadersGoOnEveryResponse) {
  Router router(WebOptions{}, nullptr, nullptr, {});
  const std::pair<std::string, std::string> frame("X-Frame-Options", "deny");
  router.SetAccess(AdminOnly({frame}));
  EXPECT_THAT(router.Serve({"GET", "/-/healthy", "", ""}).headers, ::testing::Contains(frame));  // 401
  Request ok{"GET", "/-/healthy", "", ""};
  ok.authorization = kAdmin;
  EXPECT_THAT(router.Serve(ok).headers, ::testing::Contains(frame));
  Request not_allowed{"PUT", "/-/healthy", "", ""};
  not_allowed.authorization = kAdmin;
  Response r = router.Serve(not_allowed);
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, ::testing::Contains(frame));
}

TEST(RouterTest, SwappedAccessAppliesToTheNextRequest) {
  Router router(WebOptions{}, nullptr, nullptr, {});
  EXPECT_EQ(router.Serve({"GET", "/-/healthy", "", ""}).status, 200);
  router.SetAccess(AdminOnly());
  EXPECT_EQ(router.Serve({"GET", "/-/healthy", "", ""}).status, 401);
  router.SetAccess(std::make_shared<const Access>());
  EXPECT_EQ(router.Serve({"GET", "/-/healthy", "", ""}).status, 200);
}

TEST(RouterTest, PrerenderedMetricsAreServedWithoutRenderingAgain) {
  auto anomalies = std::make_shared<exposition::AnomalyCollector>();
  Router router(WebOptions{}, nullptr, anomalies, {});
  auto snapshot = std::make_shared<exposition::Snapshot>();
  exposition::SeriesReport report;
  report.detector = "api";
  report.labels = MakeLabels({{"instance", "a"}});
  report.verdict.state = scoring::SeriesState::kOk;
  report.verdict.value = 4;
  snapshot->series.push_back(report);
  anomalies->Publish(snapshot);
  router.Prerender();
  EXPECT_EQ(router.text_renders(), 1);
  const Request get{.method = "GET", .path = "/metrics", .query = "", .accept_encoding = ""};
  Request get_gzip = get;
  get_gzip.accept_encoding = "gzip";
  const Response plain = router.Serve(get);
  const Response gzipped = router.Serve(get_gzip);
  EXPECT_EQ(plain.status, 200);
  EXPECT_THAT(plain.body, ::testing::HasSubstr("anomaly_value{detector=\"api\",instance=\"a\"} 4"));
  EXPECT_EQ(gzipped.status, 200);
  EXPECT_EQ(router.text_renders(), 1) << "both scrapes used the prerendered text";
  // A new snapshot is rendered once more, by whichever comes first.
  anomalies->Publish(std::make_shared<exposition::Snapshot>(*snapshot));
  (void)router.Serve(get);
  router.Prerender();
  EXPECT_EQ(router.text_renders(), 2);
  // Publishes that outpace scrapes are not all rendered: one that nobody scraped stops the next.
  anomalies->Publish(std::make_shared<exposition::Snapshot>(*snapshot));
  router.Prerender();
  EXPECT_EQ(router.text_renders(), 3) << "the one before was scraped";
  anomalies->Publish(std::make_shared<exposition::Snapshot>(*snapshot));
  router.Prerender();
  EXPECT_EQ(router.text_renders(), 3) << "the one before was never scraped";
  (void)router.Serve(get);
  EXPECT_EQ(router.text_renders(), 4) << "the scrape renders it itself";
  router.Prerender();
  anomalies->Publish(std::make_shared<exposition::Snapshot>(*snapshot));
  router.Prerender();
  EXPECT_EQ(router.text_renders(), 5) << "scraped again: prerendering resumes";
}

Request FeedbackPost(std::string id, std::string body) {
  Request r{"POST", "/api/v1/episodes/" + id + "/feedback", "", ""};
  r.content_type = "application/json";
  r.content_length = body.size();
  r.read_body = [body](size_t limit) -> Result<std::string> {
    if (body.size() > limit) return MakeError(ErrorCode::kInvalidInput, "too long");
    return body;
  };
  return r;
}

TEST(RouterTest, EpisodesListsTheAppsEpisodesAndIsReadOnly) {
  Callbacks callbacks;
  callbacks.episodes = []() -> Result<std::vector<EpisodeInfo>> {
    EpisodeInfo e;
    e.id = "00000000000000ab";
    e.detector = "rps";
    e.start_ms = 1000;
    return std::vector<EpisodeInfo>{e};
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  Response r = router.Serve({"GET", "/api/v1/episodes", "", ""});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_THAT(r.body, ::testing::StartsWith("{\"status\":\"success\",\"data\":[{\"id\":\"00000000000000ab\""));
  EXPECT_EQ(router.Serve({"POST", "/api/v1/episodes", "", ""}).status, 405);
  // Not wired: an empty list, not an error.
  EXPECT_EQ(Router(WebOptions{}, nullptr, nullptr, {}).Serve({"GET", "/api/v1/episodes", "", ""}).body,
            "{\"status\":\"success\",\"data\":[]}\n");
  callbacks.episodes = []() -> Result<std::vector<EpisodeInfo>> {
    return MakeError(ErrorCode::kTimeout, "detector \"rps\" is scoring its series right now");
  };
  Response busy = Router(WebOptions{}, nullptr, nullptr, callbacks).Serve({"GET", "/api/v1/episodes", "", ""});
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(HeaderOf(busy, "Retry-After"), "5");
  EXPECT_THAT(busy.body, ::testing::HasSubstr("\"errorType\":\"timeout\""));
}

TEST(RouterTest, FeedbackHandsTheDecodedBodyToTheAppAndAnswersItsErrorsInThePrometheusShape) {
  Callbacks callbacks;
  FeedbackRequest seen;
  callbacks.feedback = [&seen](const FeedbackRequest& f) -> Result<EpisodeInfo> {
    seen = f;
    if (f.id != "known") return MakeError(ErrorCode::kInvalidInput, "no episode \"" + f.id + "\" here");
    EpisodeInfo e;
    e.id = f.id;
    e.feedback = EpisodeFeedback{f.verdict, f.comment, 5000};
    e.margin = 0.5;
    return e;
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  Response ok = router.Serve(FeedbackPost("known", R"({"verdict":"false_positive","comment":"deploy"})"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(seen.id, "known");
  EXPECT_EQ(seen.verdict, FeedbackVerdict::kFalsePositive);
  EXPECT_EQ(seen.comment, "deploy");
  EXPECT_THAT(ok.body, ::testing::HasSubstr("\"feedback\":{\"verdict\":\"false_positive\",\"comment\":\"deploy\""));
  EXPECT_THAT(ok.body, ::testing::HasSubstr("\"margin\":0.5"));

  Response missing = router.Serve(FeedbackPost("gone", R"({"verdict":"true_positive"})"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "{\"status\":\"error\",\"errorType\":\"not_found\",\"error\":\"no episode \\\"gone\\\" here\"}\n");

  seen = {};
  Response bad = router.Serve(FeedbackPost("known", R"({"verdict":"maybe"})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, ::testing::HasSubstr("\"errorType\":\"bad_data\""));
  EXPECT_EQ(seen.id, "") << "a bad body never reaches the app";

  Response big = router.Serve(FeedbackPost("known", std::string(kMaxFeedbackBody + 1, ' ')));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(HeaderOf(big, "Connection"), "close");

  Response get = router.Serve({"GET", "/api/v1/episodes/known/feedback", "", ""});
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(HeaderOf(get, "Allow"), "POST");
}

Request FormPost(std::string id, std::string body, std::string origin = "", std::string referer = "") {
  Request r = FeedbackPost(std::move(id), std::move(body));
  r.content_type = "application/x-www-form-urlencoded";
  r.host = "127.0.0.1:10650";
  r.origin = std::move(origin);
  r.referer = std::move(referer);
  return r;
}

// The app of the feedback tests: knows the episode "known" only.
Callbacks KnownEpisodeCallbacks(FeedbackRequest* seen) {
  Callbacks callbacks;
  callbacks.feedback = [seen](const FeedbackRequest& f) -> Result<EpisodeInfo> {
    *seen = f;
    if (f.id != "known") return MakeError(ErrorCode::kInvalidInput, "no episode \"" + f.id + "\" here");
    EpisodeInfo e;
    e.id = f.id;
    e.feedback = EpisodeFeedback{f.verdict, f.comment, 5000};
    return e;
  };
  return callbacks;
}

TEST(RouterTest, AFormPostIsTakenAndAnswered303BackToTheSeriesPage) {
  FeedbackRequest seen;
  Router router(WebOptions{}, nullptr, nullptr, KnownEpisodeCallbacks(&seen));
  Response r = router.Serve(
      FormPost("known", "return=%2Fseries%3Fdetector%3Drps%26host%3Da&verdict=false_positive&comment=deploy",
               "http://127.0.0.1:10650", "http://127.0.0.1:10650/series?detector=rps"));
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/series?detector=rps&host=a");
  EXPECT_EQ(seen.verdict, FeedbackVerdict::kFalsePositive);
  EXPECT_EQ(seen.comment, "deploy");
  // Without a return field: back to the landing page. A JSON post to the same path keeps its JSON answer.
  EXPECT_EQ(HeaderOf(router.Serve(FormPost("known", "verdict=true_positive")), "Location"), "/");
  EXPECT_EQ(router.Serve(FeedbackPost("known", R"({"verdict":"true_positive"})")).content_type,
            "application/json");
  // Errors are the API's: a bad form is 400, an unknown episode 404.
  seen = {};
  Response foreign =
      router.Serve(FormPost("known", "verdict=true_positive&return=https%3A%2F%2Fevil.example%2F"));
  EXPECT_EQ(foreign.status, 400);
  EXPECT_THAT(foreign.body, ::testing::HasSubstr("\"return\\\" must be a series page path"));
  EXPECT_EQ(seen.id, "") << "refused before the app";
  EXPECT_EQ(router.Serve(FormPost("gone", "verdict=true_positive")).status, 404);
}

TEST(RouterTest, AFeedbackFromAnotherSiteIsRefused) {
  const struct {
    std::string origin, referer;
    int status;
  } cases[] = {
      {"", "", 303},                                          // curl, or a browser that sends neither
      {"http://127.0.0.1:10650", "", 303},                    // the exporter's own page
      {"HTTP://127.0.0.1:10650", "", 303},                    // case does not matter
      {"", "http://127.0.0.1:10650/series?detector=a", 303},  // no Origin: the Referer decides
      {"https://evil.example", "", 403},                      // a foreign page's form
      {"http://127.0.0.1:10651", "", 403},                    // another port is another origin
      {"null", "", 403},                                      // an opaque origin (sandbox, file:)
      {"", "https://evil.example/page?x=http://127.0.0.1:10650", 403},
      {"https://evil.example", "http://127.0.0.1:10650/series", 403},  // Origin wins over Referer
  };
  for (const auto& c : cases) {
    FeedbackRequest seen;
    Router router(WebOptions{}, nullptr, nullptr, KnownEpisodeCallbacks(&seen));
    Response r = router.Serve(FormPost("known", "verdict=false_positive", c.origin, c.referer));
    EXPECT_EQ(r.status, c.status) << "Origin " << c.origin << ", Referer " << c.referer;
    if (c.status == 403) {
      EXPECT_THAT(r.body, ::testing::HasSubstr("\"errorType\":\"forbidden\""));
      EXPECT_EQ(seen.id, "") << "a refused post never reaches the app";
    }
  }
  // Any body is checked: a foreign page's text/plain form can spell a JSON object, name + '=' + value.
  FeedbackRequest seen;
  Router router(WebOptions{}, nullptr, nullptr, KnownEpisodeCallbacks(&seen));
  Request text = FeedbackPost("known", R"({"verdict":"false_positive","comment":"="})");
  text.content_type = "text/plain";
  text.origin = "https://evil.example";
  text.host = "127.0.0.1:10650";
  EXPECT_EQ(router.Serve(text).status, 403);
  EXPECT_EQ(seen.id, "");
  text.origin = "http://127.0.0.1:10650";  // the same post from our own origin is a JSON feedback
  EXPECT_EQ(router.Serve(text).status, 200);
  // Host's default port may be written out; Origin leaves it out.
  Request https = FormPost("known", "verdict=true_positive", "https://anomaly.example");
  https.host = "anomaly.example:443";
  EXPECT_EQ(router.Serve(https).status, 303);
}

TEST(RouterTest, FeedbackForAnotherShardIs421NamingItOr307ToItsUrlWithTheBodyUnread) {
  FeedbackRequest seen;
  Callbacks callbacks = KnownEpisodeCallbacks(&seen);
  std::string owner_url;
  callbacks.feedback_owner = [&owner_url](const std::string& id) -> std::optional<FeedbackOwner> {
    if (id == "known") return std::nullopt;
    return FeedbackOwner{.shard = 2, .count = 3, .this_shard = 0, .url = owner_url};
  };
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  bool read = false;
  Request r = FeedbackPost("elsewhere", R"({"verdict":"true_positive"})");
  r.read_body = [&read](size_t) -> Result<std::string> {
    read = true;
    return std::string();
  };
  Response misdirected = router.Serve(r);
  EXPECT_EQ(misdirected.status, 421);
  EXPECT_EQ(misdirected.body,
            "{\"status\":\"error\",\"errorType\":\"misdirected\",\"error\":\"the episode's series belongs to "
            "shard 2 "
            "of 3, not to this one (shard 0): send the feedback to shard "
            "2\",\"data\":{\"shard\":2,\"shard_count\":3,"
            "\"this_shard\":0,\"url\":null}}\n");
  EXPECT_EQ(HeaderOf(misdirected, "Connection"), "close");
  EXPECT_FALSE(read) << "the owner gets the body, not this shard";
  EXPECT_EQ(seen.id, "");

  owner_url = "http://exporter-2.headless:10650";
  Response redirected = router.Serve(r);
  EXPECT_EQ(redirected.status, 307);
  EXPECT_EQ(HeaderOf(redirected, "Location"),
            "http://exporter-2.headless:10650/api/v1/episodes/elsewhere/feedback");
  EXPECT_THAT(redirected.body, ::testing::HasSubstr("\"url\":\"http://exporter-2.headless:10650\""));
  // The owner's own episodes are taken here.
  EXPECT_EQ(router.Serve(FeedbackPost("known", R"({"verdict":"true_positive"})")).status, 200);
}

}  // namespace
}  // namespace anomaly::http
