#include "exporter/http/gzip.h"

#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

namespace anomaly::http {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(GzipTest, RoundTripsWithGzipHeader) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "anomaly_score{detector=\"d\",job=\"" + std::to_string(i) + "\"} 0.5\n";
  Result<std::string> gz = GzipCompress(text);
  ASSERT_TRUE(gz.has_value());
  ASSERT_GE(gz->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  EXPECT_LT(gz->size(), text.size() / 4);
  EXPECT_EQ(Gunzip(*gz), text);
  EXPECT_EQ(Gunzip(GzipCompress("").value()), "");
}

}  // namespace
}  // namespace anomaly::http
