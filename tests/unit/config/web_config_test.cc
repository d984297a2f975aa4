#include "anomaly/config/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/result_matchers.h"

namespace anomaly::config {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

const std::string kDir = ANOMALY_TESTDATA_DIR "/web";
// A name in the testdata folder, so that relative paths resolve to its certificate files.
const std::string kFile = kDir + "/web.yml";
const std::string kHash = "$2b$04$isYqruMTttSL5wWhi.h.ku0UlmV9i.VJ5Sjv8GsOVA6P4UHKX9uym";

TEST(WebConfigTest, LoadsEveryKeyOfTheExample) {
  Result<WebConfig> web = LoadWebConfigFromFile(kDir + "/good.yml");
  ASSERT_THAT(web, IsOk());
  ASSERT_TRUE(web->tls_server_config.has_value());
  const TlsServerConfig& tls = *web->tls_server_config;
  EXPECT_EQ(tls.cert_file, kDir + "/server.crt");
  EXPECT_EQ(tls.key_file, kDir + "/server.key");
  EXPECT_EQ(tls.client_auth_type, ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(tls.client_ca_file, kDir + "/ca.crt");
  EXPECT_EQ(tls.min_version, TlsVersion::kTls12);
  EXPECT_EQ(tls.max_version, TlsVersion::kTls13);
  EXPECT_THAT(tls.cipher_suites,
              ElementsAre("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                          "TLS_AES_128_GCM_SHA256"));
  EXPECT_THAT(tls.curve_preferences, ElementsAre("X25519", "CurveP256"));
  EXPECT_FALSE(tls.prefer_server_cipher_suites);
  EXPECT_THAT(tls.client_allowed_sans, ElementsAre("scraper.example", "10.0.0.1"));
  EXPECT_FALSE(web->http2);
  EXPECT_THAT(web->headers, ElementsAre(Pair("X-Frame-Options", "deny"),
                                        Pair("Strict-Transport-Security", "max-age=31536000")));
  EXPECT_THAT(web->basic_auth_users, ElementsAre(Pair("prometheus", kHash)));
  EXPECT_EQ(web->source_path, kDir + "/good.yml");
}

TEST(WebConfigTest, EmptyFileProtectsNothing) {
  for (const char* yaml : {"", "# only a comment\n", "tls_server_config:\nbasic_auth_users:\n"}) {
    Result<WebConfig> web = LoadWebConfigFromString(yaml, kFile);
    ASSERT_THAT(web, IsOk()) << yaml;
    EXPECT_FALSE(web->tls_server_config.has_value());
    EXPECT_THAT(web->basic_auth_users, IsEmpty());
    EXPECT_THAT(web->headers, IsEmpty());
    EXPECT_TRUE(web->http2);
  }
}

TEST(WebConfigTest, DefaultsFollowExporterToolkit) {
  Result<WebConfig> web =
      LoadWebConfigFromString("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n", kFile);
  ASSERT_THAT(web, IsOk());
  TlsServerConfig expected;
  expected.cert_file = kDir + "/server.crt";
  expected.key_file = kDir + "/server.key";
  EXPECT_EQ(*web->tls_server_config, expected);
  EXPECT_EQ(web->tls_server_config->min_version, TlsVersion::kTls12);
  EXPECT_EQ(web->tls_server_config->max_version, TlsVersion::kTls13);
  EXPECT_TRUE(web->tls_server_config->prefer_server_cipher_suites);
}

TEST(WebConfigTest, AcceptsEveryClientAuthType) {
  const std::vector<std::pair<std::string, ClientAuthType>> cases = {
      {"NoClientCert", ClientAuthType::kNoClientCert},
      {"RequestClientCert", ClientAuthType::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuthType::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuthType::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuthType::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuthType::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, type] : cases) {
    const bool ca = type != ClientAuthType::kNoClientCert;
    Result<WebConfig> web = LoadWebConfigFromString(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: " + name +
            "\n" + (ca ? "  client_ca_file: ca.crt\n" : ""),
        kFile);
    ASSERT_THAT(web, IsOk()) << name;
    EXPECT_EQ(web->tls_server_config->client_auth_type, type) << name;
  }
}

TEST(WebConfigTest, AbsolutePathsAreKept) {
  Result<WebConfig> web = LoadWebConfigFromString(
      "tls_server_config:\n  cert_file: " + kDir + "/server.crt\n  key_file: ../web/server.key\n",
      "/nowhere/web.yml");
  ASSERT_THAT(web, Not(IsOk()));
  EXPECT_THAT(web.error().message, Not(HasSubstr("cert_file")));
  EXPECT_THAT(web.error().message,
              HasSubstr("/nowhere/web.yml:3: tls_server_config.key_file: cannot read \"/web/server.key\""));
}

struct BadCase {
  std::string yaml;
  std::string message;  // the whole error text, after "<kFile>:"
};

TEST(WebConfigTest, RefusesEachMistakeWithFileLineAndKey) {
  const std::string tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
  const std::vector<BadCase> cases = {
      {"tls_server_config: [\n", "2: invalid YAML: end of sequence flow not found"},
      {"a: 1\n---\nb: 2\n", "3: more than one YAML document; a web config file holds exactly one"},
      // Issue 8, found by tests/fuzz/fuzz_config_loader: yaml-cpp 0.7's LoadAll never returned on this.
      {",\nbasic_auth_users: {}\n", "1: invalid YAML: unexpected token"},
      {"- a\n", "1: expected a mapping, got a sequence"},
      {"rate_limit: {}\n",
       "1: rate_limit: unknown key (known keys here: tls_server_config, http_server_config, "
       "basic_auth_users)"},
      {tls + "  cert_fil: x\n",
       "4: tls_server_config.cert_fil: unknown key (known keys here: cert_file, key_file, client_auth_type, "
       "client_ca_file, min_version, max_version, cipher_suites, curve_preferences, "
       "prefer_server_cipher_suites, "
       "client_allowed_sans, cert, key, client_ca)"},
      {"tls_server_config:\n  key_file: server.key\n",
       "1: tls_server_config.cert_file: required when TLS is configured"},
      {"tls_server_config:\n  cert_file: server.crt\n",
       "1: tls_server_config.key_file: required when TLS is configured"},
      {"tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
       "2: tls_server_config.cert_file: cannot read \"" + kDir + "/missing.crt\": No such file or directory"},
      {"tls_server_config:\n  cert_file: ''\n  key_file: server.key\n",
       "2: tls_server_config.cert_file: must not be empty"},
      {"tls_server_config:\n  cert_file: .\n  key_file: server.key\n",
       "2: tls_server_config.cert_file: \"" + kDir + "/\" is a directory, not a file"},
      {tls + "  key: |\n    -----BEGIN PRIVATE KEY-----\n",
       "4: tls_server_config.key: inline certificates and keys are refused: secrets come from files only; "
       "use key_file"},
      {tls + "  cert: x\n",
       "4: tls_server_config.cert: inline certificates and keys are refused: secrets come from files only; "
       "use cert_file"},
      {tls + "  client_auth_type: RequireAndVerifyClientCert\n",
       "4: tls_server_config.client_auth_type: client_ca_file is required to verify client certificates"},
      {tls + "  client_auth_type: VerifyClientCertIfGiven\n",
       "4: tls_server_config.client_auth_type: client_ca_file is required to verify client certificates"},
      {tls + "  client_auth_type: Sometimes\n",
       "4: tls_server_config.client_auth_type: unknown client_auth_type \"Sometimes\" (known: NoClientCert, "
       "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)"},
      {tls + "  client_ca_file: ca.crt\n",
       "4: tls_server_config.client_ca_file: set without a client_auth_type that asks for client "
       "certificates "
       "(e.g. RequireAndVerifyClientCert)"},
      {tls + "  min_version: TLS14\n",
       "4: tls_server_config.min_version: unknown TLS version \"TLS14\" (known: TLS10, TLS11, TLS12, TLS13)"},
      {tls + "  min_version: TLS13\n  max_version: TLS12\n",
       "4: tls_server_config.min_version: must not be above max_version"},
      {tls + "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, RC4]\n",
       "4: tls_server_config.cipher_suites[1]: unknown cipher suite \"RC4\" (Go's names, e.g. "
       "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"},
      {tls + "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
       "4: tls_server_config.cipher_suites: expected a list of strings, got a scalar"},
      {tls + "  curve_preferences: [CurveP256, P-256]\n",
       "4: tls_server_config.curve_preferences[1]: unknown curve \"P-256\" (known: CurveP256, CurveP384, "
       "CurveP521, X25519)"},
      {tls + "  prefer_server_cipher_suites: maybe\n",
       "4: tls_server_config.prefer_server_cipher_suites: expected true or false, got \"maybe\""},
      {tls + "  client_allowed_sans: [a.example]\n",
       "4: tls_server_config.client_allowed_sans: requires client_auth_type RequireAnyClientCert or "
       "RequireAndVerifyClientCert"},
      {tls + "  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: ['']\n",
       "5: tls_server_config.client_allowed_sans[0]: must not be empty"},
      {"http_server_config:\n  http3: true\n",
       "2: http_server_config.http3: unknown key (known keys here: http2, headers)"},
      {"http_server_config:\n  http2: 1\n", "2: http_server_config.http2: expected true or false, got \"1\""},
      {"http_server_config:\n  headers: [a]\n",
       "2: http_server_config.headers: expected a mapping of header name to value, got a sequence"},
      {"http_server_config:\n  headers:\n    Content-Type: text/html\n",
       "3: http_server_config.headers.Content-Type: this header can not be configured (allowed: "
       "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
       "Content-Security-Policy)"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "3: http_server_config.headers.X-Frame-Options: invalid value \"allow\" (expected one of: deny, "
       "sameorigin)"},
      {"http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
       "3: http_server_config.headers.X-Content-Type-Options: invalid value \"sniff\" (expected one of: "
       "nosniff)"},
      {"http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n",
       "3: http_server_config.headers.X-XSS-Protection: header value must be one line"},
      {"basic_auth_users: [a]\n",
       "1: basic_auth_users: expected a mapping of user name to bcrypt hash, got a sequence"},
      {"basic_auth_users:\n  \"a:b\": '" + kHash + "'\n",
       "2: basic_auth_users.a:b: user name must be non-empty and hold no ':' or line break"},
      {"basic_auth_users:\n  alice: {}\n",
       "2: basic_auth_users.alice: expected a bcrypt hash, got a mapping"},
      {"basic_auth_users:\n  alice: plaintext-password\n",
       "2: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters; make "
       "one with "
       "htpasswd -nBC 10 \"\" or see docs/security.md)"},
      {"basic_auth_users:\n  alice: '$2b$03$isYqruMTttSL5wWhi.h.ku0UlmV9i.VJ5Sjv8GsOVA6P4UHKX9uym'\n",
       "2: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters; make "
       "one with "
       "htpasswd -nBC 10 \"\" or see docs/security.md)"},
      {"basic_auth_users:\n  alice: '$1$abcdefgh$abcdefghijklmnopqrstuv'\n",
       "2: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters; make "
       "one with "
       "htpasswd -nBC 10 \"\" or see docs/security.md)"},
  };
  for (const BadCase& c : cases) {
    Result<WebConfig> web = LoadWebConfigFromString(c.yaml, kFile);
    EXPECT_THAT(web, ErrorIs(ErrorCode::kInvalidConfig, Eq(kFile + ":" + c.message))) << c.yaml;
  }
}

TEST(WebConfigTest, ReportsEveryErrorAtOnceInLineOrder) {
  Result<WebConfig> web = LoadWebConfigFromString(
      "basic_auth_users:\n  alice: nope\ntls_server_config:\n  cert_file: missing.crt\n", kFile);
  ASSERT_THAT(web, Not(IsOk()));
  EXPECT_THAT(web.error().message, HasSubstr(kFile + ":2: basic_auth_users.alice: not a bcrypt hash"));
  // A missing key is reported where its mapping's key is.
  EXPECT_THAT(web.error().message, HasSubstr("\n" + kFile + ":3: tls_server_config.key_file: required"));
  EXPECT_THAT(web.error().message, HasSubstr("\n" + kFile + ":4: tls_server_config.cert_file: cannot read"));
}

TEST(WebConfigTest, NeverEchoesAPasswordHash) {
  const std::string almost = kHash.substr(0, 59) + "!";
  Result<WebConfig> web = LoadWebConfigFromString("basic_auth_users:\n  alice: '" + almost + "'\n", kFile);
  ASSERT_THAT(web, Not(IsOk()));
  EXPECT_THAT(web.error().message, Not(HasSubstr(almost.substr(7, 20))));
}

TEST(WebConfigTest, UnreadableFileNamesIt) {
  EXPECT_THAT(LoadWebConfigFromFile(kDir + "/no-such.yml"),
              ErrorIs(ErrorCode::kInvalidConfig,
                      Eq(kDir + "/no-such.yml: cannot read web config file: No such file or directory")));
  EXPECT_THAT(LoadWebConfigFromFile(kDir),
              ErrorIs(ErrorCode::kInvalidConfig, Eq(kDir + ": cannot read web config file: is a directory")));
}

TEST(WebConfigTest, NameTablesMapToOpenSsl) {
  ASSERT_THAT(TlsCipherSuiteNames(), Not(IsEmpty()));
  for (const TlsParameterName& c : TlsCipherSuiteNames()) {
    EXPECT_TRUE(c.go_name.starts_with("TLS_")) << c.go_name;
    // TLS 1.3 suites (no _WITH_) are not configurable and have no OpenSSL cipher-list name.
    EXPECT_EQ(c.openssl_name.empty(), c.go_name.find("_WITH_") == std::string_view::npos) << c.go_name;
  }
  EXPECT_EQ(TlsCurveNames().size(), 4u);
}

// examples/web-config.yml names the certificate paths of a real deployment, which do not exist here:
// those two are its only errors.
TEST(WebConfigTest, ExampleIsValidButForItsDeploymentPaths) {
  const std::string path = ANOMALY_EXAMPLES_DIR "/web-config.yml";
  Result<WebConfig> web = LoadWebConfigFromFile(path);
  ASSERT_THAT(web, Not(IsOk()));
  EXPECT_EQ(
      web.error().message,
      path +
          ":7: tls_server_config.cert_file: cannot read \"/etc/anomaly-exporter/tls/tls.crt\": No such file "
          "or directory\n" +
          path +
          ":8: tls_server_config.key_file: cannot read \"/etc/anomaly-exporter/tls/tls.key\": No such file "
          "or directory");
}

}  // namespace
}  // namespace anomaly::config
