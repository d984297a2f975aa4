#include "exporter/http/router.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

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
  Router router(WebOptions{}, nullptr, nullptr, callbacks);
  router.SetAccess(AdminOnly());
  for (const char* method : {"GET", "HEAD", "POST", "DELETE"}) {
    for (const char* path :
         {"/metrics", "/", "/-/healthy", "/-/ready", "/-/reload", "/api/v1/anomalies", "/nope"}) {
      Request request{method, path, "", ""};
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

}  // namespace
}  // namespace anomaly::http
