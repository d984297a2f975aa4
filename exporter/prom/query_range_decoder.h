// DecodeQueryRange over a body the caller owns: read in place, not copied; and QueryRangeStreamDecoder,
// the same decoding fed piece by piece as the body arrives. Private to the prom stage.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/prom/range_query.h"

namespace anomaly::prom {

// DecodeQueryRange (range_query.h) of `body`, which it parses in place when the
// string's capacity holds kBodyPadding spare bytes past its end, as
// HttpResponse::body does (http_transport.h); otherwise over a padded copy.
[[nodiscard]] Result<QueryRangeResponse> DecodeQueryRangeInPlace(const std::string& body, long http_status);

// DecodeQueryRange of a body fed in pieces of any size (curl's write callback), which hands each series of
// `data.result` to `sink` as soon as its closing brace arrives, so that neither the answer's text nor its
// decoded whole is ever held: only the envelope (everything outside data.result's elements) and the one
// element in progress are kept. The sink runs inside Feed (or Finish), in the answer's order, which is not
// sorted; each series' samples are, as DecodeQueryRange's.
//
// Finish returns the answer's warnings, or its error. The result is the same whatever the pieces' sizes
// (the fuzz target and the unit tests feed one body in many splits), and matches DecodeQueryRange's on the
// same body: the same series and warnings on success, the same error code on failure (the message may
// differ: an element names its index, not a byte offset), with one deliberate difference: a body that
// holds `data` or `data.result` twice is refused (DecodeQueryRange keeps the last; this one may already
// have handed the first's series over). A non-2xx body is buffered and decoded whole at Finish (error
// bodies are small). The series handed over before an error are part of no answer: the caller must drop
// them (DetectorRunner rolls its ingest back).
//
// Thread-compatible: one caller, the sink on its thread.
class QueryRangeStreamDecoder {
 public:
  using Sink = std::function<void(SeriesSamples&&)>;
  QueryRangeStreamDecoder(long http_status, Sink sink);
  ~QueryRangeStreamDecoder();
  QueryRangeStreamDecoder(const QueryRangeStreamDecoder&) = delete;
  QueryRangeStreamDecoder& operator=(const QueryRangeStreamDecoder&) = delete;

  void Feed(std::string_view piece);
  // The body ended: the warnings, or the error. Call once.
  [[nodiscard]] Result<std::vector<std::string>> Finish();

  // Series handed to the sink so far.
  size_t series_emitted() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace anomaly::prom
