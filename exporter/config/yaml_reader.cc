#include "exporter/config/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <yaml-cpp/eventhandler.h>

namespace anomaly::config {
namespace {

// A scalar written without quotes: yaml-cpp tags those "?" and quoted or block scalars "!".
bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "got \"x\"", or for a quoted scalar that would otherwise be right, a hint to drop the quotes.
std::string Got(const YAML::Node& node) {
  return IsPlainScalar(node) ? "got " + Quote(node.Scalar())
                             : "got the quoted string " + Quote(node.Scalar()) + " (write it without quotes)";
}

// Reports a null or non-scalar value; returns the scalar otherwise.
std::optional<std::string> ScalarOf(const Value& v, std::string_view expected, Diagnostics& diag) {
  if (v.node.IsScalar()) return v.node.Scalar();
  if (!v.node.IsDefined() || v.node.IsNull()) {
    diag.AddError(v.mark, v.path, "missing value: expected " + std::string(expected));
  } else {
    diag.AddError(v.mark, v.path,
                  "expected " + std::string(expected) + ", got " + std::string(KindName(v.node)));
  }
  return std::nullopt;
}

}  // namespace

void Diagnostics::Add(std::vector<Entry>& into, const YAML::Mark& mark, std::string_view path,
                      std::string_view message) const {
  std::string text = filename_;
  if (!mark.is_null() && mark.line >= 0) text += ":" + std::to_string(mark.line + 1);
  text += ": ";
  // A key or value quoted from the YAML may hold a line break; written as \n or \r it keeps the
  // promise of one error per line.
  auto append_one_line = [&text](std::string_view s) {
    for (char c : s) {
      if (c == '\n') {
        text += "\\n";
      } else if (c == '\r') {
        text += "\\r";
      } else {
        text += c;
      }
    }
  };
  if (!path.empty()) {
    append_one_line(path);
    text += ": ";
  }
  append_one_line(message);
  into.push_back(Entry{mark.is_null() ? -1 : mark.line, std::move(text)});
}

void Diagnostics::AddError(const YAML::Mark& mark, std::string_view path, std::string_view message) {
  Add(errors_, mark, path, message);
}

void Diagnostics::AddWarning(const YAML::Mark& mark, std::string_view path, std::string_view message) {
  Add(warnings_, mark, path, message);
}

std::vector<std::string> Diagnostics::SortedUnique(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (Entry& e : entries) {
    if (seen.insert(e.text).second) out.push_back(std::move(e.text));
  }
  return out;
}

std::string Diagnostics::ErrorText() const {
  std::string out;
  for (const std::string& line : SortedUnique(errors_)) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::vector<std::string> Diagnostics::Warnings() const { return SortedUnique(warnings_); }

Value Item(const Value& seq, size_t index) {
  YAML::Node item = seq.node[index];
  return Value{item, seq.path + "[" + std::to_string(index) + "]", item.Mark()};
}

void MapView::AddLayer(const Value& v) { layers_.push_back(v); }

void MapView::CheckKeys(std::initializer_list<std::string_view> allowed, Diagnostics& diag) const {
  if (layers_.empty()) return;
  const Value& own = layers_.front();
  if (own.node.IsNull()) return;
  if (!own.node.IsMap()) {
    diag.AddError(own.mark, own.path, "expected a mapping, got " + std::string(KindName(own.node)));
    return;
  }
  std::set<std::string> seen;
  for (const auto& entry : own.node) {
    const YAML::Node& key = entry.first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string("<") + std::string(KindName(key)) + ">";
    std::string path = own.path.empty() ? name : own.path + "." + name;
    if (!seen.insert(name).second) {
      diag.AddError(key.Mark(), path, "duplicate key");
    } else if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string known;
      for (std::string_view a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      diag.AddError(key.Mark(), path, "unknown key (known keys here: " + known + ")");
    }
  }
}

std::optional<Value> MapView::Find(std::string_view key) const {
  for (const Value& layer : layers_) {
    if (!layer.node.IsMap()) continue;
    for (const auto& entry : layer.node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) {
        std::string path = layer.path.empty() ? std::string(key) : layer.path + "." + std::string(key);
        return Value{entry.second, std::move(path), entry.first.Mark()};
      }
    }
  }
  return std::nullopt;
}

MapView MapView::Child(std::string_view key) const {
  MapView child;
  for (const Value& layer : layers_) {
    MapView one(layer);
    if (std::optional<Value> v = one.Find(key)) child.AddLayer(*v);
  }
  return child;
}

std::string MapView::PathOf(std::string_view key) const {
  if (layers_.empty() || layers_.front().path.empty()) return std::string(key);
  return layers_.front().path + "." + std::string(key);
}

YAML::Mark MapView::mark() const { return layers_.empty() ? YAML::Mark::null_mark() : layers_.front().mark; }

std::string_view KindName(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  return "a scalar";
}

namespace {

// YAML text is Unicode and excludes most control characters (YAML 1.2, 5.1); yaml-cpp reads such bytes
// anyway but cannot write them back, so a config holding them would not survive RenderConfig (found by
// fuzzing). Tab, line feed and carriage return are allowed (multi-line PromQL).
std::string_view StringProblem(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return "holds a control character";
      ++i;
      continue;
    }
    const int extra = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return "is not valid UTF-8";
    uint32_t cp = c & (extra == 1 ? 0x1f : extra == 2 ? 0x0f : 0x07);
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((b & 0xc0) != 0x80) return "is not valid UTF-8";
      cp = (cp << 6) | (b & 0x3f);
    }
    const uint32_t min = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "is not valid UTF-8";
    if (cp >= 0x80 && cp <= 0x9f) return "holds a control character";
    i += static_cast<size_t>(extra) + 1;
  }
  return {};
}

