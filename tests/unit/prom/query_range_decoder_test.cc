#include "exporter/prom/query_range_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "anomaly/prom/range_query.h"
#include "exporter/prom/http_transport.h"
#include "support/result_matchers.h"

namespace anomaly::prom {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::anomaly::testing::IsOkAndHolds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(ANOMALY_TESTDATA_DIR) + "/prom/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing testdata file " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ErrorCase {
  const char* file;
  long http_status;
  ErrorCode code;
  const char* message;  // a substring of the expected message
};

class DecodeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DecodeErrorTest, MapsToCodeAndMessage) {
  const ErrorCase& c = GetParam();
  EXPECT_THAT(DecodeQueryRangeResponse(ReadTestdata(c.file), c.http_status),
              ErrorIs(c.code, HasSubstr(c.message)))
      << c.file;
}

INSTANTIATE_TEST_SUITE_P(
    Testdata, DecodeErrorTest,
    ::testing::Values(ErrorCase{"bad_data_parse_error.json", 400, ErrorCode::kUpstreamRejected,
                                "prometheus answered 400: bad_data: 1:23: parse error: "
                                "unclosed left parenthesis"},
                      ErrorCase{"bad_data_resolution.json", 400, ErrorCode::kUpstreamRejected,
                                "bad_data: exceeded maximum resolution of 11,000 points"},
                      ErrorCase{"timeout.json", 503, ErrorCode::kTimeout,
                                "prometheus answered 503: timeout: query timed out in "
                                "expression evaluation"},
                      ErrorCase{"execution_too_many_samples.json", 422, ErrorCode::kUpstreamRejected,
                                "prometheus answered 422: execution: query processing would "
                                "load too many samples"},
                      ErrorCase{"internal.json", 500, ErrorCode::kUpstreamUnavailable,
                                "prometheus answered 500: internal: unexpected error: "
                                "storage closed"},
                      // Cut after 250 bytes: the offset where decoding stopped is named.
                      ErrorCase{"truncated.json", 200, ErrorCode::kUpstreamMalformed,
                                "body is not valid JSON at byte offset 250 of 250"},
                      ErrorCase{"not_json_200.txt", 200, ErrorCode::kUpstreamMalformed,
                                "body is not valid JSON at byte offset 0"},
                      // A proxy's error page: the HTTP status decides, the page is quoted.
                      ErrorCase{"not_json_502.html", 502, ErrorCode::kUpstreamUnavailable,
                                "prometheus answered 502: <html> <head><title>502 Bad "
                                "Gateway</title>"},
                      ErrorCase{"not_json_502.html", 403, ErrorCode::kUpstreamRejected,
                                "prometheus answered 403: <html>"},
                      ErrorCase{"vector_result.json", 200, ErrorCode::kUpstreamMalformed,
                                "data.resultType is \"vector\", want \"matrix\""},
                      ErrorCase{"bad_value.json", 200, ErrorCode::kUpstreamMalformed,
                                "data.result[0].values[0]: value \"abc\" is not a number"}),
    [](const ::testing::TestParamInfo<ErrorCase>& param_info) {
      std::string name = param_info.param.file;
      name = name.substr(0, name.find('.')) + "_" + std::to_string(param_info.param.http_status);
      std::string out;
      bool upper = true;
      for (char ch : name) {
        if (ch == '_') {
          upper = true;
          continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
        upper = false;
      }
      return out;
    });

TEST(DecodeQueryRangeTest, DecodesNaNAndInfinitiesAsDoubles) {
  auto series = DecodeQueryRangeResponse(ReadTestdata("matrix_nan_inf.json"), 200);
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 2u);
  EXPECT_EQ(LabelsToString((*series)[0].labels), R"({__name__="demo_requests", instance="a:80", job="api"})");
  EXPECT_THAT((*series)[0].samples, ElementsAre(Sample{1700000000000, 1.5}, Sample{1700000060000, 2.5},
                                                Sample{1700000120000, 3.5}));
  const auto& b = (*series)[1].samples;
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(LabelValue((*series)[1].labels, "instance"), "b:80");
  EXPECT_TRUE(std::isnan(b[0].value));
  EXPECT_EQ(b[1].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(b[2].value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(b[2].timestamp_ms, 1700000120000);
}

TEST(DecodeQueryRangeTest, SortsSeriesAndLabelsAndKeepsWarnings) {
  auto response = DecodeQueryRange(ReadTestdata("matrix_several_series.json"), 200);
  ASSERT_THAT(response, IsOk());
  ASSERT_EQ(response->series.size(), 3u);
  EXPECT_EQ(LabelsToString(response->series[0].labels), R"({__name__="up", instance="a:8080", job="api"})");
  EXPECT_EQ(LabelsToString(response->series[1].labels), R"({__name__="up", instance="b:8080", job="api"})");
  EXPECT_EQ(LabelsToString(response->series[2].labels), R"({__name__="up", instance="z:9187", job="db"})");
  EXPECT_THAT(
      response->series[1].samples,
      ElementsAre(Sample{1700000000000, 1e-3}, Sample{1700000030000, -225}, Sample{1700000060000, 0}));
  // Fractional seconds become exact milliseconds.
  EXPECT_THAT(response->series[2].samples, ElementsAre(Sample{1700000000500, 1}, Sample{1700000030500, 0}));
  EXPECT_THAT(response->warnings, ElementsAre("partial response: store 10.0.0.7:10901 unreachable"));
}

TEST(DecodeQueryRangeTest, EmptyResultIsNoSeries) {
  auto response = DecodeQueryRange(ReadTestdata("empty_result.json"), 200);
  ASSERT_THAT(response, IsOk());
  EXPECT_THAT(response->series, IsEmpty());
  EXPECT_THAT(response->warnings, IsEmpty());
}

TEST(DecodeQueryRangeTest, RejectsWrongShapes) {
  EXPECT_THAT(DecodeQueryRangeResponse(R"({"status":"success"})", 200),
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("\"data\" is missing")));
  EXPECT_THAT(DecodeQueryRangeResponse(R"([1,2])", 200),
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("not a JSON object")));
  EXPECT_THAT(DecodeQueryRangeResponse(R"({"status":"pending"})", 200),
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("\"status\" is \"pending\"")));
  EXPECT_THAT(
      DecodeQueryRangeResponse(
          R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,2]]}]}})", 200),
      ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("data.result[0].values[0] is not [<unix seconds>, "
                                                       "\"<value>\"]")));
  EXPECT_THAT(
      DecodeQueryRangeResponse(
          R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":1}}]}})", 200),
      ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("data.result[0].metric.a is not a string")));
  EXPECT_THAT(DecodeQueryRangeResponse("", 200),
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("byte offset 0 of 0")));
}

