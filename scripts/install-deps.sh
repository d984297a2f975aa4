#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the demo need, and nothing else.
# Idempotent: packages already present are skipped without touching apt. Uses sudo only when not root.
#   usage: scripts/install-deps.sh [build|unit|test|demo|bench|fuzz|container]   (default: test)
# build is what configuring and building need, and nothing a test runs; unit adds the tools the `unit`
# CTest label runs (promtool, python3); test adds the real servers of every other label.
set -euo pipefail

profile=${1:-test}

build_pkgs=(
  cmake g++ make pkg-config
  prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev libsimdjson-dev libeigen3-dev libyaml-cpp-dev
  libcurl4-openssl-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libssl-dev
)
# Real servers for integration tests and the demo (never mocked), PyYAML for the rule linters, and the
# openssl CLI that makes the TLS tests' CA and certificates.
server_pkgs=(prometheus prometheus-alertmanager victoria-metrics openssl python3-yaml golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev nodejs chromium $(command -v npm >/dev/null || echo npm))  # npm: only where nodejs lacks it (NodeSource's bundles it and conflicts with Debian's)
# The unit label's tools: promtool (package prometheus) lints the golden exposition, python3 runs the
# stage-include check (tests/architecture).
unit_pkgs=(prometheus python3)
# bench/stl_vs_r.sh needs R itself; bench/nab_score.sh runs shared/tools/nab_score.py, which needs numpy.
bench_pkgs=(r-base-core python3-numpy)
# The container test (make test-container): podman builds and runs the image, debootstrap makes the
# debian:12-slim base offline, prometheus and curl are what the running image is checked against.
container_pkgs=(podman debootstrap prometheus curl python3)
# libFuzzer targets (make fuzz): clang and its runtime (libFuzzer, ASan, UBSan).
fuzz_pkgs=(clang libclang-rt-14-dev)

case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  unit) want=("${build_pkgs[@]}" "${unit_pkgs[@]}") ;;
  test|demo) want=("${build_pkgs[@]}" "${unit_pkgs[@]}" "${server_pkgs[@]}") ;;
  bench) want=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) want=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  container) want=("${build_pkgs[@]}" "${container_pkgs[@]}") ;;
  *) echo "install-deps: unknown profile '$profile' (build|unit|test|demo|bench|fuzz|container)" >&2
     exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
  $sudo apt-get update -qq
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
