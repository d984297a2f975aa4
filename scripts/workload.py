#!/usr/bin/env python3
"""Seasonal demo workload with injected incidents, for `make demo` and the integration tests.

The same deterministic function of (series, time) feeds every mode, so history and live data join:
  backfill  writes OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`
  serve     serves /metrics with the current values, for Prometheus to scrape live
  truth     prints the noise-free values at a time, so tests can judge a model's expected values
backfill and serve write the incident schedule as JSON with --incidents-out, so tests know what must
be flagged.

Series: demo_http_requests_per_second{service} (daily seasonality; weekly too with --weekly) and
demo_http_request_duration_seconds{service} (daily seasonality). Incidents multiply or add to the
normal value over a time range; `serve` can start one a given number of seconds after start-up.
"""
import argparse
import hashlib
import http.server
import json
import math
import random
import sys
import threading
import time

SERVICES = {
    # name: (base requests/s, daily amplitude ratio, noise ratio)
    "checkout": (120.0, 0.6, 0.04),
    "search": (400.0, 0.5, 0.04),
    "login": (60.0, 0.7, 0.05),
    "catalog": (250.0, 0.4, 0.04),
}
DAY = 86400.0
WEEK = 7 * DAY


def noise(series, t, sigma):
    """Gaussian noise that depends only on (series, t rounded to the second): reproducible anywhere."""
    h = hashlib.blake2b(f"{series}@{int(t)}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(h, "little")).gauss(0.0, sigma)


WEEKLY = False  # --weekly: weekends at 75% (then fit with seasonality [1d, 1w] and >= 2 weeks of history)


def truth(metric, service, t):
    """The normal value without its noise: what a perfect model would expect."""
    base, amp, _ = SERVICES[service]
    phase = 2 * math.pi * ((t % DAY) / DAY)
    daily = 1.0 + amp * math.sin(phase - math.pi / 2) + 0.15 * amp * math.sin(2 * phase)
    weekday = 1.0
    if WEEKLY and (int(t // DAY) + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
        weekday = 0.75
    rps = base * daily * weekday
    if metric == "demo_http_requests_per_second":
        return rps
    # Latency grows mildly with load.
    return 0.080 + 0.040 * (rps / base) / (1.0 + amp)


def normal_value(metric, service, t):
    return truth(metric, service, t) * (1.0 + noise(metric + service, t, SERVICES[service][2]))


class Incident:
    def __init__(self, metric, service, start, duration, kind, size):
        self.metric, self.service, self.start, self.duration = metric, service, start, duration
        self.kind, self.size = kind, size  # kind: "scale" (multiply) or "add"

    def applies(self, metric, service, t):
        return metric == self.metric and service == self.service and self.start <= t < self.start + self.duration

    def apply(self, v):
        return v * self.size if self.kind == "scale" else v + self.size

    def as_dict(self):
        return {"metric": self.metric, "service": self.service, "start": self.start,
                "end": self.start + self.duration, "kind": self.kind, "size": self.size}


def history_incidents(end):
    """Past incidents, placed relative to the end of the history so every run has the same shape."""
    R, L = "demo_http_requests_per_second", "demo_http_request_duration_seconds"
    return [
        Incident(R, "checkout", end - 5 * DAY + 3 * 3600, 20 * 60, "scale", 2.5),
        Incident(R, "search", end - 3 * DAY + 14 * 3600, 30 * 60, "scale", 0.3),
        Incident(L, "login", end - 2 * DAY + 9 * 3600, 15 * 60, "scale", 4.0),
    ]


def live_incidents(start, after, duration):
    R, L = "demo_http_requests_per_second", "demo_http_request_duration_seconds"
    t0 = start + after
    return [
        Incident(R, "checkout", t0, duration, "scale", 3.0),   # traffic surge
        Incident(L, "search", t0, duration, "scale", 5.0),     # latency spike
    ]


def value(metric, service, t, incidents):
    v = normal_value(metric, service, t)
    for inc in incidents:
        if inc.applies(metric, service, t):
            v = inc.apply(v)
    return max(v, 0.0)


METRICS = {
    "demo_http_requests_per_second": "Requests per second served, by service (demo workload).",
    "demo_http_request_duration_seconds": "Mean request duration in seconds, by service (demo workload).",
}


def cmd_backfill(args):
    end = int(args.end if args.end else time.time() - 60)
    start = end - int(args.days * DAY)
    incidents = history_incidents(end) if not args.no_incidents else []
    if args.recent_incident > 0:
        # The same incidents `serve` starts live, placed over the newest minutes of the history.
        incidents += live_incidents(end - args.recent_incident * 60 + 1, 0, args.recent_incident * 60)
    out = open(args.out, "w") if args.out != "-" else sys.stdout
    for metric, help_text in METRICS.items():
        out.write(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n")
        for service in SERVICES:
            for t in range(start - start % args.step, end + 1, args.step):
                out.write(f'{metric}{{service="{service}"}} {value(metric, service, t, incidents):.6g} {t}\n')
    out.write("# EOF\n")
    if out is not sys.stdout:
        out.close()
    if args.incidents_out:
        with open(args.incidents_out, "w") as f:
            json.dump([i.as_dict() for i in incidents], f, indent=1)


def cmd_serve(args):
    started = time.time()
    incidents = live_incidents(started, args.incident_after, args.incident_duration)
    if args.incidents_out:
        with open(args.incidents_out, "w") as f:
            json.dump([i.as_dict() for i in incidents], f, indent=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            now = time.time()
            lines = []
            for metric, help_text in METRICS.items():
                lines.append(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n")
                for service in SERVICES:
                    lines.append(f'{metric}{{service="{service}"}} {value(metric, service, now, incidents):.6g}\n')
            body = "".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"workload: serving on http://{args.host}:{server.server_port}/metrics", flush=True)
    if args.max_seconds > 0:
        threading.Timer(args.max_seconds, server.shutdown).start()
    server.serve_forever()


def cmd_truth(args):
    t = int(args.at)
    json.dump({m: {s: truth(m, s, t) for s in SERVICES} for m in METRICS}, sys.stdout)
    sys.stdout.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backfill", help="write OpenMetrics history")
    b.add_argument("--days", type=float, default=7)
    b.add_argument("--step", type=int, default=60, help="seconds between samples")
    b.add_argument("--end", type=float, default=0, help="unix seconds of the last sample (default: now-60)")
    b.add_argument("--out", default="-")
    b.add_argument("--no-incidents", action="store_true")
    b.add_argument("--incidents-out", default="")
    b.add_argument("--recent-incident", type=float, default=0,
                   help="also inject the live incidents over the last N minutes of the history")
    s = sub.add_parser("serve", help="serve live values on /metrics")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--incident-after", type=float, default=120, help="seconds after start")
    s.add_argument("--incident-duration", type=float, default=900)
    s.add_argument("--incidents-out", default="")
    s.add_argument("--max-seconds", type=float, default=0, help="stop by itself after this long (0: never)")
    tr = sub.add_parser("truth", help="print the noise-free normal values at a time, as JSON")
    tr.add_argument("--at", type=float, required=True, help="unix seconds")
    for sp in (b, s, tr):
        sp.add_argument("--weekly", action="store_true", help="add a weekly pattern (weekends at 75%%)")
    args = p.parse_args()
    global WEEKLY
    WEEKLY = args.weekly
    {"backfill": cmd_backfill, "serve": cmd_serve, "truth": cmd_truth}[args.cmd](args)


if __name__ == "__main__":
    main()
