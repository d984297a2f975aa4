#!/usr/bin/env python3
"""Prints the exporter's current anomalies (/api/v1/anomalies) as a table, for `make demo`.
usage: show_anomalies.py EXPORTER_URL [ALERTMANAGER_URL]"""
import json
import sys
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def main():
    exporter = sys.argv[1].rstrip("/")
    try:
        rows = fetch(exporter + "/api/v1/anomalies").get("data", [])
    except OSError as e:
        print(f"{time.strftime('%H:%M:%S')} exporter not answering: {e}")
        return
    print(f"{time.strftime('%H:%M:%S')} {len(rows)} anomalous series")
    if rows:
        print(f"  {'detector':<9} {'series':<42} {'value':>9} {'expected':>9} {'band':>21} {'z':>7} {'score':>6}  since")
    for a in rows:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(a["labels"].items()) if k not in ("metric_name", "__name__"))
        since = a.get("anomalous_since")
        since = time.strftime("%H:%M", time.localtime(since)) if since else "-"
        band = f"[{a['lower']:.4g}, {a['upper']:.4g}]"
        print(f"  {a['detector']:<9} {'{' + labels + '}':<42} {a['value']:>9.4g} {a['expected']:>9.4g} "
              f"{band:>21} {a['zscore']:>7.1f} {a['score']:>6.2f}  {since}")
    if len(sys.argv) > 2:
        try:
            alerts = fetch(sys.argv[2].rstrip("/") + "/api/v2/alerts")
            names = sorted({f"{x['labels']['alertname']}{{{x['labels'].get('detector', '')}}}" for x in alerts})
            print("  alerts in Alertmanager:", ", ".join(names) if names else "none yet (the rules wait their for: duration)")
        except OSError:
            pass


if __name__ == "__main__":
    main()
