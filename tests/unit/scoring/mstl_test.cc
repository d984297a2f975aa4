#include "anomaly/scoring/mstl.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// shared/reference/stl/synth_n10080_p1440/mstl_r_forecast.csv, read in place: column -> values.
std::map<std::string, std::vector<double>> ReadForecastReference() {
  const std::string path =
      std::string(ANOMALY_SHARED_DIR) + "/reference/stl/synth_n10080_p1440/mstl_r_forecast.csv";
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

void ExpectMatchesForecast(const MstlResult& fit, std::map<std::string, std::vector<double>>& ref) {
  const std::vector<double>& y = ref["value"];
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  // 1e-6 of the range: forecast::mstl and an independent MSTL loop over the same STL agree to ~1e-11
  // (STL.md §3); the margin covers summation order only.
  const double tolerance = 1e-6 * (*hi - *lo);
  ASSERT_THAT(fit.periods, ElementsAre(60, 1440));
  const std::vector<std::pair<const char*, const std::vector<double>*>> columns = {
      {"seasonal_60", &fit.seasonal[0]},
      {"seasonal_1440", &fit.seasonal[1]},
      {"trend", &fit.trend},
      {"remainder", &fit.remainder}};
  for (const auto& [name, got] : columns) {
    const std::vector<double>& want = ref[name];
    ASSERT_EQ(got->size(), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR((*got)[i], want[i], tolerance) << name << "[" << i << "]";
    }
  }
}

TEST(MstlTest, MatchesForecastMstl) {
  auto ref = ReadForecastReference();
  Result<MstlResult> fit = Mstl(ref["value"], {.periods = {60, 1440}});
  ASSERT_THAT(fit, IsOk());
  ExpectMatchesForecast(*fit, ref);
}

// forecast::mstl sorts the periods and drops those with fewer than two full periods in the series.
TEST(MstlTest, SortsPeriodsAndDropsLongOnes) {
  auto ref = ReadForecastReference();
  Result<MstlResult> fit = Mstl(ref["value"], {.periods = {5040, 1440, 7000, 60}});
  ASSERT_THAT(fit, IsOk());
  ExpectMatchesForecast(*fit, ref);
}

TEST(MstlTest, OnePeriodIsOneStl) {
  std::vector<double> y(240);
  for (size_t i = 0; i < y.size(); ++i) y[i] = std::sin(0.5 * static_cast<double>(i)) + 0.02 * i;
  Result<MstlResult> fit = Mstl(y, {.periods = {12}, .iterations = 3});
  ASSERT_THAT(fit, IsOk());
  Result<StlResult> stl = Stl(y, {.period = 12, .seasonal_window = 11});
  ASSERT_THAT(stl, IsOk());
  EXPECT_EQ(fit->seasonal[0], stl->seasonal);
  EXPECT_EQ(fit->trend, stl->trend);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(fit->remainder[i], stl->remainder[i], 1e-12);
}

TEST(MstlTest, RejectsInvalidInput) {
  std::vector<double> y(100, 1.0);
  EXPECT_THAT(Mstl(y, {.periods = {50, 70}}), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("n = 100")));
  EXPECT_THAT(Mstl(y, {.periods = {}}), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("periods")));
  EXPECT_THAT(Mstl(y, {.periods = {1, 10}}), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("got 1")));
  EXPECT_THAT(Mstl(y, {.periods = {10}, .iterations = 0}),
              ErrorIs(ErrorCode::kInvalidInput, HasSubstr("iterations")));
  EXPECT_THAT(Mstl(y, {.periods = {5, 10}, .seasonal_windows = {4}}),
              ErrorIs(ErrorCode::kInvalidInput, HasSubstr("period 5: seasonal_window")));
  y[42] = std::nan("");
  EXPECT_THAT(Mstl(y, {.periods = {10}}), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("y[42]")));
}

}  // namespace
}  // namespace anomaly::scoring
