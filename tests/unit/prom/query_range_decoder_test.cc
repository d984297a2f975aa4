#include "exporter/prom/query_range_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
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

}  // namespace
}  // namespace anomaly::prom
