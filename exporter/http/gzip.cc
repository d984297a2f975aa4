#include "exporter/http/gzip.h"

#include <zlib.h>

namespace anomaly::http {
namespace {

// Level 6 is zlib's and Go's default trade-off; windowBits 15 with +16 selects the gzip wrapper, -15 a
// raw deflate stream.
constexpr int kLevel = 6;

// Deflates all of `data` into `out` (appending) with the given flush, on a stream made by
// deflateInit2. Returns false when zlib fails.
bool DeflateAll(z_stream& zs, std::string_view data, int flush, std::string& out) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  const size_t start = out.size();
  // deflateBound covers Z_FINISH; a sync flush adds at most a few bytes, and the loop grows if not.
  out.resize(start + deflateBound(&zs, static_cast<uLong>(data.size())) + 16);
  size_t used = start;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = deflate(&zs, flush);
    used = out.size() - zs.avail_out;
    if (rc == Z_STREAM_ERROR) return false;
    if (flush == Z_FINISH && rc == Z_STREAM_END) break;
    if (flush != Z_FINISH && zs.avail_in == 0 && zs.avail_out != 0) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    out.resize(out.size() * 2);
  }
  out.resize(used);
  return true;
}

void AppendLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

Result<std::string> GzipCompress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, kLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return MakeError(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  std::string out;
  const bool ok = DeflateAll(zs, data, Z_FINISH, out);
  deflateEnd(&zs);
  if (!ok) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
  return out;
}

Result<DeflatedTail> DeflateTail(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, kLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return MakeError(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  DeflatedTail tail;
  const bool ok = DeflateAll(zs, data, Z_FINISH, tail.deflate);
  deflateEnd(&zs);
  if (!ok) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
  tail.crc32 = static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), data.size()));
  tail.size = data.size();
  return tail;
}

Result<std::string> GzipSpliced(std::string_view head, const DeflatedTail& tail) {
  z_stream zs{};
  if (deflateInit2(&zs, kLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return MakeError(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  // RFC 1952 header: magic, CM=deflate, no flags, no mtime, XFL 0, OS 3 (Unix).
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  out.reserve(10 + head.size() / 2 + tail.deflate.size() + 8);
  const bool ok = DeflateAll(zs, head, Z_SYNC_FLUSH, out);
  deflateEnd(&zs);
  if (!ok) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
  out += tail.deflate;
  const uLong head_crc = crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(head.data()), head.size());
  AppendLe32(out, static_cast<uint32_t>(crc32_combine(head_crc, tail.crc32, static_cast<z_off_t>(tail.size))));
  AppendLe32(out, static_cast<uint32_t>((head.size() + tail.size) & 0xffffffffu));
  return out;
}

}  // namespace anomaly::http
