// The HTTP seam of the prom stage: one POST, no retries, no decoding. The
// client above it owns retries, the breaker and paging; CurlTransport is the
// real one, tests script a fake. Implementations must be thread-safe. Private
// to the prom stage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::prom {

struct HttpRequest {
  std::string url;
  std::string form_body;             // application/x-www-form-urlencoded
  std::vector<std::string> headers;  // "Name: value"; may hold secrets: never log them
};

// The spare capacity a transport leaves past the end of HttpResponse::body when
// it can: the decoder's SIMD parser reads up to this many bytes past the end,
// and parses the body in place when they are there (query_range_decoder.h).
inline constexpr size_t kBodyPadding = 64;

struct HttpResponse {
  long status = 0;
  // capacity() >= size() + kBodyPadding where the transport can.
  std::string body;
  std::optional<Duration> retry_after;  // from a Retry-After header in delta-seconds
};

// Takes a response's body as it arrives, instead of HttpResponse::body.
class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  // Once per response, before its first Write, with its HTTP status (also for an empty body).
  virtual void Begin(long http_status) = 0;
  // The body's next bytes, in order; pieces of any size.
  virtual void Write(std::string_view piece) = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response. Errors: kTimeout (the request timeout
  // passed), kUpstreamUnavailable (connect/send/receive failed, body cut short
  // of its Content-Length), kInvalidConfig (bad URL, unreadable or rejected TLS
  // files, server certificate not trusted).
  [[nodiscard]] virtual Result<HttpResponse> Post(const HttpRequest& request) = 0;

  // Post, with the body handed to `consumer` as it arrives (the returned body is empty). On an error the
  // consumer may have seen part of a body. This default runs Post and hands over its body in one piece;
  // CurlTransport streams it from libcurl's write callback.
  [[nodiscard]] virtual Result<HttpResponse> PostStreaming(const HttpRequest& request,
                                                           BodyConsumer& consumer) {
    Result<HttpResponse> response = Post(request);
    if (!response) return response;
    consumer.Begin(response->status);
    consumer.Write(response->body);
    response->body = std::string();
    return response;
  }
};

}  // namespace anomaly::prom
