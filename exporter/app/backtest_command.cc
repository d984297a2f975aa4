// `anomaly_exporter backtest`: scores history exactly as the daemon would have, from a CSV file or a
// Prometheus range, and writes CSV, NAB's result layout and/or an HTML report. The scoring is the
// backtest stage's RunBacktest (the daemon's series store + evaluate); this file is flags, sources and
// output files only. Detector options come from --config.file/--detector or from flags, which are turned
// into a one-detector config and go through the config loader (detector_flags.h, shared with the score
// API): same defaults, same validation.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "anomaly/app/commands.h"
#include "anomaly/backtest/backtest.h"
#include "anomaly/backtest/group_backtest.h"
#include "anomaly/backtest/output.h"
#include "anomaly/backtest/peer_backtest.h"
#include "anomaly/backtest/report.h"
#include "anomaly/backtest/series_input.h"
#include "anomaly/base/duration.h"
#include "anomaly/base/labels.h"
#include "anomaly/base/parallel.h"
#include "anomaly/base/result.h"
#include "anomaly/config/config_loader.h"
#include "anomaly/config/detector_params.h"
#include "anomaly/prom/range_query_client.h"
#include "exporter/app/detector_flags.h"
#include "exporter/app/flags.h"

namespace anomaly::app {
namespace {

constexpr std::string_view kPrefix = "anomaly_exporter: backtest: ";

struct BacktestFlags {
  std::string input;
  std::string config_file;
  std::string detector;
  std::string from, to;
  std::string output = "-";
  std::string format = "csv";
  std::string report;
  std::string kind = "series";
  bool no_progress = false;
  bool help = false;
  DetectorFlags detector_flags;  // nullopt each: the config's default (docs/configuration.md)
};

void DefineFlags(FlagSet& flags, BacktestFlags& f) {
  flags.AddString("input", "FILE", "CSV timestamp,value with a header (\"-\": standard input)", &f.input);
  flags.AddString("config.file", "FILE", "take the detector (and for Prometheus the upstream) from this config",
                  &f.config_file);
  flags.AddString("detector", "NAME", "the detector of --config.file to use (default: its only one)", &f.detector);
  flags.AddString("from", "TIME", "first time scored (Unix seconds or YYYY-MM-DD HH:MM:SS UTC); the\n"
                  "history before it (CSV: the rows before it) is taken at once, as the daemon's\n"
                  "first cycle takes it", &f.from);
  flags.AddString("to", "TIME", "Prometheus: last time scored", &f.to);
  flags.AddString("output", "FILE", "where the CSV goes (default \"-\": standard output)", &f.output);
  flags.AddString("format", "F", "csv (every verdict field) or nab (timestamp,value,anomaly_score)", &f.format);
  flags.AddString("kind", "K",
                  "series (default: each series alone), multivariate or peers (--input is a wide\n"
                  "CSV timestamp,<series>,<series>,... judged as one group: together, or each member\n"
                  "against the others)",
                  &f.kind);
  flags.AddString("report", "FILE", "also write a self-contained HTML report (chart and summary)", &f.report);
  flags.AddBool("no-progress", "no progress bar on standard error (off anyway when it is not a terminal)",
                &f.no_progress);
  for (const DetectorFlagInfo& info : DetectorFlagInfos()) {
    std::optional<std::string>* target = &(f.detector_flags.*info.field);
    flags.Add(std::string(info.name), std::string(info.value_name), std::string(info.help),
              [target](std::string_view v) -> Status {
                *target = std::string(v);
                return {};
              });
  }
  flags.AddBool("help", "show this help", &f.help);
}

std::string Usage(const FlagSet& flags) {
  return "usage: anomaly_exporter backtest --input=FILE [detector flags] [--format=csv|nab] [--report=FILE]\n"
         "       anomaly_exporter backtest --config.file=FILE --detector=NAME --from=TIME --to=TIME [...]\n"
         "\n"
         "Scores history exactly as the daemon would have seen it: sample by sample in time order, each\n"
         "scored against a model fitted on earlier data only, refitted on the refit interval, with the\n"
         "daemon's own series store and evaluation. CSV output columns:\n"
         "  timestamp,value,expected,lower,upper,zscore,score,flag,state\n"
         "(empty scores where there is no verdict yet). --format=nab writes timestamp,value,anomaly_score\n"
         "with anomaly_score in [0,1] on the row where a flag rises, 0 elsewhere. See docs/backtest.md.\n"
         "\n"
         "Flags (--name=value or --name value):\n" +
         flags.Usage() + "\nExit status: 0 success, 1 runtime failure, 2 bad flags or bad input.\n";
}

int Fail(const Error& error) {
  std::cerr << kPrefix << error.message << "\n";
  const bool user_error = error.code == ErrorCode::kInvalidConfig || error.code == ErrorCode::kInvalidInput;
  return user_error ? 2 : 1;
}

Error Bad(std::string message) { return Error{ErrorCode::kInvalidConfig, std::move(message)}; }
tl::unexpected<Error> Invalid(std::string message) { return tl::unexpected(Bad(std::move(message))); }

Result<config::DetectorConfig> PickDetector(const config::Config& c, const std::string& name) {
  if (name.empty()) {
    if (c.detectors.size() == 1) return c.detectors.front();
    return Invalid("the config has " + std::to_string(c.detectors.size()) + " detectors; name one with --detector");
  }
  for (const config::DetectorConfig& d : c.detectors) {
    if (d.name == name) return d;
  }
  return Invalid("no detector \"" + name + "\" in " + c.source_path);
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled, std::string label) : enabled_(enabled), label_(std::move(label)) {}
  void operator()(size_t done, size_t total) {
    if (!enabled_ || total == 0) return;
    const int width = 40;
    const int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %zu/%zu", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(100.0 * done / total), done, total);
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::string label_;
};

struct SeriesRun {
  std::string name;                // labels; empty for CSV
  std::vector<std::string> texts;  // CSV timestamps as read; empty for Prometheus
  backtest::BacktestResult result;
};

std::string SeasonalityText(const config::DetectorConfig& d) {
  switch (d.seasonality.mode) {
    case config::SeasonalityMode::kNone: return "none";
    case config::SeasonalityMode::kAuto: return "auto";
    case config::SeasonalityMode::kFixed: break;
  }
  std::string out;
  for (Duration p : d.seasonality.periods) out += (out.empty() ? "" : ",") + FormatDuration(p);
  return out;
}

Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << content;
  file.close();
  if (!file) return MakeError(ErrorCode::kInternal, "cannot write " + path);
  return {};
}

// The detector the flags (or --config.file and --detector) describe, as the daemon would build it; a
// CSV's median spacing is the default step.
struct Chosen {
  config::Config config;
  config::DetectorConfig detector;
  backtest::BacktestParams params;
};
Result<Chosen> ChooseDetector(const BacktestFlags& f, std::span<const double> timestamps_seconds) {
  Result<config::Config> cfg =
      f.config_file.empty()
          ? ConfigFromDetectorFlags(f.detector_flags, f.detector_flags.step.value_or(MedianStep(timestamps_seconds)),
                                    "<backtest flags>")
          : config::LoadConfigFromFile(f.config_file);
  if (!cfg) return tl::unexpected(cfg.error());
  Result<config::DetectorConfig> detector = PickDetector(*cfg, f.detector);
  if (!detector) return tl::unexpected(detector.error());
  Result<backtest::BacktestParams> params = backtest::ParamsFor(*detector);
  if (!params) return tl::unexpected(params.error());
  return Chosen{std::move(*cfg), std::move(*detector), std::move(*params)};
}

// The output to --output ("-": standard output); 0, or Fail's exit status.
int WriteOutput(const BacktestFlags& f, const std::string& text) {
  if (f.output == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) return Fail(Error{ErrorCode::kInternal, "writing the output failed"});
  } else if (Status s = WriteFile(f.output, text); !s) {
    return Fail(s.error());
  }
  return 0;
}

