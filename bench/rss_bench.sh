#!/usr/bin/env bash
# Memory stays flat under churn (issue 8): the real exporter scores SERIES series scraped by a real
# Prometheus from tests/support/churn_target.py, with a cycle every second and series_ttl 5s. After a
# warm-up of WARMUP cycles without churn (until every series has a fitted model: RSS climbs while the
# series go from insufficient_data to scored, and the allocator's per-thread arenas settle), the target
# replaces CHURN series with new ones every second (a pod churn). Prints the exporter's resident memory
# every 10 cycles, after 10 and after CYCLES churn cycles, and their ratio. Goal: within 10%.
#   usage: bench/rss_bench.sh [BUILD_DIR] [SERIES] [CHURN] [CYCLES] [WARMUP]   (defaults: build 500 10 100 60)
set -euo pipefail
build=${1:-build}
series=${2:-500}
churn=${3:-10}
cycles=${4:-100}
warmup=${5:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
exporter=$(cd "$build" && pwd)/anomaly_exporter
source "$root/bench/bench_lib.sh"
bench_workdir rss-bench

python3 "$root/tests/support/churn_target.py" --port-file "$work/target.port" --series "$series" >"$work/target.log" 2>&1 &
pids+=($!)
until [[ -s "$work/target.port" ]]; do sleep 0.1; done
target="127.0.0.1:$(cat "$work/target.port")"
exp_port=$(free_port)
start_prometheus "global: {scrape_interval: 1s}
scrape_configs:
  - job_name: churn
    static_configs: [{targets: ['$target']}]"

cat >"$work/exporter.yml" <<YAML
prometheus: {url: "http://127.0.0.1:$prom_port", timeout: 10s}
detectors:
  - name: churn
    query: churn_value
    step: 1s
    history: 2m
    interval: 1s
    refit_interval: 10s
    series_ttl: 5s
    max_series: 100000
YAML
start_exporter "http://127.0.0.1:$exp_port"
metric() { curl -fs "http://127.0.0.1:$exp_port/metrics" | awk -v m="$1" '$1 ~ "^"m {s += $2} END {print s + 0}'; }
cycle() { printf '%.0f' "$(metric 'anomaly_exporter_queries_total')"; }
rss() { awk '/VmRSS/{print $2}' "/proc/$pid/status"; }
echo "$series series, a cycle every second, series_ttl 5s; warm-up of $warmup cycles without churn"
last_print=0
while n=$(cycle); [[ $n -lt $warmup ]]; do
  if [[ $n -ge $((last_print + 10)) ]]; then
    last_print=$n; echo "  warm-up cycle $n: RSS $(rss) KiB, $(metric 'anomaly_exporter_series\{') series"
  fi
  kill -0 "$pid" || { echo "exporter died"; tail "$work/exporter.log"; exit 1; }
  sleep 1
done
echo "churn: $churn series replaced every second from cycle $n"
rss10="" start_new=0 churn_from=$n last_print=0
while :; do
  curl -fs -X POST "http://$target/__rotate?n=$churn" >/dev/null
  n=$(( $(cycle) - churn_from ))
  if [[ -z "$rss10" && $n -ge 10 ]]; then
    rss10=$(rss); start_new=$(curl -fs "http://$target/__ids" | tr ',' '\n' | sed 's/^s//' | sort -n | tail -1)
    echo "after $n churn cycles: RSS $rss10 KiB, $(metric 'anomaly_exporter_series\{') series in the store"
  fi
  if [[ $n -ge $((last_print + 10)) ]]; then
    last_print=$n; echo "  churn cycle $n: RSS $(rss) KiB, $(metric 'anomaly_exporter_series\{') series"
  fi
  if [[ $n -ge $cycles ]]; then break; fi
  kill -0 "$pid" || { echo "exporter died"; tail "$work/exporter.log"; exit 1; }
  sleep 1
done
rss100=$(rss)
last_new=$(curl -fs "http://$target/__ids" | tr ',' '\n' | sed 's/^s//' | sort -n | tail -1)
echo "after $n churn cycles: RSS $rss100 KiB, $(metric 'anomaly_exporter_series\{') series in the store," \
  "$((last_new - start_new)) series created and retired in between"
python3 -c "r = $rss100 / $rss10; print(f'RSS ratio (churn cycle $n / churn cycle 10): {r:.3f}', 'OK' if r <= 1.10 else 'OVER 10%')"
