// HttpTransport on libcurl. Keeps a small pool of easy handles: a call takes an
// idle one (or makes one), so concurrent callers never share a handle, and
// returns it afterwards so its keep-alive connection is reused. The pool is
// guarded by a mutex held only to take or return a handle.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"
#include "anomaly/prom/range_query_client.h"
#include "http_transport.h"

namespace anomaly::prom {

struct CurlOptions {
  Duration timeout{30000};
  Duration connect_timeout{5000};
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool tls_insecure_skip_verify = false;
  std::string user_agent;
  Compression compression = Compression::kNone;  // Accept-Encoding: identity or gzip
  size_t max_idle_handles = 8;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  [[nodiscard]] Result<HttpResponse> Post(const HttpRequest& request) override;
  // The body goes to `consumer` from libcurl's write callback, piece by piece, as it arrives.
  [[nodiscard]] Result<HttpResponse> PostStreaming(const HttpRequest& request,
                                                   BodyConsumer& consumer) override;

 private:
  struct HandleDeleter {
    void operator()(void* handle) const;
  };
  using Handle = std::unique_ptr<void, HandleDeleter>;  // a CURL*; curl.h stays in the .cc

  // Post and PostStreaming: the body to `consumer` when set, else to HttpResponse::body.
  [[nodiscard]] Result<HttpResponse> Perform(const HttpRequest& request, BodyConsumer* consumer);
  Handle Acquire();
  void Release(Handle handle);

  const CurlOptions options_;  // constant after construction

  std::mutex mu_;
  std::vector<Handle> idle_;  // guarded by mu_
};

}  // namespace anomaly::prom
