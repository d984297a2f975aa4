# Shared by the bench scripts (sourced, not run): a scratch folder cleaned up on exit, free ports, a real
# local Prometheus (holding backfilled bench data or scraping a target) and the exporter under test.
# Call bench_workdir first: it sets `work` and `pids`, which the others use.

# bench_workdir NAME: a scratch folder in $work, an empty $pids, and an EXIT trap that stops every pid
# in $pids and removes the folder.
bench_workdir() {
  work=$(mktemp -d "/tmp/anomaly-$1.XXXXXX")
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

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

# start_bench_prometheus SERIES [STEP_SECONDS POINTS [CONFIG_YAML]]: backfills SERIES series x POINTS
# points at STEP_SECONDS (bench/bench_series.py; default 2,016 x 300 s, 7d at 5m) into $work/tsdb and
# starts Prometheus over it (sets prom_port), with CONFIG_YAML (default: no scrape targets).
start_bench_prometheus() {
  local step=${2:-300} points=${3:-2016} config=${4:-'global: {scrape_interval: 1m}'}
  echo "generating $1 series x $points points at ${step}s..."
  python3 "$(dirname "${BASH_SOURCE[0]}")/bench_series.py" "$1" "$work/data.om" "$step" "$points"
  promtool tsdb create-blocks-from openmetrics --max-block-duration=24h -q "$work/data.om" "$work/tsdb" >/dev/null
  rm -f "$work/data.om"
  start_prometheus "$config" --storage.tsdb.retention.time=30d
}

# start_exporter BASE_URL [CURL_OPTS...] -- [EXPORTER_FLAGS...]: starts $exporter with $work/exporter.yml
# on 127.0.0.1:$exp_port, logging to $work/exporter.log, sets pid, and waits until BASE_URL/-/ready
# answers (curl with CURL_OPTS, default -fs); exits with the log's tail if the exporter dies first.
start_exporter() {
  local base=$1 curl_opts=()
  shift
  while [[ $# -gt 0 && $1 != -- ]]; do curl_opts+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  [[ ${#curl_opts[@]} -gt 0 ]] || curl_opts=(-fs)
  "$exporter" --config.file="$work/exporter.yml" --web.listen-address="127.0.0.1:$exp_port" "$@" \
    >"$work/exporter.log" 2>&1 &
  pid=$!
  pids+=($pid)
  until curl "${curl_opts[@]}" "$base/-/ready" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail "$work/exporter.log"; exit 1; }
    sleep 0.2
  done
}
