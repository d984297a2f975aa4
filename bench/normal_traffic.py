#!/usr/bin/env python3
"""False alarms on normal service traffic: flag onsets per 1,000 series-days of `anomaly_exporter backtest`
with its default settings, on generated traffic with nothing injected, so every onset is a false alarm.

Each series is one of four kinds SRE teams alert on, at 1-minute steps, with a daily and a weekly shape
(quieter nights and weekends, a lunchtime bump), a slow trend of up to +-20% over the span, and noise that
grows with the level, as real traffic does:
  requests   Poisson counts per minute, mean 20..2000 at the daily peak
  errors     low Poisson counts, mean 0.2..5 at the peak (mostly 0, 1, 2)
  ratio      errors / requests of one service (binomial, spiky when traffic is low)
  latency    a p99 in seconds, log-normal around a level that rises with the load
History (--history, default the daemon's) is followed by --days of scored samples (default 30), as the
daemon's first cycle would see it (--from): the onsets counted are those of the scored span.

  usage: bench/normal_traffic.py [--bin PATH]... [--seeds N] [--days D] [--jobs J] [-- backtest flags]
  e.g.   bench/normal_traffic.py --bin /tmp/old/anomaly_exporter --bin build/anomaly_exporter --seeds 8

Prints, per binary and kind, series-days scored, flag onsets, onsets per 1,000 series-days and the share of
scored samples flagged; then the total. The target (docs/detection.md) is at most 1 onset per 1,000.
"""
import argparse
import concurrent.futures
import csv
import io
import math
import os
import random
import subprocess
import sys

STEP = 60
KINDS = ("requests", "errors", "ratio", "latency")


def shape(t, rnd_phase):
    """Relative load in (0, 1.2]: daily cycle with a lunchtime bump, weekends at 60%."""
    day = (t % 86400) / 86400.0
    weekday = int(t // 86400 + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    daily = 0.55 + 0.45 * math.sin(2 * math.pi * (day - 0.25 + rnd_phase))
    lunch = 0.12 * math.exp(-((day - 0.52) ** 2) / (2 * 0.03 ** 2))
    weekly = 0.6 if weekday >= 5 else 1.0
    return max(0.02, (daily + lunch) * weekly)


def poisson(rnd, lam):
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rnd.random()
            if p <= limit:
                return k
            k += 1
    return max(0, int(round(rnd.gauss(lam, math.sqrt(lam)))))


def series(kind, seed, days, start):
    rnd = random.Random(f"{kind}-{seed}")
    phase = rnd.uniform(-0.05, 0.05)
    trend = rnd.uniform(-0.2, 0.2)
    peak_requests = math.exp(rnd.uniform(math.log(20), math.log(2000)))
    peak_errors = math.exp(rnd.uniform(math.log(0.2), math.log(5)))
    error_share = rnd.uniform(0.001, 0.02)
    base_latency = rnd.uniform(0.05, 0.8)
    n = int(days * 86400 // STEP)
    out = io.StringIO()
    out.write("timestamp,value\n")
    for i in range(n):
        t = start + i * STEP
        load = shape(t, phase) * (1 + trend * i / n)
        if kind == "requests":
            v = poisson(rnd, peak_requests * load)
        elif kind == "errors":
            v = poisson(rnd, peak_errors * load)
        elif kind == "ratio":
            req = poisson(rnd, peak_requests * load)
            err = sum(1 for _ in range(req) if rnd.random() < error_share) if req < 200 else \
                poisson(rnd, req * error_share)
            v = err / req if req > 0 else 0.0
        else:
            v = base_latency * (1 + 0.5 * load) * math.exp(rnd.gauss(0, 0.15))
        out.write(f"{t},{v:.6g}\n")
    return out.getvalue()


def run_one(binary, kind, seed, history_days, days, flags):
    start = 1_700_000_000 // 86400 * 86400
    text = series(kind, seed, history_days + days, start)
    scored_from = start + history_days * 86400
    # --from: the history is the first cycle's, taken at once and seeded from one fit, as a freshly started
    # daemon sees it (without it the model and calibration grow from the first row, as for a new series).
    proc = subprocess.run([binary, "backtest", "--input=-", "--no-progress", "--step=1m",
                           f"--history={history_days}d", f"--from={scored_from}", *flags],
                          input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{binary} {kind} seed {seed}: exit {proc.returncode}: {proc.stderr.strip()}")
    onsets = flagged = scored = 0
    prev = False
    for row in csv.DictReader(io.StringIO(proc.stdout)):
        t = float(row["timestamp"])
        flag = row["flag"] == "1"
        if t >= scored_from and row["state"] == "ok":
            scored += 1
            flagged += flag
            onsets += flag and not prev
        prev = flag
    return kind, onsets, flagged, scored


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", help="exporter binary (repeat to compare; default build/)")
    ap.add_argument("--seeds", type=int, default=12,
                    help="series per kind (default 12: with 6, one lucky draw read 2.8 where 12 read 8.3)")
    ap.add_argument("--days", type=int, default=30, help="days scored per series (default 30)")
    ap.add_argument("--history", type=int, default=7, help="days of history before them (default 7)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("flags", nargs="*", help="extra backtest flags, after --")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binaries = a.bin or [os.path.join(root, "build", "anomaly_exporter")]
    print(f"normal traffic, 1m steps, {a.history}d history + {a.days}d scored, {a.seeds} seeds x "
          f"{len(KINDS)} kinds; flags: {' '.join(a.flags) or '(defaults)'}")
    for binary in binaries:
        totals = {k: [0, 0, 0] for k in KINDS}
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            jobs = [pool.submit(run_one, binary, k, s, a.history, a.days, a.flags)
                    for k in KINDS for s in range(a.seeds)]
            for j in jobs:
                kind, onsets, flagged, scored = j.result()
                totals[kind][0] += onsets
                totals[kind][1] += flagged
                totals[kind][2] += scored
        print(f"\n{binary}")
        print(f"{'kind':10} {'series-days':>11} {'onsets':>7} {'per 1000 s-d':>13} {'flagged %':>10}")
        all_onsets = all_days = all_flagged = all_scored = 0
        for k in KINDS:
            onsets, flagged, scored = totals[k]
            sd = scored * STEP / 86400
            all_onsets += onsets
            all_days += sd
            all_flagged += flagged
            all_scored += scored
            print(f"{k:10} {sd:11.0f} {onsets:7d} {1000 * onsets / max(sd, 1e-9):13.2f} "
                  f"{100 * flagged / max(scored, 1):10.4f}")
        print(f"{'total':10} {all_days:11.0f} {all_onsets:7d} {1000 * all_onsets / max(all_days, 1e-9):13.2f} "
              f"{100 * all_flagged / max(all_scored, 1):10.4f}")


if __name__ == "__main__":
    sys.exit(main())
