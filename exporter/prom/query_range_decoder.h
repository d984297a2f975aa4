// DecodeQueryRange over a body the caller owns: read in place, not copied.
// Private to the prom stage.
#pragma once

#include <string>

#include "anomaly/base/result.h"
#include "anomaly/prom/range_query.h"

namespace anomaly::prom {

// DecodeQueryRange (range_query.h) of `body`, which it parses in place when the
// string's capacity holds kBodyPadding spare bytes past its end, as
// HttpResponse::body does (http_transport.h); otherwise over a padded copy.
[[nodiscard]] Result<QueryRangeResponse> DecodeQueryRangeInPlace(const std::string& body, long http_status);

}  // namespace anomaly::prom
