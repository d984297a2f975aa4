#include "exporter/http/router.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace anomaly::http
