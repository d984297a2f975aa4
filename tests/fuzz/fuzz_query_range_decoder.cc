// The query_range decoder (exporter/prom/query_range_decoder.cc): every answer Prometheus, or whatever
// stands at its URL, sends back. The decoder has two paths that promise one contract: simdjson's
// On-Demand reader for well-formed success answers and nlohmann's DOM for everything else. This target
// builds that .cc into itself, so that it can call both paths on the same body and compare them
// (a differential check no test of the public function can make): whenever the fast path accepts a
// body, the DOM path must decode it to the same series, samples and warnings. The library's own copy of
// the file is then never linked in: every symbol it defines is already defined here.
//
// It also checks the decoded answer's contract (range_query.h): series sorted by labels, label names
// sorted and unique, samples in strictly ascending time; errors carry one of the upstream codes; and the
// in-place entry point agrees with the copying one, and the stream decoder with both, whatever the
// sizes of the pieces it is fed. Every body is also decoded as a non-2xx answer,
// the path of Prometheus' error envelopes and of proxies' HTML pages.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "exporter/prom/query_range_decoder.cc"  // NOLINT(bugprone-suspicious-include): see above
#include "fuzz_check.h"

namespace anomaly::prom {
namespace {

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool SameAnswer(const QueryRangeResponse& a, const QueryRangeResponse& b) {
  if (a.warnings != b.warnings || a.series.size() != b.series.size()) return false;
  for (size_t i = 0; i < a.series.size(); ++i) {
    const SeriesSamples& x = a.series[i];
    const SeriesSamples& y = b.series[i];
    if (x.labels != y.labels || x.samples.size() != y.samples.size()) return false;
    for (size_t j = 0; j < x.samples.size(); ++j) {
      if (x.samples[j].timestamp_ms != y.samples[j].timestamp_ms ||
          !SameValue(x.samples[j].value, y.samples[j].value)) {
        return false;
      }
    }
  }
  return true;
}

bool SameResult(const Result<QueryRangeResponse>& a, const Result<QueryRangeResponse>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return a.error().code == b.error().code && a.error().message == b.error().message;
  return SameAnswer(*a, *b);
}

void CheckContract(const Result<QueryRangeResponse>& r) {
  if (!r) {
    const ErrorCode code = r.error().code;
    FUZZ_CHECK(code == ErrorCode::kUpstreamRejected || code == ErrorCode::kUpstreamUnavailable ||
                   code == ErrorCode::kUpstreamMalformed || code == ErrorCode::kTimeout,
               r.error().message);
    FUZZ_CHECK(r.error().message.starts_with("prometheus answered "), r.error().message);
    return;
  }
  for (size_t i = 0; i < r->series.size(); ++i) {
    const SeriesSamples& s = r->series[i];
    FUZZ_CHECK(i == 0 || !(s.labels < r->series[i - 1].labels), "series not sorted by labels");
    for (size_t j = 1; j < s.labels.size(); ++j) {
      FUZZ_CHECK(s.labels[j - 1].name < s.labels[j].name, "label names not sorted and unique");
    }
    for (size_t j = 1; j < s.samples.size(); ++j) {
      FUZZ_CHECK(s.samples[j - 1].timestamp_ms < s.samples[j].timestamp_ms, "samples not strictly ascending");
    }
  }
}

// The body through QueryRangeStreamDecoder: whole (`split` 0), or in pieces of 1 to 64 bytes, each size
// taken from the body's next byte. Series sorted as DecodeQueryRange's.
Result<QueryRangeResponse> StreamDecode(std::string_view body, long status, int split) {
  QueryRangeResponse out;
  QueryRangeStreamDecoder decoder(status, [&](SeriesSamples&& s) { out.series.push_back(std::move(s)); });
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = split == 0 ? body.size() : 1 + static_cast<unsigned char>(body[at]) % 64;
    decoder.Feed(body.substr(at, std::min(n, body.size() - at)));
    at += n;
  }
  Result<std::vector<std::string>> warnings = decoder.Finish();
  if (!warnings) return tl::unexpected(warnings.error());
  out.warnings = std::move(*warnings);
  SortSeries(&out.series);
  return out;
}

// Statuses a body is also decoded with, picked by the input's size: errors, throttling, a proxy's 502.
constexpr std::array<long, 8> kOtherStatuses{400, 404, 408, 422, 429, 500, 502, 503};

void DecodeEveryWay(std::string_view body) {
  const size_t size = body.size();

  const Result<QueryRangeResponse> decoded = DecodeQueryRange(body, 200);
  CheckContract(decoded);

  // The fast path and the DOM path agree on every body the fast one accepts.
  const simdjson::padded_string padded(body);
  if (std::optional<QueryRangeResponse> fast = FastDecode(padded)) {
    const Result<QueryRangeResponse> dom = DomDecode(body, 200);
    FUZZ_CHECK(dom.has_value(), "the fast path accepted a body the DOM path refuses: " + dom.error().message);
    FUZZ_CHECK(SameAnswer(*fast, *dom), "the fast and DOM paths decode the body differently");
  }

  // In place, over a string with simdjson's padding spare, as HttpResponse::body holds it.
  std::string owned;
  owned.reserve(size + simdjson::SIMDJSON_PADDING);
  owned.assign(body);
  FUZZ_CHECK(SameResult(DecodeQueryRangeInPlace(owned, 200), decoded), "in-place decoding differs");

  // The stream decoder (QueryRangeStreamDecoder) fed in pieces whose sizes the body's own bytes pick:
  // the same result as fed whole, byte for byte, and the same as DecodeQueryRange's (series and
  // warnings; on an error its code) but for data or data.result twice, which only it refuses.
  const Result<QueryRangeResponse> streamed_whole = StreamDecode(body, 200, 0);
  const Result<QueryRangeResponse> streamed_split = StreamDecode(body, 200, 1);
  FUZZ_CHECK(SameResult(streamed_whole, streamed_split), "the stream decoder depends on the pieces' sizes");
  const bool refused_twice =
      !streamed_whole && streamed_whole.error().message.find("appears twice") != std::string::npos;
  if (!refused_twice) {
    FUZZ_CHECK(streamed_whole.has_value() == decoded.has_value(),
               "the stream decoder and DecodeQueryRange disagree on success: " +
                   (decoded ? streamed_whole.error().message : decoded.error().message));
    if (decoded) {
      FUZZ_CHECK(SameAnswer(*decoded, *streamed_whole), "the stream decoder decodes the body differently");
    } else {
      FUZZ_CHECK(decoded.error().code == streamed_whole.error().code,
                 "error codes differ: " + decoded.error().message + " | " + streamed_whole.error().message);
    }
  }

  const long other = kOtherStatuses[size % kOtherStatuses.size()];
  const Result<QueryRangeResponse> error = DecodeQueryRange(body, other);
  FUZZ_CHECK(!error.has_value(), "a " + std::to_string(other) + " answer decoded as a success");
  CheckContract(error);
}

}  // namespace
}  // namespace anomaly::prom

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  anomaly::prom::DecodeEveryWay(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
