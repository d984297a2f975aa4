// DescribeConfig and RenderConfig: the config back out, for people (check-config) and for a /config
// page. Neither reads a secret file; only the paths appear.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <string>

#include "anomaly/base/duration.h"
#include "anomaly/config/config_loader.h"
#include "exporter/config/rfc3339.h"

namespace anomaly::config {
namespace {

// Shortest text that reads back to the same double.
std::string FormatNumber(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kBoth:
      return "both";
    case Direction::kUp:
      return "up";
    case Direction::kDown:
      return "down";
  }
  return "both";
}

std::string DescribeSeasonality(const Seasonality& s) {
  switch (s.mode) {
    case SeasonalityMode::kNone:
      return "none (baseline)";
    case SeasonalityMode::kAuto:
      return "auto";
    case SeasonalityMode::kFixed:
      break;
  }
  std::string out;
  for (Duration p : s.periods) out += (out.empty() ? "" : ",") + FormatDuration(p);
  return out + (s.periods.size() == 1 ? " (stl)" : " (mstl)");
}

// Whitespace runs folded to one space, so a multi-line query stays on its line.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

void EmitPrometheus(YAML::Emitter& out, const PrometheusConfig& p) {
  out << YAML::Key << "prometheus" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << p.url;
  out << YAML::Key << "timeout" << YAML::Value << FormatDuration(p.timeout);
  out << YAML::Key << "compression" << YAML::Value
      << (p.compression == prom::Compression::kGzip ? "gzip" : "none");
  if (!p.bearer_token_file.empty())
    out << YAML::Key << "bearer_token_file" << YAML::Value << p.bearer_token_file;
  if (p.basic_auth) {
    out << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "username" << YAML::Value << p.basic_auth->username;
    if (!p.basic_auth->password_file.empty()) {
      out << YAML::Key << "password_file" << YAML::Value << p.basic_auth->password_file;
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  if (!p.tls.ca_file.empty()) out << YAML::Key << "ca_file" << YAML::Value << p.tls.ca_file;
  if (!p.tls.cert_file.empty()) out << YAML::Key << "cert_file" << YAML::Value << p.tls.cert_file;
  if (!p.tls.key_file.empty()) out << YAML::Key << "key_file" << YAML::Value << p.tls.key_file;
  out << YAML::Key << "insecure_skip_verify" << YAML::Value << p.tls.insecure_skip_verify;
  out << YAML::EndMap;
  if (!p.headers.empty()) {
    out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : p.headers) out << YAML::Key << name << YAML::Value << value;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void EmitDetector(YAML::Emitter& out, const DetectorConfig& d) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << d.name;
  out << YAML::Key << "query" << YAML::Value << d.query;
  out << YAML::Key << "step" << YAML::Value << FormatDuration(d.step);
  out << YAML::Key << "history" << YAML::Value << FormatDuration(d.history);
  out << YAML::Key << "interval" << YAML::Value << FormatDuration(d.interval);
  out << YAML::Key << "refit_interval" << YAML::Value << FormatDuration(d.refit_interval);
  out << YAML::Key << "seasonality" << YAML::Value;
  if (d.seasonality.mode == SeasonalityMode::kFixed) {
    out << YAML::Flow << YAML::BeginSeq;
    for (Duration p : d.seasonality.periods) out << FormatDuration(p);
    out << YAML::EndSeq;
  } else {
    out << (d.seasonality.mode == SeasonalityMode::kAuto ? "auto" : "none");
  }
  out << YAML::Key << "stl" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "seasonal_window" << YAML::Value;
  if (d.stl.periodic) {
    out << "periodic";
  } else {
    out << d.stl.seasonal_window;
  }
  out << YAML::Key << "robust" << YAML::Value << d.stl.robust;
  if (d.stl.trend_window) out << YAML::Key << "trend_window" << YAML::Value << *d.stl.trend_window;
  if (d.stl.lowpass_window) out << YAML::Key << "lowpass_window" << YAML::Value << *d.stl.lowpass_window;
  if (d.stl.inner_iterations)
    out << YAML::Key << "inner_iterations" << YAML::Value << *d.stl.inner_iterations;
  if (d.stl.outer_iterations)
    out << YAML::Key << "outer_iterations" << YAML::Value << *d.stl.outer_iterations;
  out << YAML::EndMap;
  out << YAML::Key << "threshold" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "false_alarm_interval" << YAML::Value << FormatDuration(d.threshold.false_alarm_interval);
  out << YAML::Key << "floor" << YAML::Value << FormatNumber(d.threshold.floor);
  out << YAML::Key << "window" << YAML::Value << FormatDuration(d.threshold.window);
  out << YAML::EndMap;
  out << YAML::Key << "direction" << YAML::Value << std::string(DirectionName(d.direction));
  out << YAML::Key << "resolve_after" << YAML::Value << FormatDuration(d.resolve_after);
  out << YAML::Key << "rebaseline_after" << YAML::Value << FormatDuration(d.rebaseline_after);
  out << YAML::Key << "persistence" << YAML::Value << d.persistence;
  out << YAML::Key << "max_series" << YAML::Value << d.max_series;
  out << YAML::Key << "max_gap" << YAML::Value << FormatDuration(d.max_gap);
  out << YAML::Key << "series_ttl" << YAML::Value << FormatDuration(d.series_ttl);
  if (d.kind != DetectorKind::kSeries) {
    out << YAML::Key << "kind" << YAML::Value << (d.kind == DetectorKind::kPeers ? "peers" : "multivariate");
    out << YAML::Key << "group_by" << YAML::Value << YAML::Flow << d.group_by;
    out << YAML::Key << "min_group_size" << YAML::Value << d.min_group_size;
  }
  if (!d.maintenance.windows.empty() || !d.maintenance.condition.empty()) {
    out << YAML::Key << "maintenance" << YAML::Value << YAML::BeginMap;
    if (!d.maintenance.windows.empty()) {
      out << YAML::Key << "windows" << YAML::Value << YAML::BeginSeq;
      for (const MaintenanceWindow& w : d.maintenance.windows) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "start" << YAML::Value << FormatRfc3339(w.start)
            << YAML::Key << "end" << YAML::Value << FormatRfc3339(w.end) << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    if (!d.maintenance.condition.empty())
      out << YAML::Key << "condition" << YAML::Value << d.maintenance.condition;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

// ", kind peers, group_by [service], min_group_size 3"; empty for kind: series.
std::string DescribeKind(const DetectorConfig& d) {
  if (d.kind == DetectorKind::kSeries) return "";
  std::string by;
  for (const std::string& l : d.group_by) by += (by.empty() ? "" : ", ") + l;
  return std::string(", kind ") + (d.kind == DetectorKind::kPeers ? "peers" : "multivariate") +
         ", group_by [" + by + "], min_group_size " + std::to_string(d.min_group_size);
}

}  // namespace

std::string DescribeConfig(const Config& config) {
  std::string out = config.source_path + ": SUCCESS: " + std::to_string(config.detectors.size()) +
                    (config.detectors.size() == 1 ? " detector" : " detectors") + ", prometheus " +
                    config.prometheus.url;
  if (config.shard.count > 1) {
    out += ", shard " + std::to_string(config.shard.index) + " of " + std::to_string(config.shard.count);
  }
  out += "\n";
  for (const DetectorConfig& d : config.detectors) {
    out += "  " + d.name + ": step " + FormatDuration(d.step) + ", history " + FormatDuration(d.history) +
           ", interval " + FormatDuration(d.interval) + ", seasonality " +
           DescribeSeasonality(d.seasonality) + DescribeKind(d) + ", query: " + OneLine(d.query) + "\n";
  }
  for (const std::string& w : config.warnings) out += "WARNING: " + w + "\n";
  return out;
}

std::string RenderConfig(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "evaluation_threads" << YAML::Value << config.global.evaluation_threads;
  out << YAML::EndMap;
  EmitPrometheus(out, config.prometheus);
  out << YAML::Key << "detectors" << YAML::Value << YAML::BeginSeq;
  for (const DetectorConfig& d : config.detectors) EmitDetector(out, d);
  out << YAML::EndSeq;
  out << YAML::Key << "shard" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "index" << YAML::Value << config.shard.index;
  out << YAML::Key << "count" << YAML::Value << config.shard.count;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace anomaly::config
