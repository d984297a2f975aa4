// gmock matchers for Result/Status (after abseil's status_matchers.h):
//   EXPECT_THAT(LoadConfig(p), IsOk());
//   EXPECT_THAT(LoadConfig(p), ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("line 12")));
//   EXPECT_THAT(ParseDuration("5m"), IsOkAndHolds(Duration(300000)));
#pragma once

#include <gmock/gmock.h>

#include "anomaly/base/result.h"

namespace anomaly::testing {

MATCHER(IsOk, "is OK") {
  if (arg.has_value()) return true;
  *result_listener << "error " << ErrorCodeName(arg.error().code) << ": " << arg.error().message;
  return false;
}

MATCHER_P(IsOkAndHolds, inner, "is OK and holds a matching value") {
  if (!arg.has_value()) {
    *result_listener << "error " << ErrorCodeName(arg.error().code) << ": " << arg.error().message;
    return false;
  }
  return ::testing::ExplainMatchResult(inner, arg.value(), result_listener);
}

MATCHER_P2(ErrorIs, code, message_matcher,
           std::string("is error ") + std::string(ErrorCodeName(code)) + " whose message " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  if (arg.has_value()) {
    *result_listener << "is OK";
    return false;
  }
  if (arg.error().code != code) {
    *result_listener << "code is " << ErrorCodeName(arg.error().code) << " (" << arg.error().message << ")";
    return false;
  }
  return ::testing::ExplainMatchResult(message_matcher, arg.error().message, result_listener);
}

}  // namespace anomaly::testing
