#!/usr/bin/env bash
# The series page next to scrapes and cycles (issue 18 part 3): /metrics latency p50/p99 and the cycle
# duration while GET /series is requested as fast as CLIENTS clients can (each page copies one series from
# its detector under the runner's mutex, then fits and renders it on the web worker), side by side with the
# same probe without that load, in one run on one daemon over a real local Prometheus holding SERIES series
# x 2,016 points (7 days at 5m; bench/bench_lib.sh).
#   usage: bench/series_page_bench.sh [BUILD_DIR] [SERIES]   (defaults: build 1000; not part of make test)
# Environment: DURATION (seconds per phase, 30), RATE (scrapes per second, 10), CLIENTS (page clients, 4:
# two more than the web server draws at once, so some get 429), INTERVAL (the detector's, 5s), REFIT
# (refit_interval, 1h; 0 makes every cycle refit every series: long cycles that pages must wait for).
set -euo pipefail
build=${1:-build}
series=${2:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
exporter=$(cd "$build" && pwd)/anomaly_exporter
source "$root/bench/bench_lib.sh"
bench_workdir series-page-bench
start_bench_prometheus "$series"
exp_port=$(free_port)
cat >"$work/exporter.yml" <<YAML
prometheus: {url: "http://127.0.0.1:$prom_port", timeout: 2m}
detectors:
  - name: bench
    query: bench_load
    step: 5m
    history: 7d
    interval: ${INTERVAL:-5s}
    refit_interval: ${REFIT:-1h}
    seasonality: [1d]
    max_series: 100000
YAML
start_exporter "http://127.0.0.1:$exp_port" -- --log.level=error
python3 - "$exp_port" "${DURATION:-30}" "${RATE:-10}" "${CLIENTS:-4}" "$series" <<'PY'
import http.client, random, statistics, sys, threading, time
port, duration, rate, clients, series = sys.argv[1:]
port, duration, rate, clients, series = int(port), float(duration), float(rate), int(clients), int(series)

def get(path, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body

def cycle_seconds():
    _, body = get("/metrics")
    for line in body.decode().splitlines():
        if line.startswith("anomaly_exporter_cycle_duration_seconds{"):
            return float(line.split()[-1])
    return None

def probe():
    lat, cycles, interval = [], [], 1.0 / rate
    end = time.monotonic() + duration
    while time.monotonic() < end:
        start = time.monotonic()
        status, body = get("/metrics")
        assert status == 200, status
        lat.append(time.monotonic() - start)
        for line in body.decode().splitlines():
            if line.startswith("anomaly_exporter_cycle_duration_seconds{"):
                cycles.append(float(line.split()[-1]))
        time.sleep(max(0.0, interval - (time.monotonic() - start)))
    return lat, cycles

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]

stop = threading.Event()
counts, page_lat = {}, []
lock = threading.Lock()
def hammer(seed):
    rng = random.Random(seed)
    while not stop.is_set():
        path = "/series?detector=bench&metric_name=bench_load&series=s%05d" % rng.randrange(series)
        start = time.monotonic()
        try:
            status, _ = get(path)
        except Exception:
            status = "error"
        with lock:
            counts[status] = counts.get(status, 0) + 1
            if status == 200:
                page_lat.append(time.monotonic() - start)

idle, idle_cycles = probe()
threads = [threading.Thread(target=hammer, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
time.sleep(1)
loaded, loaded_cycles = probe()
stop.set()
for t in threads:
    t.join()
ms = lambda x: "%.2f ms" % (1000 * x)
cyc = lambda xs: "cycle mean %s max %s" % (ms(statistics.mean(xs)), ms(max(xs))) if xs else "no cycle seen"
print("%d series x 2016 points, %d page clients" % (series, clients))
print("/metrics without page load: p50 %s  p99 %s  max %s  (%d scrapes); %s"
      % (ms(pct(idle, 50)), ms(pct(idle, 99)), ms(max(idle)), len(idle), cyc(idle_cycles)))
print("/metrics with page load:    p50 %s  p99 %s  max %s  (%d scrapes); %s"
      % (ms(pct(loaded, 50)), ms(pct(loaded, 99)), ms(max(loaded)), len(loaded), cyc(loaded_cycles)))
print("page answers during the load: %s; a 200 took p50 %s p99 %s"
      % (", ".join("%s: %d" % kv for kv in sorted(counts.items(), key=str)),
         ms(pct(page_lat, 50)) if page_lat else "n/a", ms(pct(page_lat, 99)) if page_lat else "n/a"))
PY
