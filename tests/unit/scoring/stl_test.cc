#include "anomaly/scoring/stl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::scoring {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;

// A reference CSV from shared/reference/stl/, read in place: column name -> values.
std::map<std::string, std::vector<double>> ReadReference(const std::string& relative) {
  const std::string path = std::string(ANOMALY_SHARED_DIR) + "/reference/stl/" + relative;
  std::ifstream in(path);
  std::map<std::string, std::vector<double>> columns;
  std::string line;
  if (!std::getline(in, line)) {
    ADD_FAILURE() << "cannot read " << path;
    return columns;
  }
  std::vector<std::string> names;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string cell;
    for (size_t c = 0; c < names.size() && std::getline(row, cell, ','); ++c) {
      columns[names[c]].push_back(std::stod(cell));
    }
  }
  return columns;
}

enum class Run { kRS7, kRPeriodic, kExactMedianS7Robust, kExactMedianPeriodicRobust, kSmS7, kSmS7Robust };

struct ReferenceCase {
  std::string series;
  int period;
  Run run;
};

std::string FileName(Run run) {
  switch (run) {
    case Run::kRS7: return "r_s7.csv";
    case Run::kRPeriodic: return "r_periodic.csv";
    case Run::kExactMedianS7Robust: return "rparams_exactmedian_s7_robust.csv";
    case Run::kExactMedianPeriodicRobust: return "rparams_exactmedian_periodic_robust.csv";
    case Run::kSmS7: return "sm_s7.csv";
    case Run::kSmS7Robust: return "sm_s7_robust.csv";
  }
  return "";
}

void PrintTo(const ReferenceCase& c, std::ostream* os) { *os << c.series << "/" << FileName(c.run); }

// The parameters each reference file was produced with (shared/reference/stl/README.md).
StlParams ParamsFor(const ReferenceCase& c) {
  StlParams p{.period = c.period, .seasonal_window = 7};
  switch (c.run) {
    case Run::kRS7: break;
    case Run::kRPeriodic: p.periodic = true; break;
    case Run::kExactMedianS7Robust: p.robust = true; break;
    case Run::kExactMedianPeriodicRobust:
      p.periodic = true;
      p.robust = true;
      break;
    case Run::kSmS7:
    case Run::kSmS7Robust:
      // statsmodels' defaults: degree 1 everywhere, every jump 1, ni/no = 5/0 or 2/15; R's windows.
      p.seasonal_degree = 1;
      p.trend_degree = 1;
      p.lowpass_degree = 1;
      p.seasonal_jump = p.trend_jump = p.lowpass_jump = 1;
      p.robust = c.run == Run::kSmS7Robust;
      p.inner_iterations = p.robust ? 2 : 5;
      p.outer_iterations = p.robust ? 15 : 0;
      break;
  }
  return p;
}

std::string CaseName(const ::testing::TestParamInfo<ReferenceCase>& info) {
  std::string raw = info.param.series + "_" + FileName(info.param.run);
  raw = raw.substr(0, raw.size() - 4);  // drop ".csv"
  std::string name;
  bool upper = true;
  for (char ch : raw) {
    if (ch == '_') {
      upper = true;
    } else {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      upper = false;
    }
  }
  return name;
}

class StlReferenceTest : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(StlReferenceTest, MatchesReference) {
  const ReferenceCase& c = GetParam();
  auto ref = ReadReference(c.series + "/" + FileName(c.run));
  const std::vector<double>& y = ref["value"];
  ASSERT_FALSE(y.empty());
  Result<StlResult> fit = Stl(y, ParamsFor(c));
  ASSERT_THAT(fit, IsOk());
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  const double range = *hi - *lo;
  // Tolerance: 1e-6 of the series' range. Independent double-precision ports of stl.f agree with these
  // files to ~1e-10 absolute (STL.md §1.3); only summation order differs (our five-sum loess and split
  // reductions against the Fortran's two-pass weights). 1e-6 of range still catches any wrong window,
  // jump, weight or median, which move the output by far more.
  const double tolerance = 1e-6 * range;
  const bool robust = c.run == Run::kExactMedianS7Robust || c.run == Run::kExactMedianPeriodicRobust ||
                      c.run == Run::kSmS7Robust;
  std::vector<std::pair<const char*, const std::vector<double>*>> columns = {
      {"seasonal", &fit->seasonal}, {"trend", &fit->trend}, {"remainder", &fit->remainder}};
  if (robust) columns.push_back({"weight", &fit->weights});
  double worst = 0.0;
  for (const auto& [name, got] : columns) {
    const std::vector<double>& want = ref[name];
    ASSERT_EQ(got->size(), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i) {
      const double err = std::abs((*got)[i] - want[i]);
      worst = std::max(worst, err / range);
      ASSERT_LE(err, tolerance) << name << "[" << i << "]: got " << (*got)[i] << ", want " << want[i];
    }
  }
  RecordProperty("max_error_over_range", std::to_string(worst));
  std::printf("%s: max |error| / range = %.3g\n", CaseName({c, 0}).c_str(), worst);
}

