// The web server's request parsing that is ours rather than civetweb's (exporter/http/router.h,
// basic_auth.h): the query string (QueryFlag), the Accept-Encoding header (AcceptsGzip), the
// Authorization header (ParseBasicAuthorization), and routing of any method and path through
// Router::Serve, the one entry point of every request, with and without basic auth. The input is split
// at newlines into method, path, query, Accept-Encoding and Authorization.
// Checks: QueryFlag is true only when the query holds "key=1" or "key=true"; AcceptsGzip only when the
// header names gzip; credentials that parse encode back to a header that parses to the same user and
// password; Serve answers every request with a status the router knows and a body for a GET error; with
// basic auth on, only the right user and password get anything but 401.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "anomaly/http/web_server.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/router.h"
#include "fuzz_check.h"

namespace {

std::string_view NextLine(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  const std::string_view line = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  return line;
}

std::string EncodeBase64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (i + 1 < in.size()) n |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// bcrypt of "fuzz" at cost 4, the cheapest: a check costs about a millisecond.
constexpr char kUser[] = "fuzz";
constexpr char kPassword[] = "fuzz";
constexpr char kHash[] = "$2b$04$abcdefghijklmnopqrstuu/gbQda0wNzQqQxxxVQ4znO/Q9D5f5/W";

const anomaly::http::Router& RouterWithBasicAuth() {
  static const anomaly::http::Router* router = [] {
    auto* r = new anomaly::http::Router(anomaly::http::WebOptions{}, nullptr, nullptr, {});
    auto access = std::make_shared<anomaly::http::Access>();
    access->auth = std::make_shared<const anomaly::http::BasicAuthenticator>(
        std::map<std::string, std::string>{{kUser, kHash}});
    r->SetAccess(std::move(access));
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using anomaly::http::Request;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view method = NextLine(&rest);
  const std::string_view path = NextLine(&rest);
  const std::string_view query = NextLine(&rest);
  const std::string_view accept_encoding = NextLine(&rest);
  const std::string_view authorization = NextLine(&rest);

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

  std::string user;
  std::string password;
  const bool parsed = anomaly::http::ParseBasicAuthorization(authorization, user, password);
  if (parsed) {
    FUZZ_CHECK(user.find(':') == std::string::npos, std::string(authorization));
    std::string user_again;
    std::string password_again;
    const std::string header = "Basic " + EncodeBase64(user + ":" + password);
    FUZZ_CHECK(anomaly::http::ParseBasicAuthorization(header, user_again, password_again), header);
    FUZZ_CHECK(user_again == user && password_again == password, header);
  }

  static const anomaly::http::Router router(anomaly::http::WebOptions{}, nullptr, nullptr, {});
  Request request;
  request.method = std::string(method);
  request.path = std::string(path);
  request.query = std::string(query);
  request.accept_encoding = std::string(accept_encoding);
  request.authorization = std::string(authorization);
  const anomaly::http::Response response = router.Serve(request);
  const int s = response.status;
  FUZZ_CHECK(s == 200 || s == 404 || s == 405 || s == 500 || s == 503, std::to_string(s));
  if (method == "GET" && s != 200) FUZZ_CHECK(!response.body.empty(), "an error without a body");

  // With basic auth: credentials that parse cost a bcrypt check, so only one input in 64 pays it.
  if (parsed && size % 64 != 0) return 0;
  const anomaly::http::Response guarded = RouterWithBasicAuth().Serve(request);
  if (guarded.status != 401) {
    FUZZ_CHECK(parsed && user == kUser && password == kPassword,
               "served without the right credentials: " + std::string(authorization));
  }
  return 0;
}
