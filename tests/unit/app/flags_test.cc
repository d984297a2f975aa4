#include "exporter/app/flags.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly::app {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The flags of a small command, as a subcommand or the daemon would declare them.
struct Fixture {
  int period = 0;
  std::optional<int> trend;
  bool robust = false;
  std::string config_file = "default.yml";
  double ratio = 0.5;
  Duration timeout = std::chrono::seconds(10);
  FlagSet flags;

  Fixture() {
    flags.AddInt("period", "P", "samples per season", &period);
    flags.AddInt("trend", "T", "trend window", &trend);
    flags.AddBool("robust", "robust fit", &robust);
    flags.AddString("config.file", "FILE", "config path", &config_file);
    flags.AddDouble("ratio", "R", "a ratio", &ratio);
    flags.AddDuration("query.timeout", "DURATION", "per-query timeout", &timeout);
  }

  Result<std::vector<std::string_view>> Parse(std::vector<std::string_view> args) { return flags.Parse(args); }
};

TEST(FlagSetTest, ReadsEqualsAndSpaceForms) {
  Fixture f;
  EXPECT_THAT(f.Parse({"--period=288", "--trend", "431"}), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(f.period, 288);
  EXPECT_EQ(f.trend, 431);
}

TEST(FlagSetTest, LeavesUnsetFlagsAtTheirDefaults) {
  Fixture f;
  EXPECT_THAT(f.Parse({}), IsOk());
  EXPECT_EQ(f.period, 0);
  EXPECT_EQ(f.trend, std::nullopt);
  EXPECT_FALSE(f.robust);
  EXPECT_EQ(f.config_file, "default.yml");
  EXPECT_EQ(f.timeout, std::chrono::seconds(10));
}

TEST(FlagSetTest, BooleanNeedsNoValueAndTakesTrueOrFalse) {
  Fixture f;
  EXPECT_THAT(f.Parse({"--robust", "--period", "7"}), IsOk());
  EXPECT_TRUE(f.robust);
  EXPECT_EQ(f.period, 7);  // the word after a boolean is not its value

  Fixture g;
  g.robust = true;
  EXPECT_THAT(g.Parse({"--robust=false"}), IsOk());
  EXPECT_FALSE(g.robust);
}

TEST(FlagSetTest, ReadsPrometheusStyleDottedNames) {
  Fixture f;
  EXPECT_THAT(f.Parse({"--config.file=/etc/anomaly/config.yml", "--query.timeout", "1m30s"}), IsOk());
  EXPECT_EQ(f.config_file, "/etc/anomaly/config.yml");
  EXPECT_EQ(f.timeout, std::chrono::seconds(90));
}

TEST(FlagSetTest, KeepsEverythingAfterTheFirstEqualsSignAsTheValue) {
  Fixture f;
  EXPECT_THAT(f.Parse({"--config.file=a=b.yml"}), IsOk());
  EXPECT_EQ(f.config_file, "a=b.yml");
}

TEST(FlagSetTest, ReturnsPositionalsIncludingDashAndEverythingAfterDoubleDash) {
  Fixture f;
  EXPECT_THAT(f.Parse({"in.csv", "--period=3", "-", "--", "--robust", "x"}),
              IsOkAndHolds(ElementsAre("in.csv", "-", "--robust", "x")));
  EXPECT_FALSE(f.robust);
}

TEST(FlagSetTest, ValueMayStartWithADash) {
  Fixture f;
  EXPECT_THAT(f.Parse({"--period", "-5"}), IsOk());
  EXPECT_EQ(f.period, -5);
}

struct BadArgsCase {
  std::vector<std::string_view> args;
  std::string message;
};

TEST(FlagSetTest, RejectsBadArgumentsNamingTheFlag) {
  const std::vector<BadArgsCase> cases = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--bogus=3"}, "unknown flag --bogus"},
      {{"--Period=3"}, "unknown flag --Period"},
      {{"-p", "3"}, "unknown flag -p (flags are long: --name=value)"},
      {{"--period"}, "flag --period needs a value"},
      {{"--period=abc"}, "flag --period: \"abc\" is not an integer"},
      {{"--period="}, "flag --period: \"\" is not an integer"},
      {{"--period", "12x"}, "flag --period: \"12x\" is not an integer"},
      {{"--period=1.5"}, "flag --period: \"1.5\" is not an integer"},
      {{"--period=99999999999"}, "flag --period: \"99999999999\" is not an integer"},
      {{"--trend=x"}, "flag --trend: \"x\" is not an integer"},
      {{"--period=1", "--period=2"}, "flag --period given twice"},
      {{"--robust", "--robust"}, "flag --robust given twice"},
      {{"--robust=yes"}, "flag --robust: \"yes\" is not true or false"},
      {{"--ratio=nan"}, "flag --ratio: \"nan\" is not a finite number"},
      {{"--ratio=1e999"}, "flag --ratio: \"1e999\" is not a finite number"},
      {{"--query.timeout=10"}, "flag --query.timeout: \"10\" is not a duration such as 30s, 5m or 1h"},
  };
  for (const BadArgsCase& c : cases) {
    Fixture f;
    EXPECT_THAT(f.Parse(c.args), ErrorIs(ErrorCode::kInvalidConfig, c.message)) << "args[0] " << c.args[0];
  }
}

TEST(FlagSetTest, CustomSetterErrorIsPrefixedWithTheFlag) {
  FlagSet flags;
  flags.Add("web.listen-address", "ADDR", "listen address", [](std::string_view v) -> Status {
    if (v.find(':') == std::string_view::npos) return MakeError(ErrorCode::kInvalidConfig, "missing port");
    return {};
  });
  const std::vector<std::string_view> bad = {"--web.listen-address=localhost"};
  EXPECT_THAT(flags.Parse(bad), ErrorIs(ErrorCode::kInvalidConfig, "flag --web.listen-address: missing port"));
  FlagSet again;
  again.Add("web.listen-address", "ADDR", "listen address", [](std::string_view) -> Status { return {}; });
  const std::vector<std::string_view> good = {"--web.listen-address", "127.0.0.1:0"};
  EXPECT_THAT(again.Parse(good), IsOk());
}

TEST(FlagSetTest, UsageListsFlagsInOrderAligned) {
  FlagSet flags;
  int period = 0;
  bool robust = false;
  std::string input;
  flags.AddInt("period", "P", "samples per season", &period);
  flags.AddBool("robust", "robust fit", &robust);
  flags.AddString("input", "FILE", "input file;\n\"-\" is stdin", &input);
  EXPECT_EQ(flags.Usage(),
            "  --period=P     samples per season\n"
            "  --robust       robust fit\n"
            "  --input=FILE   input file;\n"
            "                 \"-\" is stdin\n");
}

}  // namespace
}  // namespace anomaly::app
