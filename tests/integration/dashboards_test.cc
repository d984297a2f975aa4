// Every query of every shipped dashboard (panels, template variables, annotations; listed by
// `tests/dashboards/lint_dashboards.py --list-queries`) runs against the real Prometheus of
// alerting_test.cc's stack, which has scraped the exporter, loaded the recording rules and fires the
// alerts: each must succeed and return data (the peers panels' only where a peers detector is scraped;
// RunAll). Twice: with every variable at "All" (.+), and with one detector, exporter and series picked,
// as a user would.
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/http_fetch.h"

namespace anomaly::testing {

// Defined in alerting_test.cc, whose gtest global environment starts the stack once for this binary.
std::string StackPrometheusUrl();
std::string StackExporterTarget();

namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
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

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The dashboards' queries, variables substituted by the linter (`sets`: NAME=VALUE overrides).
json ListQueries(const std::vector<std::string>& sets) {
  std::string cmd = "python3 " ANOMALY_SOURCE_DIR "/tests/dashboards/lint_dashboards.py --list-queries";
  for (const std::string& s : sets) cmd += " --set " + ShellQuote(s);
  cmd += " " ANOMALY_SOURCE_DIR "/dashboards/*.json";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    if (::pclose(p) != 0) return json();
  }
  return json::parse(out, nullptr, false);
}

// An instant query: "" when it returned data, else why not.
std::string Problem(const std::string& expr) {
  auto r = HttpGet(StackPrometheusUrl() + "/api/v1/query?query=" + UrlEncode(expr));
  if (!r) return "no answer: " + r.error().message;
  json doc = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !doc.is_object() || doc.value("status", "") != "success") {
    return "failed (" + std::to_string(r->status) + "): " + r->body;
  }
  const json& result = doc["data"]["result"];
  if (result.empty()) return "no data";
  return "";
}

// A query of the peers panels: its data comes from a kind: peers detector only (anomaly_peer_*, a peers
// group's insufficient_peers state).
bool PeersQuery(const std::string& expr) {
  return expr.find("anomaly_peer_") != std::string::npos ||
         expr.find("insufficient_peers") != std::string::npos;
}

// Runs every query until all return data or `timeout` passes (rates need a few scrapes, alerts an
// evaluation); the problems left, keyed by "dashboard: where: expr". The error panels have data on a
// healthy detector too, since the exporter creates every (detector, reason) error counter at 0, and the
// failing `broken` detector keeps the exporter alerts of the annotations firing. One exemption: this stack
// has no kind: peers detector yet, so while Prometheus holds no anomaly_peer_state at all the peers
// panels' queries must succeed but may be empty; once the stack scrapes a peers detector they must return
// data like the rest.
std::map<std::string, std::string> RunAll(const json& queries, seconds timeout) {
  std::map<std::string, std::string> problems;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    problems.clear();
    const bool peers_scraped = Problem("anomaly_peer_state").empty();
    for (const json& q : queries) {
      const std::string where = q.value("dashboard", "") + ": " + q.value("where", "");
      const std::string expr = q.value("expr", "");
      std::string p = Problem(expr);
      if (p == "no data" && !peers_scraped && PeersQuery(expr)) continue;
      if (!p.empty()) problems[where + ": " + expr] = p;
    }
    if (problems.empty() || std::chrono::steady_clock::now() >= deadline) return problems;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

TEST(DashboardQueries, EveryQueryReturnsDataWithAllSelected) {
  ASSERT_FALSE(StackPrometheusUrl().empty());
  json queries = ListQueries({});
  ASSERT_TRUE(queries.is_array() && queries.size() >= 40) << queries.dump();
  for (const auto& [query, problem] : RunAll(queries, seconds(90))) ADD_FAILURE() << query << "\n  " << problem;
}

TEST(DashboardQueries, EveryQueryReturnsDataForOnePickedSeries) {
  ASSERT_FALSE(StackPrometheusUrl().empty());
  // The series picker's value: its query_result() text between the braces, for the checkout series.
  std::string series;
  auto r = HttpGet(StackPrometheusUrl() + "/api/v1/query?query=" +
                   UrlEncode("max without (state) (anomaly_state{detector=~\"requests\"})"));
  ASSERT_TRUE(r && r->status == 200);
  const json doc = json::parse(r->body);  // not in the range-for: a temporary there would dangle
  for (const json& s : doc["data"]["result"]) {
    if (s["metric"].value("service", "") != "checkout") continue;
    for (auto it = s["metric"].begin(); it != s["metric"].end(); ++it) {
      series += (series.empty() ? "" : ",") + it.key() + "=\"" + it.value().get<std::string>() + "\"";
    }
  }
  ASSERT_THAT(series, ::testing::HasSubstr("service=\"checkout\"")) << r->body;
  json queries = ListQueries({"job=anomaly-exporter", "instance=" + StackExporterTarget(), "detector=requests",
                              "series=" + series});
  ASSERT_TRUE(queries.is_array() && queries.size() >= 40) << queries.dump();
  for (const auto& [query, problem] : RunAll(queries, seconds(90))) ADD_FAILURE() << query << "\n  " << problem;
}

}  // namespace
}  // namespace anomaly::testing