TEST(DecodeQueryRangeTest, UnknownErrorTypeFallsBackToHttpStatus) {
  EXPECT_THAT(DecodeQueryRangeResponse(R"({"status":"error","errorType":"weird","error":"x"})", 503),
              ErrorIs(ErrorCode::kUpstreamUnavailable, "prometheus answered 503: weird: x"));
  EXPECT_THAT(DecodeQueryRangeResponse(R"({"status":"error","errorType":"weird","error":"x"})", 400),
              ErrorIs(ErrorCode::kUpstreamRejected, "prometheus answered 400: weird: x"));
  EXPECT_THAT(DecodeQueryRangeResponse("too many requests", 429),
              ErrorIs(ErrorCode::kUpstreamUnavailable, "prometheus answered 429: too many requests"));
  // A success envelope with an error status is still an error: the status line
  // wins.
  EXPECT_THAT(DecodeQueryRangeResponse(ReadTestdata("empty_result.json"), 503),
              ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("prometheus answered 503")));
}

TEST(DecodeQueryRangeTest, AcceptsPlusSignAndRejectsTrailingGarbage) {
  auto ok = DecodeQueryRangeResponse(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"+4"],[2,"-0"]]}]}})",
      200);
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT((*ok)[0].samples, ElementsAre(Sample{1000, 4}, Sample{2000, 0}));
  EXPECT_THAT(
      DecodeQueryRangeResponse(
          R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"4x"]]}]}})",
          200),
      ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("value \"4x\" is not a number")));
}

