#!/usr/bin/env bash
# Scale (issue 16): the real exporter over SERIES series from a real, local Prometheus that holds their
# backfilled history and keeps scraping live samples of them (bench/bench_series.py --serve). Prints one
# line per figure:
#   - the download of the first cycle's query_range answer by curl alone, identity and gzip;
#   - the first cycle (start to ready: the PromQL check, the download, decoding, ingest and every fit) with
#     evaluation_threads 1, 2 and every core, its ratio to the download the exporter makes, and the speed-up;
#   - resident memory per series and per stored sample in the steady state, and the peak (first cycle);
#   - average CPU in % of one core over SPAN seconds of steady state, scraped every 15 s as Prometheus
#     would (refit_interval REFIT; the refits that fell in the span are counted), and the longest cycle
#     after the first;
#   - then /metrics latency p50 and p99 over LATENCY seconds (60) of scrapes five times a second while
#     cycles run, outside the CPU span.
#   usage: bench/scale_bench.sh [BUILD_DIR] [SERIES]   (defaults: build 1000)
# Environment: STEP (grid step in seconds, 300), POINTS (history points per series, 2016: 7d at 5m),
# SPAN (steady-state seconds, 300), REFIT (refit_interval in seconds, SPAN / 2), INTERVAL (cycle interval
# in seconds, 20), LATENCY (seconds of /metrics latency probing, 60), THREADS (evaluation_threads values
# to time the first cycle with; "1 2 <cores>"), COMPRESSION (the exporter's prometheus.compression; its
# default when unset), SEASONALITY ([1d]).
set -euo pipefail
build=${1:-build}
series=${2:-1000}
step=${STEP:-300}
points=${POINTS:-2016}
span=${SPAN:-300}
refit=${REFIT:-$((span / 2))}
interval=${INTERVAL:-20}
cores=$(nproc)
threads=${THREADS:-$(printf '%s\n' 1 2 "$cores" | sort -nu | tr '\n' ' ')}
root=$(cd "$(dirname "$0")/.." && pwd)
exporter=$(cd "$build" && pwd)/anomaly_exporter
source "$root/bench/bench_lib.sh"
bench_workdir scale-bench

python3 "$root/bench/bench_series.py" --serve "$work/target.port" "$series" >"$work/target.log" 2>&1 &
pids+=($!)
until [[ -s "$work/target.port" ]]; do sleep 0.1; done
scrape=$((step < 60 ? step : 60))
# The live samples must continue the backfilled series, not start new ones beside them: the target's
# job and instance labels are dropped, so a scraped series has exactly its backfill's labels.
start_bench_prometheus "$series" "$step" "$points" "global: {scrape_interval: ${scrape}s}
scrape_configs:
  - job_name: bench
    static_configs: [{targets: ['127.0.0.1:$(cat "$work/target.port")']}]
    metric_relabel_configs: [{action: labeldrop, regex: 'job|instance'}]"

# The download alone: the same query_range the first cycle makes, best of two, per encoding.
download() {  # download CURL_FLAGS...: prints "<seconds> <bytes on the wire>"
  local now best="" t
  for _ in 1 2; do
    now=$(date +%s)
    t=$(curl -s -o /dev/null -w '%{time_total} %{size_download}' "$@" --data-urlencode query=bench_load \
      --data start=$(( now / step * step - (points - 1) * step )) --data end=$(( now / step * step )) \
      --data step="$step" "http://127.0.0.1:$prom_port/api/v1/query_range")
    if [[ -z $best ]] || awk -v a="${t% *}" -v b="${best% *}" 'BEGIN {exit !(a < b)}'; then best=$t; fi
  done
  echo "$best"
}
read -r dl_identity bytes_identity < <(download -H 'Accept-Encoding: identity')
read -r dl_gzip bytes_gzip < <(download --compressed)

history_s=$(( points * step ))
write_config() {  # write_config THREADS [QUERY]
  cat >"$work/exporter.yml" <<YAML
global: {evaluation_threads: $1}
prometheus: {url: "http://127.0.0.1:$prom_port", timeout: 5m${COMPRESSION:+, compression: $COMPRESSION}}
detectors:
  - name: bench
    query: ${2:-bench_load}
    step: ${step}s
    history: ${history_s}s
    interval: ${interval}s
    refit_interval: ${refit}s
    seasonality: ${SEASONALITY:-[1d]}
    max_series: 1000000
YAML
}
metric() {  # metric NAME: the first sample of a metric on the exporter's /metrics
  local body; body=$(curl -fs "http://127.0.0.1:$exp_port/metrics")
  awk -v m="$1" '$1 ~ "^"m {print $2; exit}' <<<"$body"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }

# The exporter's own footprint: the same detector over a query that matches nothing.
write_config 1 no_such_series_bench
exp_port=$(free_port)
start_exporter "http://127.0.0.1:$exp_port"
empty_kib=$(status_kib VmRSS)
kill "$pid"; wait "$pid" 2>/dev/null || true

