#!/usr/bin/env python3
"""False positives on pure noise: how often `anomaly_exporter backtest` flags a seasonal series that has
no anomaly at all, for one or more exporter binaries side by side in one run.

Each series is a daily sine (amplitude 10, hourly samples, period 24) plus Gaussian noise of sigma 1 and
nothing else, so every flag is a false positive and a calibrated z-score has sigma 1: P(|z| >= 3) should
be near 0.27% (two-sided normal tail). For each number of cycles of history K, the detector fits on K
days (--history) and scores the following 60 days sample by sample, exactly as the daemon would.

  usage: bench/false_positive_rate.py --bin OLD --bin NEW [--cycles 3,7,14,28] [--seeds 3] [-- flags]
  e.g.   bench/false_positive_rate.py --bin /tmp/old/anomaly_exporter --bin build/anomaly_exporter \
             -- --refit-interval=4h

Columns: robust sigma of z (1.4826 MAD; 1 is calibrated), share of samples with |z| >= 3, share flagged
(the defaults' threshold: the floor of 3 unless the learned percentile is higher), per binary and K.
"""
import argparse
import csv
import io
import math
import random
import statistics
import subprocess
import sys

PERIOD = 24
SCORED_DAYS = 60


def series(cycles, seed):
    rnd = random.Random(cycles * 1000 + seed)
    n = PERIOD * (cycles + SCORED_DAYS)
    rows = ["timestamp,value"]
    for i in range(n):
        rows.append(f"{i * 3600},{100 + 10 * math.sin(2 * math.pi * i / PERIOD) + rnd.gauss(0, 1):.6f}")
    return "\n".join(rows) + "\n"


def robust_sigma(x):
    m = statistics.median(x)
    return 1.4826 * statistics.median([abs(v - m) for v in x])


def measure(binary, cycles, seeds, flags):
    z, flagged = [], 0
    for seed in range(seeds):
        out = subprocess.run(
            [binary, "backtest", "--input=-", "--no-progress", "--seasonality=1d",
             f"--history={PERIOD * cycles}h", *flags],
            input=series(cycles, seed), capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"false_positive_rate: {binary} backtest failed: {out.stderr.strip()}")
        for r in csv.DictReader(io.StringIO(out.stdout)):
            # Score only once the full history is there (before it, a shorter fit or the baseline).
            if r["zscore"] and int(r["timestamp"]) >= PERIOD * cycles * 3600:
                z.append(float(r["zscore"]))
                flagged += r["flag"] == "1"
    return robust_sigma(z), sum(abs(v) >= 3 for v in z) / len(z), flagged / len(z), len(z)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", action="append", required=True, help="an anomaly_exporter binary (repeatable)")
    ap.add_argument("--cycles", default="3,7,14,28", help="days of history to try, comma-separated")
    ap.add_argument("--seeds", type=int, default=3, help="series per K")
    ap.add_argument("flags", nargs="*", help="extra backtest flags after --, the same for every run")
    args = ap.parse_args()
    print(f"{'binary':<40} {'K':>3} {'sigma(z)':>9} {'|z|>=3':>8} {'flagged':>8} {'samples':>8}")
    for cycles in (int(c) for c in args.cycles.split(",")):
        for binary in args.bin:
            sigma, beyond3, flagged, n = measure(binary, cycles, args.seeds, args.flags)
            print(f"{binary[-40:]:<40} {cycles:>3} {sigma:>9.3f} {100 * beyond3:>7.2f}% {100 * flagged:>7.2f}% {n:>8}")
    print("calibrated: sigma(z) 1.000, |z|>=3 0.27%")


if __name__ == "__main__":
    main()
