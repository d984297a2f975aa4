// The query client: asks a Prometheus-compatible API (Prometheus, Thanos,
// Mimir, VictoriaMetrics) for range data. RangeQueryClient is the seam the app
// and the backtest depend on; tests substitute fakes. NewHttpClient builds the
// real one on libcurl: paging past the per-request point limit, retries with
// exponential backoff and full jitter, and one circuit breaker per client (=
// per upstream).
//
// Thread-safety: every RangeQueryClient method may be called from several
// threads at once. The HTTP client keeps a small pool of keep-alive connections
// (one per concurrent caller, idle ones reused); the breaker and the pool are
// guarded by internal mutexes, and no lock is held during I/O or sleeps.
//
//   auto client = NewHttpClient({.url = "http://prometheus:9090", .timeout =
//   30s}); Result<std::vector<SeriesSamples>> r = (*client)->QueryRange({"up",
//   start_ms, end_ms, 60s});
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"
#include "anomaly/prom/range_query.h"

namespace anomaly::prom {

class RangeQueryClient {
 public:
  virtual ~RangeQueryClient() = default;

  // All series of `query` over [start_ms, end_ms] at `step`, each series'
  // samples ascending and unique by timestamp, series sorted by labels. Long
  // ranges are fetched in pages and merged. Errors (the message names the query
  // and the cause):
  //   kInvalidInput        step <= 0 or end_ms < start_ms (no request is sent);
  //   kUpstreamRejected    4xx / bad_data / execution (never retried);
  //   kUpstreamUnavailable connect failure, 5xx, 429, after the retries;
  //   kTimeout             the per-request timeout, or Prometheus errorType
  //   timeout, after the retries; kUpstreamMalformed   an undecodable body;
  //   kCancelled           the circuit breaker is open ("circuit open"): no
  //   request was sent; kInternal            a secret file (token, password)
  //   could not be read.
  // Blocks for at most about (max_retries + 1) x timeout + the backoffs, per
  // page.
  [[nodiscard]] virtual Result<std::vector<SeriesSamples>> QueryRange(const RangeQuery& query) = 0;

  // QueryRange that hands each series to `sink` as soon as it is decoded (on the calling thread, before
  // this returns), so that the caller can store and fit it while the rest of the answer downloads, and
  // no copy of the whole answer, text or decoded, is ever held. The series come in the answer's order
  // (Prometheus': by labels; not guaranteed), each label set once, each one's samples as QueryRange's.
  // A range of several pages is fetched and merged first, then handed over in label order.
  // Same errors as QueryRange. On an error, the series already handed over belong to no answer: the
  // caller must drop them (an answer cut short, or refused by its last byte, is still an error). A request
  // that fails after a series was handed over is not retried: the next call asks again.
  // This default calls QueryRange and hands its series over; the HTTP client streams.
  [[nodiscard]] virtual Status QueryRangeStreamed(const RangeQuery& query,
                                                  const std::function<void(SeriesSamples&&)>& sink) {
    Result<std::vector<SeriesSamples>> answer = QueryRange(query);
    if (!answer) return tl::unexpected(answer.error());
    for (SeriesSamples& s : *answer) sink(std::move(s));
    return {};
  }