// Prometheus writes status, data, resultType, result, metric, values in that
// order and no whitespace; other servers and proxies need not.
TEST(DecodeQueryRangeTest, TakesAnyFieldOrderWhitespaceAndUnknownFields) {
  auto response = DecodeQueryRange(R"( {
    "data" : { "result" : [ { "values" : [ [ 2 , "2.5" ] , [ 1.5 , "1" ] ] , "histograms" : [ [ 3 , {"count":"1"} ] ],
                              "metric" : { "job" : "b" } },
                            { "metric" : { "job" : "a" } } ],
               "resultType" : "matrix" },
    "stats" : { "timings" : { "evalTotalTime" : 0.01 } },
    "warnings" : [ 7 , "w" ], "infos" : [ "i" ],
    "status" : "success" } )",
                                   200);
  ASSERT_THAT(response, IsOk());
  ASSERT_EQ(response->series.size(), 2u);
  EXPECT_EQ(LabelsToString(response->series[0].labels), R"({job="a"})");
  EXPECT_THAT(response->series[0].samples, IsEmpty());
  EXPECT_THAT(response->series[1].samples, ElementsAre(Sample{1500, 1}, Sample{2000, 2.5}));
  EXPECT_THAT(response->warnings, ElementsAre("w"));
}

TEST(DecodeQueryRangeTest, UnescapesLabelsAndValues) {
  auto series = DecodeQueryRangeResponse(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"p\u0061th":"C:\\x \"y\" \u00e9"},"values":[[1,"\u0031.5"]]}]}})",
      200);
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ(LabelValue((*series)[0].labels, "path"), "C:\\x \"y\" \u00e9");
  EXPECT_THAT((*series)[0].samples, ElementsAre(Sample{1000, 1.5}));
}

// As the JSON DOM has it: the last of duplicate keys wins.
TEST(DecodeQueryRangeTest, DuplicateKeysKeepTheLast) {
  auto series = DecodeQueryRangeResponse(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1","a":"2"},"values":[[1,"1"]],"values":[[2,"2"]]}]}})",
      200);
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ(LabelsToString((*series)[0].labels), R"({a="2"})");
  EXPECT_THAT((*series)[0].samples, ElementsAre(Sample{2000, 2}));
}

TEST(DecodeQueryRangeTest, SortsSamplesAndKeepsTheFirstOfEqualTimestamps) {
  auto series = DecodeQueryRangeResponse(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[3,"3"],[1,"1"],[3,"4"],[2,"2"]]}]}})",
      200);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT((*series)[0].samples, ElementsAre(Sample{1000, 1}, Sample{2000, 2}, Sample{3000, 3}));
}

TEST(DecodeQueryRangeTest, RejectsWhatFollowsTheObjectAndAnErrorEnvelopeWith200) {
  std::string body = ReadTestdata("empty_result.json");
  while (!body.empty() && body.back() != '}') body.pop_back();
  EXPECT_THAT(DecodeQueryRangeResponse(body + " {}", 200),
              ErrorIs(ErrorCode::kUpstreamMalformed,
                      HasSubstr("body is not valid JSON at byte offset " + std::to_string(body.size() + 1) +
                                " of " + std::to_string(body.size() + 3))));
  EXPECT_THAT(DecodeQueryRangeResponse(R"({"status":"error","errorType":"bad_data","error":"x"})", 200),
              ErrorIs(ErrorCode::kUpstreamRejected, "prometheus answered 200: bad_data: x"));
  EXPECT_THAT(
      DecodeQueryRangeResponse(
          R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1e300,"1"]]}]}})",
          200),
      ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("data.result[0].values[0]: timestamp out of range")));
}

