// A tiny blocking HTTP client for tests (libcurl): GET and POST on loopback, no
// retries.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string location;  // the Location header as sent (redirects are not followed); empty when none
};

// kUpstreamUnavailable when no answer came (refused, reset), kTimeout after
// `timeout`.
[[nodiscard]] Result<HttpResult> HttpGet(const std::string& url, Duration timeout = std::chrono::seconds(5));
[[nodiscard]] Result<HttpResult> HttpPost(
    const std::string& url, const std::string& body,
    const std::string& content_type = "application/x-www-form-urlencoded",
    Duration timeout = std::chrono::seconds(5));
// A POST with extra request headers ("Origin: http://x"), as a browser's form post sends them.
[[nodiscard]] Result<HttpResult> HttpPostWithHeaders(const std::string& url, const std::string& body,
                                                     const std::string& content_type,
                                                     const std::vector<std::string>& headers);

}  // namespace anomaly::testing
