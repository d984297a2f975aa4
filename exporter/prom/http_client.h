// The RangeQueryClient behind NewHttpClient, built from a transport and an
// environment so that tests drive retries, backoff and the breaker with a
// scripted transport and a fake clock, taking no real time. Private to the prom
// stage. Thread-safe (see range_query_client.h).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/prom/range_query_client.h"
#include "backoff.h"
#include "circuit_breaker.h"
#include "http_transport.h"

namespace anomaly::prom {

// Time and randomness; each function must be thread-safe.
struct ClientEnv {
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(Duration)> sleep;
  std::function<double()> unit_random;  // uniform in [0, 1)
};

// steady_clock, std::this_thread::sleep_for, a per-thread mt19937_64 seeded
// from random_device.
ClientEnv RealClientEnv();

// kInvalidConfig naming the first bad option.
[[nodiscard]] Status ValidateClientOptions(const ClientOptions& options);

class HttpRangeQueryClient final : public RangeQueryClient {
 public:
  // REQUIRES: ValidateClientOptions(options) is OK.
  HttpRangeQueryClient(ClientOptions options, std::unique_ptr<HttpTransport> transport, ClientEnv env);
  HttpRangeQueryClient(const HttpRangeQueryClient&) = delete;
  HttpRangeQueryClient& operator=(const HttpRangeQueryClient&) = delete;

  [[nodiscard]] Result<std::vector<SeriesSamples>> QueryRange(const RangeQuery& query) override;
  // One page: decoded from the transport's PostStreaming as it arrives (QueryRangeStreamDecoder).
  [[nodiscard]] Status QueryRangeStreamed(const RangeQuery& query,
                                          const std::function<void(SeriesSamples&&)>& sink) override;
  [[nodiscard]] Status CheckQuery(std::string_view promql) override;

 private:
  struct CallStats {
    int requests = 0;
    int retries = 0;
  };

  class StreamingBody;

  // POSTs `form` to base URL + `path`, retrying timeouts, transport failures,
  // 5xx and 429 with backoff, through the breaker. Returns the last response
  // (whatever its status) or transport error. With `streaming`, the body goes
  // there as it arrives, and a request that failed after a series was handed
  // over is not retried.
  [[nodiscard]] Result<HttpResponse> Send(std::string_view path, const std::string& form, CallStats* stats,
                                          StreamingBody* streaming = nullptr);
  // The form of one query_range request, without start and end.
  std::string QueryForm(const RangeQuery& query) const;
  [[nodiscard]] Result<std::vector<std::string>> AuthHeaders() const;
  void LogWarningsOnce(std::string_view query, const std::vector<std::string>& warnings);
  void Notify(std::string_view query, const std::optional<ErrorCode>& error, const CallStats& stats,
              std::chrono::steady_clock::time_point started, const std::vector<std::string>& warnings);

  // Constant after construction.
  const ClientOptions options_;
  const std::string base_url_;  // options_.url without trailing '/'
  const BackoffPolicy backoff_;
  const std::unique_ptr<HttpTransport> transport_;  // thread-safe itself
  const ClientEnv env_;

  CircuitBreaker breaker_;  // thread-safe itself

  std::mutex warnings_mu_;
  std::set<std::string> logged_warnings_;  // guarded by warnings_mu_; bounded
  std::atomic<bool> logged_cannot_check_{false};  // CheckQuery's skip is logged once per client
};

}  // namespace anomaly::prom
