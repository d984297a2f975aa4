#!/usr/bin/env bash
# Latency of the exporter's read endpoints under load while cycles run: a real local Prometheus with
# SERIES series x 2,016 points (bench/bench_series.py, as bench/cycle_bench.sh), the real exporter
# scoring them (a cycle every 5 s, a refit of every series every 30 s), and anomaly_load_client
# (bench/load_client.cc) driving
# /metrics and /api/v1/anomalies open-loop at --rps for --seconds (loopback only). Prints p50 / p99 / max
# latency and errors per endpoint and overall, and p99 during refits against the other seconds.
# Goal (issue 8): p99 < 50 ms, no errors.
#
#   usage: bench/load_bench.sh [--build DIR] [--series N] [--seconds S] [--rps R] [--metrics-share F] [--gzip]
#                              [--web-config FILE --cacert FILE --user U --password P]
#   (defaults: build, 1000 series, 60 s, 200 req/s split evenly; --metrics-share 0.1 sends a tenth of
#   them to /metrics, whose answer for 1,000 series is ~0.9 MB, and the rest to the API; with --web-config the exporter serves HTTPS with
#   that exporter-toolkit web config and the client verifies against --cacert and sends basic auth)
set -euo pipefail
build=build series=1000 seconds=60 rps=200 web_config="" cacert="" user="" password="" gzip="" share=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --series) series=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rps) rps=$2; shift 2 ;;
    --web-config) web_config=$(realpath "$2"); shift 2 ;;
    --cacert) cacert=$(realpath "$2"); shift 2 ;;
    --user) user=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    --gzip) gzip=--gzip; shift ;;
    --metrics-share) share=(--metrics-share "$2"); shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
exporter=$(cd "$build" && pwd)/anomaly_exporter
client=$(cd "$build" && pwd)/anomaly_load_client
[[ -x "$client" ]] || { echo "build $client first: cmake --build $build --target anomaly_load_client" >&2; exit 2; }
source "$root/bench/bench_lib.sh"
bench_workdir load-bench

scheme=http curl_opts=(-fs) client_opts=()
if [[ -n "$web_config" ]]; then
  scheme=https
  curl_opts+=(--cacert "$cacert")
  client_opts+=(--cacert "$cacert")
  if [[ -n "$user" ]]; then curl_opts+=(-u "$user:$password"); client_opts+=(--user "$user" --password "$password"); fi
fi

start_bench_prometheus "$series"
exp_port=$(free_port)

cat >"$work/exporter.yml" <<YAML
prometheus: {url: "http://127.0.0.1:$prom_port", timeout: 2m}
detectors:
  - name: bench
    query: bench_load
    step: 5m
    history: 7d
    interval: 5s
    refit_interval: 30s
    seasonality: [1d]
    max_series: 100000
YAML
web_flag=()
[[ -n "$web_config" ]] && web_flag=(--web.config.file="$web_config")
base="$scheme://127.0.0.1:$exp_port"
start_exporter "$base" "${curl_opts[@]}" -- "${web_flag[@]}"
metric() { curl "${curl_opts[@]}" "$base/metrics" | awk -v m="$1" '$1 ~ "^"m {s += $2} END {print s + 0}'; }
echo "exporter ready: $(metric 'anomaly_exporter_series\{') series scored; metrics body $(curl "${curl_opts[@]}" "$base/metrics" | wc -c) bytes"
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # the exporter's user + system CPU, in clock ticks
cpu_before=$(cpu)
fits_before=$(metric anomaly_exporter_fit_duration_seconds_count)
cycles_before=$(metric anomaly_exporter_queries_total)
"$client" --url "$base" --rps "$rps" --seconds "$seconds" ${gzip} "${share[@]}" "${client_opts[@]}"
echo "during the run: $(python3 -c "print(int($(metric anomaly_exporter_queries_total) - $cycles_before))") cycles," \
  "$(python3 -c "print(int($(metric anomaly_exporter_fit_duration_seconds_count) - $fits_before))") series fits;" \
  "last cycle $(metric anomaly_exporter_cycle_duration_seconds) s; exporter RSS $(awk '/VmRSS/{print $2}' /proc/$pid/status) KiB;" \
  "exporter CPU $(python3 -c "print(round(($(cpu) - $cpu_before) / $(getconf CLK_TCK), 1))") s; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
kill -0 "$pid" || { echo "exporter died"; tail "$work/exporter.log"; exit 1; }
