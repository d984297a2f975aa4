// SONAME "libssl.so": see CMakeLists.txt. OpenSSL 3 renamed SSL_get_peer_certificate (which returned a new
// reference) to SSL_get1_peer_certificate and kept the old name only as a macro; civetweb 1.15 resolves the
// old name with dlsym(), so it is defined here with the same contract. No OpenSSL header: it would turn
// the name into the macro.
struct ssl_st;
struct x509_st;

extern "C" {
x509_st* SSL_get1_peer_certificate(const ssl_st* ssl);

__attribute__((visibility("default"))) x509_st* SSL_get_peer_certificate(const ssl_st* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
}
