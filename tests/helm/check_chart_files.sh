#!/bin/sh
# The chart's files/ must be exact copies of rules/*.yml and dashboards/*.json (one source of truth; the
# copies exist because Helm reads nothing outside the chart). Fix drift with `make chart-files`.
#   usage: check_chart_files.sh <repository root>
set -u
root=$1
files=$root/helm/anomaly-exporter/files
status=0
for pair in "rules:yml" "dashboards:json"; do
  dir=${pair%%:*}
  ext=${pair##*:}
  want=$(cd "$root/$dir" && ls -- *."$ext")
  have=$(cd "$files/$dir" 2>/dev/null && ls)
  if [ "$want" != "$have" ]; then
    echo "FAIL: $files/$dir holds [$(echo $have)], $dir/ holds [$(echo $want)]: run make chart-files" >&2
    status=1
  fi
  for f in $want; do
    if ! cmp -s "$root/$dir/$f" "$files/$dir/$f"; then
      echo "FAIL: $files/$dir/$f differs from $dir/$f: run make chart-files" >&2
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo ok
exit $status