std::vector<ReferenceCase> AllReferenceCases() {
  const std::vector<std::pair<std::string, int>> series = {
      {"co2", 12}, {"nottem", 12}, {"synth_n1440_p60", 60}, {"synth_n2016_p288", 288},
      {"synth_n10080_p1440", 1440}};
  std::vector<ReferenceCase> cases;
  for (const auto& [name, period] : series) {
    for (Run run : {Run::kRS7, Run::kRPeriodic, Run::kExactMedianS7Robust, Run::kExactMedianPeriodicRobust,
                    Run::kSmS7, Run::kSmS7Robust}) {
      cases.push_back({name, period, run});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllSeries, StlReferenceTest, ::testing::ValuesIn(AllReferenceCases()), CaseName);

// The windows and jumps R reported (fit$win, fit$jump) for each reference series.
TEST(StlTest, ResolvesRDefaults) {
  struct Want {
    int period;
    size_t n;
    bool periodic;
    int s, t, l, sj, tj, lj;
  };
  const std::vector<Want> table = {
      {12, 468, false, 7, 23, 13, 1, 3, 2},           {12, 468, true, 4681, 19, 13, 469, 2, 2},
      {12, 240, true, 2401, 19, 13, 241, 2, 2},        {288, 2016, false, 7, 551, 289, 1, 56, 29},
      {288, 2016, true, 20161, 433, 289, 2017, 44, 29}, {60, 1440, false, 7, 115, 61, 1, 12, 7},
      {60, 1440, true, 14401, 91, 61, 1441, 10, 7},    {1440, 10080, false, 7, 2751, 1441, 1, 276, 145},
      {1440, 10080, true, 100801, 2161, 1441, 10081, 217, 145},
  };
  for (const Want& w : table) {
    SCOPED_TRACE("period " + std::to_string(w.period) + " n " + std::to_string(w.n) +
                 (w.periodic ? " periodic" : ""));
    Result<StlResolvedParams> r = ResolveStlParams({.period = w.period, .periodic = w.periodic}, w.n);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->seasonal_window, w.s);
    EXPECT_EQ(r->trend_window, w.t);
    EXPECT_EQ(r->lowpass_window, w.l);
    EXPECT_EQ(r->seasonal_jump, w.sj);
    EXPECT_EQ(r->trend_jump, w.tj);
    EXPECT_EQ(r->lowpass_jump, w.lj);
    EXPECT_EQ(r->seasonal_degree, 0);
    EXPECT_EQ(r->lowpass_degree, 1);
    EXPECT_EQ(r->inner_iterations, 2);
    EXPECT_EQ(r->outer_iterations, 0);
  }
  Result<StlResolvedParams> robust = ResolveStlParams({.period = 12, .robust = true}, 100);
  ASSERT_THAT(robust, IsOk());
  EXPECT_EQ(robust->inner_iterations, 1);
  EXPECT_EQ(robust->outer_iterations, 15);
}

TEST(StlTest, RejectsInvalidInput) {
  std::vector<double> good(48);
  for (size_t i = 0; i < good.size(); ++i) good[i] = std::sin(static_cast<double>(i)) + 0.1 * i;
  struct Case {
    std::string name;
    StlParams params;
    std::vector<double> y;
    std::string message;
  };
  std::vector<double> with_nan = good, with_inf = good;
  with_nan[5] = std::nan("");
  with_inf[47] = -INFINITY;
  auto p = [](auto edit) {
    StlParams params{.period = 12};
    edit(params);
    return params;
  };
  const std::vector<Case> table = {
      {"period 1", p([](StlParams& q) { q.period = 1; }), good, "period: must be >= 2, got 1"},
      {"period 0", p([](StlParams& q) { q.period = 0; }), good, "period"},
      {"short", p([](StlParams& q) { q.period = 25; }), good, "two full periods (50 values for period 25), got 48"},
      {"empty", p([](StlParams&) {}), {}, "two full periods"},
      {"nan", p([](StlParams&) {}), with_nan, "y[5]: value is NaN"},
      {"inf", p([](StlParams&) {}), with_inf, "y[47]: value is -Inf"},
      {"even seasonal window", p([](StlParams& q) { q.seasonal_window = 8; }), good, "seasonal_window"},
      {"tiny seasonal window", p([](StlParams& q) { q.seasonal_window = 1; }), good, "seasonal_window"},
      {"seasonal degree", p([](StlParams& q) { q.seasonal_degree = 2; }), good, "seasonal_degree: must be 0 or 1"},
      {"trend degree", p([](StlParams& q) { q.trend_degree = -1; }), good, "trend_degree"},
      {"lowpass degree", p([](StlParams& q) { q.lowpass_degree = 3; }), good, "lowpass_degree"},
      {"trend window", p([](StlParams& q) { q.trend_window = 10; }), good, "trend_window"},
      {"lowpass window", p([](StlParams& q) { q.lowpass_window = 2; }), good, "lowpass_window"},
      {"seasonal jump", p([](StlParams& q) { q.seasonal_jump = 0; }), good, "seasonal_jump: must be >= 1"},
      {"trend jump", p([](StlParams& q) { q.trend_jump = -3; }), good, "trend_jump"},
      {"lowpass jump", p([](StlParams& q) { q.lowpass_jump = 0; }), good, "lowpass_jump"},
      {"inner", p([](StlParams& q) { q.inner_iterations = 0; }), good, "inner_iterations"},
      {"outer", p([](StlParams& q) { q.outer_iterations = -1; }), good, "outer_iterations"},
  };
  StlWorkspace workspace;
  for (const Case& c : table) {
    SCOPED_TRACE(c.name);
    StlResult out;
    out.trend = {1.0, 2.0};  // must be cleared: never partial output
    EXPECT_THAT(Stl(c.y, c.params, workspace, out), ErrorIs(ErrorCode::kInvalidInput, HasSubstr(c.message)));
    EXPECT_TRUE(out.seasonal.empty() && out.trend.empty() && out.remainder.empty() && out.weights.empty());
  }
}

TEST(StlTest, AcceptsExactlyTwoPeriods) {
  std::vector<double> y(24);
  for (size_t i = 0; i < y.size(); ++i) y[i] = std::cos(0.5 * static_cast<double>(i)) + 0.01 * i;
  Result<StlResult> fit = Stl(y, {.period = 12, .robust = true});
  ASSERT_THAT(fit, IsOk());
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_NEAR(fit->seasonal[i] + fit->trend[i] + fit->remainder[i], y[i], 1e-12);
  }
}

