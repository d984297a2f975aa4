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
      "WARNING: c.yml:10: detectors[1].history: history 10d is shorter than 2 periods of seasonality 1w "
      "(2w): that period cannot be fitted and the detector falls back to the baseline\n");
}

}  // namespace
}  // namespace anomaly::config
