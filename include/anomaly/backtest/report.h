// The backtest's HTML report: one self-contained page (inline SVG and CSS, no script, no network
// reference) with, per series, a chart of value, expected value and band with the flagged points marked,
// and a summary table (points, scored, flagged, episodes, model, periods, thresholds). Pure; thread-safe.
//
//   std::string html = RenderReport({.title = "cpu", .settings = {{"step", "5m"}}}, {{"", &result}});
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "anomaly/backtest/backtest.h"

namespace anomaly::backtest {

struct ReportInfo {
  std::string title;
  // Shown in order in the summary table: source, detector, step, history, seasonality, thresholds...
  std::vector<std::pair<std::string, std::string>> settings;
  std::chrono::milliseconds step{60'000};  // to show periods as durations
};

struct ReportSeries {
  std::string name;  // the series' labels; empty for a CSV input
  const BacktestResult* result = nullptr;
};

std::string RenderReport(const ReportInfo& info, std::span<const ReportSeries> series);

// "1d" or "1h,1d" for periods in samples of `step`; "none" when empty.
std::string PeriodsText(const std::vector<int>& periods, std::chrono::milliseconds step);


}  // namespace anomaly::backtest
