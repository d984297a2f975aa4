// --storage.path (issue 18): the episodes and the feedback of every detector's series, kept across
// restarts in one text file, `<storage.path>/state`, rewritten whole and atomically (a temporary file,
// fsync, rename, fsync of the folder), so a crash leaves the old file or the new one, never half of one.
// A file that cannot be read or decoded is logged with its path and moved aside (`state.corrupt-<unix
// seconds>`), and the exporter starts without it. Plain functions; the daemon serialises their use.
//
// The format, one record a line, fields separated by spaces, strings percent-escaped:
//   anomaly_exporter_state 1
//   series DETECTOR N NAME VALUE ... MARGIN MARGIN_MS        (N label pairs)
//   episode START END PEAK_SCORE PEAK_MS PEAK_VALUE PEAK_EXPECTED VERDICT FEEDBACK_MS COMMENT
//   end RECORDS                                              (the series and episode lines above)
// VERDICT is "-" (none), "false_positive" or "true_positive"; an episode belongs to the series above it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/labels.h"
#include "anomaly/base/result.h"
#include "exporter/app/episode_log.h"

namespace anomaly::app {

// One series' stored state.
struct StoredSeries {
  std::string detector;
  Labels labels;
  double margin = 0;  // SeriesEntry::feedback_margin, as raised at margin_ms
  int64_t margin_ms = 0;
  std::vector<EpisodeRecord> episodes;  // oldest first
};

std::string EncodeState(const std::vector<StoredSeries>& state);
// kInvalidInput "line N: ..." for anything but a whole file in the format above (the end line included).
[[nodiscard]] Result<std::vector<StoredSeries>> DecodeState(std::string_view text);

// Writes `content` to `path` atomically (path + ".tmp", fsync, rename, fsync of the folder). kInternal
// naming the path and the system error; the old file is then untouched.
[[nodiscard]] Status WriteFileAtomically(const std::string& path, std::string_view content);

// The state in `path`: empty when there is no file. A file that cannot be read or decoded is logged (its
// path and why), renamed to path + ".corrupt-<unix seconds>" and an empty state returned: never fails.
std::vector<StoredSeries> LoadStateOrMoveAside(const std::string& path);

}  // namespace anomaly::app
