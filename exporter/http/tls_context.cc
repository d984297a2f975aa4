#include "exporter/http/tls_context.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

namespace anomaly::http {

template <class T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using CtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;

namespace {
void FreeCertStack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
void FreeNameStack(STACK_OF(X509_NAME) * s) { sk_X509_NAME_pop_free(s, X509_NAME_free); }
}  // namespace
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<STACK_OF(X509), FreeCertStack>>;
using NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), OpenSslDeleter<STACK_OF(X509_NAME), FreeNameStack>>;

struct TlsMaterial {
  X509Ptr leaf;
  CertStackPtr chain;  // intermediates after the leaf in cert_file; may be empty
  KeyPtr key;
  StorePtr client_store;      // client_ca_file; null when not set
  NameStackPtr client_names;  // the CA names sent in CertificateRequest; null when not set
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_chain = false;  // a client certificate must chain to client_store
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string ciphers;  // OpenSSL cipher list for TLS <= 1.2; empty: OpenSSL's default
  std::string groups;   // OpenSSL groups list; empty: OpenSSL's default
  bool prefer_server_ciphers = true;
  std::vector<std::string> allowed_sans;
};

namespace {

std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status Fail(std::string_view key, const std::string& path, std::string_view why) {
  return MakeError(ErrorCode::kInvalidConfig,
                   "tls_server_config." + std::string(key) + " \"" + path + "\": " + std::string(why));
}

// Never prompts for a pass phrase (OpenSSL's default callback would read the terminal).
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return 0; }

Result<std::vector<X509Ptr>> ReadCertificates(std::string_view key, const std::string& path) {
  ERR_clear_error();
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return tl::unexpected(Fail(key, path, "cannot open: " + OpenSslError()).error());
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, &NoPassphrase, nullptr)) certs.emplace_back(cert);
  // The loop ends with "no start line" after the last certificate; anything else is a broken PEM block.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) ERR_clear_error();
  if (ERR_peek_error() != 0)
    return tl::unexpected(Fail(key, path, "bad PEM certificate: " + OpenSslError()).error());
  if (certs.empty()) return tl::unexpected(Fail(key, path, "holds no PEM certificate").error());
  return certs;
}

int ToOpenSslVersion(config::TlsVersion v) {
  switch (v) {
    case config::TlsVersion::kTls10:
      return TLS1_VERSION;
    case config::TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case config::TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case config::TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string OpenSslName(std::span<const config::TlsParameterName> table, const std::string& go_name) {
  for (const config::TlsParameterName& p : table) {
    if (p.go_name == go_name) return std::string(p.openssl_name);
  }
  return "";
}

// The SAN values exporter-toolkit compares with client_allowed_sans: DNS names, e-mail addresses, IP
// addresses (as text) and URIs.
std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) {
      const ASN1_IA5STRING* s = name->d.ia5;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "";
      const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : ASN1_STRING_length(ip) == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
        out.emplace_back(text);
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Each connection holds the material it was set up with, so a reload in the middle of its handshake
// cannot mix two configs. Owned by the SSL object through ex_data; freed with it.
using Holder = std::shared_ptr<const TlsMaterial>;

void FreeHolder(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                void* /*argp*/) {
  std::unique_ptr<Holder> owned(static_cast<Holder*>(ptr));
}

int HolderIndex() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, &FreeHolder);
  return index;
}

int VerifyClient(int preverify_ok, X509_STORE_CTX* store) noexcept {
  try {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    const auto* holder =
        ssl != nullptr ? static_cast<const Holder*>(SSL_get_ex_data(ssl, HolderIndex())) : nullptr;
    if (holder == nullptr || !*holder) return 0;
    const TlsMaterial& m = **holder;
    if (m.verify_chain && preverify_ok != 1) return 0;  // OpenSSL reports the reason (expired, unknown CA)
    if (X509_STORE_CTX_get_error_depth(store) == 0 && !m.allowed_sans.empty()) {
      X509* cert = X509_STORE_CTX_get_current_cert(store);
      const std::vector<std::string> sans =
          cert != nullptr ? SubjectAltNames(cert) : std::vector<std::string>{};
      const bool allowed = std::any_of(sans.begin(), sans.end(), [&m](const std::string& san) {
        return std::find(m.allowed_sans.begin(), m.allowed_sans.end(), san) != m.allowed_sans.end();
      });
      if (!allowed) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
      }
    }
    return 1;
  } catch (...) {
    return 0;
  }
}