// Found by tests/fuzz/fuzz_query_range_decoder (issue 8): nlohmann throws out_of_range, not parse_error,
// for a number beyond a double's range, and that exception escaped the decoder.
TEST(DecodeQueryRangeTest, Issue8NumberBeyondDoubleRangeIsMalformedNotAnException) {
  const std::string digits(320, '4');
  for (const std::string& number : {std::string("1e400"), std::string("-1e400"), digits}) {
    const std::string in_unread_field =
        R"({"status":"success","stats":)" + number + R"(,"data":{"resultType":"matrix","result":[]}})";
    const std::string as_timestamp =
        R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[)" + number + R"(,"1"]]}]}})";
    for (const std::string& body : {in_unread_field, as_timestamp}) {
      EXPECT_THAT(DecodeQueryRangeResponse(body, 200),
                  ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("prometheus answered 200: body is not valid JSON")))
          << body;
      EXPECT_THAT(DecodeQueryRangeResponse(body, 503),
                  ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("prometheus answered 503: ")))
          << body;
    }
  }
}

// Found by tests/fuzz/fuzz_query_range_decoder (issue 8): simdjson's fast path checked only the structure
// of the fields it skips, so it accepted bodies the JSON DOM refuses as not JSON.
TEST(DecodeQueryRangeTest, Issue8InvalidJsonInAFieldNotReadIsMalformed) {
  const std::string series = R"({"metric":{"job":"a"},"values":[[1,"1"]])";
  for (const std::string& body : std::vector<std::string>{
           R"({"status":"success","stats":tru,"data":{"resultType":"matrix","result":[]}})",
           R"({"status":"success","stats":{"x":01},"data":{"resultType":"matrix","result":[]}})",
           R"({"status":"success","warnings":nul,"data":{"resultType":"matrix","result":[]}})",
           R"({"status":"success","warnings":[-,"w"],"data":{"resultType":"matrix","result":[]}})",
           R"({"status":"success","data":{"resultType":"matrix","x":[+1],"result":[]}})",
           R"({"status":"success","data":{"resultType":"matrix","result":[)" + series + R"(,"histograms":[fals]}]}})",
       }) {
    EXPECT_THAT(DecodeQueryRangeResponse(body, 200),
                ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("body is not valid JSON at byte offset")))
        << body;
  }
}

// The transport's body is parsed where it lies when its capacity holds the
// parser's padding, and copied when not: the answers are the same.
TEST(DecodeQueryRangeInPlaceTest, SameAnswerWithAndWithoutSpareCapacity) {
  const std::string text = ReadTestdata("matrix_several_series.json");
  std::string padded;
  padded.reserve(text.size() + kBodyPadding);
  padded = text;
  std::string tight = text;
  tight.shrink_to_fit();
  for (const std::string* body : {&padded, &tight}) {
    auto response = DecodeQueryRangeInPlace(*body, 200);
    ASSERT_THAT(response, IsOk());
    ASSERT_EQ(response->series.size(), 3u);
    EXPECT_EQ(LabelsToString(response->series[2].labels), R"({__name__="up", instance="z:9187", job="db"})");
    EXPECT_THAT(response->series[2].samples, ElementsAre(Sample{1700000000500, 1}, Sample{1700000030500, 0}));
    EXPECT_THAT(response->warnings, ElementsAre("partial response: store 10.0.0.7:10901 unreachable"));
  }
  EXPECT_THAT(DecodeQueryRangeInPlace(ReadTestdata("truncated.json"), 200),
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("byte offset 250 of 250")));
}

// ---- QueryRangeStreamDecoder: the same answers, fed piece by piece.

// What a stream decoder made of a body: the series (sorted, as DecodeQueryRange returns them) and
// warnings, or the error.
struct Streamed {
  Result<QueryRangeResponse> result;
  size_t handed_before_finish = 0;
};

