// DecodeQueryRange: the `data` of a query_range answer,
// {"resultType":"matrix","result":[{"metric":
// {...},"values":[[<unix seconds>,"<value>"],...]}]} (prometheus
// docs/querying/api.md). Native histogram samples ("histograms", experimental
// in 2.40+) are not read.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <utility>

#include "anomaly/prom/range_query.h"
#include "api_response.h"

namespace anomaly::prom {
namespace {

using nlohmann::json;

tl::unexpected<Error> Malformed(long http_status, const std::string& what) {
  return MakeError(ErrorCode::kUpstreamMalformed,
                   "prometheus answered " + std::to_string(http_status) + ": " + what);
}

// Sample values are strings because NaN and ±Inf are not JSON numbers.
bool ParseSampleValue(const std::string& text, double* out) {
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && ptr == last && first != last;
}

Result<SeriesSamples> DecodeSeries(const json& item, size_t index, long http_status) {
  const std::string where = "data.result[" + std::to_string(index) + "]";
  if (!item.is_object()) return Malformed(http_status, where + " is not an object");
  SeriesSamples series;
  auto metric = item.find("metric");
  if (metric != item.end()) {
    if (!metric->is_object()) return Malformed(http_status, where + ".metric is not an object");
    std::vector<Label> labels;
    for (const auto& [name, value] : metric->items()) {
      if (!value.is_string()) {
        return Malformed(http_status, where + ".metric." + name + " is not a string");
      }
      labels.push_back(Label{name, value.get<std::string>()});
    }
    series.labels = MakeLabels(std::move(labels));
  }
  auto values = item.find("values");
  if (values == item.end()) return series;  // e.g. a series with only native histogram samples
  if (!values->is_array()) return Malformed(http_status, where + ".values is not an array");
  series.samples.reserve(values->size());
  for (size_t i = 0; i < values->size(); ++i) {
    const json& pair = (*values)[i];
    const std::string at = where + ".values[" + std::to_string(i) + "]";
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
      return Malformed(http_status, at + " is not [<unix seconds>, \"<value>\"]");
    }
    double seconds = pair[0].get<double>();
    if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e15) {
      return Malformed(http_status, at + ": timestamp out of range");
    }
    Sample sample{static_cast<int64_t>(std::llround(seconds * 1000.0)), 0};
    const std::string& text = pair[1].get_ref<const std::string&>();
    if (!ParseSampleValue(text, &sample.value)) {
      return Malformed(http_status, at + ": value \"" + text + "\" is not a number");
    }
    series.samples.push_back(sample);
  }
  auto by_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms < b.timestamp_ms; };
  if (!std::is_sorted(series.samples.begin(), series.samples.end(), by_time)) {
    std::stable_sort(series.samples.begin(), series.samples.end(), by_time);
  }
  auto same_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms == b.timestamp_ms; };
  series.samples.erase(std::unique(series.samples.begin(), series.samples.end(), same_time),
                       series.samples.end());
  return series;
}

}  // namespace

Result<QueryRangeResponse> DecodeQueryRange(std::string_view body, long http_status) {
  Result<ApiResponse> api = DecodeApiResponse(body, http_status);
  if (!api) return tl::unexpected(api.error());
  const json& data = api->data;
  if (!data.is_object()) return Malformed(http_status, "\"data\" is missing or not an object");
  auto result_type = data.find("resultType");
  if (result_type == data.end() || !result_type->is_string()) {
    return Malformed(http_status, "data.resultType is missing");
  }
  if (result_type->get_ref<const std::string&>() != "matrix") {
    return Malformed(http_status,
                     "data.resultType is \"" + result_type->get<std::string>() + "\", want \"matrix\"");
  }
  auto result = data.find("result");
  if (result == data.end() || !result->is_array()) {
    return Malformed(http_status, "data.result is missing or not an array");
  }
  QueryRangeResponse out;
  out.warnings = std::move(api->warnings);
  out.series.reserve(result->size());
  for (size_t i = 0; i < result->size(); ++i) {
    Result<SeriesSamples> series = DecodeSeries((*result)[i], i, http_status);
    if (!series) return tl::unexpected(series.error());
    out.series.push_back(std::move(*series));
  }
  std::sort(out.series.begin(), out.series.end(),
            [](const SeriesSamples& a, const SeriesSamples& b) { return a.labels < b.labels; });
  return out;
}

Result<std::vector<SeriesSamples>> DecodeQueryRangeResponse(std::string_view body, long http_status) {
  Result<QueryRangeResponse> r = DecodeQueryRange(body, http_status);
  if (!r) return tl::unexpected(r.error());
  return std::move(r->series);
}

}  // namespace anomaly::prom
