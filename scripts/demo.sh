#!/usr/bin/env bash
# make demo: a real Prometheus and Alertmanager on loopback, a week of seasonal demo traffic with injected
# incidents (backfilled, then live), the exporter scoring it, and the anomalies it finds printed every cycle.
# Ctrl-C stops everything it started. DEMO_SECONDS=N stops by itself after N seconds (used by tests).
#   usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
exporter="$build/anomaly_exporter"
[ -x "$exporter" ] || { echo "demo: $exporter not built (run make build)" >&2; exit 1; }
exporter=$(cd "$(dirname "$exporter")" && pwd)/anomaly_exporter

work=$(mktemp -d /tmp/anomaly-demo.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
  echo "demo: stopped everything it started"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # url what
  for _ in $(seq 1 240); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "demo: $2 did not become ready; its log:" >&2; tail -20 "$work/$2.log" >&2; exit 1
}

prom_port=$(free_port); am_port=$(free_port); exp_port=$(free_port); load_port=$(free_port)

echo "demo: backfilling 7 days of demo traffic (1-minute samples, 8 series, incidents included)..."
python3 "$root/scripts/workload.py" backfill --days 7 --step 60 --recent-incident 10 --out "$work/history.om"
promtool tsdb create-blocks-from openmetrics --max-block-duration=24h -q "$work/history.om" "$work/tsdb" >/dev/null

# Live samples keep flowing; the injected incidents carry on into the live data for 10 minutes.
python3 "$root/scripts/workload.py" serve --port "$load_port" --incident-after 0 --incident-duration 600 \
  >"$work/workload.log" 2>&1 &
pids+=($!)

cat >"$work/alertmanager.yml" <<YAML
route:
  receiver: demo
  group_by: [alertname, detector]
  group_wait: 5s
receivers:
  - name: demo
YAML
prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
pids+=($!)

cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 15s, evaluation_interval: 15s}
rule_files: ["$root/rules/anomaly_alerts.yml", "$root/rules/anomaly_recording.yml"]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$am_port"]}]}]
scrape_configs:
  - job_name: demo-workload
    static_configs: [{targets: ["127.0.0.1:$load_port"]}]
  - job_name: anomaly-exporter
    honor_labels: true   # keep the scored series' own labels (docs/metrics.md)
    static_configs: [{targets: ["127.0.0.1:$exp_port"]}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$prom_port/-/ready" prometheus
wait_ready "http://127.0.0.1:$am_port/-/ready" alertmanager

cat >"$work/exporter.yml" <<YAML
prometheus:
  url: http://127.0.0.1:$prom_port
defaults:
  step: 1m
  history: 7d
  interval: 15s
  seasonality: [1d]
  threshold: {floor: 4}
detectors:
  - name: requests
    query: demo_http_requests_per_second
  - name: latency
    query: demo_http_request_duration_seconds
YAML
"$exporter" --config.file="$work/exporter.yml" --web.listen-address="127.0.0.1:$exp_port" \
  >"$work/exporter.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$exp_port/-/ready" exporter

cat <<MSG

demo: everything is up (Ctrl-C stops it all)
  exporter       http://127.0.0.1:$exp_port/          metrics: /metrics, triage: /api/v1/anomalies
  prometheus     http://127.0.0.1:$prom_port/graph     try: anomaly_score, anomaly_flag == 1, ALERTS
  alertmanager   http://127.0.0.1:$am_port/
  injected now:  checkout traffic x3 and search latency x5 (live for 10 minutes)

MSG

deadline=$(( $(date +%s) + ${DEMO_SECONDS:-31536000} ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  python3 "$root/scripts/show_anomalies.py" "http://127.0.0.1:$exp_port" "http://127.0.0.1:$am_port"
  sleep 15
done