// Feeds `body` in pieces of the sizes `split` returns, in turn.
Streamed StreamDecode(std::string_view body, long status, const std::function<size_t()>& split) {
  QueryRangeResponse out;
  QueryRangeStreamDecoder decoder(status, [&](SeriesSamples&& s) { out.series.push_back(std::move(s)); });
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = std::min(std::max<size_t>(split(), 1), body.size() - at);
    decoder.Feed(body.substr(at, n));
    at += n;
  }
  Streamed streamed{QueryRangeResponse{}, out.series.size()};
  Result<std::vector<std::string>> warnings = decoder.Finish();
  if (!warnings) {
    streamed.result = tl::unexpected(warnings.error());
    return streamed;
  }
  out.warnings = std::move(*warnings);
  std::stable_sort(out.series.begin(), out.series.end(),
                   [](const SeriesSamples& a, const SeriesSamples& b) { return a.labels < b.labels; });
  streamed.result = std::move(out);
  return streamed;
}

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// "" when equal, else what differs.
std::string Difference(const Result<QueryRangeResponse>& a, const Result<QueryRangeResponse>& b,
                       bool messages) {
  if (a.has_value() != b.has_value()) {
    return a ? "ok vs error: " + b.error().message : "error vs ok: " + a.error().message;
  }
  if (!a) {
    if (a.error().code != b.error().code)
      return "codes differ: " + a.error().message + " | " + b.error().message;
    if (messages && a.error().message != b.error().message) {
      return "messages differ: " + a.error().message + " | " + b.error().message;
    }
    return "";
  }
  if (a->warnings != b->warnings) return "warnings differ";
  if (a->series.size() != b->series.size()) {
    return "series counts differ: " + std::to_string(a->series.size()) + " vs " +
           std::to_string(b->series.size());
  }
  for (size_t i = 0; i < a->series.size(); ++i) {
    const SeriesSamples& x = a->series[i];
    const SeriesSamples& y = b->series[i];
    if (x.labels != y.labels || x.samples.size() != y.samples.size())
      return "series " + std::to_string(i) + " differs";
    for (size_t j = 0; j < x.samples.size(); ++j) {
      if (x.samples[j].timestamp_ms != y.samples[j].timestamp_ms ||
          !SameValue(x.samples[j].value, y.samples[j].value)) {
        return "series " + std::to_string(i) + " sample " + std::to_string(j) + " differs";
      }
    }
  }
  return "";
}

// A body in the shapes servers send: field orders, whitespace, unknown fields, escapes, NaN and the
// infinities, warnings, an empty result, a series without values.
std::string RandomBody(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::string ws = pick(3) == 0 ? " \n\t " : "";
  std::string result = "[" + ws;
  const int series = pick(6);
  for (int i = 0; i < series; ++i) {
    if (i > 0) result += "," + ws;
    std::string metric = "{\"job\":\"j" + std::to_string(pick(4)) + "\",\"i\":\"" + std::to_string(i) + "\"";
    if (pick(4) == 0) metric += ",\"esc\":\"a\\\"b\\u00e9\\\\\"";
    metric += "}";
    std::string values = "[";
    const int n = pick(8);
    for (int k = 0; k < n; ++k) {
      if (k > 0) values += ",";
      static const char* kValues[] = {"1", "-2.5e3", "NaN", "+Inf", "-Inf", "0.001", "+4", "1\\u0030"};
      values += "[" + std::to_string(1700000000 + 60 * (pick(3) == 0 ? n - k : k)) +
                (pick(3) == 0 ? ".5" : "") + "," + ws + "\"" + kValues[pick(8)] + "\"]";
    }
    values += "]";
    std::string item = "{" + ws;
    const int order = pick(3);
    if (order == 0) item += "\"metric\":" + metric + ",\"values\":" + values;
    if (order == 1)
      item += "\"values\":" + values + "," + ws + "\"metric\":" + metric +
              ",\"histograms\":[[1,{\"count\":\"1\"}]]";
    if (order == 2) item += "\"metric\":" + metric;  // native histograms only
    result += item + ws + "}";
  }
  result += ws + "]";
  std::string data = pick(2) == 0
                         ? "{\"resultType\":\"matrix\",\"result\":" + result + "}"
                         : "{" + ws + "\"result\"" + ws + ":" + ws + result + ",\"resultType\":\"matrix\"}";
  std::string body = "{";
  if (pick(2) == 0) {
    body += "\"status\":\"success\"," + ws + "\"data\":" + data;
  } else {
    body += "\"data\":" + data + ",\"status\":\"success\"";
  }
  if (pick(3) == 0) body += ",\"warnings\":[\"w1\",2,\"w2\"]";
  if (pick(3) == 0) body += ",\"stats\":{\"x\":[true,false,null,-1.5e-3,{}]}";
  return ws + body + "}" + ws;
}

