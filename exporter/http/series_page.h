// The series page's parts that need no civetweb (docs/ui.md): the /series query, which series of the
// published snapshot it names, the links to it, and the HTML (inline SVG and CSS, no script, no external
// resource). Pure functions of their inputs; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/exposition/snapshot.h"
#include "anomaly/http/series_page.h"

namespace anomaly::http {

inline constexpr std::string_view kSeriesPath = "/series";

// /series?detector=NAME&LABEL=VALUE...: exact matchers on the labels as /metrics exports them
// (exposition::ExportedLabels: `metric_name` for `__name__`, `exported_detector` for a series label
// named `detector`), in the query's order.
struct SeriesSelector {
  std::string detector;
  std::vector<std::pair<std::string, std::string>> labels;
};

// Decodes the query string (percent-encoding and '+'). kInvalidInput naming the problem: no `detector`,
// a name given twice, a pair without '=', a bad escape.
[[nodiscard]] Result<SeriesSelector> ParseSeriesQuery(std::string_view query);

// The snapshot's series of the selector's detector whose exported labels hold every matcher. A `job` or
// `instance` matcher is also met by a series without that label: Prometheus adds the exporter's own to
// such a series at scrape time (honor_labels), so an alert's labels, which a rule turns into a link, may
// carry one the series does not have. In snapshot order.
std::vector<const exposition::SeriesReport*> MatchSeries(const exposition::Snapshot* snapshot,
                                                         const SeriesSelector& selector);

// "/series?detector=...&name=value..." for one series: every exported label, percent-encoded, so the link
// names exactly that series.
std::string SeriesPath(const exposition::SeriesReport& report);

// The page of one series: its verdict from the snapshot (`report`), and the chart of `page` (null: none,
// `note` says why).
std::string RenderSeriesPage(const exposition::SeriesReport& report, const SeriesPage* page, std::string_view note);

// The page for a selector that names no series or several: `message`, then links to `matches` (at most
// `max_links` of them, the count of the rest said).
std::string RenderSeriesChoice(std::string_view title, std::string_view message,
                               const std::vector<const exposition::SeriesReport*>& matches, size_t max_links = 100);

}  // namespace anomaly::http
