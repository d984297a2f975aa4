// gzip (RFC 1952) compression of a response body, for scrapers that send Accept-Encoding: gzip
// (Prometheus does). zlib stays inside gzip.cc.
#pragma once

#include <string>
#include <string_view>

#include "anomaly/base/result.h"

namespace anomaly::http {

// kInternal when zlib fails (out of memory); the caller then sends the body uncompressed.
[[nodiscard]] Result<std::string> GzipCompress(std::string_view data);

}  // namespace anomaly::http