// YAML reads every line break in a scalar's content as one line feed (YAML 1.2, 5.4), but yaml-cpp 0.7
// keeps a carriage return that is not followed by a line feed, and its emitter then writes it raw, where
// the next read takes it for a line break: such a value did not survive RenderConfig (found by
// fuzzing). CR LF and a lone CR become LF, as the spec has it; PromQL reads either as whitespace. An
// escaped \r in a double-quoted value becomes LF too: yaml-cpp's result no longer tells them apart.
void NormalizeLineBreaks(std::string& s) {
  if (s.find('\r') == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r') {
      out += s[i];
      continue;
    }
    out += '\n';
    if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
  }
  s = std::move(out);
}

}  // namespace

std::optional<std::string> ReadString(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ScalarOf(v, "a string", diag);
  if (!s) return s;
  if (std::string_view problem = StringProblem(*s); !problem.empty()) {
    diag.AddError(v.mark, v.path, "the value " + std::string(problem));
    return std::nullopt;
  }
  NormalizeLineBreaks(*s);
  return s;
}

std::optional<bool> ReadBool(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ScalarOf(v, "true or false", diag);
  if (!s) return std::nullopt;
  if (IsPlainScalar(v.node)) {
    if (*s == "true" || *s == "True" || *s == "TRUE") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  }
  diag.AddError(v.mark, v.path, "expected true or false, " + Got(v.node));
  return std::nullopt;
}

std::optional<int> ReadInt(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ScalarOf(v, "an integer", diag);
  if (!s) return std::nullopt;
  int64_t n = 0;
  const char* first = s->data();
  const char* last = s->data() + s->size();
  if (first != last && *first == '+') ++first;
  auto [end, ec] = std::from_chars(first, last, n);
  if (!IsPlainScalar(v.node) || ec != std::errc() || end != last) {
    diag.AddError(v.mark, v.path, "expected an integer, " + Got(v.node));
    return std::nullopt;
  }
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
    diag.AddError(v.mark, v.path, "integer " + *s + " is out of range");
    return std::nullopt;
  }
  return static_cast<int>(n);
}

