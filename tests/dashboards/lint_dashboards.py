#!/usr/bin/env python3
"""Lints dashboards/*.json against grafana/dashboard-linter's rules that apply to us (ECOSYSTEM.md §4.2)
plus the project's conventions (§4.1), with the Python standard library and promtool only.

  lint_dashboards.py [--root DIR] [--promtool PATH] FILE.json...     exit 0 clean, 1 with findings
  lint_dashboards.py --list-queries [--set NAME=VALUE]... FILE.json... JSON list of every query, runnable

dashboard-linter itself cannot be built here (go 1.26 vs Debian's 1.19). Rules, by its ids:
  template-datasource-rule, template-job-rule, template-instance-rule, template-label-promql-rule,
  template-on-time-change-reload-rule, panel-datasource-rule, panel-title-description-rule,
  panel-units-rule, panel-no-targets-rule, target-promql-rule, target-rate-interval-rule,
  target-counter-agg-rule, target-job-rule, target-instance-rule, uneditable-dashboard;
and the project's: uid/title/tags/schemaVersion 39, no ${DS_*} (__inputs) references, matchers on a
variable use =~, every metric name exists in ARCHITECTURE.md's contract or a recording rule, and a matcher
on a label the exporter adds (state, member, rank, model, periods) selects a contract metric that has it,
with a state the contract lists for that metric; else the query silently returns nothing (e.g.
anomaly_peer_score{state="ok"}, or anomaly_state{state="insufficient_peers"}, a state only groups and
peers members take).
Exclusions live in dashboards/.lint (dashboard-linter's format, written as JSON, which is YAML too).

target-promql-rule: after substituting the variables (SAMPLE_VALUES), each query gets a structural check
here (quotes, brackets, matchers, known functions and metric names) and is then parsed by promtool's own
PromQL parser, wrapped in a throw-away recording rule (`promtool check rules`).

--list-queries prints [{"dashboard", "panel", "kind", "expr"}] with the same substitutions, for a later
test that runs each against a Prometheus that has scraped the exporter. kind is target, variable (the
series selector inside label_values()/query_result()) or annotation. --set NAME=VALUE (repeatable) gives a
variable a concrete value instead, as a user picking one would: e.g. --set detector=requests, or
--set 'series=detector="requests",service="checkout"' (the picker's text between the braces).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# Values that make a query runnable outside Grafana. A variable not listed here becomes ".+", which is
# right because every matcher on a variable must be a regex matcher (=~).
SAMPLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    # The series picker holds a whole label set, e.g. detector="x",service="y", used as {${series:raw}}.
    "series": 'detector=~".+"',
    # The overview's peer group picker: a peers group's label set, used as {${peer_group:raw}} too.
    "peer_group": 'detector=~".+"',
}

PROMQL_FUNCTIONS = set("""
abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week day_of_year
days_in_month delta deriv exp floor histogram_quantile holt_winters hour idelta increase irate
label_join label_replace ln log2 log10 minute month predict_linear rate resets round scalar sgn sort
sort_desc sqrt time timestamp vector year avg_over_time min_over_time max_over_time sum_over_time
count_over_time quantile_over_time stddev_over_time stdvar_over_time last_over_time present_over_time
acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi
sum min max avg group stddev stdvar count count_values bottomk topk quantile
""".split())
AGG_MODIFIERS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN"}
BUILTIN_METRICS = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
CHECKED_PANELS = {"stat", "singlestat", "graph", "table", "timeseries", "gauge"}
# Grafana unit ids used or plausible here; a typo ("seconds") is the error this catches.
KNOWN_UNITS = {"none", "short", "percent", "percentunit", "s", "ms", "us", "ns", "m", "h", "d", "dtdurations",
               "dateTimeAsIso", "dateTimeFromNow", "dateTimeAsSystem", "bytes", "decbytes", "bps", "Bps",
               "reqps", "rps", "ops", "wps", "iops", "cps", "hertz", "bool", "bool_yes_no", "bool_on_off"}
METRIC_ROW = re.compile(r"^\|([^|]*`anomaly_[^|]*)\|([^|]*)\|")
METRIC_NAME = re.compile(r"`(anomaly_[a-z0-9_]+)(?:\{[^`]*\})?`")
METRIC_WITH_LABELS = re.compile(r"`(anomaly_[a-z0-9_]+)(?:\{([^`]*)\})?`")
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^{}]*)\}")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
RECORD_LINE = re.compile(r"^\s*-?\s*record:\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*$")
VAR_REF = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]")


def known_metrics(root):
    """Metric names from ARCHITECTURE.md's contract tables, with histogram series, plus recorded names."""
    names = set(BUILTIN_METRICS)
    with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
        for line in f:
            m = METRIC_ROW.match(line)
            for name in METRIC_NAME.findall(m.group(1)) if m else []:
                names.add(name)
                if "histogram" in m.group(2):
                    names.update(name + s for s in ("_bucket", "_sum", "_count"))
    rules_dir = os.path.join(root, "rules")
    for name in sorted(os.listdir(rules_dir)):
        if name.endswith((".yml", ".yaml")):
            with open(os.path.join(rules_dir, name), encoding="utf-8") as f:
                names.update(m.group(1) for m in map(RECORD_LINE.match, f) if m)
    return names


