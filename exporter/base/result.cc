#include "anomaly/base/result.h"

namespace anomaly {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidConfig: return "invalid_config";
    case ErrorCode::kInvalidInput: return "invalid_input";
    case ErrorCode::kUpstreamUnavailable: return "upstream_unavailable";
    case ErrorCode::kUpstreamRejected: return "upstream_rejected";
    case ErrorCode::kUpstreamMalformed: return "upstream_malformed";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace anomaly
