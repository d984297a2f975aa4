#include "anomaly/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <utility>

#include "exporter/config/detector_reader.h"
#include "exporter/config/yaml_reader.h"

namespace anomaly::config {
namespace {

namespace fs = std::filesystem;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// http(s)://host[:port][/path prefix], no credentials, query or fragment. Returns it without trailing
// slashes, so the client can append "/api/v1/query_range".
std::optional<std::string> ReadUrl(const Value& v, Diagnostics& diag) {
  std::optional<std::string> url = ReadString(v, diag);
  if (!url) return std::nullopt;
  auto fail = [&](const std::string& why) {
    diag.AddError(v.mark, v.path, "invalid URL \"" + *url + "\": " + why);
    return std::nullopt;
  };
  if (url->find('@') != std::string::npos) {
    // The URL is not echoed: it may hold a password.
    diag.AddError(v.mark, v.path, "credentials in the URL are refused; use basic_auth with password_file");
    return std::nullopt;
  }
  size_t scheme_end = url->find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url->substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return fail("must start with http:// or https://");
  std::string rest = url->substr(scheme_end + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority[0] == ':') return fail("no host");
  if (url->find_first_of(" \t\r\n?#") != std::string::npos) {
    return fail("must not contain spaces, a query (?) or a fragment (#)");
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) return fail("bad port \"" + port + "\"");
  }
  while (url->size() > scheme_end + 3 && url->back() == '/') url->pop_back();
  return url;
}

bool IsHeaderToken(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

void ReadHeaders(const Value& v, std::map<std::string, std::string>& out, Diagnostics& diag) {
  if (!v.node.IsMap()) {
    diag.AddError(v.mark, v.path,
                  "expected a mapping of header name to value, got " + std::string(KindName(v.node)));
    return;
  }
  std::map<std::string, std::string> seen;  // lower-case name -> as written
  for (const auto& entry : v.node) {
    std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "";
    Value value{entry.second, v.path + "." + name, entry.first.Mark()};
    if (!IsHeaderToken(name)) {
      diag.AddError(value.mark, value.path, "invalid header name");
      continue;
    }
    std::string lower = Lower(name);
    if (lower == "authorization") {
      diag.AddError(value.mark, value.path,
                    "refused: secrets come only from files; use bearer_token_file or basic_auth");
      continue;
    }
    if (auto [pos, inserted] = seen.emplace(lower, name); !inserted) {
      diag.AddError(value.mark, value.path, "duplicate header (header names ignore case)");
      continue;
    }
    std::optional<std::string> text = ReadString(value, diag);
    if (text && text->find_first_of("\r\n") != std::string::npos) {
      diag.AddError(value.mark, value.path, "header value must be one line");
    } else if (text) {
      out[name] = *text;
    }
  }
}

void ReadPrometheus(const MapView& view, const fs::path& base_dir, PrometheusConfig& out, Diagnostics& diag) {
  view.CheckKeys({"url", "timeout", "compression", "bearer_token_file", "basic_auth", "tls", "headers"}, diag);
  if (std::optional<Value> v = view.Find("url")) {
    if (auto url = ReadUrl(*v, diag)) out.url = *url;
  } else {
    diag.AddError(view.mark(), view.PathOf("url"), "required (e.g. http://prometheus:9090)");
  }
  if (std::optional<Value> v = view.Find("timeout")) {
    std::optional<Duration> t = ReadDuration(*v, diag);
    if (t && *t <= Duration(0)) {
      diag.AddError(v->mark, v->path, "must be > 0, got " + v->node.Scalar());
    } else if (t) {
      out.timeout = *t;
    }
  }
  if (std::optional<Value> v = view.Find("compression")) {
    std::optional<std::string> c = ReadString(*v, diag);
    if (c == "none") {
      out.compression = prom::Compression::kNone;
    } else if (c == "gzip") {
      out.compression = prom::Compression::kGzip;
    } else if (c) {
      diag.AddError(v->mark, v->path, "expected none or gzip, got \"" + *c + "\"");
    }
  }
  std::optional<Value> bearer = view.Find("bearer_token_file");
  if (bearer) {
    if (auto path = ReadFilePath(*bearer, base_dir, diag)) out.bearer_token_file = *path;
  }
  if (std::optional<Value> v = view.Find("basic_auth")) {
    MapView auth(*v);
    auth.CheckKeys({"username", "password_file"}, diag);
    BasicAuth basic;
    if (std::optional<Value> u = auth.Find("username")) {
      std::optional<std::string> name = ReadString(*u, diag);
      if (name && name->empty()) diag.AddError(u->mark, u->path, "must not be empty");
      if (name) basic.username = *name;
    } else {
      diag.AddError(v->mark, auth.PathOf("username"), "required");
    }
    if (std::optional<Value> p = auth.Find("password_file")) {
      if (auto path = ReadFilePath(*p, base_dir, diag)) basic.password_file = *path;
    }
    if (bearer) {
      diag.AddError(v->mark, v->path, "set either bearer_token_file or basic_auth, not both");
    }
    out.basic_auth = std::move(basic);
  }
  MapView tls = view.Child("tls");
  tls.CheckKeys({"ca_file", "cert_file", "key_file", "insecure_skip_verify"}, diag);
  for (auto [key, field] : {std::pair<const char*, std::string*>{"ca_file", &out.tls.ca_file},
                            std::pair<const char*, std::string*>{"cert_file", &out.tls.cert_file},
                            std::pair<const char*, std::string*>{"key_file", &out.tls.key_file}}) {
    if (std::optional<Value> v = tls.Find(key)) {
      if (auto path = ReadFilePath(*v, base_dir, diag)) *field = *path;
    }
  }
  if (tls.Find("cert_file").has_value() != tls.Find("key_file").has_value()) {
    diag.AddError(tls.mark(), tls.path(), "cert_file and key_file must be set together");
  }
  if (std::optional<Value> v = tls.Find("insecure_skip_verify")) {
    if (auto b = ReadBool(*v, diag)) out.tls.insecure_skip_verify = *b;
  }
  if (std::optional<Value> v = view.Find("headers")) ReadHeaders(*v, out.headers, diag);
}

void ReadDetectors(const MapView& root, std::vector<DetectorConfig>& out, Diagnostics& diag) {
  std::optional<Value> defaults = root.Find("defaults");
  if (defaults) ReadDetector(MapView(*defaults), DetectorBlock::kDefaults, diag);
  std::optional<Value> list = root.Find("detectors");
  if (!list) {
    diag.AddError(root.mark(), "detectors", "required (a list with at least one detector)");
    return;
  }
  if (!list->node.IsSequence() || list->node.size() == 0) {
    diag.AddError(list->mark, list->path,
                  "expected a list with at least one detector, got " +
                      std::string(list->node.IsSequence() ? "an empty list" : KindName(list->node)));
    return;
  }
  std::map<std::string, int> first_line;  // name -> 1-based line of its first definition
  for (size_t i = 0; i < list->node.size(); ++i) {
    Value item = Item(*list, i);
    if (!item.node.IsMap()) {
      diag.AddError(item.mark, item.path,
                    "expected a detector (a mapping with name, query, step, ...), got " +
                        std::string(KindName(item.node)));
      continue;
    }
    MapView view(item);
    if (defaults) view.AddLayer(*defaults);
    DetectorConfig d = ReadDetector(view, DetectorBlock::kDetector, diag);
    if (!d.name.empty()) {
      std::optional<Value> name = view.Find("name");
      if (auto [pos, inserted] = first_line.emplace(d.name, name->mark.line + 1); !inserted) {
        diag.AddError(name->mark, name->path,
                      "duplicate detector name \"" + d.name + "\" (first defined at line " +
                          std::to_string(pos->second) + ")");
      }
    }
    out.push_back(std::move(d));
  }
}

void ReadGlobalAndShard(const MapView& root, Config& config, Diagnostics& diag) {
  config.global.evaluation_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  MapView global = root.Child("global");
  global.CheckKeys({"evaluation_threads"}, diag);
  if (std::optional<Value> v = global.Find("evaluation_threads")) {
    std::optional<int> n = ReadInt(*v, diag);
    if (n && *n < 1) {
      diag.AddError(v->mark, v->path, "must be >= 1, got " + std::to_string(*n));
    } else if (n) {
      config.global.evaluation_threads = *n;
    }
  }
  MapView shard = root.Child("shard");
  shard.CheckKeys({"index", "count"}, diag);
  std::optional<Value> index = shard.Find("index");
  if (index) {
    std::optional<int> n = ReadInt(*index, diag);
    if (n && *n < 0) diag.AddError(index->mark, index->path, "must be >= 0, got " + std::to_string(*n));
    if (n && *n >= 0) config.shard.index = *n;
  }
  if (std::optional<Value> v = shard.Find("count")) {
    std::optional<int> n = ReadInt(*v, diag);
    if (n && *n < 1) diag.AddError(v->mark, v->path, "must be >= 1, got " + std::to_string(*n));
    if (n && *n >= 1) config.shard.count = *n;
  }
  if (index && config.shard.index >= config.shard.count) {
    diag.AddError(index->mark, index->path,
                  "must be < shard.count (" + std::to_string(config.shard.count) + "), got " +
                      std::to_string(config.shard.index));
  }
}

}  // namespace

Result<Config> LoadConfigFromString(std::string_view yaml, std::string_view filename) {
  Diagnostics diag{std::string(filename)};
  std::optional<YAML::Node> loaded = LoadSingleDocument(yaml, "a config file", diag);
  if (!loaded) return MakeError(ErrorCode::kInvalidConfig, diag.ErrorText());
  YAML::Node doc = *loaded;
  Config config;
  config.source_path = std::string(filename);
  try {
    MapView root(Value{doc, "", doc.Mark()});
    root.CheckKeys({"global", "prometheus", "defaults", "detectors", "shard"}, diag);
    ReadGlobalAndShard(root, config, diag);
    if (std::optional<Value> prometheus = root.Find("prometheus")) {
      ReadPrometheus(MapView(*prometheus), fs::path(filename).parent_path(), config.prometheus, diag);
    } else {
      diag.AddError(root.mark(), "prometheus", "required (at least prometheus.url)");
    }
    ReadDetectors(root, config.detectors, diag);
  } catch (const YAML::Exception& e) {
    // The readers only iterate and inspect nodes, so this is a bug in them, reported with its place.
    diag.AddError(e.mark, "", std::string("internal error reading YAML: ") + e.what());
  }
  if (diag.has_errors()) return MakeError(ErrorCode::kInvalidConfig, diag.ErrorText());
  config.warnings = diag.Warnings();
  return config;
}

Result<Config> LoadConfigFromFile(const std::string& path) {
  Result<std::string> content = ReadConfigFile(path, "config file");
  if (!content) return tl::unexpected(content.error());
  return LoadConfigFromString(*content, path);
}

}  // namespace anomaly::config
