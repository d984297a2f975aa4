#include "exporter/http/gzip.h"

#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

namespace anomaly::http {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(4 << 20, '\0');
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

// The /metrics path: a fresh head spliced in front of a tail compressed once must be one gzip member
// that any decoder (zlib here; Go's in Prometheus, curl's in the integration tests) reads whole, with
// a trailer whose CRC-32 and length cover both parts (inflate checks both).
TEST(GzipTest, SplicedHeadAndTailDecodeAsOneMember) {
  std::string head;
  for (int i = 0; i < 300; ++i) head += "anomaly_exporter_queries_total{detector=\"d" + std::to_string(i) + "\"} 3\n";
  std::string tail;
  for (int i = 0; i < 5000; ++i) tail += "anomaly_score{detector=\"d\",job=\"" + std::to_string(i) + "\"} 0.25\n";
  Result<DeflatedTail> t = DeflateTail(tail);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->size, tail.size());
  for (const std::string& h : {head, std::string(), std::string("x")}) {
    Result<std::string> gz = GzipSpliced(h, *t);
    ASSERT_TRUE(gz.has_value());
    EXPECT_EQ(Gunzip(*gz), h + tail) << "head of " << h.size() << " bytes";
  }
  Result<DeflatedTail> empty = DeflateTail("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(Gunzip(GzipSpliced(head, *empty).value()), head);
  EXPECT_EQ(Gunzip(GzipSpliced("", *empty).value()), "");
}

// A tail that does not compress (random bytes) makes the buffers grow past deflateBound's first guess.
TEST(GzipTest, SplicesIncompressibleData) {
  std::string noise(300000, '\0');
  uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  Result<DeflatedTail> t = DeflateTail(noise);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(Gunzip(GzipSpliced(noise.substr(0, 70000), *t).value()), noise.substr(0, 70000) + noise);
}

}  // namespace
}  // namespace anomaly::http
