// Error values for every fallible call in the project: Result<T> holds a T or an Error, Status holds
// nothing or an Error. No exception crosses a stage boundary (STYLE.md B4): adapters catch third-party
// exceptions and return an Error instead. Mark every function returning Result/Status [[nodiscard]].
//
//   Result<Config> cfg = LoadConfigFromFile(path);
//   if (!cfg) return tl::unexpected(cfg.error().WithContext("error loading config"));
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace anomaly {

enum class ErrorCode {
  kInvalidConfig,        // a config file or flag is wrong; the message names file:line and key
  kInvalidInput,         // user-supplied data (CSV, series) is unusable; the message names the line
  kUpstreamUnavailable,  // connect failure, or HTTP 5xx from the query API
  kUpstreamRejected,     // HTTP 4xx, or Prometheus errorType bad_data/execution
  kUpstreamMalformed,    // a body that cannot be decoded
  kTimeout,              // a deadline passed
  kCancelled,            // shutdown or a circuit breaker refused the call
  kInternal,             // an I/O or system failure outside the above
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes outer context, Go-style: "loading config: config.yaml:3: step: bad duration".
  Error WithContext(std::string_view context) const {
    return Error{code, std::string(context) + ": " + message};
  }
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace anomaly
