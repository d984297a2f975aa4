// The bodies the router serves that are more than one line: the landing page's HTML and the
// /api/v1/anomalies JSON. Pure functions of their inputs.
#pragma once

#include <string>
#include <string_view>

#include "anomaly/exposition/snapshot.h"
#include "anomaly/http/web_server.h"

namespace anomaly::http {


// The landing page: name, version, a link to the telemetry path, the detectors table and the flagged
// series of `snapshot` (may be null: none yet), each linked to its series page. Every interpolated string
// is escaped.
std::string RenderLandingPage(const LandingInfo& info, const exposition::Snapshot* snapshot,
                              std::string_view telemetry_path);

// {"status":"success","data":[...]}: the scored series of `snapshot` (null: none), flagged ones only
// unless `all`, sorted by score descending (then detector and labels, for a stable order). Non-finite
// numbers are written as null; anomalous_since is Unix seconds, null while not flagged; url is the series
// page's, `external_url` (--web.external-url, no trailing slash; may be empty) followed by its path.
std::string RenderAnomaliesJson(const exposition::Snapshot* snapshot, bool all, std::string_view external_url = "");

}  // namespace anomaly::http
