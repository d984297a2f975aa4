// DecodeApiResponse (exporter/prom/api_response.h): the envelope of every Prometheus API answer, error
// bodies and proxies' pages included. Checks: a non-2xx status never decodes as a success; an error's
// code is one of the upstream codes (never "malformed" for a status alone) and its message starts
// "prometheus answered <status>".
#include "exporter/prom/api_response.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"

namespace {

constexpr std::array<long, 10> kStatuses{200, 204, 400, 404, 408, 422, 429, 500, 502, 503};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using anomaly::ErrorCode;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (long status : {200L, kStatuses[size % kStatuses.size()]}) {
    anomaly::Result<anomaly::prom::ApiResponse> r = anomaly::prom::DecodeApiResponse(body, status);
    if (r) {
      FUZZ_CHECK(status >= 200 && status < 300, "a " + std::to_string(status) + " decoded as a success");
      continue;
    }
    const ErrorCode code = r.error().code;
    FUZZ_CHECK(code == ErrorCode::kUpstreamRejected || code == ErrorCode::kUpstreamUnavailable ||
                   code == ErrorCode::kUpstreamMalformed || code == ErrorCode::kTimeout,
               r.error().message);
    const std::string prefix = "prometheus answered " + std::to_string(status);
    FUZZ_CHECK(r.error().message.starts_with(prefix), r.error().message);
    FUZZ_CHECK(anomaly::prom::ErrorCodeForErrorType("", status) != ErrorCode::kUpstreamMalformed,
               "status alone mapped to malformed");
  }
  return 0;
}
