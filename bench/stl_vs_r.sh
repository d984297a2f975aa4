#!/usr/bin/env bash
# Times R's stl() and our Stl side by side, in one run, on the same data, and prints the ratio per case.
#   bench/stl_vs_r.sh [build-dir]      (default: build; needs build/anomaly_bench, Rscript, python3)
# Both sides measure process CPU time per call (R: proc.time() user+sys over a batch of >= 0.1 s; ours:
# Google Benchmark's cpu_time), median of 11 samples, cases interleaved so both see the same machine load.
# Both use R's defaults with s.window = 7 (STL.md Table 1). The data are the shared reference series
# (shared/reference/stl/*/r_s7.csv, column `value`) when present, otherwise a synthetic series made here.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
bench="$build/anomaly_bench"
[[ -x "$bench" ]] || { echo "error: $bench not found; build the anomaly_bench target first" >&2; exit 1; }
command -v Rscript >/dev/null || { echo "error: Rscript not found" >&2; exit 1; }
shared=${ANOMALY_SHARED_DIR:-$repo/../shared}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# n period reference-folder
cases=("2016 288 synth_n2016_p288" "10080 1440 synth_n10080_p1440" "1440 60 synth_n1440_p60")

for c in "${cases[@]}"; do
  read -r n period folder <<<"$c"
  out="$data/stl_n${n}_p${period}.txt"
  ref="$shared/reference/stl/$folder/r_s7.csv"
  if [[ -r "$ref" ]]; then
    python3 -c 'import csv,sys; r=csv.DictReader(open(sys.argv[1])); print("\n".join(row["value"] for row in r))' \
      "$ref" >"$out"
  else
    Rscript -e "set.seed($n); t <- 0:($n-1); writeLines(format(50 + 0.005*t + 10*sin(2*pi*t/$period) + rnorm($n), digits=17), '$out')"
  fi
done

r_time_us() {  # file period robust -> median microseconds per stl() call
  Rscript - "$1" "$2" "$3" <<'REOF'
args <- commandArgs(trailingOnly = TRUE)
x <- ts(scan(args[1], quiet = TRUE), frequency = as.integer(args[2]))
robust <- as.logical(as.integer(args[3]))
f <- function() stl(x, s.window = 7, robust = robust)
cpu <- function(reps) { t0 <- proc.time(); for (i in seq_len(reps)) f(); d <- proc.time() - t0
  d[["user.self"]] + d[["sys.self"]] }
reps <- 1
while (cpu(reps) < 0.1) reps <- reps * 2
samples <- replicate(11, cpu(reps) / reps)
cat(sprintf("%.3f\n", median(samples) * 1e6))
REOF
}

ours_time_us() {  # n period robust -> median microseconds per Stl call
  ANOMALY_STL_BENCH_DATA="$data" "$bench" \
    --benchmark_filter="^BM_Stl/n:$1/period:$2/robust:$3\$" --benchmark_repetitions=11 \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.1 --benchmark_format=json 2>/dev/null |
    python3 -c '
import json, sys
runs = [b for b in json.load(sys.stdin)["benchmarks"] if b.get("aggregate_name") == "median"]
b = runs[0]
scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
print("%.3f" % (b["cpu_time"] * scale))'
}

printf '%-7s %-7s %-7s %14s %14s %10s\n' n period robust "R stl() us" "anomaly us" "R / ours"
for c in "${cases[@]}"; do
  read -r n period _ <<<"$c"
  for robust in 0 1; do
    r=$(r_time_us "$data/stl_n${n}_p${period}.txt" "$period" "$robust")
    ours=$(ours_time_us "$n" "$period" "$robust")
    ratio=$(python3 -c "print('%.1fx' % ($r / $ours))")
    printf '%-7s %-7s %-7s %14s %14s %10s\n' "$n" "$period" "$robust" "$r" "$ours" "$ratio"
  done
done
