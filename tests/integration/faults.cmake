# Faults against real processes (issue 8): the real exporter binary, a real Prometheus killed and
# restarted, the fault proxy (slow, cut, 429 with Retry-After), a churning scrape target, 100 reloads.
anomaly_add_integration_test(faults SOURCES faults_test.cc LIBS nlohmann_json::nlohmann_json TIMEOUT 600)
target_compile_definitions(anomaly_faults_integration_test PRIVATE
  ANOMALY_EXPORTER_BIN="$<TARGET_FILE:anomaly_exporter>" ANOMALY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(anomaly_faults_integration_test anomaly_exporter)
# Under sanitizers (make test-asan / test-tsan) the exporter is slower and its RSS holds ASan's quarantine
# or TSan's shadow memory: the suite then widens its time bounds and reports RSS without judging it.
if(ANOMALY_SANITIZERS)
  target_compile_definitions(anomaly_faults_integration_test PRIVATE ANOMALY_SANITIZED=1)
endif()
