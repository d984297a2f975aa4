// The web config loader (--web.config.file): exporter-toolkit's format, read with the config stage's
// located YAML reads so every error names "file:line: key.path". Secrets come from files only: inline
// `cert`, `key` and `client_ca` are refused, and no message ever echoes a password hash.
#include "anomaly/config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "exporter/config/yaml_reader.h"

namespace anomaly::config {
namespace {

namespace fs = std::filesystem;

constexpr std::array<TlsParameterName, 17> kCipherSuites = {{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
}};

constexpr std::array<TlsParameterName, 4> kCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

// exporter-toolkit's extraHTTPHeaders (web/handler.go): the only headers a web config may add, and the
// values allowed where the header is an enumeration. Kept identical so one file works for both.
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;  // empty: any one-line value
};
const std::vector<AllowedHeader>& AllowedHeaders() {
  static const std::vector<AllowedHeader> kHeaders = {
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return kHeaders;
}

std::string Join(const auto& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// A sequence of strings (null reads as empty).
std::vector<std::pair<std::string, Value>> ReadStringList(const Value& v, Diagnostics& diag) {
  std::vector<std::pair<std::string, Value>> out;
  if (v.node.IsNull()) return out;
  if (!v.node.IsSequence()) {
    diag.AddError(v.mark, v.path, "expected a list of strings, got " + std::string(KindName(v.node)));
    return out;
  }
  for (size_t i = 0; i < v.node.size(); ++i) {
    Value item = Item(v, i);
    if (std::optional<std::string> s = ReadString(item, diag)) out.emplace_back(std::move(*s), std::move(item));
  }
  return out;
}

std::optional<ClientAuthType> ParseClientAuth(std::string_view s) {
  if (s == "NoClientCert" || s.empty()) return ClientAuthType::kNoClientCert;
  if (s == "RequestClientCert") return ClientAuthType::kRequestClientCert;
  // "RequireClientCert" is exporter-toolkit's older spelling, kept there for compatibility.
  if (s == "RequireAnyClientCert" || s == "RequireClientCert") return ClientAuthType::kRequireAnyClientCert;
  if (s == "VerifyClientCertIfGiven") return ClientAuthType::kVerifyClientCertIfGiven;
  if (s == "RequireAndVerifyClientCert") return ClientAuthType::kRequireAndVerifyClientCert;
  return std::nullopt;
}

std::optional<TlsVersion> ReadTlsVersion(const Value& v, Diagnostics& diag) {
  std::optional<std::string> s = ReadString(v, diag);
  if (!s) return std::nullopt;
  if (*s == "TLS10") return TlsVersion::kTls10;
  if (*s == "TLS11") return TlsVersion::kTls11;
  if (*s == "TLS12") return TlsVersion::kTls12;
  if (*s == "TLS13") return TlsVersion::kTls13;
  diag.AddError(v.mark, v.path, "unknown TLS version \"" + *s + "\" (known: TLS10, TLS11, TLS12, TLS13)");
  return std::nullopt;
}

bool Verifies(ClientAuthType t) {
  return t == ClientAuthType::kVerifyClientCertIfGiven || t == ClientAuthType::kRequireAndVerifyClientCert;
}

std::optional<TlsServerConfig> ReadTls(const Value& v, const fs::path& base_dir, Diagnostics& diag) {
  MapView view(v);
  // `cert`, `key` and `client_ca` (inline PEM) are known to exporter-toolkit; they are listed so that
  // they get the message below rather than "unknown key".
  view.CheckKeys({"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
                  "cipher_suites", "curve_preferences", "prefer_server_cipher_suites", "client_allowed_sans", "cert",
                  "key", "client_ca"},
                 diag);
  if (!v.node.IsMap() || v.node.size() == 0) return std::nullopt;  // null or empty: plain HTTP
  for (auto [inline_key, file_key] : {std::pair<const char*, const char*>{"cert", "cert_file"},
                                      std::pair<const char*, const char*>{"key", "key_file"},
                                      std::pair<const char*, const char*>{"client_ca", "client_ca_file"}}) {
    if (std::optional<Value> inl = view.Find(inline_key)) {
      diag.AddError(inl->mark, inl->path,
                    std::string("inline certificates and keys are refused: secrets come from files only; use ") +
                        file_key);
    }
  }
  TlsServerConfig tls;
  if (std::optional<Value> f = view.Find("cert_file")) {
    if (auto path = ReadFilePath(*f, base_dir, diag)) tls.cert_file = *path;
  } else {
    diag.AddError(v.mark, view.PathOf("cert_file"), "required when TLS is configured");
  }
  if (std::optional<Value> f = view.Find("key_file")) {
    if (auto path = ReadFilePath(*f, base_dir, diag)) tls.key_file = *path;
  } else {
    diag.AddError(v.mark, view.PathOf("key_file"), "required when TLS is configured");
  }
  std::optional<Value> auth = view.Find("client_auth_type");
  if (auth) {
    if (std::optional<std::string> s = ReadString(*auth, diag)) {
      if (std::optional<ClientAuthType> t = ParseClientAuth(*s)) {
        tls.client_auth_type = *t;
      } else {
        diag.AddError(auth->mark, auth->path,
                      "unknown client_auth_type \"" + *s +
                          "\" (known: NoClientCert, RequestClientCert, RequireAnyClientCert, "
                          "VerifyClientCertIfGiven, RequireAndVerifyClientCert)");
      }
    }
  }
  std::optional<Value> ca = view.Find("client_ca_file");
  if (ca) {
    if (auto path = ReadFilePath(*ca, base_dir, diag)) tls.client_ca_file = *path;
    if (tls.client_auth_type == ClientAuthType::kNoClientCert) {
      diag.AddError(ca->mark, ca->path,
                    "set without a client_auth_type that asks for client certificates (e.g. "
                    "RequireAndVerifyClientCert)");
    }
  } else if (Verifies(tls.client_auth_type)) {
    diag.AddError(auth->mark, auth->path, "client_ca_file is required to verify client certificates");
  }
  std::optional<Value> min = view.Find("min_version");
  if (min) {
    if (auto ver = ReadTlsVersion(*min, diag)) tls.min_version = *ver;
  }
  if (std::optional<Value> max = view.Find("max_version")) {
    if (auto ver = ReadTlsVersion(*max, diag)) tls.max_version = *ver;
  }
  if (tls.min_version > tls.max_version) {
    diag.AddError(min ? min->mark : v.mark, view.PathOf("min_version"), "must not be above max_version");
  }
  if (std::optional<Value> list = view.Find("cipher_suites")) {
    for (auto& [name, item] : ReadStringList(*list, diag)) {
      // Init-captured: clang 14 cannot capture a structured binding (P1091, clang 16).
      const bool known =
          std::any_of(kCipherSuites.begin(), kCipherSuites.end(),
                      [&wanted = name](const TlsParameterName& c) { return c.go_name == wanted; });
      if (!known) {
        diag.AddError(item.mark, item.path, "unknown cipher suite \"" + name + "\" (Go's names, e.g. " +
                                                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
      } else {
        tls.cipher_suites.push_back(name);
      }
    }
  }
  if (std::optional<Value> list = view.Find("curve_preferences")) {
    for (auto& [name, item] : ReadStringList(*list, diag)) {
      // Init-captured: clang 14 cannot capture a structured binding (P1091, clang 16).
      const bool known =
          std::any_of(kCurves.begin(), kCurves.end(),
                      [&wanted = name](const TlsParameterName& c) { return c.go_name == wanted; });
      if (!known) {
        diag.AddError(item.mark, item.path, "unknown curve \"" + name + "\" (known: CurveP256, CurveP384, CurveP521, X25519)");
      } else {
        tls.curve_preferences.push_back(name);
      }
    }
  }
  if (std::optional<Value> b = view.Find("prefer_server_cipher_suites")) {
    if (auto value = ReadBool(*b, diag)) tls.prefer_server_cipher_suites = *value;
  }
  if (std::optional<Value> list = view.Find("client_allowed_sans")) {
    for (auto& [name, item] : ReadStringList(*list, diag)) {
      if (name.empty()) {
        diag.AddError(item.mark, item.path, "must not be empty");
      } else {
        tls.client_allowed_sans.push_back(name);
      }
    }
    if (tls.client_auth_type != ClientAuthType::kRequireAnyClientCert &&
        tls.client_auth_type != ClientAuthType::kRequireAndVerifyClientCert) {
      diag.AddError(list->mark, list->path,
                    "requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert");
    }
  }
  return tls;
}

void ReadHeaders(const Value& v, WebConfig& out, Diagnostics& diag) {
  if (v.node.IsNull()) return;
  if (!v.node.IsMap()) {
    diag.AddError(v.mark, v.path, "expected a mapping of header name to value, got " + std::string(KindName(v.node)));
    return;
  }
  std::set<std::string> seen;
  for (const auto& entry : v.node) {
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "";
    Value value{entry.second, v.path + "." + name, entry.first.Mark()};
    const auto& allowed = AllowedHeaders();
    auto it = std::find_if(allowed.begin(), allowed.end(), [&name](const AllowedHeader& h) { return h.name == name; });
    if (it == allowed.end()) {
      std::vector<std::string_view> names;
      for (const AllowedHeader& h : allowed) names.push_back(h.name);
      diag.AddError(value.mark, value.path, "this header can not be configured (allowed: " + Join(names) + ")");
      continue;
    }
    if (!seen.insert(name).second) {
      diag.AddError(value.mark, value.path, "duplicate header");
      continue;
    }
    std::optional<std::string> text = ReadString(value, diag);
    if (!text) continue;
    if (text->find_first_of("\r\n") != std::string::npos || text->find('\0') != std::string::npos) {
      diag.AddError(value.mark, value.path, "header value must be one line");
      continue;
    }
    if (!it->values.empty() && std::find(it->values.begin(), it->values.end(), *text) == it->values.end()) {
      diag.AddError(value.mark, value.path, "invalid value \"" + *text + "\" (expected one of: " + Join(it->values) + ")");
      continue;
    }
    out.headers.emplace_back(name, *text);
  }
}

// bcrypt's modular crypt format: $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then 53 characters
// of bcrypt's base64 (22 of salt, 31 of hash).
bool IsBcryptHash(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(h.begin() + 7, h.end(), [](char c) {
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

void ReadUsers(const Value& v, WebConfig& out, Diagnostics& diag) {
  if (v.node.IsNull()) return;
  if (!v.node.IsMap()) {
    diag.AddError(v.mark, v.path, "expected a mapping of user name to bcrypt hash, got " + std::string(KindName(v.node)));
    return;
  }
  for (const auto& entry : v.node) {
    const std::string user = entry.first.IsScalar() ? entry.first.Scalar() : "";
    Value value{entry.second, v.path + "." + user, entry.first.Mark()};
    if (user.empty() || user.find(':') != std::string::npos ||
        user.find_first_of("\r\n") != std::string::npos) {
      diag.AddError(value.mark, value.path, "user name must be non-empty and hold no ':' or line break");
      continue;
    }
    if (out.basic_auth_users.count(user) != 0) {
      diag.AddError(value.mark, value.path, "duplicate user");
      continue;
    }
    // The value is a secret: it is never echoed, only described.
    if (!value.node.IsScalar()) {
      diag.AddError(value.mark, value.path, "expected a bcrypt hash, got " + std::string(KindName(value.node)));
      continue;
    }
    if (!IsBcryptHash(value.node.Scalar())) {
      diag.AddError(value.mark, value.path,
                    "not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters; make one with "
                    "htpasswd -nBC 10 \"\" or see docs/security.md)");
      continue;
    }
    out.basic_auth_users.emplace(user, value.node.Scalar());
  }
}

void ReadHttp(const Value& v, WebConfig& out, Diagnostics& diag) {
  MapView view(v);
  view.CheckKeys({"http2", "headers"}, diag);
  if (std::optional<Value> b = view.Find("http2")) {
    if (auto value = ReadBool(*b, diag)) out.http2 = *value;
  }
  if (std::optional<Value> h = view.Find("headers")) ReadHeaders(*h, out, diag);
}

}  // namespace

std::span<const TlsParameterName> TlsCipherSuiteNames() { return kCipherSuites; }
std::span<const TlsParameterName> TlsCurveNames() { return kCurves; }

Result<WebConfig> LoadWebConfigFromString(std::string_view yaml, std::string_view filename) {
  Diagnostics diag{std::string(filename)};
  std::optional<YAML::Node> loaded = LoadSingleDocument(yaml, "a web config file", diag);
  if (!loaded) return MakeError(ErrorCode::kInvalidConfig, diag.ErrorText());
  YAML::Node doc = *loaded;
  WebConfig web;
  web.source_path = std::string(filename);
  try {
    MapView root(Value{doc, "", doc.Mark()});
    root.CheckKeys({"tls_server_config", "http_server_config", "basic_auth_users"}, diag);
    if (doc.IsMap()) {
      const fs::path base_dir = fs::path(filename).parent_path();
      if (std::optional<Value> tls = root.Find("tls_server_config")) web.tls_server_config = ReadTls(*tls, base_dir, diag);
      if (std::optional<Value> http = root.Find("http_server_config")) ReadHttp(*http, web, diag);
      if (std::optional<Value> users = root.Find("basic_auth_users")) ReadUsers(*users, web, diag);
    }
  } catch (const YAML::Exception& e) {
    diag.AddError(e.mark, "", std::string("internal error reading YAML: ") + e.what());
  }
  if (diag.has_errors()) return MakeError(ErrorCode::kInvalidConfig, diag.ErrorText());
  return web;
}

Result<WebConfig> LoadWebConfigFromFile(const std::string& path) {
  Result<std::string> content = ReadConfigFile(path, "web config file");
  if (!content) return tl::unexpected(content.error());
  return LoadWebConfigFromString(*content, path);
}

}  // namespace anomaly::config
