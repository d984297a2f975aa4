#include "exporter/http/series_page.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

#include "anomaly/base/duration.h"
#include "anomaly/base/html.h"
#include "anomaly/base/labels.h"
#include "anomaly/base/url.h"
#include "anomaly/exposition/anomaly_collector.h"
#include "anomaly/http/episodes.h"

namespace anomaly::http {
namespace {

using exposition::SeriesReport;

// The chart's own coordinates; the SVG scales to the page's width (viewBox), so it fits any window.
constexpr double kWidth = 1100, kHeight = 360, kLeft = 70, kRight = 20, kTop = 16, kBottom = 36;
constexpr size_t kMaxColumns = 1500;  // at most this many points per line: the page stays small
constexpr size_t kMaxMarkers = 2000;

std::string Escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Num(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", x);
  return buffer;
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

std::string Utc(int64_t ms, const char* format = "%Y-%m-%d %H:%M") {
  if (ms <= 0) return "n/a";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

std::string Span(int64_t ms) {
  const int64_t minutes = ms / 60000;
  if (minutes < 120) return std::to_string(minutes) + "m";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + "h " + std::to_string(minutes % 60) + "m";
  return std::to_string(minutes / 1440) + "d " + std::to_string(minutes / 60 % 24) + "h";
}

std::string Name(const SeriesReport& r) { return r.detector + " " + LabelsToString(r.labels); }

bool Finite(double v) { return std::isfinite(v); }

// x is time, y spans the values and (within reason) the band.
struct Frame {
  double t0 = 0, t1 = 1, y0 = 0, y1 = 1;
  double X(double t) const { return kLeft + (t - t0) / (t1 - t0) * (kWidth - kLeft - kRight); }
  double Y(double y) const { return kTop + (y1 - y) / (y1 - y0) * (kHeight - kTop - kBottom); }
};

Frame FrameOf(const SeriesPage& page) {
  Frame f;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const SeriesPoint& p : page.points) {
    if (!Finite(p.value)) continue;
    lo = std::min(lo, p.value);
    hi = std::max(hi, p.value);
  }
  // A band far wider than the data (a flat series' tiny scale times a large threshold is not one) may not
  // flatten the values: it is cut at one data span beyond them.
  const double span = Finite(hi - lo) ? std::max(hi - lo, 1e-9) : 1.0;
  for (const SeriesPoint& p : page.points) {
    if (!Finite(p.lower) || !Finite(p.upper)) continue;
    lo = std::min(lo, std::max(p.lower, lo - span));
    hi = std::max(hi, std::min(p.upper, hi + span));
  }
  if (!Finite(lo) || !Finite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 1, hi += 1;
  const double pad = (hi - lo) * 0.05;
  f.y0 = lo - pad;
  f.y1 = hi + pad;
  if (!page.points.empty()) {
    f.t0 = static_cast<double>(page.points.front().timestamp_ms);
    f.t1 = static_cast<double>(page.points.back().timestamp_ms);
  }
  if (f.t1 <= f.t0) f.t1 = f.t0 + 1;
  return f;
}

// Point indices to draw: all when few, else each column's lowest and highest value in time order, so a
// spike survives the thinning.
std::vector<size_t> Columns(const SeriesPage& page) {
  const size_t n = page.points.size();
  std::vector<size_t> out;
  if (n <= 2 * kMaxColumns) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (size_t c = 0; c < kMaxColumns; ++c) {
    const size_t a = c * n / kMaxColumns, b = (c + 1) * n / kMaxColumns;
    size_t lo = a, hi = a;
    for (size_t i = a; i < b; ++i) {
      const double v = page.points[i].value;
      if (!Finite(v)) continue;
      if (!Finite(page.points[lo].value) || v < page.points[lo].value) lo = i;
      if (!Finite(page.points[hi].value) || v > page.points[hi].value) hi = i;
    }
    out.push_back(std::min(lo, hi));
    if (lo != hi) out.push_back(std::max(lo, hi));
  }
  return out;
}

std::string Chart(const SeriesPage& page) {
  const Frame f = FrameOf(page);
  const std::vector<size_t> cols = Columns(page);
  auto x_of = [&](size_t i) { return f.X(static_cast<double>(page.points[i].timestamp_ms)); };
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(kHeight) +
                    "\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-label=\"value, expected value and "
                    "band of the series over the detector's window\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + Num(kWidth) + "\" height=\"" + Num(kHeight) + "\" fill=\"#ffffff\"/>\n";

  // Flagged episodes first, under everything else: a shaded column from the flag's rise to its fall.
  const double t_end = page.points.empty() ? f.t1 : static_cast<double>(page.points.back().timestamp_ms);
  for (const SeriesEpisode& e : page.episodes) {
    const double a = std::max(f.t0, static_cast<double>(e.start_ms));
    const double b = std::min(t_end, e.end_ms > 0 ? static_cast<double>(e.end_ms) : t_end);
    if (b < a) continue;
    const double x0 = f.X(a), x1 = std::max(f.X(b), x0 + 2);
    svg += "<rect class=\"episode\" x=\"" + Num(x0) + "\" y=\"" + Num(kTop) + "\" width=\"" + Num(x1 - x0) +
           "\" height=\"" + Num(kHeight - kTop - kBottom) + "\"><title>flagged " + Utc(e.start_ms) + " to " +
           (e.end_ms > 0 ? Utc(e.end_ms) : std::string("now")) + " UTC, peak score " + Number(e.peak_score) +
           "</title></rect>\n";
  }

  for (int k = 0; k <= 4; ++k) {
    const double y = f.y0 + (f.y1 - f.y0) * k / 4.0;
    svg += "<line class=\"grid\" x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kWidth - kRight) + "\" y1=\"" +
           Num(f.Y(y)) + "\" y2=\"" + Num(f.Y(y)) + "\"/>";
    svg += "<text class=\"axis\" x=\"" + Num(kLeft - 6) + "\" y=\"" + Num(f.Y(y) + 4) + "\" text-anchor=\"end\">" +
           EscapeHtml(Number(y)) + "</text>\n";
  }
  for (int k = 0; k <= 2; ++k) {
    const double t = f.t0 + (f.t1 - f.t0) * k / 2.0;
    const char* anchor = k == 0 ? "start" : k == 1 ? "middle" : "end";
    svg += "<text class=\"axis\" x=\"" + Num(f.X(t)) + "\" y=\"" + Num(kHeight - 12) + "\" text-anchor=\"" + anchor +
           "\">" + Utc(static_cast<int64_t>(t)) + " UTC</text>\n";
  }

  // The band: one polygon per run of points with a band (upper left to right, then lower back).
  std::string band, expected, value;
  std::vector<size_t> run;
  auto flush_band = [&] {
    if (run.size() >= 2) {
      band += "<polygon class=\"band\" points=\"";
      for (size_t i : run) band += Num(x_of(i)) + "," + Num(f.Y(page.points[i].upper)) + " ";
      for (size_t k = run.size(); k-- > 0;) band += Num(x_of(run[k])) + "," + Num(f.Y(page.points[run[k]].lower)) + " ";
      band += "\"/>\n";
    }
    run.clear();
  };
  bool expected_down = false, value_down = false;
  for (size_t i : cols) {
    const SeriesPoint& p = page.points[i];
    const double x = x_of(i);
    if (Finite(p.value)) {
      value += (value_down ? " L" : " M") + Num(x) + "," + Num(f.Y(p.value));
      value_down = true;
    } else {
      value_down = false;  // a long gap: the line breaks
    }
    if (Finite(p.expected)) {
      expected += (expected_down ? " L" : " M") + Num(x) + "," + Num(f.Y(p.expected));
      expected_down = true;
    } else {
      expected_down = false;
    }
    if (Finite(p.lower) && Finite(p.upper)) {
      run.push_back(i);
    } else {
      flush_band();
    }
  }
  flush_band();
  svg += band;
  if (!expected.empty()) svg += "<path class=\"expected\" d=\"" + expected + "\"/>\n";
  if (!value.empty()) svg += "<path class=\"value\" d=\"" + value + "\"/>\n";
  size_t markers = 0;
  for (const SeriesPoint& p : page.points) {
    if (!p.anomalous || !Finite(p.value) || markers >= kMaxMarkers) continue;
    ++markers;
    svg += "<circle class=\"anomalous\" cx=\"" + Num(f.X(static_cast<double>(p.timestamp_ms))) + "\" cy=\"" +
           Num(f.Y(p.value)) + "\" r=\"3.5\"><title>" + Utc(p.timestamp_ms) + " UTC value " + Number(p.value) +
           "</title></circle>\n";
  }
  svg += "</svg>\n";
  return svg;
}

constexpr std::string_view kStyle =
    R"(body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1400px}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}code{font-size:13px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 10px;text-align:left}
th{background:#f3f3f3;font-weight:normal}
.chart{width:100%;height:auto;border:1px solid #ccc}.band{fill:#9ecae1;fill-opacity:.5;stroke:none}
.expected{fill:none;stroke:#08519c;stroke-width:1.3;stroke-dasharray:5 3}.value{fill:none;stroke:#6a3d9a;stroke-width:1.4}
.episode{fill:#fdae6b;fill-opacity:.45}.anomalous{fill:#cb181d;stroke:#67000d}
.grid{stroke:#e5e5e5}.axis{font-size:11px;fill:#555}
.legend span{display:inline-block;margin-right:18px}.sw{display:inline-block;width:14px;height:10px;margin-right:5px}
.flagged{color:#a50f15;font-weight:bold}.note{color:#8c510a}
.feedback{display:flex;flex-wrap:wrap;gap:4px;margin:0}.feedback input[type=text]{width:14em}
.fb-false_positive{color:#8c510a;font-weight:bold}.fb-true_positive{color:#a50f15;font-weight:bold}
)";

std::string Head(std::string_view title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         EscapeHtml(title) + "</title>\n<style>\n" + std::string(kStyle) + "</style>\n</head>\n<body>\n" +
         "<p><a href=\"/\">anomaly_exporter</a> &rsaquo; series</p>\n";
}

std::string Row(std::string_view key, const std::string& value_html) {
  return "<tr><th>" + std::string(key) + "</th><td>" + value_html + "</td></tr>\n";
}

// The effect of false positives on the decision (docs/api.md): the score a sample needs.
std::string MarginText(double margin) {
  if (!(margin > 0))
    return "0: the score needs to reach 1 (no false positive given, or its margin has faded)";
  return "+" + EscapeHtml(Number(margin)) + ": the score needs to reach " + EscapeHtml(Number(1 + margin)) +
         " (raised by a false positive, fading back over time)";
}

std::string FeedbackText(const std::optional<EpisodeFeedback>& feedback) {
  if (!feedback) return "none";
  std::string text =
      "<span class=\"fb-" + std::string(FeedbackVerdictName(feedback->verdict)) + "\">" +
      (feedback->verdict == FeedbackVerdict::kFalsePositive ? "false positive" : "true positive") +
      "</span>, " + Utc(feedback->at_ms) + " UTC";
  if (!feedback->comment.empty()) text += ": &ldquo;" + EscapeHtml(feedback->comment) + "&rdquo;";
  return text;
}

// Two buttons in one plain form (no script): it posts verdict, comment and the page to come back to,
// form-encoded, to the episode's feedback endpoint, which answers 303 back here (docs/ui.md).
std::string FeedbackFormHtml(const SeriesEpisode& e, std::string_view return_path) {
  return "<form class=\"feedback\" method=\"post\" action=\"" +
         EscapeHtml(std::string(kEpisodesPath) + "/" + Escape(e.id) + "/feedback") + "\">" +
         "<input type=\"hidden\" name=\"return\" value=\"" + EscapeHtml(return_path) + "\">" +
         "<input type=\"text\" name=\"comment\" maxlength=\"" + std::to_string(kMaxFeedbackComment) +
         "\" placeholder=\"comment (optional)\" aria-label=\"comment\">" +
         "<button type=\"submit\" name=\"verdict\" value=\"false_positive\">False positive</button>" +
         "<button type=\"submit\" name=\"verdict\" value=\"true_positive\">True positive</button></form>";
}

std::string EpisodesSection(const SeriesPage& page, int64_t now_ms, std::string_view return_path) {
  std::string html = "<h2>Flagged episodes (" + std::to_string(page.episodes.size()) + ")</h2>\n";
  if (page.episodes.empty()) return html + "<p>None seen by this process in the window.</p>\n";
  html +=
      "<p>A false positive makes this series less sensitive (the feedback margin above); a true positive "
      "keeps it as it is.</p>\n";
  html +=
      "<table class=\"episodes\">\n<tr><th>episode</th><th>start (UTC)</th><th>end "
      "(UTC)</th><th>duration</th>"
      "<th>peak score</th><th>feedback</th><th>give feedback</th></tr>\n";
  for (auto it = page.episodes.rbegin(); it != page.episodes.rend(); ++it) {
    const int64_t end = it->end_ms > 0 ? it->end_ms : now_ms;
    html += "<tr><td><code>" + EscapeHtml(it->id) + "</code></td><td>" + Utc(it->start_ms) + "</td><td>" +
            (it->end_ms > 0 ? Utc(it->end_ms) : "open") + "</td><td>" +
            Span(std::max<int64_t>(0, end - it->start_ms)) + "</td><td>" +
            EscapeHtml(Number(it->peak_score)) + "</td><td>" + FeedbackText(it->feedback) + "</td><td>" +
            (it->id.empty() ? std::string("n/a") : FeedbackFormHtml(*it, return_path)) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace

Result<SeriesSelector> ParseSeriesQuery(std::string_view query) {
  SeriesSelector selector;
  bool have_detector = false;
  Result<std::vector<FormField>> fields = DecodeForm(query);
  if (!fields) return tl::unexpected(fields.error());
  for (FormField& f : *fields) {
    if (!f.has_value) return MakeError(ErrorCode::kInvalidInput, "\"" + f.name + "\" is not NAME=VALUE");
    if (f.name.empty()) return MakeError(ErrorCode::kInvalidInput, "a label name is empty");
    if (f.name == "detector") {
      if (have_detector) return MakeError(ErrorCode::kInvalidInput, "detector is given twice");
      have_detector = true;
      selector.detector = std::move(f.value);
      continue;
    }
    for (const auto& [n, v] : selector.labels) {
      if (n == f.name) return MakeError(ErrorCode::kInvalidInput, "label " + n + " is given twice");
    }
    selector.labels.emplace_back(std::move(f.name), std::move(f.value));
  }
  if (!have_detector || selector.detector.empty()) {
    return MakeError(ErrorCode::kInvalidInput,
                     "the detector is missing: /series?detector=NAME&LABEL=VALUE... (the links on / and in "
                     "/api/v1/anomalies name one series each)");
  }
  return selector;
}

std::vector<const SeriesReport*> MatchSeries(const exposition::Snapshot* snapshot, const SeriesSelector& selector) {
  std::vector<const SeriesReport*> out;
  if (snapshot == nullptr) return out;
  for (const SeriesReport& r : snapshot->series) {
    if (r.detector != selector.detector) continue;
    const Labels exported = exposition::ExportedLabels(r);
    bool all = true;
    for (const auto& [name, value] : selector.labels) {
      bool present = false, equal = false;
      for (const Label& l : exported) {
        if (l.name != name) continue;
        present = true;
        equal = l.value == value;
        break;
      }
      if (equal || (!present && (name == "job" || name == "instance"))) continue;
      all = false;
      break;
    }
    if (all) out.push_back(&r);
  }
  return out;
}

std::string SeriesPath(const SeriesReport& report) {
  std::string path(kSeriesPath);
  bool first = true;
  for (const Label& l : exposition::ExportedLabels(report)) {  // `detector` first
    path += first ? '?' : '&';
    first = false;
    path += Escape(l.name) + "=" + Escape(l.value);
  }
  return path;
}

std::string RenderSeriesPage(const SeriesReport& report, const SeriesPage* page, std::string_view note) {
  const scoring::Verdict& v = report.verdict;
  const bool scored = v.state == scoring::SeriesState::kOk;
  std::string html = Head("anomaly_exporter: " + Name(report));
  html += "<h1>" + EscapeHtml(report.detector) + " <code>" + EscapeHtml(LabelsToString(report.labels)) + "</code></h1>\n";
  if (scored && v.anomalous) {
    html += "<p class=\"flagged\">Flagged since " + Utc(v.anomalous_since_ms) + " UTC (" +
            Span(v.timestamp_ms - v.anomalous_since_ms) + "), peak score " + Number(v.peak_score) +
            (v.relearning ? "; the model re-baselined on it (a lasting change)" : "") + ".</p>\n";
  } else if (scored) {
    html += "<p>Not flagged.</p>\n";
  } else {
    html += "<p>No verdict now: state " + EscapeHtml(exposition::StateLabelValue(v.state)) + ".</p>\n";
  }

  double threshold = v.threshold;
  if (page != nullptr && !page->points.empty()) {
    html += Chart(*page);
    html += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#6a3d9a\"></i>value</span>"
            "<span><i class=\"sw\" style=\"background:#08519c\"></i>expected (the model fitted on this window)</span>"
            "<span><i class=\"sw\" style=\"background:#9ecae1\"></i>band: expected &plusmn; " +
            EscapeHtml(Number(threshold)) + " &times; the error scale</span>"
            "<span><i class=\"sw\" style=\"background:#cb181d\"></i>scored anomalous</span>"
            "<span><i class=\"sw\" style=\"background:#fdae6b\"></i>flagged episode</span></p>\n";
  }
  if (!note.empty()) html += "<p class=\"note\">" + EscapeHtml(note) + "</p>\n";
  if (page != nullptr && !page->note.empty()) html += "<p class=\"note\">" + EscapeHtml(page->note) + "</p>\n";

  html += "<h2>Verdict</h2>\n<table>\n";
  html += Row("state", EscapeHtml(exposition::StateLabelValue(v.state)));
  html += Row("sample", Utc(v.timestamp_ms, "%Y-%m-%d %H:%M:%S") + " UTC");
  html += Row("value", EscapeHtml(Number(v.value)));
  if (scored) {
    html += Row("expected", EscapeHtml(Number(v.expected)));
    html += Row("band", EscapeHtml(Number(v.lower)) + " &hellip; " + EscapeHtml(Number(v.upper)));
    html += Row("z-score", EscapeHtml(Number(v.zscore)));
    html += Row("threshold (|z| needed)", EscapeHtml(Number(v.threshold)));
    if (page != nullptr) html += Row("feedback margin", MarginText(page->margin));
    html += Row("score (&ge; 1 is anomalous)", EscapeHtml(Number(v.score)));
    html += Row("flag", v.anomalous ? "1" : "0");
  }
  html += Row("model", EscapeHtml(exposition::ModelLabelValue(v.model)));
  html += Row("periods", EscapeHtml(report.periods.empty() ? std::string("none") : report.periods));
  if (page != nullptr && page->step_ms > 0) {
    html += Row("step", EscapeHtml(FormatDuration(std::chrono::milliseconds(page->step_ms))));
    if (!page->points.empty()) {
      html += Row("window", Utc(page->points.front().timestamp_ms) + " &ndash; " +
                                Utc(page->points.back().timestamp_ms) + " UTC (" +
                                std::to_string(page->points.size()) + " points)");
    }
  }
  html += "</table>\n";

  if (page != nullptr) html += EpisodesSection(*page, v.timestamp_ms, SeriesPath(report));
  html += "<p><a href=\"/\">All detectors and current anomalies</a> &middot; <a href=\"/api/v1/anomalies\">"
          "/api/v1/anomalies</a></p>\n</body>\n</html>\n";
  return html;
}

std::string RenderSeriesChoice(std::string_view title, std::string_view message,
                               const std::vector<const SeriesReport*>& matches, size_t max_links) {
  std::string html = Head("anomaly_exporter: " + std::string(title));
  html += "<h1>" + EscapeHtml(title) + "</h1>\n<p>" + EscapeHtml(message) + "</p>\n";
  if (!matches.empty()) {
    html += "<ul>\n";
    for (size_t i = 0; i < matches.size() && i < max_links; ++i) {
      html += "<li><a href=\"" + EscapeHtml(SeriesPath(*matches[i])) + "\">" + EscapeHtml(Name(*matches[i])) +
              "</a></li>\n";
    }
    html += "</ul>\n";
    if (matches.size() > max_links) {
      html += "<p>&hellip; and " + std::to_string(matches.size() - max_links) + " more: add labels to narrow it.</p>\n";
    }
  }
  html += "<p><a href=\"/\">All detectors and current anomalies</a></p>\n</body>\n</html>\n";
  return html;
}

}  // namespace anomaly::http
