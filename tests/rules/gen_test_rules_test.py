#!/usr/bin/env python3
"""scripts/gen_test_rules.py makes a copy promtool accepts, with every `for` at the asked value and
everything else (names, expressions, labels, annotation text) unchanged; --range shortens only the
windows of `expr`. Needs PyYAML (Debian python3-yaml) and promtool."""
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GEN = os.path.join(ROOT, "scripts", "gen_test_rules.py")
ALERTS = os.path.join(ROOT, "rules", "anomaly_alerts.yml")


def rules(path):
    with open(path, encoding="utf-8") as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]


def main():
    failures = []
    shipped = rules(ALERTS)
    with tempfile.TemporaryDirectory() as tmp:
        for extra, range_value in (([], None), (["--for", "2s", "--range", "30s"], "30s")):
            out = os.path.join(tmp, "alerts.yml")
            r = subprocess.run([sys.executable, GEN, *extra, ALERTS, out], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"gen_test_rules {extra} failed: {r.stderr}")
                continue
            r = subprocess.run(["promtool", "check", "rules", out], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"promtool rejects the generated file ({extra}): {r.stdout}{r.stderr}")
            want_for = extra[1] if extra else "0s"
            generated = rules(out)
            if len(generated) != len(shipped):
                failures.append(f"{len(generated)} rules generated, {len(shipped)} shipped")
            for s, g in zip(shipped, generated):
                name = s.get("alert")
                if g.get("for") != want_for:
                    failures.append(f"{name}: for {g.get('for')!r}, want {want_for!r}")
                want_expr = re.sub(r"\[\d+[smhdwy]\]", f"[{range_value}]", s["expr"]) if range_value else s["expr"]
                if g["expr"] != want_expr:
                    failures.append(f"{name}: expr changed:\n{g['expr']}\nwant\n{want_expr}")
                if (g.get("alert"), g.get("labels"), g.get("annotations")) != (name, s.get("labels"), s.get("annotations")):
                    failures.append(f"{name}: name, labels or annotations changed")
        r = subprocess.run([sys.executable, GEN, os.path.join(ROOT, "rules", "anomaly_recording.yml"),
                            os.path.join(tmp, "x.yml")], capture_output=True, text=True)
        if r.returncode == 0:
            failures.append("a file without `for:` was accepted")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"gen_test_rules_test: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