// --kind multivariate or peers: one group from a wide CSV, every column a member (group_backtest.h,
// peer_backtest.h).
int RunGroup(BacktestFlags& f) {
  const std::string kind = "--kind=" + f.kind;
  const bool peers = f.kind == "peers";
  if (f.input.empty()) return Fail(Bad(kind + " reads a wide CSV: give --input=FILE"));
  if (f.format != "csv") {
    return Fail(Bad(kind + " writes csv only (" +
                    (peers ? "member,timestamp,score,flag,state,top" : "timestamp,score,flag,state,top") +
                    ")"));
  }
  if (!f.report.empty()) return Fail(Bad("--report is not available for " + kind + " yet"));
  if (!f.config_file.empty() && f.detector_flags.Any()) {
    return Fail(Bad("detector flags (--step, --seasonality, ...) and --config.file exclude each other: "
                    "the config's detector is used as it is"));
  }
  Result<backtest::WideInput> wide = backtest::ReadWideSeriesFile(f.input);
  if (!wide) return Fail(wide.error());
  Result<Chosen> picked = ChooseDetector(f, wide->timestamps_seconds);
  if (!picked) return Fail(picked.error());
  backtest::BacktestParams* params = &picked->params;
  if (!f.from.empty()) {
    Result<double> from = backtest::ParseTimestamp(f.from);
    if (!from) return Fail(Bad("flag --from: " + from.error().message));
    params->start_ms = std::llround(*from * 1000);
  }
  // The members are fitted on every core, as the daemon fits a detector's series on evaluation_threads.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  ParallelPool pool(cores - 1);
  ProgressBar bar(!f.no_progress && isatty(STDERR_FILENO) == 1, "backtest");
  std::ostringstream out;
  if (peers) {
    // The config's min_group_size when given (its detector's), else the default (3).
    Result<backtest::PeerBacktestResult> r = backtest::RunPeerBacktest(
        *wide, *params, std::max(3, picked->detector.min_group_size), &pool, std::ref(bar));
    if (!r) return Fail(r.error());
    backtest::WritePeerCsv(*r, wide->timestamp_texts, out);
  } else {
    Result<backtest::GroupBacktestResult> r =
        backtest::RunGroupBacktest(*wide, *params, &pool, std::ref(bar));
    if (!r) return Fail(r.error());
    backtest::WriteGroupCsv(*r, wide->timestamp_texts, out);
  }
  return WriteOutput(f, out.str());
}

