#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "anomaly/config/config_loader.h"
#include "support/result_matchers.h"

namespace anomaly::config {
namespace {

using ::anomaly::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDir = ANOMALY_TESTDATA_DIR "/config/";

// What must survive a render: everything except the loader's bookkeeping.
Config WithoutBookkeeping(Config c) {
  c.source_path.clear();
  c.warnings.clear();
  return c;
}

TEST(ConfigRenderTest, RenderedConfigLoadsBackEqual) {
  for (const char* name : {"good.yaml", "minimal.yaml", "defaults.yaml"}) {
    Result<Config> original = LoadConfigFromFile(kDir + name);
    ASSERT_THAT(original, IsOk()) << name;
    std::string rendered = RenderConfig(*original);
    Result<Config> reloaded = LoadConfigFromString(rendered, kDir + "rendered.yaml");
    ASSERT_THAT(reloaded, IsOk()) << name << ":\n" << rendered;
    EXPECT_EQ(WithoutBookkeeping(*reloaded), WithoutBookkeeping(*original)) << name << ":\n" << rendered;
  }
}

// Found by fuzzing (tests/fuzz/fuzz_config_loader.cc): a query holding invalid UTF-8 or a control
// character loaded, but yaml-cpp cannot write it back, so the rendered config loaded back different.
// Such strings are refused with file:line; Unicode text, tabs and multi-line queries still round-trip.
TEST(ConfigRenderTest, StringsThatCannotRoundTripAreRefusedAndUnicodeRoundTrips) {
  auto config = [](const std::string& query) {
    return "prometheus:\n  url: http://127.0.0.1:9090\ndetectors:\n  - name: requests\n    query: " + query +
           "\n    step: 5m\n";
  };
  for (const std::string& bad : {std::string("\xff\xff\x7f"), std::string("up\x7f"), std::string("\"a\\x01b\""),
                                std::string("\xc0\xaf"), std::string("\xe2\x82"), std::string("\"\\u0085\"")}) {
    Result<Config> c = LoadConfigFromString(config(bad), "fuzz.yml");
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_THAT(c.error().message, HasSubstr("fuzz.yml:5: detectors[0].query: the value ")) << bad;
  }
  for (const std::string& good : {std::string("rate(caf\xc3\xa9_total[5m]) > 0 # \xe2\x82\xac \xf0\x9f\x93\x88"),
                                 std::string("\"sum by (job) (\\t up)\\n  or vector(0)\"")}) {
    Result<Config> original = LoadConfigFromString(config(good), "good.yml");
    ASSERT_THAT(original, IsOk()) << good;
    Result<Config> reloaded = LoadConfigFromString(RenderConfig(*original), "rendered.yml");
    ASSERT_THAT(reloaded, IsOk()) << RenderConfig(*original);
    EXPECT_EQ(WithoutBookkeeping(*reloaded), WithoutBookkeeping(*original)) << RenderConfig(*original);
  }
}

// Found by fuzzing (issue 8): yaml-cpp 0.7 kept a carriage return not followed by a line feed in a
// value, and wrote it back raw, where the next read took "\r\n" for one line break: the rendered config
// loaded back with a different query. Every line break in a value now reads as one line feed (YAML 1.2,
// 5.4), in plain, quoted and block scalars, and CRLF files (an editor on Windows) read as LF files do.
TEST(ConfigRenderTest, Issue8CarriageReturnsReadAsLineBreaksAndRenderBack) {
  auto config = [](const std::string& query, const std::string& eol) {
    return "prometheus:" + eol + "  url: http://127.0.0.1:9090" + eol + "detectors:" + eol +
           "  - name: requests" + eol + "    query: " + query + eol + "    step: 5m" + eol;
  };
  struct Case {
    std::string query, eol, expected;
  };
  const Case cases[] = {
      {"up||\r\r\r;\rY\r", "\n", ""},  // the fuzzer's input, shortened: lone CRs inside and at the end
      {"\"sum(up)\\r\\nor vector(0)\\r\"", "\n", "sum(up)\nor vector(0)\n"},
      {"|\r\n      sum(up)\r\n      or vector(0)", "\r\n", "sum(up)\nor vector(0)\n"},
  };
  for (const Case& c : cases) {
    Result<Config> original = LoadConfigFromString(config(c.query, c.eol), "fuzz.yml");
    ASSERT_THAT(original, IsOk()) << c.query;
    const std::string& query = original->detectors.at(0).query;
    EXPECT_THAT(query, Not(HasSubstr("\r"))) << c.query;
    if (!c.expected.empty()) {
      EXPECT_EQ(query, c.expected) << c.query;
    }
    Result<Config> reloaded = LoadConfigFromString(RenderConfig(*original), "rendered.yml");
    ASSERT_THAT(reloaded, IsOk()) << RenderConfig(*original);
    EXPECT_EQ(WithoutBookkeeping(*reloaded), WithoutBookkeeping(*original)) << RenderConfig(*original);
  }
}

TEST(ConfigRenderTest, RenderShowsSecretPathsNeverTheirContents) {
  Result<Config> config = LoadConfigFromFile(kDir + "good.yaml");
  ASSERT_THAT(config, IsOk());
  std::string rendered = RenderConfig(*config);
  EXPECT_THAT(rendered, HasSubstr("password_file: " + kDir + "secrets/password"));
  EXPECT_THAT(rendered, Not(HasSubstr("not-a-real-password")));
  EXPECT_THAT(rendered, Not(HasSubstr("not a real key")));
}

TEST(ConfigRenderTest, DescribeSummarisesDetectorsAndWarnings) {
  Result<Config> config = LoadConfigFromString(R"(prometheus: {url: "http://p:9090"}
shard: {index: 1, count: 2}
detectors:
  - name: requests
    query: |
      sum(
        rate(x[5m]))
    step: 5m
    seasonality: [1d]
  - {name: weekly, query: y, step: 1h, history: 10d, seasonality: [1d, 1w]}
  - {name: flat, query: z, step: 1m, seasonality: auto}
)",
                                               "c.yml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(
      DescribeConfig(*config),
      "c.yml: SUCCESS: 3 detectors, prometheus http://p:9090, shard 1 of 2\n"
      "  requests: step 5m, history 1w, interval 1m, seasonality 1d (stl), query: sum( rate(x[5m]))\n"
      "  weekly: step 1h, history 1w3d, interval 1m, seasonality 1d,1w (mstl), query: y\n"
      "  flat: step 1m, history 1w, interval 1m, seasonality auto, query: z\n"
      "WARNING: c.yml:10: detectors[1].history: history 10d is shorter than 3 periods of seasonality 1w "
      "(3w): a seasonal fit needs 3 cycles to outvote a past incident, so that period is left out of the "
      "fit\n");
}

}  // namespace
}  // namespace anomaly::config
