#!/usr/bin/env python3
"""Writes SMD machines (../shared/datasets/smd) as the backtest's wide CSV, read in place, never copied into
the project: OUT/<machine>.csv = timestamp,1,...,38 over train then test (row i of train at T0 + 60 i,
test continuing; the columns are named by their 1-based numbers, the names the interpretation labels use,
since event_score.py matches `top` against them literally: named m1..m38 as the dataset's README suggests,
no contributor ever matched), and OUT/truth/<machine>.csv = timestamp,label over the test rows, as event_score.py takes
them. Prints, per machine, the first test timestamp (the backtest's --from).

usage: bench/smd_to_csv.py SMD_DIR OUT_DIR [machine ...]
"""
import gzip
import json
import os
import sys

T0 = 1672531200  # 2023-01-01 00:00:00 UTC, a Sunday midnight: SMD rows have no times of their own


def rows(path):
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if line:
                yield line


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    smd, out = sys.argv[1], sys.argv[2]
    machines = sys.argv[3:] or sorted(json.load(open(os.path.join(smd, "index.json"))))
    os.makedirs(os.path.join(out, "truth"), exist_ok=True)
    for m in machines:
        train = list(rows(os.path.join(smd, "train", m + ".txt.gz")))
        test = list(rows(os.path.join(smd, "test", m + ".txt.gz")))
        labels = [l.strip() for l in open(os.path.join(smd, "test_label", m + ".txt")) if l.strip()]
        if len(labels) != len(test):
            sys.exit(f"{m}: {len(labels)} labels for {len(test)} test rows")
        dims = len(train[0].split(","))
        with open(os.path.join(out, m + ".csv"), "w") as f:
            f.write("timestamp," + ",".join(str(j + 1) for j in range(dims)) + "\n")
            for i, line in enumerate(train + test):
                f.write(f"{T0 + 60 * i},{line}\n")
        start = T0 + 60 * len(train)
        with open(os.path.join(out, "truth", m + ".csv"), "w") as f:
            f.write("timestamp,label\n")
            for i, label in enumerate(labels):
                f.write(f"{start + 60 * i},{label}\n")
        print(m, start)


if __name__ == "__main__":
    main()
