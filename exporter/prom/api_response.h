// The envelope every Prometheus HTTP API answer shares ({"status", "data",
// "errorType", "error", "warnings"}), decoded to an Error or to the parsed
// JSON. Private to the prom stage: nlohmann stays here. Pure and
// thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::prom {

struct ApiResponse {
  nlohmann::json data;
  std::vector<std::string> warnings;
};

// The envelope of `body` received with `http_status`: "success" -> data and
// warnings; "error" or a non-2xx status -> the Error that status/errorType maps
// to (see DecodeQueryRange in range_query.h).
[[nodiscard]] Result<ApiResponse> DecodeApiResponse(std::string_view body, long http_status);

// The ErrorCode for a Prometheus errorType, falling back to the HTTP status
// when the type is unknown or empty.
ErrorCode ErrorCodeForErrorType(std::string_view error_type, long http_status);

}  // namespace anomaly::prom