// Applies the current material to one connection, before the server picks its version and cipher.
int ClientHello(SSL* ssl, int* alert, void* arg) noexcept {
  try {
    const auto* server = static_cast<const TlsServer*>(arg);
    Holder material = server->current();
    if (!material) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    const TlsMaterial& m = *material;
    bool ok = SSL_use_certificate(ssl, m.leaf.get()) == 1 && SSL_use_PrivateKey(ssl, m.key.get()) == 1 &&
              SSL_set1_chain(ssl, m.chain.get()) == 1 && SSL_set_min_proto_version(ssl, m.min_version) == 1 &&
              SSL_set_max_proto_version(ssl, m.max_version) == 1;
    if (ok && !m.ciphers.empty()) ok = SSL_set_cipher_list(ssl, m.ciphers.c_str()) == 1;
    if (ok && !m.groups.empty()) ok = SSL_set1_groups_list(ssl, m.groups.c_str()) == 1;
    if (m.prefer_server_ciphers) {
      SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
    } else {
      SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
    }
    if (ok && m.client_store) ok = SSL_set1_verify_cert_store(ssl, m.client_store.get()) == 1;
    if (ok && m.client_names) {
      STACK_OF(X509_NAME)* names = SSL_dup_CA_list(m.client_names.get());
      ok = names != nullptr;
      if (ok) SSL_set_client_CA_list(ssl, names);  // takes ownership
    }
    if (ok) {
      // A HelloRetryRequest calls this again: the holder set the first time is replaced and freed.
      auto holder = std::make_unique<Holder>(std::move(material));
      std::unique_ptr<Holder> previous(static_cast<Holder*>(SSL_get_ex_data(ssl, HolderIndex())));
      ok = SSL_set_ex_data(ssl, HolderIndex(), holder.get()) == 1;
      if (ok) {
        holder.release();
      } else {
        previous.release();  // still owned by the SSL object
      }
    }
    if (!ok) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    SSL_set_verify(ssl, m.verify_mode, m.verify_mode == SSL_VERIFY_NONE ? nullptr : &VerifyClient);
    return SSL_CLIENT_HELLO_SUCCESS;
  } catch (...) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
}

}  // namespace

