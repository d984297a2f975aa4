#!/usr/bin/env bash
# Detection quality of groups of series (kind: multivariate) on the SMD development machines
# (../shared/datasets/smd: 7 servers, 38 metrics each, 1-minute steps, read in place, never copied into
# the project): writes each machine as a wide CSV (bench/smd_to_csv.py) in a temporary folder, backtests
# it as ONE group with the daemon's defaults (the first half, unlabelled, is the history taken at once as
# a first cycle: --from = the first test row), then scores the flags event-wise with
# ../shared/tools/event_score.py (an onset inside a labelled segment or within 5 rows after it detects
# it; every other onset is a false alarm; no point-adjust) and the explanations (hit@3: a labelled metric
# among the top three contributors at the detecting onset). Two machines at a time; about 10 minutes on 2
# cores. Not in `make test`.
#   usage: bench/smd_score.sh [--bin PATH] [--keep DIR] [-- extra backtest flags, the same for every machine]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/anomaly_exporter"
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "smd_score: unknown argument $1" >&2; exit 2 ;;
  esac
done
smd="${SMD_DIR:-$root/../shared/datasets/smd}"
scorer="${SMD_SCORER:-$root/../shared/tools/event_score.py}"
python="${PYTHON:-/usr/bin/python3}"
[ -x "$bin" ] || { echo "smd_score: no exporter binary at $bin (--bin PATH)" >&2; exit 2; }
[ -d "$smd" ] || { echo "smd_score: no SMD data at $smd" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${keep:-$work/results}
mkdir -p "$out"
"$python" "$root/bench/smd_to_csv.py" "$smd" "$work/csv" > "$work/starts.txt"

start=$(date +%s)
run() {
  local machine=$1 from=$2; shift 2
  "$bin" backtest --no-progress --kind=multivariate --input "$work/csv/$machine.csv" --from "$from" \
    --output "$out/$machine.csv" "$@"
}
pids=()
while read -r machine from; do
  run "$machine" "$from" "$@" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done < "$work/starts.txt"
for p in "${pids[@]}"; do wait "$p"; done
echo "backtest of $(wc -l < "$work/starts.txt") machines: $(( $(date +%s) - start ))s; flags: ${*:-(defaults)}"
"$python" "$scorer" --truth-dir "$work/csv/truth" --result-dir "$out" --interpretation-dir "$smd/interpretation_label"
