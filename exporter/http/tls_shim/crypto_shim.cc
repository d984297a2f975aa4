// SONAME "libcrypto.so": see CMakeLists.txt. It only carries the dependency on libcrypto.so.3, so that
// civetweb's dlopen("libcrypto.so") needs no libssl-dev at run time; this symbol names the shim in `nm`.
extern "C" __attribute__((visibility("default"))) int anomaly_tls_shim_crypto() { return 1; }
