# The front door. Every target installs what it needs first (scripts/install-deps.sh, idempotent), so
# `make test` and `make demo` work on a fresh Debian 12 clone with nothing done by hand.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=

.PHONY: all build test test-container unit bench demo deps clean chart-files fuzz test-asan test-tsan

all: build

deps:
	@scripts/install-deps.sh test

# The build tree counts as configured once cmake has succeeded: the stamp is written only then. A failed
# configure leaves CMakeCache.txt behind but no stamp, so the next target runs cmake again instead of
# building a tree that was never generated ("No rule to make target 'Makefile'").
CONFIGURED := $(BUILD_DIR)/.configured
$(CONFIGURED):
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	@touch $@

# Release build: build/anomaly_exporter and build/anomaly_bench.
build:
	@scripts/install-deps.sh build
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test: unit, and integration against real Prometheus/Alertmanager/VictoriaMetrics processes on
# loopback; all labels but `container` (see test-container).
test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE container $(CTEST_FLAGS)

# The container image, built with podman from the Dockerfile and run --read-only (tests/container/);
# slow, since the image compiles the exporter. Skips, saying why, where no container engine can run.
test-container:
	@scripts/install-deps.sh container
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cd $(BUILD_DIR) && ctest --output-on-failure -L container $(CTEST_FLAGS)

# The fast inner loop: unit tests only.
unit:
	@scripts/install-deps.sh unit
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit $(CTEST_FLAGS)

# Google Benchmark suite, then STL against R's stl() side by side in one run (prints the ratio).
bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target anomaly_bench anomaly_exporter
	$(BUILD_DIR)/anomaly_bench
	bench/stl_vs_r.sh $(BUILD_DIR)

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory $(CONFIGURED)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target anomaly_exporter
	scripts/demo.sh $(BUILD_DIR)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, and under ThreadSanitizer, each
# in its own build directory (build-asan, build-tsan). Any sanitizer report fails the run.
test-asan:
	@scripts/install-deps.sh test
	JOBS=$(JOBS) CMAKE_FLAGS="$(CMAKE_FLAGS)" CTEST_FLAGS="$(CTEST_FLAGS)" scripts/test-sanitized.sh asan

test-tsan:
	@scripts/install-deps.sh test
	JOBS=$(JOBS) CMAKE_FLAGS="$(CMAKE_FLAGS)" CTEST_FLAGS="$(CTEST_FLAGS)" scripts/test-sanitized.sh tsan

# Every libFuzzer target for FUZZ_SECONDS each (default 60), built with clang into build-fuzz; prints
# executions and crashes per target.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps.sh fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# The Helm chart ships the rules and dashboards from its own files/ dir (Helm reads nothing outside the
# chart). rules/ and dashboards/ stay the one source: this copies them in, and the `helm` tests fail when
# the copies drift. Run it after editing a rule or a dashboard, and commit the copies with the change.
CHART_FILES := helm/anomaly-exporter/files
chart-files:
	rm -rf $(CHART_FILES)/rules $(CHART_FILES)/dashboards
	mkdir -p $(CHART_FILES)/rules $(CHART_FILES)/dashboards
	cp rules/*.yml $(CHART_FILES)/rules/
	cp dashboards/*.json $(CHART_FILES)/dashboards/

clean:
	rm -rf $(BUILD_DIR)
