#!/usr/bin/env python3
"""Checks the stage includes against ARCHITECTURE.md's stage table.

usage: check_stage_includes.py [--root DIR]   (default: the checkout this file is in)

The table's "may use" column is the contract: code in exporter/<stage>/ and include/anomaly/<stage>/ may
include "anomaly/<x>/..." only for x = the stage itself or a stage in its cell ("all": every stage, "—":
none). Besides, "exporter/<x>/..." (a stage's private headers) may be included only by that stage, and a
public header in include/ includes no private header at all. A folder under exporter/ or include/anomaly/
that the table does not list is reported too: a new stage is accepted once it has its row.

Prints one `file:line: message` per finding and exits 1 when there is any; 2 when the table cannot be
read (a cell naming something that is not a stage is an error, not something to skip).
"""
import argparse
import os
import re
import sys

SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]((anomaly|exporter)/([^/">]+)/[^">]*)[">]')
NONE = ("—", "-", "none", "")


class TableError(Exception):
    pass


def split_row(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def read_table(architecture_md):
    """{stage: set of stages it may use, or None for all} from the table with 'stage' and 'may use'."""
    with open(architecture_md, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        header = [c.lower() for c in split_row(line)]
        if "stage" not in header or "may use" not in header:
            continue
        stage_col, use_col = header.index("stage"), header.index("may use")
        rows = []
        for n, row in enumerate(lines[i + 2:], start=i + 3):  # skip the |---| line
            if not row.lstrip().startswith("|"):
                break
            cells = split_row(row)
            if len(cells) <= max(stage_col, use_col):
                raise TableError(f"{architecture_md}:{n}: row has {len(cells)} cells, expected {len(header)}")
            rows.append((n, cells[stage_col].strip("`"), cells[use_col]))
        stages = {name for _, name, _ in rows}
        table = {}
        for n, name, cell in rows:
            text = re.sub(r"\([^)]*\)", "", cell).strip()  # "(parameter types only)" qualifies, never names
            if text.lower() == "all":
                table[name] = None
                continue
            uses = set()
            for item in re.split(r"[,+]", text):
                item = item.strip().strip("`")
                if item.lower() in NONE:
                    continue
                if item not in stages:
                    raise TableError(f"{architecture_md}:{n}: stage {name}: \"{item}\" in the may-use cell "
                                     f"is not a stage of the table")
                uses.add(item)
            table[name] = uses
        if not table:
            raise TableError(f"{architecture_md}:{i + 1}: the stage table has no rows")
        return table
    raise TableError(f"{architecture_md}: no table with a \"stage\" and a \"may use\" column")


def stage_dirs(root):
    """(stage, folder) for every folder under exporter/ and include/anomaly/."""
    for base in ("exporter", os.path.join("include", "anomaly")):
        top = os.path.join(root, base)
        if not os.path.isdir(top):
            continue
        for name in sorted(os.listdir(top)):
            if os.path.isdir(os.path.join(top, name)):
                yield name, os.path.join(base, name)


def check(root):
    table = read_table(os.path.join(root, "ARCHITECTURE.md"))
    findings = []
    for stage, folder in stage_dirs(root):
        if stage not in table:
            findings.append(f"{folder}/: stage \"{stage}\" is not in ARCHITECTURE.md's stage table; "
                            f"add its row (what it does, what it may use) with the folder")
            continue
        allowed = table[stage]
        public = folder.startswith("include")
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for filename in sorted(filenames):
                if not filename.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, filename)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, start=1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        header, kind, used = m.group(1), m.group(2), m.group(3)
                        if kind == "exporter":
                            if public:
                                findings.append(f"{rel}:{n}: a public header includes the private header "
                                                f"\"{header}\"")
                            elif used != stage:
                                findings.append(f"{rel}:{n}: stage {stage} includes \"{header}\", a private "
                                                f"header of stage {used}; use its contract in "
                                                f"include/anomaly/{used}/")
                            continue
                        if used == stage:
                            continue
                        if used not in table:
                            findings.append(f"{rel}:{n}: \"{header}\": {used} is not a stage of "
                                            f"ARCHITECTURE.md's table")
                        elif allowed is not None and used not in allowed:
                            may = ", ".join(sorted(allowed)) or "no other stage"
                            findings.append(f"{rel}:{n}: stage {stage} includes \"{header}\", but "
                                            f"ARCHITECTURE.md lets it use only {may}")
    return findings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")))
    args = parser.parse_args()
    try:
        findings = check(args.root)
    except (TableError, OSError) as e:
        print(f"check_stage_includes: {e}", file=sys.stderr)
        return 2
    for f in findings:
        print(f, file=sys.stderr)
    if findings:
        print(f"check_stage_includes: {len(findings)} finding(s) against ARCHITECTURE.md's stage table",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
