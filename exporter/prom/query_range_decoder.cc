// DecodeQueryRange: the `data` of a query_range answer,
// {"resultType":"matrix","result":[{"metric":
// {...},"values":[[<unix seconds>,"<value>"],...]}]} (prometheus
// docs/querying/api.md). Native histogram samples ("histograms", experimental
// in 2.40+) are not read.
//
// Two decoders share that contract. The fast one reads a well-formed success
// answer with simdjson's On-Demand API straight into SeriesSamples: no DOM, so
// a 44 MiB answer costs its samples plus simdjson's index of it, not ~8x its
// size. Anything else (an error envelope, a non-2xx status, a body simdjson
// rejects, a field of the wrong shape, a duplicate key) goes to the DOM
// decoder, which names the byte offset or the field exactly as it always has.
// Errors thus cost a second parse, and only errors do.
#include "query_range_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "anomaly/prom/range_query.h"
#include "api_response.h"
#include "http_transport.h"

namespace anomaly::prom {
namespace {

namespace od = simdjson::ondemand;
using nlohmann::json;

static_assert(kBodyPadding >= simdjson::SIMDJSON_PADDING,
              "HttpResponse::body's spare capacity is simdjson's padding");

tl::unexpected<Error> Malformed(long http_status, const std::string& what) {
  return MakeError(ErrorCode::kUpstreamMalformed,
                   "prometheus answered " + std::to_string(http_status) + ": " + what);
}

// Sample values are strings because NaN and ±Inf are not JSON numbers.
bool ParseSampleValue(std::string_view text, double* out) {
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

// Unix seconds to milliseconds; false when out of int64 range.
bool ToTimestampMs(double seconds, int64_t* out) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e15) return false;
  *out = static_cast<int64_t>(std::llround(seconds * 1000.0));
  return true;
}

// Ascending, the first of equal timestamps kept.
void SortAndDedupe(std::vector<Sample>* samples) {
  auto by_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms < b.timestamp_ms; };
  if (!std::is_sorted(samples->begin(), samples->end(), by_time)) {
    std::stable_sort(samples->begin(), samples->end(), by_time);
  }
  auto same_time = [](const Sample& a, const Sample& b) { return a.timestamp_ms == b.timestamp_ms; };
  samples->erase(std::unique(samples->begin(), samples->end(), same_time), samples->end());
}

void SortSeries(std::vector<SeriesSamples>* series) {
  std::sort(series->begin(), series->end(),
            [](const SeriesSamples& a, const SeriesSamples& b) { return a.labels < b.labels; });
}

// ---- The fast decoder: each function returns false to hand the body to the DOM decoder.

// The key of the next field; false on a syntax error.
bool NextField(simdjson::simdjson_result<od::field> result, od::field* field, std::string_view* key) {
  return !std::move(result).get(*field) && !field->unescaped_key().get(*key);
}

// A value the decoder does not read (an unknown field, a non-string warning), checked all the same:
// On-Demand checks only the structure of what it skips, so `"stats": tru` or `"x": 01` would pass
// here while the DOM decoder refuses the body. Recursion is bounded by simdjson's depth limit.
bool FastSkipValue(od::value value) {
  od::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case od::json_type::array:
      for (auto result : value.get_array()) {
        od::value element;
        if (std::move(result).get(element) || !FastSkipValue(element)) return false;
      }
      return true;
    case od::json_type::object:
      for (auto result : value.get_object()) {
        od::field field;
        std::string_view key;
        if (!NextField(result, &field, &key) || !FastSkipValue(field.value())) return false;
      }
      return true;
    case od::json_type::number: {
      od::number number;
      return !value.get_number().get(number);
    }
    case od::json_type::string: {
      std::string_view text;
      return !value.get_string().get(text);
    }
    case od::json_type::boolean: {
      bool b = false;
      return !value.get_bool().get(b);
    }
    case od::json_type::null: {
      bool null = false;
      return !value.is_null().get(null) && null;
    }
  }
  return false;
}

bool FastReadLabels(od::value value, Labels* labels) {
  od::object metric;
  if (value.get_object().get(metric)) return false;
  std::vector<Label> list;
  for (auto result : metric) {
    od::field field;
    std::string_view name;
    std::string_view text;
    if (!NextField(result, &field, &name) || field.value().get_string().get(text)) return false;
    list.push_back(Label{std::string(name), std::string(text)});
  }
  *labels = MakeLabels(std::move(list));
  // The DOM keeps the last of duplicate names.
  auto same_name = [](const Label& a, const Label& b) { return a.name == b.name; };
  return std::adjacent_find(labels->begin(), labels->end(), same_name) == labels->end();
}

