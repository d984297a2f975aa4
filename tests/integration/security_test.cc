// The secured web server end to end: the real anomaly_exporter binary with --web.config.file, a test CA
// and certificates made here by the `openssl` CLI, and libcurl (OpenSSL) as the client, verifying the
// server against that CA. Covers TLS, basic auth on every endpoint, the configured headers, mutual TLS
// (no certificate, another CA's, an expired one, a SAN not allowed), certificate rotation by POST
// /-/reload and by SIGHUP without a restart, a broken web config on reload and at start-up.
// The exporters query a Prometheus address nobody listens on: these tests are about the web server, and
// the daemon keeps serving while its upstream is down.
#include <crypt.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/free_port.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

struct Client {
  std::string ca = {};    // CA bundle the server is verified against; "" = libcurl's default store
  std::string cert = {};  // client certificate (mutual TLS)
  std::string key = {};
  std::string userpwd = {};  // "user:password" for basic auth
  std::string method = "GET";
};

struct Reply {
  CURLcode code = CURLE_OK;
  std::string error;  // libcurl's error buffer (OpenSSL's reason for a failed handshake)
  long status = 0;
  std::string body;
  std::string headers;
  std::string server_subject;  // the server certificate's subject, from CURLOPT_CERTINFO
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Reply Fetch(const std::string& url, const Client& c) {
  Reply r;
  CURL* curl = curl_easy_init();
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  if (!c.ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca.c_str());
  if (!c.cert.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, c.cert.c_str());
  if (!c.key.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, c.key.c_str());
  if (!c.userpwd.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, c.userpwd.c_str());
  }
  if (c.method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  r.code = curl_easy_perform(curl);
  r.error = error;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr &&
      info->num_of_certs > 0) {
    for (curl_slist* s = info->certinfo[0]; s != nullptr; s = s->next) {
      std::string line = s->data;
      if (line.rfind("Subject:", 0) == 0) r.server_subject = line.substr(8);
    }
  }
  curl_easy_cleanup(curl);
  return r;
}

// bcrypt of `password` at the lowest cost (4), as htpasswd -B would make it, by libcrypt itself.
std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt) == nullptr) return "";
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  return hash != nullptr ? hash : "";
}

// `openssl s_client` over TLS 1.2, with an optional client certificate: its output, which names the alert
// the server sent. Over TLS 1.2 the server refuses a client certificate inside the handshake, so the
// alert always arrives (over TLS 1.3 the client may see the connection closed first), and libcurl
// reports an expired-certificate alert only as "SSL certificate verification failed": hence this
// second client.
std::string SClientTls12(int port, const std::string& ca, const std::string& cert, const std::string& key) {
  std::string cmd = "openssl s_client -tls1_2 -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " + ca;
  if (!cert.empty()) cmd += " -cert " + cert + " -key " + key;
  cmd += " </dev/null 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  return out;
}

int Shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class SecurityTest : public ::testing::Test {
 protected:
  // Certificates: ca (the test CA), server (localhost, 127.0.0.1), client (SAN scraper.example),
  // other-client (SAN scraper.example, signed by other-ca), expired-client (from ca, expired yesterday),
  // wrong-san-client (from ca, SAN intruder.example), rotated and rotated2 (servers with their own CN).
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_security_test");
    const std::string d = dir_->path();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    for (const char* ca : {"ca", "other-ca"}) {
      ASSERT_EQ(Shell("openssl req -x509" + ec + "-keyout " + d + "/" + ca + ".key -out " + d + "/" + ca +
                      ".crt -days 2 -subj /CN=" + ca),
                0);
    }
    auto issue = [&d, &ec](const std::string& name, const std::string& ca, const std::string& san, int days) {
      const std::string ext = d + "/" + name + ".ext";
      WriteFile(ext, "subjectAltName=" + san + "\n");
      return Shell("openssl req" + ec + "-keyout " + d + "/" + name + ".key -out " + d + "/" + name +
                   ".csr -subj /CN=" + name) == 0 &&
             Shell("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/" + ca + ".crt -CAkey " +
                   d + "/" + ca + ".key -CAcreateserial -days " + std::to_string(days) + " -extfile " + ext +
                   " -out " + d + "/" + name + ".crt") == 0;
    };
    ASSERT_TRUE(issue("server", "ca", "DNS:localhost,IP:127.0.0.1", 2));
    ASSERT_TRUE(issue("rotated", "ca", "DNS:localhost,IP:127.0.0.1", 2));
    ASSERT_TRUE(issue("rotated2", "ca", "DNS:localhost,IP:127.0.0.1", 2));
    ASSERT_TRUE(issue("client", "ca", "DNS:scraper.example", 2));
    ASSERT_TRUE(issue("other-client", "other-ca", "DNS:scraper.example", 2));
    // -days -1: not after = yesterday, so the certificate is genuinely expired.
    ASSERT_TRUE(issue("expired-client", "ca", "DNS:scraper.example", -1));
    ASSERT_TRUE(issue("wrong-san-client", "ca", "DNS:intruder.example", 2));
    // The live server files, which the rotation tests overwrite.
    ASSERT_EQ(
        Shell("cp " + d + "/server.crt " + d + "/live.crt && cp " + d + "/server.key " + d + "/live.key"), 0);

    hash_ = Bcrypt("s3cret");
    ASSERT_THAT(hash_, ::testing::StartsWith("$2b$04$"));
    ASSERT_TRUE(WriteFile(dir_->File("config.yml"),
                          "prometheus:\n  url: http://127.0.0.1:" + std::to_string(FreePort()) +
                              "\n  timeout: 1s\n"
                              "detectors:\n  - name: requests\n    query: up\n    step: 1m\n    history: 1d\n"
                              "    interval: 5s\n    seasonality: none\n"));
    ASSERT_TRUE(WriteFile(dir_->File("web.yml"), WebConfig()));
    ASSERT_TRUE(WriteFile(dir_->File("mtls.yml"),
                          "tls_server_config:\n"
                          "  cert_file: server.crt\n"
                          "  key_file: server.key\n"
                          "  client_auth_type: RequireAndVerifyClientCert\n"
                          "  client_ca_file: ca.crt\n"
                          "  client_allowed_sans: [scraper.example]\n"));
    main_ = StartExporter("web.yml", "main", &main_port_).release();
    mtls_ = StartExporter("mtls.yml", "mtls", &mtls_port_).release();
    ASSERT_TRUE(main_ != nullptr && mtls_ != nullptr);
    const Client healthy{Ca(), "", "", "admin:s3cret"};
    ASSERT_TRUE(
        Eventually([&] { return Fetch(Url(main_port_, "/-/healthy"), healthy).status == 200; }, seconds(20)))
        << main_->LogTail();
    const Client good{Ca(), dir_->File("client.crt"), dir_->File("client.key"), ""};
    ASSERT_TRUE(
        Eventually([&] { return Fetch(Url(mtls_port_, "/-/healthy"), good).status == 200; }, seconds(20)))
        << mtls_->LogTail();
  }

  static void TearDownTestSuite() {
    delete main_;
    delete mtls_;
    delete dir_;
  }

  void TearDown() override {
    if (HasFailure() && main_ != nullptr) std::cerr << "main exporter log:\n" << main_->LogTail() << "\n";
    if (HasFailure() && mtls_ != nullptr) std::cerr << "mtls exporter log:\n" << mtls_->LogTail() << "\n";
  }

  static std::string WebConfig(const std::string& cert = "live.crt", const std::string& key = "live.key") {
    return "tls_server_config:\n"
           "  cert_file: " +
           cert +
           "\n"
           "  key_file: " +
           key +
           "\n"
           "http_server_config:\n"
           "  headers:\n"
           "    X-Frame-Options: deny\n"
           "    X-Content-Type-Options: nosniff\n"
           "basic_auth_users:\n"
           "  admin: '" +
           hash_ + "'\n";
  }

  static std::unique_ptr<ChildProcess> StartExporter(const std::string& web, const std::string& name,
                                                     int* port) {
    *port = FreePort();
    ChildOptions o;
    o.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + dir_->File("config.yml"),
              "--web.config.file=" + dir_->File(web),
              "--web.listen-address=127.0.0.1:" + std::to_string(*port)};
    o.log_file = dir_->File(name + ".log");
    auto child = ChildProcess::Start(o);
    if (!child) {
      ADD_FAILURE() << child.error().message;
      return nullptr;
    }
    return std::move(*child);
  }

  static std::string Url(int port, const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(port) + path;
  }
  static std::string Ca() { return dir_->File("ca.crt"); }
  static Client Admin() { return Client{Ca(), "", "", "admin:s3cret"}; }

  static void Rotate(const std::string& to) {
    ASSERT_EQ(Shell("cp " + dir_->File(to + ".crt") + " " + dir_->File("live.crt.new") + " && cp " +
                    dir_->File(to + ".key") + " " + dir_->File("live.key.new") + " && mv " +
                    dir_->File("live.key.new") + " " + dir_->File("live.key") + " && mv " +
                    dir_->File("live.crt.new") + " " + dir_->File("live.crt")),
              0);
  }

  static inline TempDir* dir_ = nullptr;
  static inline ChildProcess* main_ = nullptr;
  static inline ChildProcess* mtls_ = nullptr;
  static inline int main_port_ = 0;
  static inline int mtls_port_ = 0;
  static inline std::string hash_;
};

