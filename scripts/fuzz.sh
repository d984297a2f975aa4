#!/usr/bin/env bash
# Runs every libFuzzer target in tests/fuzz for a bounded time and prints, per target, the executions,
# executions per second, corpus size and crashes found. Exits 1 when any target crashed (its inputs are
# in build-fuzz/artifacts/<target>/), 2 on a build or usage error. `make fuzz` runs it after
# `scripts/install-deps.sh fuzz`; tests/fuzz/README.md explains the targets and how to replay a crash.
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_RUNS      also stop a target after this many executions (default: no limit), e.g. 10000000
#   FUZZ_TARGETS   space-separated target names to run (default: every target built), e.g. "duration labels"
#   FUZZ_PARALLEL  targets run at the same time (default 1; each is one process)
#   FUZZ_BUILD_DIR build directory (default build-fuzz); FUZZ_JOBS: build parallelism (default nproc)
#   FUZZ_RSS_MB    memory limit per target in MiB (default 2048); FUZZ_TIMEOUT: seconds per input (default 10)
#   FUZZ_MAX_LEN   longest input in bytes (default: libFuzzer's, the largest corpus file); a smaller one
#                  runs the YAML targets faster (1024: about 1.6x) at the cost of truncating long inputs
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-1}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
rss_mb=${FUZZ_RSS_MB:-2048}
timeout_s=${FUZZ_TIMEOUT:-10}
runs=${FUZZ_RUNS:--1}
max_len=${FUZZ_MAX_LEN:-}
case "$seconds$parallel${runs#-}$max_len" in *[!0-9]*) echo "fuzz.sh: FUZZ_SECONDS, FUZZ_PARALLEL, FUZZ_RUNS and FUZZ_MAX_LEN must be whole numbers" >&2; exit 2 ;; esac

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found; run scripts/install-deps.sh fuzz" >&2; exit 2; }
# The stamp, not CMakeCache.txt (which a failed configure leaves behind), says the tree is configured.
if [ ! -f "$build/.configured" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DANOMALY_FUZZ=ON -DANOMALY_BUILD_TESTS=OFF \
    -DANOMALY_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
  touch "$build/.configured"
fi
cmake --build "$build" -j "$jobs" --target fuzzers || exit 2

# Seeds: the tests' own inputs, copied into each target's working corpus (which keeps what libFuzzer
# adds, so a later run starts where this one stopped). Inline seeds cover the string parsers.
seed() {  # seed <target> <file>...  copies files that exist
  local dir="$build/corpus/$1"; shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do [ -f "$f" ] && cp -f "$f" "$dir/seed-$(basename "$f")"; done
  return 0
}
seed_text() {  # seed_text <target> <text>...  one seed per text
  local dir="$build/corpus/$1"; shift
  mkdir -p "$dir"
  local i=0 t
  for t in "$@"; do printf '%b' "$t" >"$dir/seed-inline-$i"; i=$((i + 1)); done
}
shopt -s nullglob
seed config_loader tests/testdata/config/*.yaml examples/*.yml
seed query_range_decoder tests/testdata/prom/*.json tests/testdata/prom/*.txt tests/testdata/prom/*.html
seed api_response tests/testdata/prom/*.json tests/testdata/prom/*.txt tests/testdata/prom/*.html
seed series_input tests/testdata/app/*.csv tests/testdata/app/*.txt tests/testdata/backtest/*.csv
seed web_config tests/testdata/web/*.yml tests/testdata/web/*.yaml tests/testdata/config/web*.yml \
  tests/testdata/config/web*.yaml examples/web-config*.yml
seed_text duration 0 30s 5m 1h30m 7d 1w 1y 250ms 1y2w3d4h5m6s7ms 90000ms
seed_text labels '__name__\0up\0job\0node\0instance\0localhost:9100' 'a\0x"y\\\\z\nw'
seed_text rfc3339 2024-05-01T22:00:00Z 2024-05-01T23:30:00.5+02:00 '2024-02-29 00:00:00.123-11:59'
seed_text retry_after 120 ' 7\r\n' 'Wed, 21 Oct 2015 07:28:00 GMT'
seed_text http_request 'GET\n/metrics\n\ngzip' 'GET\n/api/v1/anomalies\nall=1\ndeflate, gzip;q=0.5' \
  'POST\n/-/reload\n\n' 'HEAD\n/\nx=2&all=true\ngzip;q=0'
seed_text web_config '' 'basic_auth_users:\n  alice: $2y$10$abcdefghijklmnopqrstuuJ7G1rE3l0C0p5r2T9pYp8Nn0r9bZy7S\n' \
  'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS12\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n'

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in $FUZZ_TARGETS; do
    [ -x "$build/fuzz/fuzz_$t" ] || { echo "fuzz.sh: no target fuzz_$t in $build/fuzz" >&2; exit 2; }
    targets+=("$t")
  done
else
  for f in "$build"/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("${f##*/fuzz_}"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets were built" >&2; exit 2; }

# Relative paths named in fuzzed configs (secret and certificate files) resolve in a scratch folder.
work="$build/fuzz-work"
mkdir -p "$work"
run_target() {
  local t=$1
  local corpus="$root/$build/corpus/$t" artifacts="$root/$build/artifacts/$t" log="$root/$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  local options=()
  [ -f "$root/tests/fuzz/$t.dict" ] && options+=(-dict="$root/tests/fuzz/$t.dict")
  [ -n "$max_len" ] && options+=(-max_len="$max_len")
  # A crash stops libFuzzer (exit 1, or 70-77 for a timeout or an out-of-memory): the table counts it.
  (cd "$work" && "$root/$build/fuzz/fuzz_$t" "${options[@]}" -max_total_time="$seconds" -runs="$runs" \
    -rss_limit_mb="$rss_mb" -timeout="$timeout_s" -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1) || true
}

echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, $parallel at a time; logs in $build/logs/"
# Artifacts from earlier runs stay for replaying; the table counts only the ones this run wrote.
started="$build/.fuzz-run-started"
touch "$started"
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '%-22s %14s %10s %8s %8s\n' target execs execs/s corpus crashes
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(find "$build/corpus/$t" -maxdepth 1 -type f | wc -l)
  crashes=$(find "$build/artifacts/$t" -maxdepth 1 -type f -newer "$started" | wc -l)
  if [ -z "$execs" ]; then execs="?"; rate="?"; crashes=$((crashes > 0 ? crashes : 1)); fi  # no stats: it died
  [ "$crashes" -gt 0 ] && failed=1
  printf '%-22s %14s %10s %8s %8s\n' "$t" "$execs" "$rate" "$corpus" "$crashes"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: crashes found; inputs in $build/artifacts/<target>/, logs in $build/logs/" >&2
  echo "fuzz.sh: replay one with $build/fuzz/fuzz_<target> <input>" >&2
  exit 1
fi
