#include "exporter/http/tls_context.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "result_matchers.h"

namespace anomaly::http {
namespace {

using ::anomaly::testing::ErrorIs;
using ::anomaly::testing::IsOk;
using ::testing::Eq;
using ::testing::HasSubstr;

const std::string kDir = ANOMALY_TESTDATA_DIR "/web/";

config::TlsServerConfig Tls(const std::string& cert = "server.crt", const std::string& key = "server.key") {
  config::TlsServerConfig tls;
  tls.cert_file = kDir + cert;
  tls.key_file = kDir + key;
  return tls;
}

TEST(TlsContextTest, BuildsFromTheTestCertificates) {
  EXPECT_THAT(BuildTlsMaterial(Tls()), IsOk());
  config::TlsServerConfig mutual = Tls();
  mutual.client_auth_type = config::ClientAuthType::kRequireAndVerifyClientCert;
  mutual.client_ca_file = kDir + "ca.crt";
  mutual.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"};
  mutual.curve_preferences = {"X25519", "CurveP384"};
  mutual.min_version = config::TlsVersion::kTls13;
  EXPECT_THAT(BuildTlsMaterial(mutual), IsOk());
}

TEST(TlsContextTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  EXPECT_THAT(BuildTlsMaterial(Tls("server.crt", "other.key")),
              ErrorIs(ErrorCode::kInvalidConfig,
                      Eq("tls_server_config.key_file \"" + kDir +
                         "other.key\": does not match the first certificate of " + kDir + "server.crt")));
}

TEST(TlsContextTest, RefusesFilesThatAreNotPem) {
  // good.yml is a readable file with no PEM block in it.
  EXPECT_THAT(BuildTlsMaterial(Tls("good.yml")),
              ErrorIs(ErrorCode::kInvalidConfig,
                      Eq("tls_server_config.cert_file \"" + kDir + "good.yml\": holds no PEM certificate")));
  EXPECT_THAT(
      BuildTlsMaterial(Tls("server.crt", "good.yml")),
      ErrorIs(ErrorCode::kInvalidConfig, HasSubstr("tls_server_config.key_file \"" + kDir +
                                                   "good.yml\": not an unencrypted PEM private key")));
  EXPECT_THAT(BuildTlsMaterial(Tls("missing.crt")),
              ErrorIs(ErrorCode::kInvalidConfig,
                      HasSubstr("tls_server_config.cert_file \"" + kDir + "missing.crt\": cannot open")));
  config::TlsServerConfig bad_ca = Tls();
  bad_ca.client_auth_type = config::ClientAuthType::kRequireAndVerifyClientCert;
  bad_ca.client_ca_file = kDir + "server.key";
  EXPECT_THAT(BuildTlsMaterial(bad_ca),
              ErrorIs(ErrorCode::kInvalidConfig, Eq("tls_server_config.client_ca_file \"" + kDir +
                                                    "server.key\": holds no PEM certificate")));
}

// What civetweb does after LoadTlsShims: dlopen("libssl.so") by its bare name must find the shim already
// loaded, with SSL_get_peer_certificate and, through its dependency, the real OpenSSL functions.
TEST(TlsContextTest, ShimsAnswerCivetwebsDlopenOfTheBareNames) {
  ASSERT_THAT(LoadTlsShims({"/nonexistent", ANOMALY_TLS_SHIM_DIR}), IsOk());
  void* ssl = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(ssl, nullptr) << "the shim's SONAME must match civetweb's dlopen name";
  EXPECT_NE(dlsym(ssl, "SSL_get_peer_certificate"), nullptr);
  EXPECT_NE(dlsym(ssl, "SSL_CTX_new"), nullptr);
  Dl_info info{};
  ASSERT_NE(dladdr(dlsym(ssl, "SSL_get_peer_certificate"), &info), 0);
  EXPECT_THAT(info.dli_fname, HasSubstr(ANOMALY_TLS_SHIM_DIR));
  void* crypto = dlopen("libcrypto.so", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(crypto, nullptr);
  EXPECT_NE(dlsym(crypto, "ERR_get_error"), nullptr);
  dlclose(ssl);
  dlclose(crypto);
}

}  // namespace
}  // namespace anomaly::http