// [<unix seconds>, "<value>"]. The value is read in place, without unescaping:
// one with a backslash goes to the DOM decoder.
bool FastReadSample(od::value value, Sample* sample) {
  od::array pair;
  if (value.get_array().get(pair)) return false;
  int index = 0;
  for (auto result : pair) {
    od::value element;
    if (std::move(result).get(element)) return false;
    if (index == 0) {
      double seconds = 0;
      if (element.get_double().get(seconds) || !ToTimestampMs(seconds, &sample->timestamp_ms)) return false;
    } else if (index == 1) {
      od::raw_json_string raw;
      if (element.get_raw_json_string().get(raw)) return false;
      // The string is closed within the padded buffer: simdjson checked that.
      const char* begin = raw.raw();
      const char* end = begin;
      while (*end != '"' && *end != '\\') ++end;
      if (*end == '\\') return false;
      if (!ParseSampleValue(std::string_view(begin, end - begin), &sample->value)) return false;
    } else {
      return false;
    }
    ++index;
  }
  return index == 2;
}

bool FastReadSeriesObject(od::object item, SeriesSamples* series) {
  bool seen_metric = false;
  bool seen_values = false;
  for (auto result : item) {
    od::field field;
    std::string_view key;
    if (!NextField(result, &field, &key)) return false;
    if (key == "metric") {
      if (std::exchange(seen_metric, true) || !FastReadLabels(field.value(), &series->labels)) return false;
    } else if (key == "values") {
      od::array values;
      size_t count = 0;
      if (std::exchange(seen_values, true) || field.value().get_array().get(values) ||
          values.count_elements().get(count)) {
        return false;
      }
      series->samples.reserve(count);
      for (auto element : values) {
        od::value pair;
        Sample sample;
        if (std::move(element).get(pair) || !FastReadSample(pair, &sample)) return false;
        series->samples.push_back(sample);
      }
    } else if (!FastSkipValue(field.value())) {
      return false;
    }
  }
  SortAndDedupe(&series->samples);
  return true;
}

bool FastReadSeries(od::value value, SeriesSamples* series) {
  od::object item;
  if (value.get_object().get(item)) return false;
  return FastReadSeriesObject(item, series);
}

bool FastReadData(od::value value, std::vector<SeriesSamples>* out) {
  od::object data;
  if (value.get_object().get(data)) return false;
  bool matrix = false;
  bool seen_type = false;
  bool seen_result = false;
  for (auto result : data) {
    od::field field;
    std::string_view key;
    if (!NextField(result, &field, &key)) return false;
    if (key == "resultType") {
      std::string_view type;
      if (std::exchange(seen_type, true) || field.value().get_string().get(type)) return false;
      matrix = type == "matrix";
    } else if (key == "result") {
      od::array items;
      size_t count = 0;
      if (std::exchange(seen_result, true) || field.value().get_array().get(items) ||
          items.count_elements().get(count)) {
        return false;
      }
      out->reserve(count);
      for (auto element : items) {
        od::value item;
        if (std::move(element).get(item)) return false;
        out->emplace_back();
        if (!FastReadSeries(item, &out->back())) return false;
      }
    } else if (!FastSkipValue(field.value())) {
      return false;
    }
  }
  return matrix && seen_result;
}

// Prometheus' `warnings`: the strings of an array; anything else is ignored.
bool FastReadWarnings(od::value value, std::vector<std::string>* out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type != od::json_type::array) return FastSkipValue(value);
  for (auto result : value.get_array()) {
    od::value element;
    std::string_view text;
    if (std::move(result).get(element) || element.type().get(type)) return false;
    if (type != od::json_type::string) {
      if (!FastSkipValue(element)) return false;
      continue;
    }
    if (element.get_string().get(text)) return false;
    out->emplace_back(text);
  }
  return true;
}

