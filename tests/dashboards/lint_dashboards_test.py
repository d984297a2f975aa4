#!/usr/bin/env python3
"""Proves lint_dashboards.py catches what it claims: each case breaks one shipped dashboard in one way
and expects a finding naming the rule; the shipped dashboards themselves must lint clean; and
--list-queries must give every query, fully substituted. Exit 0 when all hold."""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
LINT = os.path.join(HERE, "lint_dashboards.py")
DASH = os.path.join(ROOT, "dashboards")


def load(name):
    with open(os.path.join(DASH, name), encoding="utf-8") as f:
        return json.load(f)


def lint(dash, *extra):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dash, f)
        r = subprocess.run([sys.executable, LINT, "--root", ROOT, *extra, path], capture_output=True, text=True)
    return r.returncode, r.stderr


def first_target(dash, title):
    return next(p for p in dash["panels"] if p.get("title") == title)["targets"][0]


def var(dash, name):
    return next(v for v in dash["templating"]["list"] if v["name"] == name)


def case(base, expect, mutate):
    dash = copy.deepcopy(load(base))
    mutate(dash)
    return base, expect, dash


CASES = [
    case("anomaly-exporter-health.json", "target-rate-interval-rule",
         lambda d: first_target(d, "Queries").update(expr=first_target(d, "Queries")["expr"].replace("$__rate_interval", "5m"))),
    case("anomaly-exporter-health.json", "target-counter-agg-rule",
         lambda d: first_target(d, "Queries").update(expr='anomaly_exporter_queries_total{job=~"$job", instance=~"$instance"}')),
    case("anomaly-exporter-health.json", "target-job-rule",
         lambda d: first_target(d, "Cycle duration").update(expr='anomaly_exporter_cycle_duration_seconds{instance=~"$instance"}')),
    case("anomaly-exporter-health.json", "template-instance-rule",
         lambda d: d["templating"]["list"].remove(var(d, "instance"))),
    case("anomaly-overview.json", "panel-datasource-rule",
         lambda d: d["panels"][0].update(datasource={"type": "prometheus", "uid": "prometheus"})),
    case("anomaly-overview.json", "panel-title-description-rule", lambda d: d["panels"][0].pop("description")),
    case("anomaly-overview.json", "panel-units-rule",
         lambda d: d["panels"][0]["fieldConfig"]["defaults"].update(unit="seconds")),
    case("anomaly-overview.json", "panel-no-targets-rule", lambda d: d["panels"][0].update(targets=[])),
    case("anomaly-overview.json", "unknown metric anomaly_bogus",
         lambda d: d["panels"][0]["targets"][0].update(expr='sum(anomaly_bogus{detector=~"$detector"})')),
    case("anomaly-overview.json", "unclosed '('",
         lambda d: d["panels"][0]["targets"][0].update(expr='sum(anomaly_flag{detector=~"$detector"}')),
    case("anomaly-overview.json", "promtool cannot parse",
         lambda d: d["panels"][0]["targets"][0].update(expr='anomaly_flag{detector=~"$detector"} ==')),
    case("anomaly-overview.json", "use =~",
         lambda d: d["panels"][0]["targets"][0].update(expr='sum(anomaly_flag{detector="$detector"})')),
    # The peers panels: a metric the exporter does not serve, a label the metric does not have, a state
    # the metric never takes; each would leave the panel empty rather than fail.
    case("anomaly-overview.json", "unknown metric anomaly_peer_outlier",
         lambda d: first_target(d, "Peer outliers now (peers detectors)").update(
             expr='anomaly_peer_outlier{detector=~"$detector"} == 1')),
    case("anomaly-overview.json", "metric anomaly_peer_score has no label state",
         lambda d: first_target(d, "Peer outliers now (peers detectors)").update(
             expr='anomaly_peer_score{detector=~"$detector", state="ok"}')),
    case("anomaly-overview.json", "metric anomaly_peer_flag has no label member",
         lambda d: first_target(d, "Peer outliers now (peers detectors)").update(
             expr='anomaly_peer_flag{detector=~"$detector", member=~".+"} == 1')),
    case("anomaly-overview.json", 'state "insufficient_peer" is not a state of anomaly_group_state',
         lambda d: first_target(d, "Peer groups in insufficient_peers").update(
             expr=first_target(d, "Peer groups in insufficient_peers")["expr"].replace(
                 '"insufficient_peers"', '"insufficient_peer"'))),
    case("anomaly-overview.json", 'state "insufficient_peers" is not a state of anomaly_state',
         lambda d: first_target(d, "Peer groups in insufficient_peers").update(
             expr='anomaly_state{detector=~"$detector", state="insufficient_peers"} == 1')),
    case("anomaly-series.json", "unknown metric anomaly_peer_scores",
         lambda d: first_target(d, "Peer score").update(expr="anomaly_peer_scores{${series:raw}}")),
    case("anomaly-overview.json", "schemaVersion", lambda d: d.update(schemaVersion=40)),
    case("anomaly-overview.json", "uneditable-dashboard", lambda d: d.update(editable=True)),
    case("anomaly-overview.json", "no tags", lambda d: d.update(tags=[])),
    case("anomaly-overview.json", "uid", lambda d: d.pop("uid")),
    case("anomaly-overview.json", "__inputs", lambda d: d.update(__inputs=[{"name": "DS_PROMETHEUS"}])),
    case("anomaly-overview.json", "template-datasource-rule", lambda d: var(d, "datasource").update(type="custom")),
    case("anomaly-overview.json", "template-on-time-change-reload-rule", lambda d: var(d, "detector").update(refresh=1)),
    case("anomaly-overview.json", "template-label-promql-rule", lambda d: var(d, "detector").update(query="anomaly_state")),
]