std::vector<std::pair<std::string, long>> StreamCorpus() {
  std::vector<std::pair<std::string, long>> corpus;
  for (const char* file : {"bad_data_parse_error.json", "bad_data_resolution.json", "bad_value.json",
                           "empty_result.json", "execution_too_many_samples.json", "internal.json",
                           "matrix_nan_inf.json", "matrix_several_series.json", "not_json_200.txt",
                           "not_json_502.html", "timeout.json", "truncated.json", "vector_result.json"}) {
    const std::string body = ReadTestdata(file);
    for (long status : {200L, 400L, 503L}) corpus.emplace_back(body, status);
  }
  for (const char* body :
       {"", "{}", "[]", "5", "\"x\"", "{\"status\":\"success\"}", "{\"status\":\"success\",\"data\":5}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[1,{}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{},]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{}{}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{}]}} x",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"res\\u0075lt\":[{}]}}",
        "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"slow\",\"data\":{\"resultType\":"
        "\"matrix\",\"result\":[{\"values\":5}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"values\":[[1,\"x\"]]}]}"
        "}"}) {
    corpus.emplace_back(body, 200);
  }
  std::mt19937_64 rng(20261207);
  for (int i = 0; i < 300; ++i) {
    std::string body = RandomBody(rng);
    corpus.emplace_back(body, 200);
    // Broken copies: cut short, a byte changed.
    corpus.emplace_back(body.substr(0, rng() % (body.size() + 1)), 200);
    std::string flipped = body;
    flipped[rng() % flipped.size()] = "{}[]\",:x0\\ "[rng() % 12];
    corpus.emplace_back(flipped, 200);
  }
  return corpus;
}

// The seed of the random splits is printed with a failure (STYLE.md B8).
TEST(QueryRangeStreamDecoderTest, AnySplitGivesTheWholeAnswersResult) {
  const uint64_t seed = 42;
  std::mt19937_64 rng(seed);
  const auto corpus = StreamCorpus();
  for (const auto& [body, status] : corpus) {
    const Result<QueryRangeResponse> whole = DecodeQueryRange(body, status);
    const Streamed one = StreamDecode(body, status, [] { return size_t{1} << 30; });
    EXPECT_EQ(Difference(whole, one.result, /*messages=*/false), "")
        << "status " << status << ", body: " << body;
    for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
      const Streamed split = StreamDecode(body, status, [piece] { return piece; });
      EXPECT_EQ(Difference(one.result, split.result, /*messages=*/true), "")
          << "pieces of " << piece << ", status " << status << ", body: " << body;
    }
    const Streamed random = StreamDecode(body, status, [&rng] { return static_cast<size_t>(rng() % 40); });
    EXPECT_EQ(Difference(one.result, random.result, /*messages=*/true), "")
        << "random pieces, seed " << seed << ", status " << status << ", body: " << body;
  }
}

