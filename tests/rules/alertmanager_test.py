#!/usr/bin/env python3
"""Checks examples/alertmanager.yml: amtool accepts it, and also with its commented Slack and e-mail
receivers uncommented; routing by severity goes where the comments say; and, against a real
Alertmanager on loopback, AnomalySevere inhibits AnomalyDetected of the same series only.

  alertmanager_test.py [--amtool PATH] [--alertmanager PATH]      exit 0 when all hold
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIG = os.path.join(ROOT, "examples", "alertmanager.yml")
ROUTES = [  # (labels, receiver)
    (["severity=critical", "alertname=AnomalySevere", "detector=d"], "webhook-critical"),
    (["severity=warning", "alertname=AnomalyDetected", "detector=d"], "webhook"),
    (["severity=info"], "blackhole"),
    (["alertname=SomethingElse"], "webhook"),
]


def uncommented(text):
    """The config with the blocks after each '... uncomment ...' comment line uncommented."""
    out, active = [], False
    for line in text.splitlines():
        m = re.match(r"^(\s*)# ?(.*)$", line)
        if m and "uncomment" in m.group(2).lower():
            active = True
            out.append(line)
        elif m and active:
            out.append(m.group(1) + m.group(2))
        else:
            active = False
            out.append(line)
    return "\n".join(out) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, body=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"null")


def inhibition(alertmanager, failures):
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([alertmanager, f"--config.file={CONFIG}", f"--storage.path={tmp}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(base + "/-/ready", timeout=1)
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        failures.append("alertmanager did not become ready in 20 s")
                        return
                    time.sleep(0.1)
            series_a, series_b = '{service="checkout"}', '{service="search"}'
            common = {"detector": "http_rps"}
            alerts = [
                {"alertname": "AnomalySevere", "severity": "critical", "anomaly_series": series_a},
                {"alertname": "AnomalyDetected", "severity": "warning", "anomaly_series": series_a},
                {"alertname": "AnomalyDetected", "severity": "warning", "anomaly_series": series_b},
            ]
            http(base + "/api/v2/alerts", [{"labels": {**common, **a}} for a in alerts])
            deadline = time.monotonic() + 20
            while True:
                got = {(a["labels"]["alertname"], a["labels"]["anomaly_series"]): a["status"]["state"]
                       for a in http(base + "/api/v2/alerts")}
                want = {("AnomalySevere", series_a): "active", ("AnomalyDetected", series_a): "suppressed",
                        ("AnomalyDetected", series_b): "active"}
                if got == want:
                    return
                if time.monotonic() > deadline:
                    failures.append(f"inhibition: got {got}, want {want}")
                    return
                time.sleep(0.2)
        finally:
            proc.kill()
            proc.wait()


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--amtool", default="amtool")
    parser.add_argument("--alertmanager", default="prometheus-alertmanager")
    args = parser.parse_args(argv)
    failures = []
    r = subprocess.run([args.amtool, "check-config", CONFIG], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"amtool check-config {CONFIG}:\n{r.stdout}{r.stderr}")
    with open(CONFIG, encoding="utf-8") as f:
        text = f.read()
    full = uncommented(text)
    if "slack_configs:" not in [l.strip() for l in full.splitlines()] or "\n    email_configs:" not in full:
        failures.append("the commented Slack and e-mail receivers were not found to uncomment")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(full)
    try:
        r = subprocess.run([args.amtool, "check-config", f.name], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"with Slack and e-mail uncommented, amtool check-config fails:\n{r.stdout}{r.stderr}")
    finally:
        os.unlink(f.name)
    for labels, receiver in ROUTES:
        r = subprocess.run([args.amtool, "config", "routes", "test", f"--config.file={CONFIG}",
                            f"--verify.receivers={receiver}", *labels], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"route {labels}: want {receiver}, got {r.stdout.strip()}")
    inhibition(args.alertmanager, failures)
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"alertmanager_test: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
