# The secured web server (issue 8): the real exporter binary with --web.config.file, a test CA made by
# the openssl CLI, libcurl as the TLS client; TLS, mutual TLS, basic auth, headers, rotation on reload.
find_package(CURL REQUIRED)
find_library(ANOMALY_SECURITY_TEST_LIBCRYPT crypt REQUIRED)
anomaly_add_integration_test(security SOURCES security_test.cc
  LIBS CURL::libcurl ${ANOMALY_SECURITY_TEST_LIBCRYPT} TIMEOUT 120)
target_compile_definitions(anomaly_security_integration_test PRIVATE
  ANOMALY_EXPORTER_BIN="$<TARGET_FILE:anomaly_exporter>" ANOMALY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(anomaly_security_integration_test anomaly_exporter anomaly_tls_shim_ssl anomaly_tls_shim_crypto)
