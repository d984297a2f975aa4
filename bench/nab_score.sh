#!/usr/bin/env bash
# Detection quality on labelled real data: runs `anomaly_exporter backtest --format nab` over every CSV of
# the NAB development set (../shared/datasets/nab: artificialNoAnomaly, artificialWithAnomaly,
# realAWSCloudwatch, realAdExchange, realTweets: 44 files; read in place, never copied) with ONE set of
# parameters for every file, the daemon's defaults unless flags follow "--", then scores the results with
# ../shared/tools/nab_score.py and prints the NAB score per profile and group. About a minute; not in
# `make test`.
#   usage: bench/nab_score.sh [--bin PATH] [--keep DIR] [-- extra backtest flags, the same for every file]
#   e.g.   bench/nab_score.sh --bin build-bt/anomaly_exporter -- --seasonality=auto
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/anomaly_exporter"
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "nab_score: unknown argument $1" >&2; exit 2 ;;
  esac
done
nab="${NAB_DIR:-$root/../shared/datasets/nab}"
scorer="${NAB_SCORER:-$root/../shared/tools/nab_score.py}"
[ -x "$bin" ] || { echo "nab_score: no exporter binary at $bin (--bin PATH)" >&2; exit 2; }
[ -d "$nab" ] || { echo "nab_score: no NAB data at $nab" >&2; exit 2; }

if [ -n "$keep" ]; then
  out=$keep
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

start=$(date +%s)
for group in artificialNoAnomaly artificialWithAnomaly realAWSCloudwatch realAdExchange realTweets; do
  mkdir -p "$out/$group"
  for f in "$nab/$group"/*.csv; do
    # What NAB scores is the daemon's own anomaly_flag: its onsets, valued by their calibrated score.
    "$bin" backtest --no-progress --input "$f" --format nab --output "$out/$group/$(basename "$f")" "$@" \
      2> >(grep -v "seasonality auto chose\|got no verdict" >&2 || true)
  done
done
echo "backtest of $(find "$out" -name '*.csv' | wc -l) files: $(( $(date +%s) - start ))s; flags: ${*:-(defaults)}"
"${PYTHON:-/usr/bin/python3}" "$scorer" "$out" --windows "$nab/labels/combined_windows.json" --data-dir "$nab"
