#!/usr/bin/env python3
"""Bench data: N series `bench_load{series="s00000"}`, a daily sine per series plus 3% noise.

  bench_series.py N OUT.om [STEP_SECONDS [POINTS]]
      OpenMetrics backfill of POINTS points per series at STEP_SECONDS (defaults 300 and 2,016: 7 days at
      5m), the newest one step before now. bench/bench_lib.sh (start_bench_prometheus) runs it for the
      cycle, load and scale benches.
  bench_series.py --serve PORT_FILE N
      A scrape target serving the same N series' values at the time of each scrape, so that a Prometheus
      holding the backfill keeps receiving live samples (bench/scale_bench.sh). Binds 127.0.0.1:0 and
      writes the port to PORT_FILE.
"""
import math
import os
import random
import sys
import time


def shape(i):
    return 50 + i % 100, 0.3 + (i % 7) / 20, (i % 24) / 24  # base, daily amplitude, phase


def value(i, t, rng):
    base, amp, phase = shape(i)
    return base * (1 + amp * math.sin(2 * math.pi * (t / 86400 + phase))) + rng.gauss(0, base * 0.03)


def backfill(n, out, step, points):
    end = int(time.time()) // step * step - step
    rng = random.Random(1)
    with open(out, "w") as f:
        f.write("# TYPE bench_load gauge\n")
        for i in range(n):
            f.writelines(f'bench_load{{series="s{i:05d}"}} {value(i, t, rng):.4f} {t}\n'
                         for t in (end - (points - 1 - k) * step for k in range(points)))
        f.write("# EOF\n")


def serve(port_file, n):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
    from http.server import BaseHTTPRequestHandler
    from loopback_server import serve_forever_on_free_port

    rng = random.Random(2)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            t = time.time()
            body = "".join([f'bench_load{{series="s{i:05d}"}} {value(i, t, rng):.4f}\n' for i in range(n)])
            body = ("# TYPE bench_load gauge\n" + body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    serve_forever_on_free_port(Handler, port_file)


def main():
    if sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    n, out = int(sys.argv[1]), sys.argv[2]
    step = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 2016
    backfill(n, out, step, points)


if __name__ == "__main__":
    main()
