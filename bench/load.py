#!/usr/bin/env python3
"""Open-loop HTTP load on the exporter's read endpoints (bench/load_bench.sh drives it).

Requests go out on a fixed schedule (--rps in total, round-robin over --path), whether or not earlier
ones have answered; each latency is measured from the request's *scheduled* time, so a stalled server
shows up as latency instead of silently lowering the rate (no coordinated omission). A fixed pool of
--workers threads, each with one keep-alive connection, bounds the concurrency; a request that waits
for a free worker counts that wait as latency. Loopback only: --url must be 127.0.0.1 or localhost.

Every /metrics body is also read for anomaly_exporter_fit_duration_seconds_count, so the report can
compare latency in the seconds when refits ran with the other seconds (scrapes must never wait for a
cycle).

Prints, per path and overall: requests, errors, p50 / p99 / max latency in ms. Exit 0 always when the
run completed; judge the figures.
"""
import argparse
import base64
import http.client
import os
import queue
import re
import ssl
import sys
import threading
import time
import urllib.parse

FIT_COUNT = re.compile(rb"^anomaly_exporter_fit_duration_seconds_count\{[^}]*\} ([0-9.e+]+)$", re.M)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:9400")
    ap.add_argument("--path", action="append", help="path to drive (repeatable); default /metrics and "
                    "/api/v1/anomalies")
    ap.add_argument("--rps", type=float, default=200)
    ap.add_argument("--metrics-share", type=float, default=None,
                    help="fraction of the requests that go to /metrics, the rest to the other paths in turn "
                    "(default: all paths in turn)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--cacert", help="CA to verify the server's certificate (https)")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip, as Prometheus does")
    args = ap.parse_args()
    paths = args.path or ["/metrics", "/api/v1/anomalies"]
    url = urllib.parse.urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("load.py drives loopback only; got " + str(url.hostname))
    headers = {"Connection": "keep-alive"}
    if args.gzip:
        headers["Accept-Encoding"] = "gzip"
    if args.user is not None:
        token = base64.b64encode(f"{args.user}:{args.password or ''}".encode()).decode()
        headers["Authorization"] = "Basic " + token
    context = None
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=args.cacert)

    def connect():
        if url.scheme == "https":
            return http.client.HTTPSConnection(url.hostname, url.port, timeout=args.timeout, context=context)
        return http.client.HTTPConnection(url.hostname, url.port, timeout=args.timeout)

    todo = queue.Queue()
    results = []  # (path, scheduled, latency_s, error or None, fit_count or None)
    lock = threading.Lock()

    def worker():
        conn = connect()
        while True:
            item = todo.get()
            if item is None:
                return
            path, scheduled = item
            error, fits = None, None
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    error = f"HTTP {resp.status}"
                elif path.startswith("/metrics") and not args.gzip:
                    fits = sum(float(m) for m in FIT_COUNT.findall(body))
            except Exception as e:  # noqa: BLE001 - every failure is a counted error
                error = type(e).__name__
                conn.close()
                conn = connect()
            latency = time.monotonic() - scheduled
            with lock:
                results.append((path, scheduled, latency, error, fits))

    others = [p for p in paths if not p.startswith("/metrics")]

    def pick(i):
        if args.metrics_share is None or not others:
            return paths[i % len(paths)]
        share = args.metrics_share
        if int((i + 1) * share) > int(i * share):
            return "/metrics"
        return others[i % len(others)]

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    total = int(args.rps * args.seconds)
    start = time.monotonic() + 0.5
    for i in range(total):
        scheduled = start + i / args.rps
        delay = scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        todo.put((pick(i), scheduled))
    for _ in threads:
        todo.put(None)
    deadline = time.monotonic() + args.timeout + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    with lock:
        done = list(results)

    def report(name, rows):
        lat = sorted(r[2] * 1000 for r in rows if r[3] is None)
        errors = sum(1 for r in rows if r[3] is not None)
        print(f"{name:<22} requests {len(rows):>6}  errors {errors:>4}  p50 {percentile(lat, 50):7.2f} ms  "
              f"p99 {percentile(lat, 99):7.2f} ms  max {max(lat) if lat else float('nan'):7.2f} ms")
        return errors

    share = "" if args.metrics_share is None else f", {args.metrics_share:g} of them to /metrics"
    print(f"open loop: {args.rps:g} req/s for {args.seconds:g} s over {', '.join(paths)}{share} "
          f"({args.workers} workers, {url.scheme}{', basic auth' if args.user else ''})")
    for path in paths:
        report(path, [r for r in done if r[0] == path])
    errors = report("overall", done)
    missing = total - len(done)
    if missing:
        print(f"unanswered at the end: {missing} (counted as errors)")
    kinds = {}
    for r in done:
        if r[3] is not None:
            kinds[r[3]] = kinds.get(r[3], 0) + 1
    if kinds:
        print("errors by kind: " + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))

    # Seconds in which the fit count rose (a refit ran) against the others.
    fit_points = sorted((r[1], r[4]) for r in done if r[4] is not None)
    refit_seconds = set()
    for (t0, c0), (t1, c1) in zip(fit_points, fit_points[1:]):
        if c1 > c0:
            refit_seconds.update(range(int(t0 - start), int(t1 - start) + 1))
    if refit_seconds:
        during = sorted(r[2] * 1000 for r in done if r[3] is None and int(r[1] - start) in refit_seconds)
        other = sorted(r[2] * 1000 for r in done if r[3] is None and int(r[1] - start) not in refit_seconds)
        print(f"during refits ({len(refit_seconds)} s): p99 {percentile(during, 99):.2f} ms over {len(during)} "
              f"requests; other seconds: p99 {percentile(other, 99):.2f} ms over {len(other)}")
    else:
        print("no refit seen during the run (fit count unchanged or not read)")
    t = os.times()
    print(f"load client CPU: {t.user + t.system:.1f} s")
    print(f"RESULT errors={errors + missing}")


if __name__ == "__main__":
    main()