TEST_F(SecurityTest, ServesHttpsThatVerifiesAgainstTheTestCa) {
  Reply r = Fetch(Url(main_port_, "/-/healthy"), Admin());
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
  EXPECT_THAT(r.server_subject, HasSubstr("CN"));
  // The system store does not know the test CA: the client refuses the server.
  Reply untrusted = Fetch(Url(main_port_, "/-/healthy"), Client{"/dev/null", "", "", "admin:s3cret"});
  EXPECT_NE(untrusted.code, CURLE_OK);
  // Plain HTTP on the HTTPS port gets no answer.
  Reply plain = Fetch("http://127.0.0.1:" + std::to_string(main_port_) + "/-/healthy", Admin());
  EXPECT_NE(plain.status, 200);
}

TEST_F(SecurityTest, BasicAuthGuardsEveryEndpoint) {
  const std::vector<std::pair<std::string, std::string>> endpoints = {
      {"GET", "/metrics"},          {"GET", "/"},          {"GET", "/-/healthy"},   {"GET", "/-/ready"},
      {"GET", "/api/v1/anomalies"}, {"POST", "/-/reload"}, {"GET", "/no-such-page"}};
  for (const auto& [method, path] : endpoints) {
    SCOPED_TRACE(method + " " + path);
    for (const std::string& creds : {std::string(), std::string("admin:wrong"), std::string("nobody:s3cret"),
                                     std::string("admin:"), std::string("admin")}) {
      SCOPED_TRACE("credentials \"" + creds + "\"");
      Reply r = Fetch(Url(main_port_, path), Client{Ca(), "", "", creds, method});
      ASSERT_EQ(r.code, CURLE_OK) << r.error;
      EXPECT_EQ(r.status, 401);
      EXPECT_THAT(r.headers, HasSubstr("WWW-Authenticate: Basic realm=\"anomaly_exporter\""));
      EXPECT_THAT(r.body, Not(HasSubstr("anomaly_")));
    }
    Reply ok = Fetch(Url(main_port_, path), Client{Ca(), "", "", "admin:s3cret", method});
    ASSERT_EQ(ok.code, CURLE_OK) << ok.error;
    EXPECT_NE(ok.status, 401);
  }
  Reply metrics = Fetch(Url(main_port_, "/metrics"), Admin());
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("anomaly_exporter_build_info"));
}