def contract_labels(root):
    """{metric: (its own labels, its states or None)} from ARCHITECTURE.md's contract tables: the labels in
    braces after a name (`anomaly_state{state}`), and for a metric with a `state` label the values its
    meaning lists after the first colon ("1 for the current state: ok, warming_up, ...")."""
    out = {}
    with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
        for line in f:
            m = METRIC_ROW.match(line)
            for name, labels in METRIC_WITH_LABELS.findall(m.group(1)) if m else []:
                own = {l.strip() for l in labels.split(",") if l.strip()}
                states = None
                if "state" in own and ":" in m.group(2):
                    items = m.group(2).split(":", 1)[1].split(",")
                    states = {w.group(1) for w in (re.match(r"\s*([a-z_]+)", i) for i in items) if w} or None
                out[name] = (own, states)
    return out


def check_labels(expr, contract):
    """Matchers on the labels the exporter adds to its per-series families (state, member, rank, model,
    periods; not detector, which every series has) against the contract metric selected. A matcher on a
    series' own label of one of those names would be flagged too; no shipped dashboard has one."""
    own_labels = set().union(*(own for name, (own, _) in contract.items()
                               if not name.startswith("anomaly_exporter_"))) - {"detector"}
    problems = []
    for metric, body in SELECTOR.findall(expr):
        if metric not in contract:
            continue
        own, states = contract[metric]
        for label, op, value in MATCHER.findall(body):
            if label in own_labels and label not in own:
                problems.append(f"metric {metric} has no label {label} (ARCHITECTURE.md): "
                                f"{label}{op}\"{value}\" matches nothing")
            elif label == "state" and states and re.fullmatch(r"[a-z_]+(\|[a-z_]+)*", value):
                for v in value.split("|"):
                    if v not in states:
                        problems.append(f"state \"{v}\" is not a state of {metric} "
                                        f"(ARCHITECTURE.md: {', '.join(sorted(states))})")
    return problems


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(3) or m.group(4)
        if name in SAMPLE_VALUES:
            return SAMPLE_VALUES[name]
        return ".+" if name in variables else m.group(0)
    return VAR_REF.sub(repl, expr)


def _mask_strings(expr):
    """Returns expr with string contents blanked ("" kept) and an error for an unterminated string."""
    out, i = [], 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < len(expr) and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            if j >= len(expr):
                return None, "unterminated string"
            out.append('""')
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), None