std::optional<QueryRangeResponse> FastDecode(simdjson::padded_string_view body) {
  od::parser parser;  // per call: its index of a large answer is not kept between cycles
  od::document doc;
  od::object root;
  if (parser.iterate(body).get(doc) || doc.get_object().get(root)) return std::nullopt;
  QueryRangeResponse out;
  bool success = false;
  bool seen_status = false;
  bool seen_data = false;
  bool seen_warnings = false;
  for (auto result : root) {
    od::field field;
    std::string_view key;
    if (!NextField(result, &field, &key)) return std::nullopt;
    if (key == "status") {
      std::string_view status;
      if (std::exchange(seen_status, true) || field.value().get_string().get(status)) return std::nullopt;
      success = status == "success";
    } else if (key == "data") {
      if (std::exchange(seen_data, true) || !FastReadData(field.value(), &out.series)) return std::nullopt;
    } else if (key == "warnings") {
      if (std::exchange(seen_warnings, true) || !FastReadWarnings(field.value(), &out.warnings)) {
        return std::nullopt;
      }
    } else if (!FastSkipValue(field.value())) {
      return std::nullopt;
    }
  }
  // Nothing may follow the object: current_location() is out of bounds at the end.
  if (!success || !seen_data || !doc.current_location().error()) return std::nullopt;
  SortSeries(&out.series);
  return out;
}

// ---- The DOM decoder: every answer the fast one does not take, errors above all.

Result<SeriesSamples> DomDecodeSeries(const json& item, size_t index, long http_status) {
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
    Sample sample;
    if (!ToTimestampMs(pair[0].get<double>(), &sample.timestamp_ms)) {
      return Malformed(http_status, at + ": timestamp out of range");
    }
    const std::string& text = pair[1].get_ref<const std::string&>();
    if (!ParseSampleValue(text, &sample.value)) {
      return Malformed(http_status, at + ": value \"" + text + "\" is not a number");
    }
    series.samples.push_back(sample);
  }
  SortAndDedupe(&series.samples);
  return series;
}

Result<QueryRangeResponse> DomDecode(std::string_view body, long http_status) {
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
    Result<SeriesSamples> series = DomDecodeSeries((*result)[i], i, http_status);
    if (!series) return tl::unexpected(series.error());
    out.series.push_back(std::move(*series));
  }
  SortSeries(&out.series);
  return out;
}

Result<QueryRangeResponse> Decode(simdjson::padded_string_view padded, long http_status) {
  if (http_status >= 200 && http_status < 300) {
    if (std::optional<QueryRangeResponse> fast = FastDecode(padded)) return std::move(*fast);
  }
  return DomDecode(std::string_view(padded.data(), padded.length()), http_status);
}

}  // namespace

// ---- The stream decoder: a scanner of the JSON's structure that cuts data.result into its elements, each
// decoded alone by the functions above; the envelope around them is kept as text (the "skeleton", with
// data.result left as []) and decoded by DecodeQueryRange at the end, so that status, errorType,
// resultType, warnings and the syntax of everything outside the elements are judged by the same code.

struct QueryRangeStreamDecoder::State {
  // What the envelope's scanner expects next, outside strings and bare scalars.
  enum class Expect : uint8_t { kValue, kKeyOrEnd, kKey, kColon, kCommaOrEnd, kValueOrEnd, kDone };
  struct Frame {
    bool object = false;
    bool streamed = false;  // data.result: its elements go to the sink, not to the skeleton
    std::string key;        // the current key, at depths 1 and 2 only (root, data)
  };

  State(long status, Sink s)
      : http_status(status), sink(std::move(s)), buffered(status < 200 || status >= 300) {}

  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static bool IsDelimiter(char c) {
    return IsSpace(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"';
  }

  void Fail(uint64_t at, const std::string& what) {
    if (syntax_error) return;
    syntax_error =
        Malformed(http_status, "body is not valid JSON at byte offset " + std::to_string(at) + ": " + what)
            .value();
  }

  void AfterValue() { expect = stack.empty() ? Expect::kDone : Expect::kCommaOrEnd; }

  // One byte outside elements. True when an element of data.result starts at it: the byte is not consumed
  // and goes to ElementRun.
  bool EnvelopeByte(char c, uint64_t at) {
    if (in_string) {
      skeleton.push_back(c);
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
        if (string_is_key) {
          stack.back().key = std::move(key);
          key.clear();
          expect = Expect::kColon;
        } else {
          AfterValue();
        }
        return false;
      }
      if (string_is_key && stack.size() <= 2 && key.size() < 16) key.push_back(c);
      return false;
    }
    if (in_scalar) {
      if (!IsDelimiter(c)) {
        skeleton.push_back(c);
        return false;
      }
      in_scalar = false;
      AfterValue();
    }
    if (IsSpace(c)) {
      skeleton.push_back(c);
      return false;
    }
    switch (expect) {
      case Expect::kDone:
        Fail(at, "content after the answer's JSON");
        return false;
      case Expect::kKeyOrEnd:
        if (c == '}') return Close(c), false;
        [[fallthrough]];
      case Expect::kKey:
        if (c != '"') return Fail(at, "want a key"), false;
        skeleton.push_back(c);
        in_string = true;
        string_is_key = true;
        key.clear();
        return false;
      case Expect::kColon:
        if (c != ':') return Fail(at, "want ':'"), false;
        skeleton.push_back(c);
        expect = Expect::kValue;
        return false;
      case Expect::kCommaOrEnd:
        if (c == ',') {
          if (!stack.back().streamed) skeleton.push_back(c);
          expect = stack.back().object ? Expect::kKey : Expect::kValue;
          return false;
        }
        if (c != (stack.back().object ? '}' : ']')) return Fail(at, "want ',' or the container's end"), false;
        Close(c);
        return false;
      case Expect::kValueOrEnd:
        if (c == ']') return Close(c), false;
        [[fallthrough]];
      case Expect::kValue:
        return StartValue(c, at);
    }
    return false;
  }