TEST_F(SecurityTest, AddsTheConfiguredHeadersToEveryResponse) {
  for (const Client& c : {Admin(), Client{Ca(), "", "", ""}}) {
    Reply r = Fetch(Url(main_port_, "/metrics"), c);
    ASSERT_EQ(r.code, CURLE_OK) << r.error;
    EXPECT_THAT(r.headers, HasSubstr("X-Frame-Options: deny"));
    EXPECT_THAT(r.headers, HasSubstr("X-Content-Type-Options: nosniff"));
  }
}

TEST_F(SecurityTest, MutualTlsAcceptsOnlyAVerifiedClientWithAnAllowedSan) {
  Reply good =
      Fetch(Url(mtls_port_, "/metrics"), Client{Ca(), dir_->File("client.crt"), dir_->File("client.key")});
  ASSERT_EQ(good.code, CURLE_OK) << good.error;
  EXPECT_EQ(good.status, 200);

  // Each refused client gets no HTTP answer (libcurl, TLS 1.3), and the alert says why (s_client, TLS 1.2).
  struct Refused {
    std::string name;  // certificate and key file stem; "" = no client certificate
    std::string alert;
  };
  const std::vector<Refused> refused = {
      {"", "alert handshake failure"},
      {"other-client", "alert unknown ca"},
      {"expired-client", "alert certificate expired"},
      {"wrong-san-client", "alert handshake failure"},
  };
  for (const Refused& c : refused) {
    SCOPED_TRACE(c.name.empty() ? std::string("no certificate") : c.name);
    Client client{Ca()};
    if (!c.name.empty()) {
      client.cert = dir_->File(c.name + ".crt");
      client.key = dir_->File(c.name + ".key");
    }
    Reply r = Fetch(Url(mtls_port_, "/metrics"), client);
    EXPECT_NE(r.code, CURLE_OK);
    EXPECT_EQ(r.status, 0) << "a refused client must get no HTTP answer";
    const std::string out = SClientTls12(mtls_port_, Ca(), client.cert, client.key);
    EXPECT_THAT(out, HasSubstr(c.alert)) << out;
  }
  // The good client through s_client too, so the refusals above are not s_client failing for everyone.
  const std::string good12 =
      SClientTls12(mtls_port_, Ca(), dir_->File("client.crt"), dir_->File("client.key"));
  EXPECT_THAT(good12, HasSubstr("Verify return code: 0 (ok)"));
  EXPECT_THAT(good12, Not(HasSubstr("alert"))) << good12;
}

TEST_F(SecurityTest, RotatedCertificateServesAfterReloadWithoutARestart) {
  const pid_t pid = main_->pid();
  const std::string before = Fetch(Url(main_port_, "/-/healthy"), Admin()).server_subject;
  ASSERT_THAT(before, Not(HasSubstr("rotated")));

  Rotate("rotated");
  // Until the reload, new handshakes still get the certificate loaded before.
  EXPECT_EQ(Fetch(Url(main_port_, "/-/healthy"), Admin()).server_subject, before);
  Reply reload = Fetch(Url(main_port_, "/-/reload"), Client{Ca(), "", "", "admin:s3cret", "POST"});
  ASSERT_EQ(reload.status, 200) << reload.body;
  Reply after = Fetch(Url(main_port_, "/-/healthy"), Admin());
  ASSERT_EQ(after.code, CURLE_OK) << after.error;
  EXPECT_THAT(after.server_subject, HasSubstr("CN = rotated"));

  Rotate("rotated2");
  main_->Signal(SIGHUP);
  EXPECT_TRUE(Eventually(
      [] {
        return Fetch(Url(main_port_, "/-/healthy"), Admin()).server_subject.find("rotated2") !=
               std::string::npos;
      },
      seconds(10)));
  EXPECT_TRUE(main_->Running());
  EXPECT_EQ(main_->pid(), pid);
}

