#!/usr/bin/env python3
"""OpenMetrics backfill for the benches: N series `bench_load{series="s00000"}` x 2,016 points (7 days at
5m), a daily sine per series plus 3% noise, newest sample 5 minutes before now. bench/bench_lib.sh
(start_bench_prometheus) runs it for bench/cycle_bench.sh and bench/load_bench.sh.

Usage: bench_series.py N OUT.om
"""
import math
import random
import sys
import time


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    end = int(time.time()) // 300 * 300 - 300
    rng = random.Random(1)
    with open(out, "w") as f:
        f.write("# TYPE bench_load gauge\n")
        for i in range(n):
            base, amp, phase = 50 + i % 100, 0.3 + (i % 7) / 20, (i % 24) / 24
            lines = []
            for k in range(2016):
                t = end - (2015 - k) * 300
                v = base * (1 + amp * math.sin(2 * math.pi * (t / 86400 + phase))) + rng.gauss(0, base * 0.03)
                lines.append(f'bench_load{{series="s{i:05d}"}} {v:.4f} {t}\n')
            f.writelines(lines)
        f.write("# EOF\n")


if __name__ == "__main__":
    main()
