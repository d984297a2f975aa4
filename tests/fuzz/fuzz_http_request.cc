// The web server's request parsing that is ours rather than civetweb's (exporter/http/router.h): the
// query string (QueryFlag), the Accept-Encoding header (AcceptsGzip), and routing of any method and path
// through Router::Serve, the one entry point of every request. The input is split at newlines into
// method, path, query and Accept-Encoding.
// Checks: QueryFlag is true only when the query holds "key=1" or "key=true"; AcceptsGzip only when the
// header names gzip; Serve answers every request with one of the statuses the router knows, and a
// non-empty body for GET.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/http/web_server.h"
#include "exporter/http/router.h"
#include "fuzz_check.h"

namespace {

std::string_view NextLine(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  const std::string_view line = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using anomaly::http::Request;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view method = NextLine(&rest);
  const std::string_view path = NextLine(&rest);
  const std::string_view query = NextLine(&rest);
  const std::string_view accept_encoding = NextLine(&rest);

  for (std::string_view key : {"all", "", "a=b"}) {
    if (anomaly::http::QueryFlag(query, key)) {
      const std::string one = std::string(key) + "=1";
      const std::string yes = std::string(key) + "=true";
      FUZZ_CHECK(query.find(one) != std::string_view::npos || query.find(yes) != std::string_view::npos,
                 std::string(query));
    }
  }
  if (anomaly::http::AcceptsGzip(accept_encoding)) {
    FUZZ_CHECK(accept_encoding.find("gzip") != std::string_view::npos, std::string(accept_encoding));
  }

  static const anomaly::http::Router router(anomaly::http::WebOptions{}, nullptr, nullptr, {});
  Request request;
  request.method = std::string(method);
  request.path = std::string(path);
  request.query = std::string(query);
  request.accept_encoding = std::string(accept_encoding);
  const anomaly::http::Response response = router.Serve(request);
  const int s = response.status;
  FUZZ_CHECK(s == 200 || s == 404 || s == 405 || s == 500 || s == 503, std::to_string(s));
  if (method == "GET" && s != 200) FUZZ_CHECK(!response.body.empty(), "an error without a body");
  return 0;
}