  // Asks the server to parse `promql` without evaluating it: POST
  // /api/v1/format_query (Prometheus >= 2.38), or, where the store has no such
  // path (404, 405, 501, or a 400/422 whose plain body says "unsupported path"
  // or "not found": older Prometheus, Thanos, VictoriaMetrics), an instant query
  // at time 0. OK when it parses, and also (logged once) when the store has
  // neither path; kUpstreamRejected with the store's own message when it
  // refuses the query (Prometheus bad_data, VictoriaMetrics 422); otherwise the
  // errors of QueryRange. Blocks like one page of QueryRange.
  [[nodiscard]] virtual Status CheckQuery(std::string_view promql) = 0;
};

// What one QueryRange/CheckQuery call did, handed to ClientOptions::observer
// when it returns (on the calling thread): for self-metrics and logs. `error`
// is empty on success.
struct QueryEvent {
  std::string_view query;
  std::optional<ErrorCode> error;
  int requests = 0;  // HTTP requests sent, retries included (0 when the breaker refused)
  int retries = 0;   // of those, the repeated ones
  Duration elapsed{0};
  std::span<const std::string> warnings;  // Prometheus' warnings, all pages
};
using QueryObserver = std::function<void(const QueryEvent&)>;

// How answers may travel. Prometheus compresses an answer when asked (Accept-Encoding: gzip), which on a
// fast link costs both sides more CPU than it saves in transfer: measured on loopback, 1,000 series x
// 2,016 points, the gzip answer (13 MiB) arrived in 4.7 s, the identity one (45 MiB) in 0.9 s
// (bench/scale_bench.sh, docs/configuration.md). Over a slow or metered link gzip wins.
enum class Compression {
  kNone,  // Accept-Encoding: identity
  kGzip,  // Accept-Encoding: gzip (libcurl decodes it)
};

struct ClientOptions {
  // Base URL; may carry a path prefix (Mimir "/prometheus", VictoriaMetrics
  // cluster "/select/0/ prometheus"). "/api/v1/..." is appended.
  std::string url;
  // Total time for one HTTP request (connect + transfer), also sent to
  // Prometheus as `timeout`. Default 30s. Longer tolerates heavy queries;
  // shorter frees the cycle sooner when upstream hangs.
  Duration timeout = std::chrono::seconds(30);
  // Connect phase only, capped by `timeout`. Default 5s.
  Duration connect_timeout = std::chrono::seconds(5);

  // Secrets are read from these files on every request (rotation works) and
  // never logged.
  std::string bearer_token_file;  // "Authorization: Bearer <contents, trailing
                                  // whitespace trimmed>"
  std::string basic_auth_username;
  std::string basic_auth_password_file;  // used when basic_auth_username is set

  std::string tls_ca_file;    // empty: the system CA store
  std::string tls_cert_file;  // client certificate (mTLS), with tls_key_file
  std::string tls_key_file;
  bool tls_insecure_skip_verify = false;  // testing only: accepts any server certificate

  Compression compression = Compression::kNone;

  // Extra headers on every request, e.g. {"X-Scope-OrgID", "tenant-1"}.
  std::vector<std::pair<std::string, std::string>> headers;

  // Retries after timeouts, connect errors, 5xx and 429; never after other 4xx.
  // Default 3 (so up to 4 requests). Delay before retry n (0-based): uniform in
  // [0, min(max_backoff, initial_backoff x 2^n)] ("full jitter"), but at least
  // a 429/503's Retry-After seconds, capped at max_backoff.
  int max_retries = 3;
  Duration initial_backoff = std::chrono::milliseconds(250);
  Duration max_backoff = std::chrono::seconds(10);

  // After this many consecutive failed HTTP requests (connect errors, timeouts, 5xx, 429; every retry
  // counts; any other answer, 4xx included, resets the count) the client fails fast with kCancelled
  // for breaker_cooldown, then lets one trial request through. 0 disables the breaker.
  int breaker_failure_threshold = 5;
  Duration breaker_cooldown = std::chrono::seconds(30);

  // Most samples per series one request may ask for ((end - start) / step + 1).
  // Prometheus refuses more than 11,000 steps with bad_data; lower it for
  // backends with smaller limits.
  int max_points_per_request = 11000;

  std::string user_agent = "anomaly_exporter";

  QueryObserver observer;  // optional; must be thread-safe, as it runs on the
                           // callers' threads
};

// Validates the options (url scheme http/https, positive timeouts,
// max_points_per_request >= 1, max_retries >= 0) and builds the libcurl client;
// kInvalidConfig naming the option otherwise. Sends no request.
[[nodiscard]] Result<std::unique_ptr<RangeQueryClient>> NewHttpClient(const ClientOptions& options);

}  // namespace anomaly::prom
