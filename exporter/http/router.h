// The HTTP stage's request routing, free of civetweb: a Request in, a Response out. web_server.cc
// adapts civetweb to it. Every request goes through Router::Serve, which is the one place the web
// config's access check (basic auth) and its extra response headers wrap every endpoint.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "anomaly/http/web_server.h"
#include "exporter/http/basic_auth.h"

namespace anomaly::http {

struct Request {
  std::string method;           // "GET", "POST", ...
  std::string path;             // decoded, without the query string
  std::string query;            // after '?', raw; empty when none
  std::string accept_encoding;  // the Accept-Encoding header; empty when absent
  std::string authorization = {};  // the Authorization header; empty when absent. Never logged
};

// What the web config asks of every request and response; immutable, swapped whole by a reload.
struct Access {
  std::shared_ptr<const BasicAuthenticator> auth;            // null: no basic auth
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response, in order
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, Content-Encoding)
};

// Thread-safe: Serve runs concurrently on civetweb workers; everything but the Access is constant after
// construction, and the Access is one atomic pointer.
class Router {
 public:
  Router(WebOptions options, std::shared_ptr<prometheus::Collectable> self_metrics,
         std::shared_ptr<exposition::AnomalyCollector> anomalies, Callbacks callbacks);

  // Never throws: a callback's exception becomes a 500 with a generic body, logged once here. With basic
  // auth on, a request without valid credentials gets 401 and WWW-Authenticate, whatever its path.
  Response Serve(const Request& request) const noexcept;

  // The next requests use `access` (null: none); requests in flight keep the one they started with.
  void SetAccess(std::shared_ptr<const Access> access) { access_.store(std::move(access)); }
  std::shared_ptr<const Access> access() const { return access_.load(); }

 private:
  Response Route(const Request& request) const;
  Response Metrics(const Request& request) const;
  Response Landing() const;
  Response Ready() const;
  Response Reload() const;
  Response Anomalies(const Request& request) const;
  std::shared_ptr<const exposition::Snapshot> CurrentSnapshot() const;

  // Constant after construction.
  const WebOptions options_;
  const std::shared_ptr<prometheus::Collectable> self_metrics_;
  const std::shared_ptr<exposition::AnomalyCollector> anomalies_;
  const Callbacks callbacks_;
  std::atomic<std::shared_ptr<const Access>> access_;
};

// True when `query` ("a=1&all=1") sets `key` to 1 or true.
bool QueryFlag(std::string_view query, std::string_view key);

// True when an Accept-Encoding header value accepts gzip (a "gzip" token without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace anomaly::http
