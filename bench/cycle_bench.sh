#!/usr/bin/env bash
# Cycle time and memory of the real exporter over SERIES series x 2,016 points (7 days at 5m) from a real,
# local Prometheus. Prints the first cycle (full history load and a robust STL fit of every series), the
# steady-state cycles (only new samples, no refit), the fit time per series, and the resident memory.
#   usage: bench/cycle_bench.sh [BUILD_DIR] [SERIES]   (defaults: build 1000)
set -euo pipefail
build=${1:-build}
series=${2:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
exporter=$(cd "$build" && pwd)/anomaly_exporter
source "$root/bench/bench_lib.sh"
bench_workdir cycle-bench
metric() {  # first sample of a metric; the scrape is buffered so awk's early exit cannot break the pipe
  local body; body=$(curl -fs "http://127.0.0.1:$exp_port/metrics")
  awk -v m="$1" '$1 ~ "^"m {print $2; exit}' <<<"$body"
}

start_bench_prometheus "$series"
exp_port=$(free_port)

cat >"$work/exporter.yml" <<YAML
prometheus: {url: "http://127.0.0.1:$prom_port", timeout: 2m}
detectors:
  - name: bench
    query: bench_load
    step: 5m
    history: 7d
    interval: 20s
    refit_interval: 1h
    seasonality: [1d]
    max_series: 100000
YAML
start=$(date +%s.%N)
start_exporter "http://127.0.0.1:$exp_port"
ready=$(date +%s.%N)
first=$(metric 'anomaly_exporter_cycle_duration_seconds')
query_sum=$(metric 'anomaly_exporter_query_duration_seconds_sum')
query_count=$(metric 'anomaly_exporter_query_duration_seconds_count')
fits=$(metric 'anomaly_exporter_fit_duration_seconds_count')
fit_sum=$(metric 'anomaly_exporter_fit_duration_seconds_sum')
scored=$(metric 'anomaly_exporter_series\{')
rss_first=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
# The same query_range by curl alone: Prometheus' share of the first query (the rest is ours: HTTP, decoding).
now=$(date +%s)
curl_s=$(curl -s -o "$work/answer.json" -w '%{time_total}' --data-urlencode query=bench_load \
  --data start=$(( now / 300 * 300 - 7 * 86400 )) --data end=$(( now / 300 * 300 )) --data step=300 \
  "http://127.0.0.1:$prom_port/api/v1/query_range")
answer_mb=$(( $(stat -c %s "$work/answer.json") / 1048576 ))
echo "waiting for two steady-state cycles..."
sleep 45
steady=$(metric 'anomaly_exporter_cycle_duration_seconds')
rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
python3 - <<PY
print(f"series scored:                 {float('$scored'):.0f} (x 2016 points, robust STL, period 1d = 288 samples)")
print(f"start to ready:                {$ready - $start:.2f} s (includes the PromQL check and the first cycle)")
print(f"queries so far:                {float('$query_count'):.0f}, {float('$query_sum'):.2f} s in total (the first loads all 2016 x $series samples)")
print(f"same query by curl alone:      {float('$curl_s'):.2f} s for a $answer_mb MiB answer (Prometheus' share)")
print(f"last cycle at ready:           {float('$first'):.3f} s (a quick second cycle may already have run)")
print(f"fit time per series:           {1000 * float('$fit_sum') / max(1, float('$fits')):.3f} ms  ({float('$fits'):.0f} fits, one thread)")
print(f"steady-state cycle:            {float('$steady'):.3f} s (new samples only, no refit)")
print(f"resident memory after cycle 1: {int('$rss_first') / 1024:.1f} MiB; now {int('$rss') / 1024:.1f} MiB; peak {int('$hwm') / 1024:.1f} MiB")
PY
