#include "anomaly/base/url.h"

#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace anomaly {
namespace {

using ::anomaly::testing::ErrorIs;
using ::testing::HasSubstr;

TEST(UrlTest, DecodeFormComponentDecodesEscapesAndPlus) {
  EXPECT_EQ(DecodeFormComponent("a+b%2Fc%3d%E2%82%AC"), "a b/c=\xE2\x82\xAC");
  EXPECT_EQ(DecodeFormComponent(""), "");
  EXPECT_EQ(DecodeFormComponent("%"), std::nullopt);
  EXPECT_EQ(DecodeFormComponent("%4"), std::nullopt);
  EXPECT_EQ(DecodeFormComponent("%zz"), std::nullopt);
}

TEST(UrlTest, DecodeFormSplitsPairsInOrderAndSaysWhichHadAValue) {
  Result<std::vector<FormField>> fields = DecodeForm("b=2&&a=x+y&flag&empty=&%3D=%26");
  ASSERT_TRUE(fields.has_value()) << fields.error().message;
  ASSERT_EQ(fields->size(), 5u);
  const struct {
    std::string name, value;
    bool has_value;
  } want[] = {{"b", "2", true}, {"a", "x y", true}, {"flag", "", false}, {"empty", "", true}, {"=", "&", true}};
  for (size_t i = 0; i < fields->size(); ++i) {
    EXPECT_EQ((*fields)[i].name, want[i].name) << i;
    EXPECT_EQ((*fields)[i].value, want[i].value) << i;
    EXPECT_EQ((*fields)[i].has_value, want[i].has_value) << i;
  }
  EXPECT_TRUE(DecodeForm("")->empty());
}

TEST(UrlTest, DecodeFormNamesTheUndecodablePart) {
  EXPECT_THAT(DecodeForm("a=1&b=%zz"), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("bad percent-escape in \"%zz\"")));
  EXPECT_THAT(DecodeForm("%g=1"), ErrorIs(ErrorCode::kInvalidInput, HasSubstr("bad percent-escape in \"%g\"")));
}

}  // namespace
}  // namespace anomaly
