// The data of one `query_range` call: what is asked (RangeQuery) and what comes
// back (SeriesSamples), plus the pure decoder of Prometheus' JSON answer. Plain
// values, no third-party types, no I/O; used by the prom client, the app's
// cycle and the backtest. Everything here is thread-compatible.
//
//   Result<std::vector<SeriesSamples>> s = DecodeQueryRangeResponse(body, 200);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/labels.h"
#include "anomaly/base/result.h"

namespace anomaly::prom {

struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;  // NaN, +Inf and -Inf are kept as such; the caller decides
                     // what they mean
  friend bool operator==(const Sample&, const Sample&) = default;
};

struct SeriesSamples {
  Labels labels;                // sorted; __name__ kept when Prometheus returns it
  std::vector<Sample> samples;  // ascending timestamp_ms, no duplicate timestamps
};

// Both ends are inclusive, as in Prometheus: a range asks for (end_ms -
// start_ms) / step + 1 samples per series. Align start_ms to a multiple of step
// for cacheable requests (Mimir, Thanos): every page the client sends then
// starts on the same grid.
struct RangeQuery {
  std::string query;  // PromQL
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  Duration step{0};  // > 0
};

// The decoded answer: series sorted by labels, plus Prometheus' `warnings`
// (e.g. Thanos partial responses), which do not make the call fail.
struct QueryRangeResponse {
  std::vector<SeriesSamples> series;
  std::vector<std::string> warnings;
};

// Decodes a /api/v1/query_range body received with `http_status`. Pure: no I/O,
// no logging. Errors:
//   kUpstreamRejected    Prometheus errorType bad_data/execution/not_found/...,
//   or any other 4xx; kUpstreamUnavailable errorType
//   unavailable/internal/canceled, or a 5xx/429 without an errorType; kTimeout
//   errorType timeout; kUpstreamMalformed   not JSON or cut short (the message
//   names the byte offset), a resultType
//                        other than matrix, or a field of the wrong shape (the
//                        message names it).
// Messages read "prometheus answered 400: bad_data: <Prometheus' own error>".
[[nodiscard]] Result<QueryRangeResponse> DecodeQueryRange(std::string_view body, long http_status);

// DecodeQueryRange without the warnings.
[[nodiscard]] Result<std::vector<SeriesSamples>> DecodeQueryRangeResponse(std::string_view body,
                                                                          long http_status);

}  // namespace anomaly::prom