  void Close(char c) {
    skeleton.push_back(c);
    stack.pop_back();
    AfterValue();
  }

  bool StartValue(char c, uint64_t at) {
    if (c == '}' || c == ']' || c == ':' || c == ',') {
      Fail(at, std::string("unexpected '") + c + "'");
      return false;
    }
    if (!stack.empty() && stack.back().streamed) {
      in_element = true;
      element_depth = 0;
      element_scalar = c != '{' && c != '[' && c != '"';
      element.clear();
      return true;
    }
    skeleton.push_back(c);
    if (c == '{' || c == '[') {
      const bool result = c == '[' && stack.size() == 2 && stack[0].object && stack[0].key == "data" &&
                          stack[1].object && stack[1].key == "result";
      if (result && std::exchange(streamed_once, true)) {
        Fail(at, "data.result appears twice");
        return false;
      }
      stack.push_back(Frame{.object = c == '{', .streamed = result, .key = {}});
      expect = c == '{' ? Expect::kKeyOrEnd : Expect::kValueOrEnd;
    } else if (c == '"') {
      in_string = true;
      string_is_key = false;
    } else {
      in_scalar = true;
    }
    return false;
  }

  // Bytes of the element in progress from piece[i] on; returns the index after the last one it took.
  size_t ElementRun(std::string_view piece, size_t i) {
    const size_t n = piece.size();
    const size_t start = i;
    auto end_at = [&](size_t end) {
      element.append(piece.data() + start, end - start);
      in_element = false;
      expect = Expect::kCommaOrEnd;
      DecodeElement();
      return end;
    };
    while (i < n) {
      const char c = piece[i];
      if (element_in_string) {
        if (element_escape) {
          element_escape = false;
          ++i;
          continue;
        }
        while (i < n && piece[i] != '"' && piece[i] != '\\') ++i;
        if (i == n) break;
        if (piece[i] == '\\') {
          element_escape = true;
          ++i;
          continue;
        }
        element_in_string = false;
        ++i;
        if (element_depth == 0) return end_at(i);
        continue;
      }
      if (element_scalar) {
        if (IsDelimiter(c)) return end_at(i);  // the delimiter is the envelope's
        ++i;
        continue;
      }
      if (c == '"') {
        element_in_string = true;
      } else if (c == '{' || c == '[') {
        ++element_depth;
      } else if (c == '}' || c == ']') {
        if (--element_depth == 0) return end_at(i + 1);
      }
      ++i;
    }
    element.append(piece.data() + start, n - start);
    return n;
  }

  void DecodeElement() {
    const size_t index = element_index++;
    if (element_syntax_error || element_shape_error) return;  // no series after the first bad one
    SeriesSamples series;
    if (element.capacity() - element.size() < simdjson::SIMDJSON_PADDING) {
      element.reserve(element.size() + simdjson::SIMDJSON_PADDING);
    }
    od::document doc;
    od::object item;
    bool fast = !parser.iterate(simdjson::padded_string_view(element)).get(doc) &&
                !doc.get_object().get(item) && FastReadSeriesObject(item, &series) &&
                doc.current_location().error();
    if (!fast) {
      series = SeriesSamples{};
      const json parsed = json::parse(element, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        element_syntax_error =
            Malformed(http_status, "data.result[" + std::to_string(index) + "] is not valid JSON").value();
        return;
      }
      Result<SeriesSamples> dom = DomDecodeSeries(parsed, index, http_status);
      if (!dom) {
        element_shape_error = dom.error();
        return;
      }
      series = std::move(*dom);
    }
    // A series far larger than the rest (a long range) does not keep its buffer for the rest.
    if (element.capacity() > (size_t{1} << 22)) element = std::string();
    ++emitted;
    sink(std::move(series));
  }

