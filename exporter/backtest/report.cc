#include "anomaly/base/html.h"
#include "anomaly/backtest/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

#include "anomaly/backtest/output.h"
#include "anomaly/base/duration.h"

namespace anomaly::backtest {
namespace {

constexpr double kWidth = 1100, kHeight = 340, kLeft = 70, kRight = 20, kTop = 16, kBottom = 36;
constexpr size_t kMaxColumns = 1500;  // at most this many points per line: the chart stays small
constexpr size_t kMaxMarkers = 3000;

std::string Num(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", x);
  return buffer;
}

std::string Utc(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

// One chart: x is time, y spans the values and the band.
struct Frame {
  double t0 = 0, t1 = 1, y0 = 0, y1 = 1;
  double X(double t) const { return kLeft + (t - t0) / (t1 - t0) * (kWidth - kLeft - kRight); }
  double Y(double y) const { return kTop + (y1 - y) / (y1 - y0) * (kHeight - kTop - kBottom); }
};

Frame FrameOf(const BacktestResult& r) {
  Frame f;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const ScoredRow& row : r.rows) {
    if (!std::isfinite(row.value)) continue;
    lo = std::min(lo, row.value);
    hi = std::max(hi, row.value);
  }
  // The band may reach beyond the values; let it, within reason (a blown-up band must not flatten the data).
  const double span = std::isfinite(hi - lo) ? std::max(hi - lo, 1e-9) : 1.0;
  for (const ScoredRow& row : r.rows) {
    if (!row.scored) continue;
    lo = std::min(lo, std::max(row.verdict.lower, lo - span));
    hi = std::max(hi, std::min(row.verdict.upper, hi + span));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 1, hi += 1;
  const double pad = (hi - lo) * 0.05;
  f.y0 = lo - pad;
  f.y1 = hi + pad;
  if (!r.rows.empty()) {
    f.t0 = static_cast<double>(r.rows.front().timestamp_ms);
    f.t1 = static_cast<double>(r.rows.back().timestamp_ms);
  }
  if (f.t1 <= f.t0) f.t1 = f.t0 + 1;
  return f;
}

// Row indices to draw: all when few, else the extreme values of each column (min and max, in time order).
std::vector<size_t> Columns(const BacktestResult& r) {
  const size_t n = r.rows.size();
  std::vector<size_t> out;
  if (n <= 2 * kMaxColumns) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (size_t c = 0; c < kMaxColumns; ++c) {
    const size_t a = c * n / kMaxColumns, b = (c + 1) * n / kMaxColumns;
    size_t lo = a, hi = a;
    for (size_t i = a; i < b; ++i) {
      if (r.rows[i].value < r.rows[lo].value) lo = i;
      if (r.rows[i].value > r.rows[hi].value) hi = i;
    }
    out.push_back(std::min(lo, hi));
    if (lo != hi) out.push_back(std::max(lo, hi));
  }
  return out;
}

std::string Chart(const BacktestResult& r) {
  const Frame f = FrameOf(r);
  const std::vector<size_t> cols = Columns(r);
  std::string band, expected, value;
  // The band as one polygon per run of scored rows: upper left to right, then lower right to left.
  std::vector<size_t> run;
  auto flush_band = [&] {
    if (run.size() >= 2) {
      band += "<polygon class=\"band\" points=\"";
      for (size_t i : run) band += Num(f.X(r.rows[i].timestamp_ms)) + "," + Num(f.Y(r.rows[i].verdict.upper)) + " ";
      for (size_t k = run.size(); k-- > 0;) {
        band += Num(f.X(r.rows[run[k]].timestamp_ms)) + "," + Num(f.Y(r.rows[run[k]].verdict.lower)) + " ";
      }
      band += "\"/>\n";
    }
    run.clear();
  };
  bool pen_down = false;
  for (size_t i : cols) {
    const ScoredRow& row = r.rows[i];
    const double x = f.X(static_cast<double>(row.timestamp_ms));
    if (std::isfinite(row.value)) value += (value.empty() ? "M" : " L") + Num(x) + "," + Num(f.Y(row.value));
    if (row.scored) {
      run.push_back(i);
      expected += (pen_down ? " L" : " M") + Num(x) + "," + Num(f.Y(row.verdict.expected));
      pen_down = true;
    } else {
      flush_band();
      pen_down = false;
    }
  }
  flush_band();

  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(kHeight) +
                    "\" width=\"" + Num(kWidth) + "\" height=\"" + Num(kHeight) + "\" role=\"img\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + Num(kWidth) + "\" height=\"" + Num(kHeight) + "\" fill=\"#ffffff\"/>\n";
  // Axes: four horizontal grid lines with values, time at both ends and the middle.
  for (int k = 0; k <= 4; ++k) {
    const double y = f.y0 + (f.y1 - f.y0) * k / 4.0;
    svg += "<line class=\"grid\" x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kWidth - kRight) + "\" y1=\"" +
           Num(f.Y(y)) + "\" y2=\"" + Num(f.Y(y)) + "\"/>";
    svg += "<text class=\"axis\" x=\"" + Num(kLeft - 6) + "\" y=\"" + Num(f.Y(y) + 4) + "\" text-anchor=\"end\">" +
           EscapeHtml(FormatNumber(std::round(y * 1000) / 1000)) + "</text>\n";
  }
  for (int k = 0; k <= 2; ++k) {
    const double t = f.t0 + (f.t1 - f.t0) * k / 2.0;
    const char* anchor = k == 0 ? "start" : k == 1 ? "middle" : "end";
    svg += "<text class=\"axis\" x=\"" + Num(f.X(t)) + "\" y=\"" + Num(kHeight - 12) + "\" text-anchor=\"" + anchor +
           "\">" + Utc(static_cast<int64_t>(t)) + " UTC</text>\n";
  }
  svg += band;
  if (!expected.empty()) svg += "<path class=\"expected\" d=\"" + expected + "\"/>\n";
  if (!value.empty()) svg += "<path class=\"value\" d=\"" + value + "\"/>\n";
  size_t markers = 0;
  for (const ScoredRow& row : r.rows) {
    if (!row.scored || !row.verdict.anomalous || markers >= kMaxMarkers) continue;
    ++markers;
    svg += "<circle class=\"" + std::string(row.flag_rose ? "onset" : "flag") + "\" cx=\"" +
           Num(f.X(row.timestamp_ms)) + "\" cy=\"" + Num(f.Y(row.value)) + "\" r=\"" +
           (row.flag_rose ? "4.5" : "3") + "\"><title>" + Utc(row.timestamp_ms) + " value " +
           EscapeHtml(FormatNumber(row.value)) + " score " + EscapeHtml(FormatNumber(row.verdict.score)) +
           "</title></circle>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string SeriesTable(const BacktestResult& r, std::chrono::milliseconds step) {
  size_t scored = 0;
  double tmin = std::numeric_limits<double>::infinity(), tmax = 0;
  for (const ScoredRow& row : r.rows) {
    if (!row.scored) continue;
    ++scored;
    tmin = std::min(tmin, row.verdict.threshold);
    tmax = std::max(tmax, row.verdict.threshold);
  }
  std::string detected;
  for (const std::vector<int>& p : r.detected_periods) {
    if (!detected.empty()) detected += " &rarr; ";
    detected += EscapeHtml(PeriodsText(p, step));
  }
  auto row = [](std::string_view k, const std::string& v) {
    return "<tr><th>" + std::string(k) + "</th><td>" + v + "</td></tr>\n";
  };
  std::string out = "<table class=\"summary\">\n";
  out += row("points", std::to_string(r.rows.size()));
  out += row("scored", std::to_string(scored));
  out += row("flagged points", std::to_string(r.flagged_rows));
  out += row("flagged episodes", std::to_string(r.episodes));
  out += row("model (at the end)", std::string(scoring::ModelKindName(r.model)));
  out += row("periods (at the end)", EscapeHtml(PeriodsText(r.periods, step)));
  if (!r.detected_periods.empty()) out += row("seasonality auto chose", detected);
  out += row("fits", std::to_string(r.fits));
  out += row("|z| threshold in use", scored == 0 ? std::string("n/a")
                                                 : EscapeHtml(FormatNumber(std::round(tmin * 1000) / 1000)) +
                                                       " &ndash; " +
                                                       EscapeHtml(FormatNumber(std::round(tmax * 1000) / 1000)));
  out += "</table>\n";
  return out;
}

constexpr std::string_view kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 10px;text-align:left}
th{background:#f3f3f3;font-weight:normal}
.chart{border:1px solid #ccc}.band{fill:#9ecae1;fill-opacity:.45;stroke:none}
.expected{fill:none;stroke:#08519c;stroke-width:1.3;stroke-dasharray:5 3}.value{fill:none;stroke:#333;stroke-width:1}
.grid{stroke:#e5e5e5}.axis{font-size:11px;fill:#555}.flag{fill:#fc9272;stroke:#cb181d}.onset{fill:#cb181d;stroke:#67000d}
.legend span{display:inline-block;margin-right:18px}.sw{display:inline-block;width:14px;height:10px;margin-right:5px}
)";

}  // namespace

std::string PeriodsText(const std::vector<int>& periods, std::chrono::milliseconds step) {
  if (periods.empty()) return "none";
  std::string out;
  for (int p : periods) {
    if (!out.empty()) out += ',';
    out += FormatDuration(step * p);
  }
  return out;
}

std::string RenderReport(const ReportInfo& info, std::span<const ReportSeries> series) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                     EscapeHtml(info.title) + "</title>\n<style>\n" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  html += "<h1>anomaly_exporter backtest: " + EscapeHtml(info.title) + "</h1>\n<table class=\"settings\">\n";
  for (const auto& [key, value] : info.settings) {
    html += "<tr><th>" + EscapeHtml(key) + "</th><td>" + EscapeHtml(value) + "</td></tr>\n";
  }
  html += "</table>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#333\"></i>value</span>"
          "<span><i class=\"sw\" style=\"background:#08519c\"></i>expected</span>"
          "<span><i class=\"sw\" style=\"background:#9ecae1\"></i>band (expected &plusmn; threshold &times; scale)</span>"
          "<span><i class=\"sw\" style=\"background:#cb181d\"></i>flag raised</span>"
          "<span><i class=\"sw\" style=\"background:#fc9272\"></i>still flagged</span></p>\n";
  for (const ReportSeries& s : series) {
    if (s.result == nullptr) continue;
    html += "<section>\n<h2>" + EscapeHtml(s.name.empty() ? std::string("series") : s.name) + "</h2>\n";
    html += Chart(*s.result);
    html += SeriesTable(*s.result, info.step);
    html += "</section>\n";
  }
  if (series.empty()) html += "<p>No series.</p>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace anomaly::backtest