// More than half the remainders exactly 0 (a flat series) gives h = 0 in stlrwt: weights 1 where the
// remainder is 0, as R's Fortran does, and no division by zero.
TEST(StlTest, FlatSeriesKeepsUnitWeights) {
  std::vector<double> y(96, 0.0);
  Result<StlResult> fit = Stl(y, {.period = 12, .robust = true});
  ASSERT_THAT(fit, IsOk());
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(fit->seasonal[i], 0.0);
    EXPECT_EQ(fit->trend[i], 0.0);
    EXPECT_EQ(fit->weights[i], 1.0);
  }
}

// Properties on generated series and parameters: components add up to the input, weights lie in [0, 1],
// and a reused workspace (with plans cached from other parameters) gives bit-identical output.
TEST(StlTest, PropertiesHoldOnGeneratedSeries) {
  const uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  auto uniform_int = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::normal_distribution<double> noise(0.0, 1.0);
  StlWorkspace shared_workspace;
  for (int trial = 0; trial < 200; ++trial) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    const int period = uniform_int(2, 40);
    const size_t n = static_cast<size_t>(period) * uniform_int(2, 8) + uniform_int(0, period - 1);
    std::vector<double> y(n);
    const double level = std::uniform_real_distribution<double>(-1e3, 1e3)(rng);
    for (size_t i = 0; i < n; ++i) {
      y[i] = level + 5.0 * std::sin(6.283185307179586 * static_cast<double>(i) / period) + noise(rng) +
             (uniform_int(0, 30) == 0 ? 40.0 : 0.0);
    }
    StlParams params{.period = period, .seasonal_window = 2 * uniform_int(1, 20) + 1};
    params.periodic = uniform_int(0, 4) == 0;
    params.seasonal_degree = uniform_int(0, 1);
    params.trend_degree = uniform_int(0, 1);
    params.robust = uniform_int(0, 1) == 1;
    if (uniform_int(0, 1) == 1) params.seasonal_jump = uniform_int(1, 5);
    if (uniform_int(0, 1) == 1) params.trend_jump = uniform_int(1, 30);
    if (uniform_int(0, 2) == 0) params.trend_window = 2 * uniform_int(1, static_cast<int>(n)) + 1;
    if (uniform_int(0, 2) == 0) params.lowpass_window = 2 * uniform_int(1, 2 * period) + 1;
    Result<StlResult> fresh = Stl(y, params);
    ASSERT_THAT(fresh, IsOk());
    StlResult reused;
    ASSERT_THAT(Stl(y, params, shared_workspace, reused), IsOk());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(std::isfinite(fresh->seasonal[i]) && std::isfinite(fresh->trend[i])) << "index " << i;
      // The remainder is defined as y - S - T, so the sum holds to rounding of values of size |y|.
      ASSERT_NEAR(fresh->seasonal[i] + fresh->trend[i] + fresh->remainder[i], y[i], 1e-9 * (1 + std::abs(y[i])))
          << "index " << i;
      ASSERT_GE(fresh->weights[i], 0.0) << "index " << i;
      ASSERT_LE(fresh->weights[i], 1.0) << "index " << i;
      if (!params.robust) {
        ASSERT_EQ(fresh->weights[i], 1.0) << "index " << i;
      }
      ASSERT_EQ(fresh->seasonal[i], reused.seasonal[i]) << "index " << i;
      ASSERT_EQ(fresh->trend[i], reused.trend[i]) << "index " << i;
    }
    if (params.periodic) {
      for (size_t i = static_cast<size_t>(period); i < n; ++i) {
        ASSERT_EQ(fresh->seasonal[i], fresh->seasonal[i - static_cast<size_t>(period)]) << "index " << i;
      }
    }
  }
}

}  // namespace
}  // namespace anomaly::scoring
