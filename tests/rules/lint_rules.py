#!/usr/bin/env python3
"""Lints the rule files against mixtool's alert rules (ECOSYSTEM.md §3.1) and the project's conventions:
alert-name-camelcase, alert-severity-rule, alert-summary-missing/-templating/-style,
alert-description-missing/-templating; plus: every alert has `for` and a runbook_url whose anchor is a
heading of docs/runbooks.md (and every runbook section belongs to an alert), recording rule names are
level:metric:operations, no 3.x-only group keys, and every metric an expression reads is in
ARCHITECTURE.md's contract or a recording rule.

  lint_rules.py [--root DIR] RULES.yml...     exit 0 clean, 1 with findings

Needs PyYAML (Debian python3-yaml).
"""
import argparse
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dashboards"))
import lint_dashboards  # noqa: E402  known_metrics() and the structural PromQL check

RUNBOOK_BASE = "https://github.com/anomaly-exporter/anomaly_exporter/blob/main/docs/runbooks.md#"
GROUP_KEYS = {"name", "interval", "limit", "rules"}  # Prometheus 2.42: no labels, no query_offset


def github_anchor(heading):
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def runbook_anchors(root):
    with open(os.path.join(root, "docs", "runbooks.md"), encoding="utf-8") as f:
        return {github_anchor(line[3:]) for line in f if line.startswith("## ")}


def lint(path, doc, metrics, anchors, alerts_seen):
    errs = []
    add = lambda msg: errs.append(f"{path}: {msg}")
    for g in doc.get("groups", []):
        extra = set(g) - GROUP_KEYS
        if extra:
            add(f"group {g.get('name')}: keys {sorted(extra)} are not accepted by Prometheus 2.42")
        for r in g.get("rules", []):
            expr = r.get("expr", "")
            for problem in lint_dashboards.check_promql(expr, metrics):
                add(f"{r.get('alert') or r.get('record')}: {problem}")
            if "record" in r:
                if not re.fullmatch(r"[a-zA-Z_]+:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+", r["record"]):
                    add(f"record {r['record']}: name must be level:metric:operations")
                continue
            name = r.get("alert", "")
            alerts_seen.add(name)
            where = f"alert {name}"
            if not re.fullmatch(r"([A-Z]+[a-z0-9]+)+", name):
                add(f"alert-name-camelcase: {where}")
            if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                add(f"alert-severity-rule: {where}: severity must be critical, warning or info")
            if not r.get("for"):
                add(f"{where}: no `for` duration")
            ann = r.get("annotations", {})
            summary, desc = ann.get("summary", ""), ann.get("description", "")
            if not summary:
                add(f"alert-summary-missing-rule: {where}")
            elif "{{" in summary:
                add(f"alert-summary-templating: {where}: summary must be static")
            elif not re.fullmatch(r"[A-Z].+\.", summary):
                add(f"alert-summary-style: {where}: summary must start with a capital and end with a period")
            if not desc:
                add(f"alert-description-missing-rule: {where}")
            elif "{{" not in desc:
                add(f"alert-description-templating: {where}: description must be templated")
            url = ann.get("runbook_url", "")
            if not url.startswith(RUNBOOK_BASE):
                add(f"{where}: runbook_url must start with {RUNBOOK_BASE}")
            elif url[len(RUNBOOK_BASE):] not in anchors:
                add(f"{where}: runbook_url anchor #{url[len(RUNBOOK_BASE):]} is not a heading of docs/runbooks.md")
    return errs


def main(argv):
    parser = argparse.ArgumentParser(description="Lint Prometheus rule files (see module docstring).")
    parser.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    metrics, anchors = lint_dashboards.known_metrics(args.root), runbook_anchors(args.root)
    errs, alerts = [], set()
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            errs += lint(path, yaml.safe_load(f), metrics, anchors, alerts)
    # Every runbook section is some alert's, except the general one(s) listed here.
    orphans = anchors - {a.lower() for a in alerts} - {"tuning-a-noisy-detector"}
    if alerts and orphans:
        errs.append(f"docs/runbooks.md: sections without an alert: {sorted(orphans)}")
    for e in errs:
        print(e, file=sys.stderr)
    print(f"lint_rules: {len(args.files)} files, {len(alerts)} alerts, {len(errs)} findings")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