def _matching(s, open_pos):
    depth = 0
    pairs = {"(": ")", "[": "]", "{": "}"}
    for i in range(open_pos, len(s)):
        if s[i] in pairs:
            depth += 1
        elif s[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def check_promql(expr, metrics):
    """Structural PromQL check of a substituted expression: a list of problems (empty when clean)."""
    masked, err = _mask_strings(expr)
    if err:
        return [err]
    problems, stack = [], []
    for i, c in enumerate(masked):
        if c in "([{":
            stack.append(c)
        elif c in ")]}":
            if not stack or "([{"[")]}".index(c)] != stack.pop():
                return [f"unbalanced '{c}' at {i}"]
    if stack:
        return [f"unclosed '{stack[-1]}'"]
    matcher = r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*""\s*'
    for body in re.findall(r"\{([^{}]*)\}", masked):
        if body.strip() and not re.fullmatch(rf"{matcher}(,{matcher})*,?\s*", body):
            problems.append(f"bad label matchers {{{body}}}")
    for body in re.findall(r"\[([^\[\]]*)\]", masked):
        if not re.fullmatch(r"\s*(\d+(ms|s|m|h|d|w|y))+\s*(:\s*((\d+(ms|s|m|h|d|w|y))+)?\s*)?", body):
            problems.append(f"bad range [{body}]")
    # Drop matcher bodies, ranges and label lists; what is left are functions, keywords and metrics.
    bare = re.sub(r"\{[^{}]*\}", " ", masked)
    bare = re.sub(r"\[[^\[\]]*\]", " ", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", bare)
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)", bare):
        word = m.group(1)
        rest = bare[m.end():].lstrip()
        if word in KEYWORDS or word in AGG_MODIFIERS:
            continue
        if rest.startswith("("):
            if word not in PROMQL_FUNCTIONS:
                problems.append(f"unknown function {word}()")
        elif word not in metrics:
            problems.append(f"unknown metric {word} (not in ARCHITECTURE.md or a recording rule)")
    return problems


def calls(expr, names):
    """(name, argument text) for every call of one of names in expr."""
    for m in re.finditer(r"\b(" + "|".join(names) + r")\s*\(", expr):
        end = _matching(expr, m.end() - 1)
        yield m.group(1), expr[m.end():end if end >= 0 else len(expr)]


def check_raw_target(expr):
    """Rules that look at the query as written, before substitution."""
    problems = []
    for fn, arg in calls(expr, ["rate", "irate"]):
        ranges = re.findall(r"\[([^\]]*)\]", arg)
        if not ranges or any(r not in ("$__rate_interval", "${__rate_interval}") for r in ranges):
            problems.append(f"target-rate-interval-rule: {fn}() range must be $__rate_interval")
    counted = "".join(arg for _, arg in calls(expr, ["rate", "irate", "increase"]))
    for name in re.findall(r"\b([a-z_:][a-z0-9_:]*_total)\b", expr):
        if name not in counted:
            problems.append(f"target-counter-agg-rule: counter {name} outside rate/irate/increase")
    for m in re.finditer(r'([A-Za-z_]\w*)\s*(=|!=)\s*"[^"]*\$', expr):
        problems.append(f"matcher {m.group(1)}{m.group(2)} on a variable: use =~ (multi-value and All interpolate to regexes)")
    return problems


def has_matcher(expr, label, var):
    """True when every selector of expr has the matcher label=~"$var"."""
    masked = re.sub(r'"[^"]*"', lambda m: m.group(0) if f"${var}" in m.group(0) else '""', expr)
    selectors = re.findall(r"\{([^{}]*)\}", masked)
    return bool(selectors) and all(re.search(rf'\b{label}\s*=~\s*"\${var}"', s) for s in selectors)


def load_exclusions(root):
    path = os.path.join(root, "dashboards", ".lint")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    out = {}
    for rule, spec in cfg.get("exclusions", {}).items():
        if not spec.get("reason"):
            raise SystemExit(f"{path}: exclusion of {rule} needs a reason")
        out[rule] = {e["dashboard"] for e in spec.get("entries", [])}
    return out


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        for child in p.get("panels", []) if p.get("type") == "row" else []:
            yield child


def var_query(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


def inner_selector(query):
    m = re.fullmatch(r"\s*(label_values|label_names|metrics|query_result)\((.*)\)\s*", query, re.S)
    if not m:
        return None, None
    func, args = m.group(1), m.group(2)
    if func == "label_values":
        parts = args.rsplit(",", 1)
        return func, parts[0].strip() if len(parts) == 2 else None
    return func, args.strip()


def queries(dash):
    """Every query of the dashboard: (kind, where, raw expression)."""
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            _, sel = inner_selector(var_query(v))
            if sel:
                yield "variable", f"variable {v.get('name')}", sel
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            yield "annotation", f"annotation {a.get('name')!r}", a["expr"]
    for p in panels_of(dash):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield "target", f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]


def lint(path, dash, metrics, exclusions, uids, contract=None):
    errs = []
    title = dash.get("title") or ""
    excluded = lambda rule: title in exclusions.get(rule, set())
    add = lambda msg: errs.append(f"{path}: {msg}")
    variables = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
    # Dashboard-level.
    uid = dash.get("uid") or ""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", uid):
        add(f"uid {uid!r}: set a stable uid of lowercase letters, digits and dashes, at most 40")
    elif uid in uids:
        add(f"uid {uid!r} also used by {uids[uid]}")
    uids[uid] = path
    if not title:
        add("no title")
    if not dash.get("tags"):
        add("no tags")
    if dash.get("schemaVersion") != 39:
        add(f"schemaVersion {dash.get('schemaVersion')!r}, want 39 (ECOSYSTEM.md §4.1)")
    if dash.get("editable") is not False:
        add("uneditable-dashboard: editable must be false")
    if "${DS_" in json.dumps(dash) or "__inputs" in dash:
        add("uses __inputs/${DS_...}: provisioned dashboards need the datasource variable only")
    # Templating.
    tvars = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = tvars.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        add("template-datasource-rule: need a variable `datasource` of type datasource, query prometheus")
    elif ds.get("label") != "Data source":
        add("template-datasource-rule: the datasource variable's label should be 'Data source'")
    for label in ("job", "instance"):
        rule = f"template-{label}-rule"
        if excluded(rule):
            continue
        v = tvars.get(label)
        if not v:
            add(f"{rule}: no `{label}` variable")
            continue
        if v.get("type") != "query" or not v.get("multi") or v.get("allValue") != ".+":
            add(f"{rule}: `{label}` must be a multi-value query variable with allValue .+")
        if v.get("label") != label.capitalize():
            add(f"{rule}: `{label}` variable's label should be {label.capitalize()!r}")
    for name, v in tvars.items():
        if v.get("type") != "query":
            continue
        func, sel = inner_selector(var_query(v))
        if func is None:
            add(f"template-label-promql-rule: variable {name}: query must be label_values/label_names/metrics/query_result(...)")
        if v.get("refresh") != 2:
            add(f"template-on-time-change-reload-rule: variable {name}: refresh must be 2")
        if (v.get("datasource") or {}).get("uid") not in ("${datasource}", "$datasource"):
            add(f"variable {name}: datasource must be ${{datasource}}")
    # Panels.
    ids = set()
    for p in panels_of(dash):
        ptype, ptitle = p.get("type"), p.get("title") or ""
        where = f"panel {ptitle!r}"
        if p.get("id") in ids:
            add(f"{where}: duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        if "gridPos" not in p:
            add(f"{where}: no gridPos")
        if ptype in ("row", "text"):
            continue
        if (p.get("datasource") or {}).get("uid") not in ("${datasource}", "$datasource"):
            add(f"panel-datasource-rule: {where}: datasource uid must be ${{datasource}}")
        if not ptitle.strip() or not (p.get("description") or "").strip():
            add(f"panel-title-description-rule: {where}: needs a title and a description")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if unit not in KNOWN_UNITS:
            add(f"panel-units-rule: {where}: unit {unit!r} is not a known Grafana unit id")
        targets = p.get("targets") or []
        if not targets:
            add(f"panel-no-targets-rule: {where}: no targets")
        for t in targets:
            tw = f"{where} {t.get('refId')}"
            if (t.get("datasource") or {}).get("uid") not in ("${datasource}", "$datasource"):
                add(f"panel-datasource-rule: {tw}: target datasource uid must be ${{datasource}}")
            expr = t.get("expr") or ""
            for problem in check_raw_target(expr):
                add(f"{tw}: {problem}")
            for label in ("job", "instance"):
                if not excluded(f"target-{label}-rule") and not has_matcher(expr, label, label):
                    add(f"target-{label}-rule: {tw}: every selector needs {label}=~\"${label}\"")
    # Every query, substituted: structure and known metrics.
    for kind, where, raw in queries(dash):
        expr = substitute(raw, variables)
        if "$" in expr:
            add(f"target-promql-rule: {where}: unknown variable left in {expr!r}")
        for problem in check_promql(expr, metrics) + check_labels(expr, contract or {}):
            add(f"target-promql-rule: {where}: {problem}: {expr}")
    return errs


def promtool_parse(items, promtool):
    """Parses each (where, expr) with promtool's PromQL parser; returns the failures."""
    def run(batch):
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write("groups:\n  - name: lint\n    rules:\n")
            for i, (_, expr) in enumerate(batch):
                f.write(f"      - record: lint:query_{i}\n        expr: {json.dumps(expr)}\n")
        try:
            r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        return r.returncode == 0, r.stdout + r.stderr
    ok, _ = run(items)
    if ok:
        return []
    return [f"{where}: promtool cannot parse {expr!r}: {out.strip().splitlines()[-1]}"
            for where, expr in items for ok1, out in [run([(where, expr)])] if not ok1]


def main(argv):
    parser = argparse.ArgumentParser(description="Lint Grafana dashboards (see module docstring).")
    parser.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--list-queries", action="store_true")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                        help="with --list-queries: substitute VALUE for variable NAME")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    dashboards = []
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as f:
                dashboards.append((path, json.load(f)))
        except (OSError, json.JSONDecodeError) as e:
            print(f"{path}: not valid JSON: {e}", file=sys.stderr)
            return 1
    if args.list_queries:
        for item in args.sets:
            name, eq, value = item.partition("=")
            if not eq or not re.fullmatch(r"\w+", name):
                print(f"--set {item!r}: want NAME=VALUE", file=sys.stderr)
                return 1
            SAMPLE_VALUES[name] = value
        out = []
        for path, dash in dashboards:
            variables = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
            for kind, where, raw in queries(dash):
                out.append({"dashboard": dash.get("uid"), "where": where, "kind": kind, "expr": substitute(raw, variables)})
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    metrics, exclusions, uids, errs, parse_items = known_metrics(args.root), load_exclusions(args.root), {}, [], []
    contract = contract_labels(args.root)
    for path, dash in dashboards:
        errs += lint(path, dash, metrics, exclusions, uids, contract)
        variables = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
        parse_items += [(f"{path}: {where}", substitute(raw, variables)) for _, where, raw in queries(dash)]
    try:
        errs += promtool_parse(parse_items, args.promtool)
    except FileNotFoundError:
        errs.append(f"promtool not found at {args.promtool!r}: it is required (scripts/install-deps.sh test)")
    for e in errs:
        print(e, file=sys.stderr)
    print(f"lint_dashboards: {len(dashboards)} dashboards, {len(parse_items)} queries, {len(errs)} findings")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