TEST_F(SecurityTest, BrokenWebConfigOnReloadKeepsTheRunningOne) {
  const std::string web = dir_->File("web.yml");
  const std::string subject = Fetch(Url(main_port_, "/-/healthy"), Admin()).server_subject;
  struct Case {
    std::string content;
    std::string message;
  };
  const std::vector<Case> cases = {
      {WebConfig() + "tls_server_confg: {}\n", "web.yml:10: tls_server_confg: unknown key"},
      {WebConfig("live.crt", "client.key"), "does not match the first certificate"},
      {"basic_auth_users:\n  admin: '" + hash_ + "'\n", "turning TLS off needs a restart"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    ASSERT_TRUE(WriteFile(web, c.content));
    Reply reload = Fetch(Url(main_port_, "/-/reload"), Client{Ca(), "", "", "admin:s3cret", "POST"});
    EXPECT_EQ(reload.status, 500);
    EXPECT_THAT(reload.body, HasSubstr(c.message));
    // Still the old certificate, the old users and the old headers.
    Reply r = Fetch(Url(main_port_, "/metrics"), Admin());
    ASSERT_EQ(r.code, CURLE_OK) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.server_subject, subject);
    EXPECT_THAT(r.headers, HasSubstr("X-Frame-Options: deny"));
    EXPECT_THAT(r.body, HasSubstr("anomaly_exporter_config_last_reload_successful 0"));
    EXPECT_EQ(Fetch(Url(main_port_, "/metrics"), Client{Ca()}).status, 401);
  }
  ASSERT_TRUE(WriteFile(web, WebConfig()));
  EXPECT_EQ(Fetch(Url(main_port_, "/-/reload"), Client{Ca(), "", "", "admin:s3cret", "POST"}).status, 200);
  // The log never shows the hash.
  EXPECT_THAT(ReadFile(main_->log_file()), Not(HasSubstr(hash_.substr(7))));
}

TEST_F(SecurityTest, BrokenWebConfigIsRefusedAtStartUpWithFileAndLine) {
  ASSERT_TRUE(WriteFile(dir_->File("broken.yml"),
                        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                        "  client_auth_type: RequireAndVerifyClientCert\n"));
  int port = 0;
  std::unique_ptr<ChildProcess> child = StartExporter("broken.yml", "broken", &port);
  ASSERT_NE(child, nullptr);
  std::optional<int> status = child->Wait(seconds(10));
  ASSERT_TRUE(status.has_value()) << "the exporter did not exit";
  EXPECT_EQ(DescribeWaitStatus(*status), "exited 2");
  EXPECT_THAT(child->LogTail(),
              HasSubstr("broken.yml:4: tls_server_config.client_auth_type: client_ca_file is "
                        "required to verify client certificates"));
}

// check-web-config loads what start-up loads, certificate files included: a key that is not the
// certificate's is refused naming the file, which promtool's check (YAML only) would pass.
TEST_F(SecurityTest, CheckWebConfigLoadsTheCertificateFiles) {
  auto run = [](const std::string& file, int* code) {
    ChildOptions o;
    o.argv = {ANOMALY_EXPORTER_BIN, "check-web-config", dir_->File(file)};
    o.log_file = dir_->File("check-" + file + ".log");
    auto child = ChildProcess::Start(o);
    if (!child) return std::string("start failed: ") + child.error().message;
    std::optional<int> status = (*child)->Wait(seconds(20));
    *code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return ReadFile(o.log_file);
  };
  int code = -1;
  std::string out = run("web.yml", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("TLS on, 1 basic auth user(s), 2 header(s)"));
  EXPECT_THAT(out, Not(HasSubstr(hash_.substr(7))));
  ASSERT_TRUE(WriteFile(dir_->File("mismatch.yml"), WebConfig("server.crt", "client.key")));
  out = run("mismatch.yml", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("client.key"));
}

}  // namespace
}  // namespace anomaly::testing
