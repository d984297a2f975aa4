#!/usr/bin/env bash
# Interim `make demo` (issue #2): until the daemon exists, run the `stl` command on a generated
# seasonal series with injected incidents and show the samples with the largest robust score.
# Usage: scripts/demo.sh BUILD_DIR. Writes demo-data/stl/{series.csv,decomposition.csv}.
set -euo pipefail

build_dir=${1:?usage: scripts/demo.sh BUILD_DIR}
binary="$build_dir/anomaly_exporter"
root=$(cd "$(dirname "$0")/.." && pwd)
out_dir="$root/demo-data/stl"

if [[ ! -x "$binary" ]]; then
  echo "demo: $binary not found; build it first (make demo does)" >&2
  exit 1
fi
mkdir -p "$out_dir"

# 7 days at 5-minute steps (period 288 = one day): a daily cycle with a second harmonic, a slow upward
# trend, Gaussian noise, and three incidents. Fixed seed, so every run shows the same numbers.
python3 - "$out_dir/series.csv" "$out_dir/incidents.csv" <<'PY'
import datetime, math, random, sys
random.seed(7)
start = datetime.datetime(2024, 3, 4)  # a Monday, 00:00 UTC
step = datetime.timedelta(minutes=5)
incidents = {  # sample index -> (added value, label)
    3 * 288 + 14 * 12: (+70.0, "spike +70"),
    5 * 288 + 3 * 12: (-45.0, "dip -45"),
}
incidents.update({6 * 288 + 20 * 12 + k: (+30.0, "surge +30 for 30 minutes") for k in range(6)})
with open(sys.argv[1], "w") as f:
    f.write("timestamp,requests_per_second\n")
    for i in range(7 * 288):
        phase = 2 * math.pi * (i % 288) / 288
        value = 200 + 0.01 * i + 80 * math.sin(phase - math.pi / 2) + 15 * math.sin(2 * phase)
        value += random.gauss(0, 4) + incidents.get(i, (0.0, ""))[0]
        f.write(f"{(start + i * step):%Y-%m-%d %H:%M:%S},{value:.3f}\n")
with open(sys.argv[2], "w") as f:
    f.write("timestamp,incident\n")
    for i, (_, label) in sorted(incidents.items()):
        f.write(f"{(start + i * step).replace(tzinfo=datetime.timezone.utc).timestamp():.0f},{label}\n")
PY

cmd=("$binary" stl --period 288 --seasonal 7 --robust --input "$out_dir/series.csv")
echo "\$ ${cmd[*]} > $out_dir/decomposition.csv"
"${cmd[@]}" > "$out_dir/decomposition.csv"

# Robust score of each remainder: (r - median) / (1.4826 * MAD), as the exporter scores samples.
python3 - "$out_dir/decomposition.csv" "$out_dir/incidents.csv" <<'PY'
import csv, datetime, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
injected = {float(r["timestamp"]): r["incident"] for r in csv.DictReader(open(sys.argv[2]))}
rem = [float(r["remainder"]) for r in rows]
med = statistics.median(rem)
mad = 1.4826 * statistics.median(abs(x - med) for x in rem)
print(f"\n{len(rows)} samples decomposed; remainder median {med:.3f}, robust sigma (1.4826 x MAD) {mad:.3f}")
print("The 12 samples with the largest |score| (score = (remainder - median) / robust sigma):\n")
print(f"{'time (UTC)':<20} {'value':>9} {'expected':>9} {'remainder':>10} {'score':>7} {'weight':>7}  injected")
scored = sorted(rows, key=lambda r: -abs((float(r["remainder"]) - med) / mad))
for r in scored[:12]:
    t = datetime.datetime.fromtimestamp(float(r["timestamp"]), datetime.timezone.utc)
    expected = float(r["seasonal"]) + float(r["trend"])
    score = (float(r["remainder"]) - med) / mad
    print(f"{t:%Y-%m-%d %H:%M}     {float(r['value']):9.2f} {expected:9.2f} {float(r['remainder']):10.2f}"
          f" {score:7.1f} {float(r['weight']):7.3f}  {injected.get(float(r['timestamp']), '')}")
flagged = [r for r in rows if abs((float(r["remainder"]) - med) / mad) >= 4]
hits = sum(1 for r in flagged if float(r["timestamp"]) in injected)
print(f"\n|score| >= 4: {len(flagged)} of {len(rows)} samples, {hits} of the {len(injected)} injected ones among them."
      f"\nFull output: {sys.argv[1]}")
PY
