// The HTTP seam of the prom stage: one POST, no retries, no decoding. The
// client above it owns retries, the breaker and paging; CurlTransport is the
// real one, tests script a fake. Implementations must be thread-safe. Private
// to the prom stage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::prom {

struct HttpRequest {
  std::string url;
  std::string form_body;             // application/x-www-form-urlencoded
  std::vector<std::string> headers;  // "Name: value"; may hold secrets: never log them
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::optional<Duration> retry_after;  // from a Retry-After header in delta-seconds
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response. Errors: kTimeout (the request timeout
  // passed), kUpstreamUnavailable (connect/send/receive failed, body cut short
  // of its Content-Length), kInvalidConfig (bad URL, unreadable or rejected TLS
  // files, server certificate not trusted).
  [[nodiscard]] virtual Result<HttpResponse> Post(const HttpRequest& request) = 0;
};

}  // namespace anomaly::prom