TEST(QueryRangeStreamDecoderTest, HandsEachSeriesOverAsItsLastByteArrives) {
  const std::string body = ReadTestdata("matrix_several_series.json");
  std::vector<std::string> seen;
  QueryRangeStreamDecoder decoder(200, [&](SeriesSamples&& s) { seen.push_back(LabelsToString(s.labels)); });
  const size_t second_end = body.find("]]},", body.find("b:8080")) + 3;
  decoder.Feed(body.substr(0, second_end - 1));
  EXPECT_EQ(seen.size(), 1u);  // the first series; the second lacks its closing brace
  decoder.Feed(body.substr(second_end - 1, 1));
  EXPECT_EQ(seen.size(), 2u);
  decoder.Feed(body.substr(second_end));
  ASSERT_THAT(decoder.Finish(),
              IsOkAndHolds(ElementsAre("partial response: store 10.0.0.7:10901 unreachable")));
  // The answer's order, not sorted.
  EXPECT_THAT(seen, ElementsAre(R"({__name__="up", instance="z:9187", job="db"})",
                                R"({__name__="up", instance="b:8080", job="api"})",
                                R"({__name__="up", instance="a:8080", job="api"})"));
  EXPECT_EQ(decoder.series_emitted(), 3u);
}

TEST(QueryRangeStreamDecoderTest, AnErrorMidStreamStopsTheSeriesAndNamesItsCause) {
  const std::string body =
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"i":"0"},"values":[[1,"1"]]},)"
      R"({"metric":{"i":"1"},"values":[[1,"1"]]},{"metric":{"i":"2"},"values":[[1,"abc"]]},)"
      R"({"metric":{"i":"3"},"values":[[1,"1"]]}]}})";
  const Streamed s = StreamDecode(body, 200, [] { return size_t{5}; });
  EXPECT_EQ(s.handed_before_finish, 2u);  // none after the bad one
  EXPECT_THAT(s.result,
              ErrorIs(ErrorCode::kUpstreamMalformed,
                      "prometheus answered 200: data.result[2].values[0]: value \"abc\" is not a number"));
}

TEST(QueryRangeStreamDecoderTest, AnAnswerCutShortIsAnErrorAfterItsWholeSeries) {
  const std::string body = ReadTestdata("matrix_several_series.json");
  const std::string cut = body.substr(0, body.find("a:8080"));
  const Streamed s = StreamDecode(cut, 200, [] { return size_t{100}; });
  EXPECT_EQ(s.handed_before_finish, 2u);
  EXPECT_THAT(s.result,
              ErrorIs(ErrorCode::kUpstreamMalformed,
                      AllOf(HasSubstr("body is not valid JSON at byte offset"), HasSubstr("cut short"))));
}

TEST(QueryRangeStreamDecoderTest, BuffersAnErrorStatusAndDecodesItWhole) {
  const std::string body = ReadTestdata("timeout.json");
  const Streamed s = StreamDecode(body, 503, [] { return size_t{3}; });
  EXPECT_EQ(Difference(DecodeQueryRange(body, 503), s.result, /*messages=*/true), "");
  // A success envelope with an error status hands nothing over.
  const Streamed ok_body =
      StreamDecode(ReadTestdata("matrix_several_series.json"), 502, [] { return size_t{3}; });
  EXPECT_EQ(ok_body.handed_before_finish, 0u);
  EXPECT_THAT(ok_body.result, ErrorIs(ErrorCode::kUpstreamUnavailable, HasSubstr("prometheus answered 502")));
}

// The one deliberate difference from DecodeQueryRange (which keeps the last): the first's series may have
// been handed over already.
TEST(QueryRangeStreamDecoderTest, RefusesDataResultTwice) {
  const std::string body =
      R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"1"]]}]},)"
      R"("data":{"resultType":"matrix","result":[]}})";
  EXPECT_THAT(StreamDecode(body, 200, [] { return size_t{4}; }).result,
              ErrorIs(ErrorCode::kUpstreamMalformed, HasSubstr("data.result appears twice")));
}

}  // namespace
}  // namespace anomaly::prom
