#!/usr/bin/env bash
# The score API next to scrapes (issue 18): /metrics latency p50/p99 while POST /api/v1/score is hammered
# at its concurrency limit, side by side with the same probe without that load, in one run on one daemon.
# The daemon's upstream is an address nobody listens on, so /metrics holds the self-metrics only: what is
# measured is how much the scoring work (on its own pool) and the refused requests slow a scrape down.
#   usage: bench/score_api_bench.sh [BUILD_DIR]   (default build; not part of make test)
# Environment: DURATION (seconds each phase probes /metrics, 30), RATE (scrapes per second, 10), CONCURRENCY
# (--web.score-concurrency, 1), CLIENTS (score clients, CONCURRENCY + 2: the extra ones get 429 and retry
# at once, the worst case), BODY (the CSV POSTed; default NAB's Twitter_volume_AAPL.csv, 15,902 rows at 5 minutes),
# SETTINGS (query parameters, seasonality=1d).
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-30}
rate=${RATE:-10}
concurrency=${CONCURRENCY:-1}
clients=${CLIENTS:-$((concurrency + 2))}
body=${BODY:-$root/../shared/datasets/nab/realTweets/Twitter_volume_AAPL.csv}
settings=${SETTINGS:-seasonality=1d}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'prometheus:\n  url: http://127.0.0.1:9\ndetectors:\n  - name: d\n    query: up\n    step: 1m\n' > "$work/config.yml"
"$build/anomaly_exporter" --config.file="$work/config.yml" --web.listen-address="127.0.0.1:$port" \
  --web.score-concurrency="$concurrency" --log.level=error > "$work/exporter.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/-/healthy" > /dev/null && break; sleep 0.1; done
python3 - "$port" "$duration" "$rate" "$clients" "$body" "$settings" "$concurrency" <<'PY'
import http.client, statistics, sys, threading, time
port, duration, rate, clients, body_file, settings, concurrency = sys.argv[1:]
port, duration, rate, clients = int(port), float(duration), float(rate), int(clients)
body = open(body_file, "rb").read()

def scrape_latencies():
    out, interval = [], 1.0 / rate
    end = time.monotonic() + duration
    while time.monotonic() < end:
        start = time.monotonic()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a new connection per scrape
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        c.close()
        out.append(time.monotonic() - start)
        time.sleep(max(0.0, interval - (time.monotonic() - start)))
    return out

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]

stop = threading.Event()
counts, scored = {}, []
lock = threading.Lock()
def hammer():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        start = time.monotonic()
        try:
            c.request("POST", "/api/v1/score?" + settings, body, {"Content-Type": "text/csv", "Accept": "text/csv"})
            r = c.getresponse()
            r.read()
            status = r.status
            if r.getheader("Connection", "").lower() == "close":
                c.close()
        except Exception:
            status = "error"
            c.close()
        with lock:
            counts[status] = counts.get(status, 0) + 1
            if status == 200:
                scored.append(time.monotonic() - start)

idle = scrape_latencies()
threads = [threading.Thread(target=hammer) for _ in range(clients)]
for t in threads:
    t.start()
time.sleep(1)  # the pool is busy before the probe starts
loaded = scrape_latencies()
stop.set()
for t in threads:
    t.join()
ms = lambda x: "%.2f ms" % (1000 * x)
print("body: %s (%d bytes), settings: %s, --web.score-concurrency=%s, %d score clients"
      % (body_file.split("/")[-1], len(body), settings, concurrency, clients))
print("/metrics without score load: p50 %s  p99 %s  max %s  (%d scrapes)" % (ms(pct(idle, 50)), ms(pct(idle, 99)), ms(max(idle)), len(idle)))
print("/metrics with score load:    p50 %s  p99 %s  max %s  (%d scrapes)" % (ms(pct(loaded, 50)), ms(pct(loaded, 99)), ms(max(loaded)), len(loaded)))
print("score answers during the load: %s; a scored request took p50 %s"
      % (", ".join("%s: %d" % kv for kv in sorted(counts.items(), key=str)), ms(statistics.median(scored)) if scored else "n/a"))
PY
