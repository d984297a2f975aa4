// The web-config loader (include/anomaly/config/web_config.h): --web.config.file in exporter-toolkit's
// format, read at start-up and on every reload. Relative certificate paths resolve against the working
// directory (the filename has no folder), so the loader's readability checks run as they would.
// Checks: a refusal is kInvalidConfig, each line "web.yml:<line>: ..." or "web.yml: ..."; an accepted
// config is consistent with the header's rules: TLS names a certificate and a key, a verifying
// client_auth_type names client_ca_file, min_version <= max_version, every basic-auth user has a bcrypt
// hash ($2a$, $2b$ or $2y$), and no header the server owns is set.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/config/web_config.h"
#include "fuzz_check.h"

namespace {

constexpr std::string_view kFilename = "web.yml";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using anomaly::config::ClientAuthType;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  anomaly::Result<anomaly::config::WebConfig> web = anomaly::config::LoadWebConfigFromString(yaml, kFilename);
  if (!web) {
    const std::string& message = web.error().message;
    FUZZ_CHECK(web.error().code == anomaly::ErrorCode::kInvalidConfig, message);
    FUZZ_CHECK(!message.empty(), "an empty error message");
    std::string_view rest = message;
    while (!rest.empty()) {
      const std::string_view line = rest.substr(0, rest.find('\n'));
      FUZZ_CHECK(line.starts_with(std::string(kFilename) + ":"), message);
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    }
    return 0;
  }
  if (web->tls_server_config) {
    const anomaly::config::TlsServerConfig& tls = *web->tls_server_config;
    FUZZ_CHECK(!tls.cert_file.empty() && !tls.key_file.empty(), "TLS without a certificate or key");
    if (tls.client_auth_type == ClientAuthType::kRequireAndVerifyClientCert) {
      FUZZ_CHECK(!tls.client_ca_file.empty(), "RequireAndVerifyClientCert without client_ca_file");
    }
    FUZZ_CHECK(tls.min_version <= tls.max_version, "min_version above max_version");
  }
  for (const auto& [user, hash] : web->basic_auth_users) {
    FUZZ_CHECK(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"),
               "user " + user + " without a bcrypt hash");
  }
  for (const auto& [name, value] : web->headers) {
    const std::string lower = Lower(name);
    FUZZ_CHECK(lower != "content-type" && lower != "content-length" && lower != "content-encoding" &&
                   lower != "authorization" && lower != "www-authenticate",
               "a header the server owns: " + name);
  }
  return 0;
}