def main():
    failures = []
    names = sorted(n for n in os.listdir(DASH) if n.endswith(".json"))
    if len(names) < 3:
        failures.append(f"expected the 3 shipped dashboards, found {names}")
    rc = subprocess.run([sys.executable, LINT, *[os.path.join(DASH, n) for n in names]], capture_output=True, text=True)
    if rc.returncode != 0:
        failures.append(f"shipped dashboards do not lint clean:\n{rc.stderr}")
    for base, expect, dash in CASES:
        code, err = lint(dash)
        if code == 0 or expect not in err:
            failures.append(f"{base}: a mutation for {expect!r} was not caught (rc {code}):\n{err}")
    # --list-queries: one entry per target, annotation and query variable, with no variable left.
    r = subprocess.run([sys.executable, LINT, "--list-queries", *[os.path.join(DASH, n) for n in names]],
                       capture_output=True, text=True)
    listed = json.loads(r.stdout)
    want = 0
    for n in names:
        d = load(n)
        want += sum(len(p.get("targets", [])) for p in d["panels"])
        want += sum(1 for a in d["annotations"]["list"] if a.get("expr"))
        want += sum(1 for v in d["templating"]["list"] if v["type"] == "query")
    if len(listed) != want:
        failures.append(f"--list-queries gave {len(listed)} queries, want {want}")
    left = [q for q in listed if "$" in q["expr"]]
    if left:
        failures.append(f"--list-queries left variables in: {left}")
    if not any(q["expr"] == 'anomaly_value{detector=~".+"}' for q in listed):
        failures.append("--list-queries: the series picker was not substituted into anomaly_value{...}")
    # --set gives a variable a concrete value, as picking one in Grafana does.
    r = subprocess.run([sys.executable, LINT, "--list-queries", "--set", "detector=requests", "--set",
                        'series=detector="requests",service="checkout"', os.path.join(DASH, "anomaly-series.json")],
                       capture_output=True, text=True)
    exprs = [q["expr"] for q in json.loads(r.stdout)] if r.returncode == 0 else []
    if 'anomaly_value{detector="requests",service="checkout"}' not in exprs or \
            not any('detector=~"requests"' in e for e in exprs):
        failures.append(f"--list-queries --set did not substitute: rc {r.returncode} {r.stderr} {exprs}")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"lint_dashboards_test: {len(CASES)} mutations, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
