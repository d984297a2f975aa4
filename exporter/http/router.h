// The HTTP stage's request routing, free of civetweb: a Request in, a Response out. web_server.cc
// adapts civetweb to it. Every request goes through Router::Serve, which is the one place a later
// access check (web config basic auth) wraps all endpoints.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "anomaly/http/web_server.h"

namespace anomaly::http {

struct Request {
  std::string method;           // "GET", "POST", ...
  std::string path;             // decoded, without the query string
  std::string query;            // after '?', raw; empty when none
  std::string accept_encoding;  // the Accept-Encoding header; empty when absent
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, Content-Encoding)
};

// Thread-safe: const after construction; Serve runs concurrently on civetweb workers.
class Router {
 public:
  Router(WebOptions options, std::shared_ptr<prometheus::Collectable> self_metrics,
         std::shared_ptr<exposition::AnomalyCollector> anomalies, Callbacks callbacks);

  // Never throws: a callback's exception becomes a 500 with a generic body, logged once here.
  Response Serve(const Request& request) const noexcept;

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
};

// True when `query` ("a=1&all=1") sets `key` to 1 or true.
bool QueryFlag(std::string_view query, std::string_view key);

// True when an Accept-Encoding header value accepts gzip (a "gzip" token without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace anomaly::http