Result<std::shared_ptr<const TlsMaterial>> BuildTlsMaterial(const config::TlsServerConfig& tls) {
  auto m = std::make_shared<TlsMaterial>();
  Result<std::vector<X509Ptr>> certs = ReadCertificates("cert_file", tls.cert_file);
  if (!certs) return tl::unexpected(certs.error());
  m->leaf = std::move(certs->front());
  m->chain.reset(sk_X509_new_null());
  if (!m->chain) return MakeError(ErrorCode::kInternal, "out of memory");
  for (size_t i = 1; i < certs->size(); ++i) {
    if (sk_X509_push(m->chain.get(), (*certs)[i].get()) == 0)
      return MakeError(ErrorCode::kInternal, "out of memory");
    (void)(*certs)[i].release();  // now owned by the stack
  }

  ERR_clear_error();
  {
    BioPtr bio(BIO_new_file(tls.key_file.c_str(), "r"));
    if (!bio) return tl::unexpected(Fail("key_file", tls.key_file, "cannot open: " + OpenSslError()).error());
    m->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  }
  if (!m->key) {
    return tl::unexpected(
        Fail("key_file", tls.key_file, "not an unencrypted PEM private key: " + OpenSslError()).error());
  }
  if (X509_check_private_key(m->leaf.get(), m->key.get()) != 1) {
    ERR_clear_error();
    return tl::unexpected(
        Fail("key_file", tls.key_file, "does not match the first certificate of " + tls.cert_file).error());
  }

  if (!tls.client_ca_file.empty()) {
    Result<std::vector<X509Ptr>> cas = ReadCertificates("client_ca_file", tls.client_ca_file);
    if (!cas) return tl::unexpected(cas.error());
    m->client_store.reset(X509_STORE_new());
    m->client_names.reset(sk_X509_NAME_new_null());
    if (!m->client_store || !m->client_names) return MakeError(ErrorCode::kInternal, "out of memory");
    for (const X509Ptr& ca : *cas) {
      if (X509_STORE_add_cert(m->client_store.get(), ca.get()) != 1) {
        ERR_clear_error();  // a duplicate certificate; harmless
      }
      X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca.get()));
      if (name == nullptr || sk_X509_NAME_push(m->client_names.get(), name) == 0) {
        X509_NAME_free(name);
        return MakeError(ErrorCode::kInternal, "out of memory");
      }
    }
  }
  using config::ClientAuthType;
  switch (tls.client_auth_type) {
    case ClientAuthType::kNoClientCert:
      m->verify_mode = SSL_VERIFY_NONE;
      break;
    case ClientAuthType::kRequestClientCert:
      m->verify_mode = SSL_VERIFY_PEER;
      break;
    case ClientAuthType::kRequireAnyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
    case ClientAuthType::kVerifyClientCertIfGiven:
      m->verify_mode = SSL_VERIFY_PEER;
      m->verify_chain = true;
      break;
    case ClientAuthType::kRequireAndVerifyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      m->verify_chain = true;
      break;
  }
  m->min_version = ToOpenSslVersion(tls.min_version);
  m->max_version = ToOpenSslVersion(tls.max_version);
  for (const std::string& suite : tls.cipher_suites) {
    const std::string name = OpenSslName(config::TlsCipherSuiteNames(), suite);
    if (!name.empty()) m->ciphers += (m->ciphers.empty() ? "" : ":") + name;  // TLS 1.3 suites: not settable
  }
  for (const std::string& curve : tls.curve_preferences) {
    m->groups += (m->groups.empty() ? "" : ":") + OpenSslName(config::TlsCurveNames(), curve);
  }
  m->prefer_server_ciphers = tls.prefer_server_cipher_suites;
  m->allowed_sans = tls.client_allowed_sans;

  // Prove OpenSSL takes every setting, so that a handshake never meets one it refuses.
  ERR_clear_error();
  CtxPtr probe(SSL_CTX_new(TLS_server_method()));
  if (!probe) return MakeError(ErrorCode::kInternal, "creating an OpenSSL context: " + OpenSslError());
  if (SSL_CTX_set_min_proto_version(probe.get(), m->min_version) != 1 ||
      SSL_CTX_set_max_proto_version(probe.get(), m->max_version) != 1) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "tls_server_config: min_version/max_version: " + OpenSslError());
  }
  if (!m->ciphers.empty() && SSL_CTX_set_cipher_list(probe.get(), m->ciphers.c_str()) != 1) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "tls_server_config.cipher_suites: OpenSSL supports none of them: " + OpenSslError());
  }
  if (!m->groups.empty() && SSL_CTX_set1_groups_list(probe.get(), m->groups.c_str()) != 1) {
    return MakeError(ErrorCode::kInvalidConfig, "tls_server_config.curve_preferences: " + OpenSslError());
  }
  if (SSL_CTX_use_certificate(probe.get(), m->leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(probe.get(), m->key.get()) != 1) {
    return tl::unexpected(Fail("cert_file", tls.cert_file, "refused by OpenSSL: " + OpenSslError()).error());
  }
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

Status LoadTlsShims(const std::vector<std::string>& dirs) {
  static std::once_flag once;
  static Status outcome;
  std::call_once(once, [&dirs] {
    std::string tried;
    for (const std::string& dir : dirs) {
      const std::string crypto = dir + "/libcrypto.so";
      const std::string ssl = dir + "/libssl.so";
      struct stat st {};
      if (stat(crypto.c_str(), &st) != 0 || stat(ssl.c_str(), &st) != 0) {
        tried += (tried.empty() ? "" : ", ") + dir;
        continue;
      }
      // Loaded for the process' lifetime on purpose: civetweb keeps the handles and function pointers.
      // libcrypto first, since the ssl shim's libssl.so.3 needs libcrypto.so.3.
      if (dlopen(crypto.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr ||
          dlopen(ssl.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
        const char* why = dlerror();
        outcome = MakeError(ErrorCode::kInternal, "loading the OpenSSL shims for civetweb from " + dir +
                                                      ": " + (why ? why : "unknown"));
        return;
      }
      outcome = {};
      return;
    }
    outcome =
        MakeError(ErrorCode::kInternal,
                  "TLS needs the OpenSSL shims libssl.so and libcrypto.so (built in exporter/http/tls_shim, "
                  "installed under lib/anomaly_exporter); not found in: " +
                      (tried.empty() ? std::string("(no folder given)") : tried));
  });
  return outcome;
}

int TlsServer::Install(void* ssl_ctx) noexcept {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (ctx == nullptr || HolderIndex() < 0) return -1;
  // No session resumption: a resumed session would skip the client-certificate check of the current
  // config and keep a rotated-out certificate's session alive. Scrapers keep connections open anyway.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  static const unsigned char kSessionContext[] = "anomaly_exporter";
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1) return -1;
  SSL_CTX_set_client_hello_cb(ctx, &ClientHello, this);
  return 1;
}

}  // namespace anomaly::http