std::optional<double> ReadDouble(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ScalarOf(v, "a number", diag);
  if (!s) return std::nullopt;
  double d = 0;
  const char* first = s->data();
  const char* last = s->data() + s->size();
  if (first != last && *first == '+') ++first;
  auto [end, ec] = std::from_chars(first, last, d);
  if (!IsPlainScalar(v.node) || ec != std::errc() || end != last || !std::isfinite(d)) {
    diag.AddError(v.mark, v.path, "expected a number, " + Got(v.node));
    return std::nullopt;
  }
  return d;
}

std::optional<Duration> ReadDuration(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ScalarOf(v, "a duration such as 30s, 5m, 1h or 7d", diag);
  if (!s) return std::nullopt;
  Result<Duration> d = ParseDuration(*s);
  if (!d) {
    diag.AddError(v.mark, v.path, d.error().message);
    return std::nullopt;
  }
  return *d;
}

namespace {

// Counts documents and notes where the first two documents' content starts; ignores everything else.
class DocumentCounter : public YAML::EventHandler {
 public:
  int count() const { return count_; }
  const YAML::Mark& root(int index) const { return roots_[index]; }

  void OnDocumentStart(const YAML::Mark&) override {
    ++count_;
    awaiting_root_ = true;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (awaiting_root_ && count_ <= 2) roots_[count_ - 1] = mark;
    awaiting_root_ = false;
  }
  int count_ = 0;
  bool awaiting_root_ = false;
  YAML::Mark roots_[2] = {YAML::Mark::null_mark(), YAML::Mark::null_mark()};
};

}  // namespace

Documents LoadDocuments(const std::string& yaml) {
  DocumentCounter counter;
  {
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    while (counter.count() < 2 && parser.HandleNextDocument(counter)) {
    }
  }
  // A second document starting where the first did is the parser stuck on a token it cannot consume
  // (the LoadAll loop above): a syntax error at that token.
  if (counter.count() == 2 && !counter.root(1).is_null() && counter.root(1).pos == counter.root(0).pos) {
    throw YAML::ParserException(counter.root(1), "unexpected token");
  }
  Documents out;
  out.count = counter.count();
  out.second = counter.root(1);
  if (out.count > 0) out.first = YAML::Load(yaml);  // one HandleNextDocument: never loops
  return out;
}

std::optional<std::string> ReadFilePath(const Value& v, const std::filesystem::path& base_dir, Diagnostics& diag) {
  std::optional<std::string> text = ReadString(v, diag);
  if (!text) return std::nullopt;
  if (text->empty()) {
    diag.AddError(v.mark, v.path, "must not be empty");
    return std::nullopt;
  }
  std::filesystem::path path(*text);
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  const std::string resolved = path.lexically_normal().string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diag.AddError(v.mark, v.path, "\"" + resolved + "\" is a directory, not a file");
    return std::nullopt;
  }
  std::FILE* f = std::fopen(resolved.c_str(), "r");
  if (f == nullptr) {
    diag.AddError(v.mark, v.path, "cannot read \"" + resolved + "\": " + std::strerror(errno));
    return std::nullopt;
  }
  std::fclose(f);
  return resolved;
}

std::optional<YAML::Node> LoadSingleDocument(std::string_view yaml, std::string_view what, Diagnostics& diag) {
  Documents documents;
  try {
    documents = LoadDocuments(std::string(yaml));
  } catch (const YAML::Exception& e) {
    diag.AddError(e.mark, "", "invalid YAML: " + e.msg);
    return std::nullopt;
  }
  if (documents.count > 1) {
    diag.AddError(documents.second, "",
                  "more than one YAML document; " + std::string(what) + " holds exactly one");
    return std::nullopt;
  }
  return documents.first;
}

Result<std::string> ReadConfigFile(const std::string& path, std::string_view what) {
  const std::string prefix = path + ": cannot read " + std::string(what) + ": ";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return MakeError(ErrorCode::kInvalidConfig, prefix + "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidConfig, prefix + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return MakeError(ErrorCode::kInvalidConfig, prefix + std::strerror(errno));
  return std::move(content).str();
}

}  // namespace anomaly::config