  void Feed(std::string_view piece) {
    if (buffered) {
      buffer.append(piece);
      return;
    }
    size_t i = 0;
    const size_t n = piece.size();
    while (i < n && !syntax_error) {
      if (in_element) {
        i = ElementRun(piece, i);
        continue;
      }
      if (EnvelopeByte(piece[i], offset + i)) continue;
      ++i;
    }
    offset += n;
  }

  Result<std::vector<std::string>> Finish() {
    if (buffered) {
      Result<QueryRangeResponse> whole = DecodeQueryRange(buffer, http_status);
      if (!whole) return tl::unexpected(whole.error());
      for (SeriesSamples& s : whole->series) {
        ++emitted;
        sink(std::move(s));
      }
      return std::move(whole->warnings);
    }
    if (syntax_error) return tl::unexpected(*syntax_error);
    if (in_scalar && !in_element) {
      in_scalar = false;
      AfterValue();
    }
    if (in_element || in_string || expect != Expect::kDone) {
      return Malformed(http_status, "body is not valid JSON at byte offset " + std::to_string(offset) +
                                        " of " + std::to_string(offset) + ": the answer is cut short");
    }
    if (element_syntax_error) return tl::unexpected(*element_syntax_error);
    Result<QueryRangeResponse> envelope = DecodeQueryRange(skeleton, http_status);
    if (!envelope) return tl::unexpected(envelope.error());
    if (element_shape_error) return tl::unexpected(*element_shape_error);
    // Series the scanner did not see as data.result's (its key written with escapes) were in the skeleton.
    for (SeriesSamples& s : envelope->series) {
      ++emitted;
      sink(std::move(s));
    }
    return std::move(envelope->warnings);
  }

  const long http_status;
  const Sink sink;
  const bool buffered;  // a non-2xx answer: kept whole in `buffer`, decoded at Finish
  std::string buffer;

  // The envelope's scanner.
  std::vector<Frame> stack;
  Expect expect = Expect::kValue;
  bool in_string = false;
  bool escape = false;
  bool string_is_key = false;
  bool in_scalar = false;
  std::string key;
  std::string skeleton;
  bool streamed_once = false;
  uint64_t offset = 0;  // bytes fed before the current piece
  std::optional<Error> syntax_error;

  // The element of data.result in progress.
  bool in_element = false;
  bool element_scalar = false;
  bool element_in_string = false;
  bool element_escape = false;
  int element_depth = 0;
  std::string element;
  size_t element_index = 0;
  std::optional<Error> element_syntax_error;
  std::optional<Error> element_shape_error;
  od::parser parser;  // reused: its buffers fit one element
  size_t emitted = 0;
};

QueryRangeStreamDecoder::QueryRangeStreamDecoder(long http_status, Sink sink)
    : state_(std::make_unique<State>(http_status, std::move(sink))) {}

QueryRangeStreamDecoder::~QueryRangeStreamDecoder() = default;

void QueryRangeStreamDecoder::Feed(std::string_view piece) { state_->Feed(piece); }

Result<std::vector<std::string>> QueryRangeStreamDecoder::Finish() { return state_->Finish(); }

size_t QueryRangeStreamDecoder::series_emitted() const { return state_->emitted; }

Result<QueryRangeResponse> DecodeQueryRange(std::string_view body, long http_status) {
  const simdjson::padded_string padded(body);
  return Decode(padded, http_status);
}

Result<QueryRangeResponse> DecodeQueryRangeInPlace(const std::string& body, long http_status) {
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING) return DecodeQueryRange(body, http_status);
  return Decode(simdjson::padded_string_view(body), http_status);
}

Result<std::vector<SeriesSamples>> DecodeQueryRangeResponse(std::string_view body, long http_status) {
  Result<QueryRangeResponse> r = DecodeQueryRange(body, http_status);
  if (!r) return tl::unexpected(r.error());
  return std::move(r->series);
}

}  // namespace anomaly::prom
