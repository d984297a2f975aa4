// gzip (RFC 1952) compression of a response body, for scrapers that send Accept-Encoding: gzip
// (Prometheus does). zlib stays inside gzip.cc.
//
// A /metrics body is a small part that changes on every scrape (the self-metrics) followed by a large
// part that changes only when a cycle publishes (the anomaly families). The large part is compressed
// once per snapshot (DeflateTail) and spliced behind the freshly compressed small part (GzipSpliced):
// one valid gzip member, so every decoder reads it, at the cost of compressing only the small part.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/base/result.h"

namespace anomaly::http {

// kInternal when zlib fails (out of memory); the caller then sends the body uncompressed.
[[nodiscard]] Result<std::string> GzipCompress(std::string_view data);

// The end of a gzip body, compressed on its own: a raw deflate stream whose last block is final, with
// the CRC-32 and length of its uncompressed data for the gzip trailer.
struct DeflatedTail {
  std::string deflate;  // raw deflate (no header), ends with the final block
  uint32_t crc32 = 0;   // CRC-32 of the uncompressed data
  uint64_t size = 0;    // uncompressed length
};

// kInternal when zlib fails.
[[nodiscard]] Result<DeflatedTail> DeflateTail(std::string_view data);

// A gzip member whose content is `head` followed by the data of `tail`. `head` is compressed here and
// ends on a byte boundary without a final block (a sync flush), so the tail's blocks follow it as part
// of the same deflate stream; the tail never refers back into the head, which deflate allows. The
// trailer's CRC-32 combines both parts. kInternal when zlib fails.
[[nodiscard]] Result<std::string> GzipSpliced(std::string_view head, const DeflatedTail& tail);

}  // namespace anomaly::http
