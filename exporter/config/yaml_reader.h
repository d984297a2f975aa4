// Private to the config stage: typed, located reads from yaml-cpp nodes. Every failed read records
// "file:line: key.path: message" in a Diagnostics and returns nullopt, so the loader can go on and
// report every error in one pass. yaml-cpp types stay behind this header (never in include/).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/duration.h"
#include "anomaly/base/result.h"

namespace anomaly::config {

// The whole content of `path`, for the loaders. kInvalidConfig "path: cannot read <what>: reason" when
// it is a directory or cannot be read. Blocks on file I/O.
[[nodiscard]] Result<std::string> ReadConfigFile(const std::string& path, std::string_view what);

// Collects errors and warnings, each "file:line: key.path: message" (no ":line" when unknown).
class Diagnostics {
 public:
  explicit Diagnostics(std::string filename) : filename_(std::move(filename)) {}

  void AddError(const YAML::Mark& mark, std::string_view path, std::string_view message);
  void AddWarning(const YAML::Mark& mark, std::string_view path, std::string_view message);
  bool has_errors() const { return !errors_.empty(); }

  // Every error once (a bad value in `defaults:` is met once per detector), sorted by line with ties
  // in the order found, joined by '\n'.
  std::string ErrorText() const;
  std::vector<std::string> Warnings() const;

 private:
  struct Entry {
    int line;  // 0-based, -1 when unknown
    std::string text;
  };
  void Add(std::vector<Entry>& into, const YAML::Mark& mark, std::string_view path,
           std::string_view message) const;
  static std::vector<std::string> SortedUnique(std::vector<Entry> entries);

  std::string filename_;
  std::vector<Entry> errors_;
  std::vector<Entry> warnings_;
};

// A node found in the YAML, the key path that names it in messages ("detectors[2].step") and where
// to point at it: the key's mark for a mapping entry (a null or block value starts on a later line),
// the item's own mark for a sequence item.
struct Value {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;
};

// Item `index` of a sequence value, with path "v.path[index]".
Value Item(const Value& seq, size_t index);

// A mapping read through layers in precedence order: the first layer holding a key wins. A detector
// is read as [its own mapping, `defaults:`]; everything else has one layer.
class MapView {
 public:
  MapView() = default;
  explicit MapView(const Value& v) { AddLayer(v); }
  void AddLayer(const Value& v);

  // For the first layer only: reports a node that is not a mapping, duplicate keys and keys not in
  // `allowed`. Null (an empty `key:`) counts as an empty mapping.
  void CheckKeys(std::initializer_list<std::string_view> allowed, Diagnostics& diag) const;

  std::optional<Value> Find(std::string_view key) const;
  // The sub-mappings `key` of every layer that has one, in the same precedence.
  MapView Child(std::string_view key) const;

  // Where a missing key is reported: the first layer's path + "." + key, and its mark.
  std::string PathOf(std::string_view key) const;
  YAML::Mark mark() const;
  // The first layer's own path ("detectors[2]"); empty for the document root.
  std::string path() const { return layers_.empty() ? std::string() : layers_.front().path; }
  bool empty() const { return layers_.empty(); }

 private:
  std::vector<Value> layers_;  // each layer's mark is where its mapping starts
};

// Typed reads. Each reports a wrong type, a null value or a bad value under v.path and returns
// nullopt. Numbers and booleans must be plain (unquoted) scalars.
std::optional<std::string> ReadString(const Value& v, Diagnostics& diag);
std::optional<bool> ReadBool(const Value& v, Diagnostics& diag);
std::optional<int> ReadInt(const Value& v, Diagnostics& diag);
std::optional<double> ReadDouble(const Value& v, Diagnostics& diag);
std::optional<Duration> ReadDuration(const Value& v, Diagnostics& diag);
// A non-empty file path, resolved against `base_dir` (the config file's folder) and checked to be a
// readable file; the resolved path. Only readability is checked: the content (a secret, a certificate)
// is read by the stage that uses it, never here.
std::optional<std::string> ReadFilePath(const Value& v, const std::filesystem::path& base_dir, Diagnostics& diag);

// The first document of a YAML stream and how many documents it holds, counting no further than two
// (a config file holds exactly one). This stands in for YAML::LoadAll, which in yaml-cpp 0.7 (Debian 12)
// never returns on some malformed streams, e.g. one holding only ",": it appends a null document per
// turn until memory runs out (jbeder/yaml-cpp#1040, fixed upstream by #1319; found by
// tests/fuzz/fuzz_config_loader). Throws YAML::Exception on a syntax error, as LoadAll does.
struct Documents {
  YAML::Node first;   // null when there is no document
  int count = 0;      // 0, 1 or 2 (two or more)
  YAML::Mark second;  // where the second document's content starts, when count == 2
};
Documents LoadDocuments(const std::string& yaml);

// The one document of a file that must hold exactly one (`what`: "a config file"), or nullopt with the
// error (a syntax error, or a second document) added to `diag` at its line.
std::optional<YAML::Node> LoadSingleDocument(std::string_view yaml, std::string_view what, Diagnostics& diag);

// "a mapping", "a sequence", "a scalar" or "nothing": for "expected X, got Y" messages.
std::string_view KindName(const YAML::Node& node);

}  // namespace anomaly::config
