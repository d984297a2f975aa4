#!/usr/bin/env python3
"""Proves check_stage_includes.py catches what it claims, on small trees built in a temp folder: a clean
tree passes; an include the table forbids, another stage's private header, a private header in a public
one and an unlisted stage folder each fail naming file:line; a new stage passes once it has its row; and
a cell naming no stage is a table error. Exit 0 when all hold."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check_stage_includes.py")

TABLE = """# Architecture

| stage | what it does | may use | third-party (private) |
|---|---|---|---|
| base | basics | — | tl::expected |
| scoring | math | base | — |
| config | YAML | base, scoring (parameter types only) | yaml-cpp |
| app | the daemon | all | — |
{extra}
## Metrics
| metric | meaning |
|---|---|
| `anomaly_value` | the value |
"""


def run(files, extra_rows=""):
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "ARCHITECTURE.md"), "w", encoding="utf-8") as f:
            f.write(TABLE.format(extra=extra_rows))
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        r = subprocess.run([sys.executable, CHECK, "--root", root], capture_output=True, text=True)
    return r.returncode, r.stderr


CLEAN = {
    "include/anomaly/base/result.h": "#pragma once\n#include <string>\n",
    "exporter/base/result.cc": '#include "anomaly/base/result.h"\n',
    "include/anomaly/scoring/stl.h": '#pragma once\n#include "anomaly/base/result.h"\n',
    "exporter/scoring/stl.cc": '#include "anomaly/scoring/stl.h"\n#include "exporter/scoring/loess.h"\n',
    "exporter/scoring/loess.h": "#pragma once\n",
    "exporter/config/loader.cc": '#include "anomaly/scoring/stl.h"\n#include "anomaly/base/result.h"\n',
    "exporter/app/daemon.cc": '#include "anomaly/config/config.h"\n#include "anomaly/scoring/stl.h"\n',
    "exporter/app/CMakeLists.txt": '#include "anomaly/unknown/ignored.h"\n',  # not a source file
}


def main():
    failures = []

    def expect(name, files, code, *needles, extra_rows=""):
        rc, err = run(files, extra_rows)
        if rc != code or any(n not in err for n in needles):
            failures.append(f"{name}: exit {rc} (want {code}), stderr:\n{err}")

    expect("clean tree", CLEAN, 0)
    expect("forbidden include", {**CLEAN, "exporter/scoring/stl.cc": '#include <vector>\n\n'
                                 '#include "anomaly/config/config.h"\n'},
           1, "exporter/scoring/stl.cc:3:", "stage scoring includes \"anomaly/config/config.h\"",
           "only base")
    expect("base uses nothing",
           {**CLEAN, "include/anomaly/base/result.h": '#include "anomaly/scoring/stl.h"\n'}, 1,
           "include/anomaly/base/result.h:1:", "only no other stage")
    expect("angle-bracket include", {**CLEAN, "exporter/scoring/x.cc": "#include <anomaly/app/commands.h>\n"},
           1, "exporter/scoring/x.cc:1:")
    expect("subfolder of a stage", {**CLEAN, "exporter/scoring/shim/a.cc": '#include "anomaly/app/a.h"\n'},
           1, "exporter/scoring/shim/a.cc:1:")
    expect("private header of another stage",
           {**CLEAN, "exporter/app/daemon.cc": '#include "exporter/scoring/loess.h"\n'},
           1, "exporter/app/daemon.cc:1:", "private header of stage scoring")
    expect("private header in a public one",
           {**CLEAN, "include/anomaly/scoring/stl.h": '#include "exporter/scoring/loess.h"\n'},
           1, "include/anomaly/scoring/stl.h:1:", "public header includes the private header")
    expect("include of no stage", {**CLEAN, "exporter/app/x.cc": '#include "anomaly/nowhere/x.h"\n'},
           1, "exporter/app/x.cc:1:", "nowhere is not a stage")
    expect("unlisted stage", {**CLEAN, "exporter/newstage/a.cc": '#include "anomaly/base/result.h"\n'},
           1, "exporter/newstage/:", "not in ARCHITECTURE.md's stage table")
    expect("listed new stage", {**CLEAN, "exporter/newstage/a.cc": '#include "anomaly/base/result.h"\n',
                                "include/anomaly/newstage/a.h": '#include "anomaly/scoring/stl.h"\n'},
           0, extra_rows="| newstage | new | base, scoring | — |\n")
    expect("new stage keeps to its row",
           {**CLEAN, "exporter/newstage/a.cc": '#include "anomaly/config/c.h"\n'}, 1,
           "exporter/newstage/a.cc:1:", extra_rows="| newstage | new | base | — |\n")
    expect("cell naming no stage", CLEAN, 2, "\"storage\" in the may-use cell is not a stage",
           extra_rows="| newstage | new | base, storage | — |\n")

    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
