// TLS for the web server (web config `tls_server_config`), done with OpenSSL directly on the SSL_CTX that
// civetweb creates, so that a reload changes certificates, keys, client CAs and protocol settings for the
// next handshake without restarting the listener (exporter-toolkit re-reads its config per handshake for
// the same reason). docs/security.md explains the design; in short:
//  - civetweb 1.15 (Debian) loads OpenSSL with dlopen("libssl.so"/"libcrypto.so") and resolves
//    SSL_get_peer_certificate, which OpenSSL 3 has only as a macro (civetweb issue #1334). LoadTlsShims
//    loads two tiny shared objects whose SONAMEs are exactly "libssl.so" and "libcrypto.so" (they depend on
//    libssl.so.3/libcrypto.so.3, and the ssl one defines that function), so civetweb's dlopen finds them
//    already loaded and needs no -dev package at run time. exporter/http/tls_shim/ builds them.
//  - civetweb's init_ssl callback hands its SSL_CTX to TlsServer::Install, which returns 1 ("the callback
//    set up the certificate"). Install registers a client-hello callback that applies the current
//    TlsMaterial to each connection, and a verify callback for client certificates and client_allowed_sans.
// Thread-safety: Set is called by a reload, the callbacks by civetweb workers; the material is immutable
// and swapped as one std::atomic<std::shared_ptr>, and each connection keeps the one it started with.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "anomaly/base/result.h"
#include "anomaly/config/web_config.h"

namespace anomaly::http {

// Certificates, key, client CAs and settings parsed from a TlsServerConfig's files. Opaque outside
// tls_context.cc.
struct TlsMaterial;

// Reads and checks every file of `tls` (certificate chain, key and that they match, client CAs) and the
// settings, building them once into an OpenSSL context to prove OpenSSL accepts them. kInvalidConfig
// naming the key and file ("tls_server_config.key_file \"/x/key.pem\": ..."). Blocks on file I/O.
[[nodiscard]] Result<std::shared_ptr<const TlsMaterial>> BuildTlsMaterial(const config::TlsServerConfig& tls);

// dlopen()s the shims (libcrypto.so and libssl.so by absolute path) from the first of `dirs` that holds
// both; once per process, later calls return the first outcome. kInternal naming the folders tried when
// none holds them. Must run before civetweb starts a TLS listener.
[[nodiscard]] Status LoadTlsShims(const std::vector<std::string>& dirs);

class TlsServer {
 public:
  explicit TlsServer(std::shared_ptr<const TlsMaterial> material) : current_(std::move(material)) {}
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  // The next handshakes use `material`; connections already up keep theirs.
  void Set(std::shared_ptr<const TlsMaterial> material) { current_.store(std::move(material)); }

  std::shared_ptr<const TlsMaterial> current() const { return current_.load(); }

  // civetweb's init_ssl callback: configures civetweb's SSL_CTX (an SSL_CTX*) for per-handshake material.
  // 1 on success (civetweb then loads no certificate itself), -1 on failure. Must outlive the context.
  int Install(void* ssl_ctx) noexcept;

 private:
  std::atomic<std::shared_ptr<const TlsMaterial>> current_;
};

}  // namespace anomaly::http
