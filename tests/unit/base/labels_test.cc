#include "anomaly/base/labels.h"

#include <gtest/gtest.h>

namespace anomaly {
namespace {

TEST(LabelsTest, MakeLabelsSortsByName) {
  Labels l = MakeLabels({{"job", "api"}, {"__name__", "up"}, {"instance", "a:1"}});
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].name, "__name__");
  EXPECT_EQ(l[1].name, "instance");
  EXPECT_EQ(l[2].name, "job");
  EXPECT_EQ(LabelValue(l, "job"), "api");
  EXPECT_EQ(LabelValue(l, "missing"), "");
}

TEST(LabelsTest, HashIsStableAndOrderIndependent) {
  Labels a = MakeLabels({{"a", "1"}, {"b", "2"}});
  Labels b = MakeLabels({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(HashLabels(a), HashLabels(b));
  // Pinned: a change here moves every series to another shard on upgrade.
  EXPECT_EQ(HashLabels(a), 0xd3ba964fac3d38d7ULL) << std::hex << HashLabels(a);
  // The separator keeps {ab=""} and {a="b"} apart.
  EXPECT_NE(HashLabels(MakeLabels({{"ab", ""}})), HashLabels(MakeLabels({{"a", "b"}})));
}

TEST(LabelsTest, ToStringEscapes) {
  EXPECT_EQ(LabelsToString(MakeLabels({{"a", "x\"y"}, {"b", "l1\nl2"}})), "{a=\"x\\\"y\", b=\"l1\\nl2\"}");
}

}  // namespace
}  // namespace anomaly
