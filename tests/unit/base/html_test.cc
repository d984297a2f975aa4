#include "anomaly/base/html.h"

#include <gtest/gtest.h>

namespace anomaly {
namespace {

TEST(HtmlTest, EscapeCoversAttributeAndElementContext) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

}  // namespace
}  // namespace anomaly