int Run(BacktestFlags& f) {
  if (f.kind == "multivariate" || f.kind == "peers") return RunGroup(f);
  if (f.kind != "series") {
    return Fail(Bad("flag --kind: \"" + f.kind + "\" is not series, multivariate or peers"));
  }
  if (f.format != "csv" && f.format != "nab") return Fail(Bad("flag --format: \"" + f.format + "\" is not csv or nab"));
  const bool from_prometheus = f.input.empty();
  if (from_prometheus && (f.config_file.empty() || f.from.empty() || f.to.empty())) {
    return Fail(Bad("give --input=FILE, or --config.file, --from and --to to read from Prometheus"));
  }
  if (!f.config_file.empty() && f.detector_flags.Any()) {
    return Fail(Bad("detector flags (--step, --seasonality, ...) and --config.file exclude each other: "
                         "the config's detector is used as it is"));
  }

  std::optional<backtest::SeriesInput> csv;
  if (!from_prometheus) {
    Result<backtest::SeriesInput> in = backtest::ReadSeriesFile(f.input, {.allow_repeated_timestamps = true});
    if (!in) return Fail(in.error());
    if (in->timestamps_seconds.empty()) {
      return Fail(Bad("--input needs CSV timestamp,value with a header line"));
    }
    csv = std::move(*in);
  }

  Result<Chosen> picked = ChooseDetector(f, csv ? std::span<const double>(csv->timestamps_seconds)
                                                 : std::span<const double>());
  if (!picked) return Fail(picked.error());
  const config::Config* cfg = &picked->config;
  const config::DetectorConfig* detector = &picked->detector;
  backtest::BacktestParams* params = &picked->params;

  const bool progress = !f.no_progress && isatty(STDERR_FILENO) == 1;
  std::vector<SeriesRun> runs;
  std::vector<std::pair<std::string, std::string>> settings;
  if (!from_prometheus) {
    std::vector<series::Sample> samples(csv->values.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = series::Sample{std::llround(csv->timestamps_seconds[i] * 1000.0), csv->values[i]};
    }
    if (!f.from.empty()) {
      // As from Prometheus: the rows before --from are the first cycle's history, taken at once, as the
      // daemon's first cycle takes its query's answer (its calibrator seeded from that fit).
      Result<double> from = backtest::ParseTimestamp(f.from);
      if (!from) return Fail(Bad("flag --from: " + from.error().message));
      params->start_ms = std::llround(*from * 1000);
    }
    ProgressBar bar(progress, "backtest");
    Result<backtest::BacktestResult> r = backtest::RunBacktest(samples, *params, std::ref(bar));
    if (!r) return Fail(r.error());
    runs.push_back({"", std::move(csv->timestamp_texts), std::move(*r)});
    settings.emplace_back("source", "CSV " + f.input);
  } else {
    Result<double> from = backtest::ParseTimestamp(f.from);
    if (!from) return Fail(Bad("flag --from: " + from.error().message));
    Result<double> to = backtest::ParseTimestamp(f.to);
    if (!to) return Fail(Bad("flag --to: " + to.error().message));
    const int64_t step = detector->step.count();
    const int64_t from_ms = std::llround(*from * 1000) / step * step;
    const int64_t to_ms = std::llround(*to * 1000) / step * step;
    if (to_ms < from_ms) return Fail(Bad("--to is before --from"));
    Result<std::unique_ptr<prom::RangeQueryClient>> client = prom::NewHttpClient(
        config::ClientOptionsFor(cfg->prometheus, std::string("anomaly_exporter/") + ANOMALY_VERSION + " backtest"));
    if (!client) return Fail(client.error());
    Result<std::vector<prom::SeriesSamples>> answer = (*client)->QueryRange(
        prom::RangeQuery{detector->query, from_ms - detector->history.count(), to_ms, detector->step});
    if (!answer) return Fail(answer.error());
    params->start_ms = from_ms;
    if (!detector->maintenance.condition.empty()) {
      // The maintenance condition, over the same range and step, as the daemon queries it each cycle.
      Result<std::vector<prom::SeriesSamples>> condition = (*client)->QueryRange(prom::RangeQuery{
          detector->maintenance.condition, from_ms - detector->history.count(), to_ms, detector->step});
      if (!condition) return Fail(condition.error().WithContext("maintenance condition"));
      for (const prom::SeriesSamples& s : *condition) {
        for (const prom::Sample& p : s.samples) params->condition_times.push_back(p.timestamp_ms);
      }
      std::sort(params->condition_times.begin(), params->condition_times.end());
    }
    for (const prom::SeriesSamples& s : *answer) {
      std::vector<series::Sample> samples;
      samples.reserve(s.samples.size());
      for (const prom::Sample& p : s.samples) samples.push_back({p.timestamp_ms, p.value});
      ProgressBar bar(progress, LabelsToString(s.labels));
      params->labels = s.labels;
      Result<backtest::BacktestResult> r = backtest::RunBacktest(samples, *params, std::ref(bar));
      if (!r) return Fail(r.error().WithContext(LabelsToString(s.labels)));
      // Only the scored range is reported; the samples before it were the first cycle's history.
      std::erase_if(r->rows, [from_ms](const backtest::ScoredRow& row) { return row.timestamp_ms < from_ms; });
      runs.push_back({LabelsToString(s.labels), {}, std::move(*r)});
    }
    settings.emplace_back("source", "Prometheus query " + detector->query);
    settings.emplace_back("range", f.from + " .. " + f.to);
    if (runs.empty()) std::cerr << kPrefix << "the query returned no series\n";
  }

  for (const SeriesRun& run : runs) {
    const backtest::BacktestResult& r = run.result;
    if (r.repeated_rows > 0 || r.out_of_order_rows > 0) {
      std::cerr << kPrefix << (run.name.empty() ? "" : run.name + ": ") << r.repeated_rows
                << " rows with a repeated timestamp and " << r.out_of_order_rows
                << " rows older than a row before them got no verdict\n";
    }
    if (params->detector.auto_seasonality) {
      std::string chosen;
      for (const std::vector<int>& p : run.result.detected_periods) {
        chosen += (chosen.empty() ? "" : " -> ") + backtest::PeriodsText(p, detector->step);
      }
      std::cerr << kPrefix << (run.name.empty() ? "" : run.name + ": ") << "seasonality auto chose " << chosen
                << (run.result.periods.empty() ? " (non-seasonal baseline at the end)" : "") << "\n";
    }
  }

  if (f.format == "nab" && runs.size() != 1) {
    return Fail(Bad("--format=nab takes exactly one series; the query returned " + std::to_string(runs.size())));
  }
  std::ostringstream out;
  for (size_t k = 0; k < runs.size(); ++k) {
    if (f.format == "nab") {
      backtest::WriteNab(runs[k].result, runs[k].texts, out);
    } else {
      backtest::WriteCsv(runs[k].result, runs[k].texts, out, from_prometheus ? runs[k].name : std::string(), k == 0);
    }
  }
  if (int rc = WriteOutput(f, out.str()); rc != 0) return rc;

  if (!f.report.empty()) {
    settings.emplace_back("detector", detector->name);
    settings.emplace_back("step", FormatDuration(detector->step));
    settings.emplace_back("history", FormatDuration(detector->history));
    settings.emplace_back("refit interval", FormatDuration(detector->refit_interval));
    settings.emplace_back("seasonality (configured)", SeasonalityText(*detector));
    settings.emplace_back("threshold", "one false alarm per " +
                                           FormatDuration(detector->threshold.false_alarm_interval) +
                                           " (|z| >= " + backtest::FormatNumber(detector->threshold.floor) +
                                           "), errors learned over " + FormatDuration(detector->threshold.window));
    settings.emplace_back("episodes", "resolve after " + FormatDuration(detector->resolve_after) +
                                          ", re-baseline after " + FormatDuration(detector->rebaseline_after));
    settings.emplace_back("persistence", std::to_string(detector->persistence));
    std::vector<backtest::ReportSeries> series;
    for (const SeriesRun& run : runs) series.push_back({run.name, &run.result});
    const std::string title = from_prometheus ? detector->name : f.input;
    if (Status s = WriteFile(f.report, backtest::RenderReport({title, settings, detector->step}, series)); !s) {
      return Fail(s.error());
    }
  }
  return 0;
}

}  // namespace

int RunBacktestCommand(std::span<const std::string_view> args) {
  BacktestFlags f;
  FlagSet flags;
  DefineFlags(flags, f);
  Result<std::vector<std::string_view>> positionals = flags.Parse(args);
  if (!positionals) return Fail(positionals.error());
  if (f.help) {
    std::cout << Usage(flags);
    return std::cout.flush() ? 0 : 1;
  }
  if (!positionals->empty()) {
    return Fail(Bad("unexpected argument \"" + std::string(positionals->front()) + "\""));
  }
  return Run(f);
}

}  // namespace anomaly::app
