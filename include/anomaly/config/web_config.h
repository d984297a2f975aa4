// The web config (--web.config.file): exporter-toolkit's format, so a team reuses the file it already
// runs node_exporter with (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md).
// It protects every endpoint of the exporter's web server: TLS (optionally mutual), basic auth with
// bcrypt hashes, and extra response headers. docs/security.md explains what is protected and how.
//
// Loaded at start-up and again by every reload; a broken file is refused with "file:line: key.path:
// message" and, on reload, the running web config is kept. Immutable once loaded; shared between
// threads as std::shared_ptr<const WebConfig>. Holds no secret material except the bcrypt hashes, which
// are never logged or rendered; private keys are read from key_file only when the TLS context is built.
//
//   Result<WebConfig> web = LoadWebConfigFromFile("/etc/anomaly-exporter/web-config.yml");
//   if (!web) { std::cerr << web.error().message << "\n"; return 1; }
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anomaly/base/result.h"

namespace anomaly::config {

// tls_server_config.client_auth_type, Go's tls.ClientAuthType names.
enum class ClientAuthType {
  kNoClientCert,                // default
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // verified against client_ca_file when given
  kRequireAndVerifyClientCert,  // required and verified against client_ca_file
};

// tls_server_config.min_version / max_version: "TLS10" .. "TLS13".
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// `tls_server_config:`. Paths are resolved against the web config file's folder, as exporter-toolkit
// does, and checked readable by the loader (the certificate and key themselves are parsed and matched
// when the web server builds its TLS context, which reports its own errors naming the file).
struct TlsServerConfig {
  std::string cert_file;       // required: PEM certificate (chain), server's first
  std::string key_file;        // required: PEM private key matching cert_file
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  std::string client_ca_file;  // PEM CA bundle; required when client_auth_type verifies
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Go/IANA suite names as written (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...); they apply to TLS 1.2
  // and below, as in Go. Empty: the library's defaults.
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;  // Go names (X25519, CurveP256, ...); empty: defaults
  bool prefer_server_cipher_suites = true;
  // Client certificate SANs allowed (DNS, IP, email or URI); empty: any certificate the CA verifies.
  std::vector<std::string> client_allowed_sans;
  friend bool operator==(const TlsServerConfig&, const TlsServerConfig&) = default;
};

struct WebConfig {
  // Absent: plain HTTP.
  std::optional<TlsServerConfig> tls_server_config;
  // `http_server_config.headers`: added to every response, in file order. Headers the server owns
  // (Content-Type, Content-Length, Content-Encoding, Authorization, WWW-Authenticate, ...) are refused.
  std::vector<std::pair<std::string, std::string>> headers;
  // `http_server_config.http2`: accepted for compatibility; the server speaks HTTP/1.1 only.
  bool http2 = true;
  // `basic_auth_users`: user name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no basic auth.
  std::map<std::string, std::string> basic_auth_users;
  // Not from YAML: the file it was read from ("" for a string).
  std::string source_path;
  friend bool operator==(const WebConfig&, const WebConfig&) = default;
};

// A TLS parameter as the web config names it (Go's crypto/tls name) and as OpenSSL names it. The
// loader accepts only names in these tables; the web server builds its OpenSSL settings from them.
struct TlsParameterName {
  std::string_view go_name;
  std::string_view openssl_name;  // "" for a TLS 1.3 suite: accepted, but like Go not configurable
};
// Go's tls.CipherSuites() (exporter-toolkit accepts exactly these), TLS 1.2 and 1.3.
std::span<const TlsParameterName> TlsCipherSuiteNames();
// Go's curve names that exporter-toolkit accepts: CurveP256, CurveP384, CurveP521, X25519.
std::span<const TlsParameterName> TlsCurveNames();

// Parses and validates `yaml`; `filename` names it in messages and its folder is the base for relative
// paths. An empty document is a valid WebConfig that protects nothing (exporter-toolkit does the same).
// kInvalidConfig with every error found, one per line, "filename:line: key.path: message".
[[nodiscard]] Result<WebConfig> LoadWebConfigFromString(std::string_view yaml, std::string_view filename);

// Reads `path` and calls LoadWebConfigFromString(content, path). kInvalidConfig also when the file
// cannot be read. Blocks on file I/O.
[[nodiscard]] Result<WebConfig> LoadWebConfigFromFile(const std::string& path);

}  // namespace anomaly::config
