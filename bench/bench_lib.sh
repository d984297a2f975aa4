# Shared by the bench scripts (sourced, not run): free ports and a real local Prometheus, either holding
# backfilled bench data or scraping a target. The caller sets `work` (a scratch folder) and `pids` (an
# array its cleanup kills) before calling.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_prometheus CONFIG_YAML [EXTRA_FLAGS...]: starts Prometheus on a free loopback port with
# $work/tsdb as its storage, sets prom_port, and waits (up to 60 s) until it is ready.
start_prometheus() {
  local config=$1
  shift
  prom_port=$(free_port)
  printf '%s\n' "$config" >"$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" "$@" >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$prom_port/-/ready" >/dev/null && return 0; sleep 0.5; done
  echo "Prometheus did not become ready; its log:" >&2
  tail "$work/prometheus.log" >&2
  return 1
}

# start_bench_prometheus SERIES: backfills SERIES series x 2,016 points (bench/bench_series.py) into
# $work/tsdb and starts Prometheus over it (sets prom_port).
start_bench_prometheus() {
  echo "generating $1 series x 2016 points (7d at 5m)..."
  python3 "$(dirname "${BASH_SOURCE[0]}")/bench_series.py" "$1" "$work/data.om"
  promtool tsdb create-blocks-from openmetrics --max-block-duration=24h -q "$work/data.om" "$work/tsdb" >/dev/null
  start_prometheus 'global: {scrape_interval: 1m}' --storage.tsdb.retention.time=30d
}