declare -A first
last=$(echo $threads | awk '{print $NF}')
for t in $threads; do
  write_config "$t"
  exp_port=$(free_port)
  t0=$(date +%s.%N)
  start_exporter "http://127.0.0.1:$exp_port"
  first[$t]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
  if [[ $t != "$last" ]]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
done

# Steady state on the last (all cores) exporter: CPU over the span, the longest cycle, then /metrics
# latency.
scrape_every() {  # scrape_every SECONDS DURATION: GETs /metrics; prints "<count> <p50 ms> <p99 ms>"
  python3 - "$exp_port" "$1" "$2" <<'PY'
import http.client, sys, time
port, pause, span = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
end, out = time.time() + span, []
while time.time() < end:
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    c.getresponse().read()
    c.close()
    out.append(time.perf_counter() - t)
    time.sleep(pause)
out.sort()
print(len(out), out[len(out) // 2] * 1000, out[min(len(out) - 1, int(len(out) * 0.99))] * 1000)
PY
}
longest=0
scrape_every 15 "$span" >/dev/null &
lat_pid=$!
fits0=$(metric 'anomaly_exporter_fit_duration_seconds_count')
ticks0=$(cpu_ticks)
s0=$(date +%s.%N)
end=$(( $(date +%s) + span ))
first_cycle_at=$(metric 'anomaly_exporter_last_successful_cycle_timestamp_seconds\{')
while (( $(date +%s) < end )); do
  # The gauge holds the last cycle's duration: the first cycle's until the second one ends.
  if [[ $(metric 'anomaly_exporter_last_successful_cycle_timestamp_seconds\{') != "$first_cycle_at" ]]; then
    c=$(metric 'anomaly_exporter_cycle_duration_seconds\{')
    longest=$(awk -v a="$longest" -v b="${c:-0}" 'BEGIN {print (b > a ? b : a)}')
  fi
  sleep 1
done
ticks1=$(cpu_ticks)
s1=$(date +%s.%N)
fits1=$(metric 'anomaly_exporter_fit_duration_seconds_count')
wait "$lat_pid"
read -r scrapes p50 p99 < <(scrape_every 0.2 "${LATENCY:-60}")
held=$(metric 'anomaly_exporter_series\{')
rss_kib=$(status_kib VmRSS)
peak_kib=$(status_kib VmHWM)
hz=$(getconf CLK_TCK)

python3 - <<PY
series, points, step = $series, $points, $step
first = {int(k): float(v) for k, v in zip("${!first[*]}".split(), "${first[*]}".split())}
dl = {"identity": $dl_identity, "gzip": $dl_gzip}
enc = {"none": "identity", "gzip": "gzip"}["${COMPRESSION:-none}"]
print(f"machine:                 {$cores} cores; {series} series x {points} points at {step}s; the exporter "
      f"holds {float('${held:-0}'):.0f} series at the end")
print(f"download alone:          identity {dl['identity']:.2f} s ({$bytes_identity / 2**20:.1f} MiB), "
      f"gzip {dl['gzip']:.2f} s ({$bytes_gzip / 2**20:.1f} MiB on the wire)")
base = first[min(first)]
for t in sorted(first):
    ref = dl.get(enc, dl["identity"])
    print(f"first cycle, {t:2d} thread{'s' if t > 1 else ' '}: {first[t]:6.2f} s = {first[t] / ref:.2f}x the download "
          f"({enc}); speed-up {base / first[t]:.2f}x over {min(first)}")
rss, peak, empty = $rss_kib, $peak_kib, $empty_kib
print(f"memory, steady:          {rss / 1024:.1f} MiB = {rss / series:.1f} KiB per series = "
      f"{rss * 1024 / (series * points):.1f} bytes per stored sample, all in; beyond the "
      f"{empty / 1024:.1f} MiB of an exporter without series: {(rss - empty) / series:.1f} KiB per series, "
      f"{(rss - empty) * 1024 / (series * points):.1f} bytes per sample")
print(f"memory, peak:            {peak / 1024:.1f} MiB = {peak / rss:.2f}x the steady state")
secs = $s1 - $s0
cpu = ($ticks1 - $ticks0) / $hz / secs * 100
print(f"steady-state CPU:        {cpu:.1f}% of one core over {secs:.0f} s (interval ${interval}s, refit_interval "
      f"${refit}s: {float('${fits1:-0}') - float('${fits0:-0}'):.0f} refits; threads $last); longest cycle "
      f"after the first {float('$longest'):.2f} s")
print(f"/metrics while cycling:  p50 {float('$p50'):.1f} ms, p99 {float('$p99'):.1f} ms over $scrapes scrapes "
      f"(5 a second for ${LATENCY:-60} s, after the CPU span)")
PY
