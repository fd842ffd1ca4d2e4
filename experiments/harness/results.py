"""Result files: one CSV per finished cell, the long-form results.csv, the
summary, and merging result sets from several machines or jobs.

Layout of a run directory (experiments/README.md has the columns):
    cells/<key>.csv     the rows of one finished cell (its presence = done)
    logs/<key>.log      the cell's command, environment and output
    failed/<key>.txt    why a cell failed (it is retried on the next run)
    fingerprints/<id>.json
    results.csv, summary.csv, fingerprint.json
"""

import csv
import json
import os
import re
import shutil

from . import stats
from .suite import COLUMNS

ROW = COLUMNS + ("params", "rep", "metric", "value", "unit", "fingerprint")
SUMMARY = COLUMNS + ("params", "metric", "unit", "n", "median", "min", "max",
                     "ci_lo", "ci_hi", "baseline", "ratio")

_RESULT = re.compile(r"^result,(\d+),([a-z0-9_]+),([-+0-9.eE]+),([^,\s]+)\s*$")


def parse_output(text):
    """The (rep, metric, value, unit) tuples of a program's output."""
    out = []
    for line in text.splitlines():
        m = _RESULT.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2), float(m.group(3)), m.group(4)))
    return out


def write_cell(run_dir, key, columns, params, measured, fp_id):
    """Writes cells/<key>.csv atomically (a half-written cell is never 'done')."""
    path = os.path.join(run_dir, "cells", key + ".csv")
    tmp = path + ".tmp"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ROW)
        for rep, metric, value, unit in measured:
            w.writerow([columns[c] for c in COLUMNS] + [params, rep, metric, repr(value),
                                                        unit, fp_id])
    os.replace(tmp, path)


def done_keys(run_dir):
    d = os.path.join(run_dir, "cells")
    if not os.path.isdir(d):
        return set()
    return {n[:-4] for n in os.listdir(d) if n.endswith(".csv")}


def read_rows(run_dir):
    rows = []
    for key in sorted(done_keys(run_dir)):
        with open(os.path.join(run_dir, "cells", key + ".csv"), newline="",
                  encoding="utf-8") as f:
            rows.extend(csv.DictReader(f))
    return rows


def write_results(run_dir):
    """Concatenates the cells into results.csv; returns the rows."""
    rows = read_rows(run_dir)
    with open(os.path.join(run_dir, "results.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=ROW)
        w.writeheader()
        w.writerows(rows)
    return rows


def _group_key(r):
    return tuple(r[c] for c in COLUMNS) + (r["params"], r["metric"], r["unit"])


def summarize(rows, baselines):
    """Summary rows. baselines: experiment -> {column: value} naming its baseline."""
    groups = {}
    for r in rows:
        groups.setdefault(_group_key(r), []).append(float(r["value"]))
    out = {}
    for key, values in groups.items():
        s = dict(zip(COLUMNS + ("params", "metric", "unit"), key))
        s.update(stats.summarize(values))
        out[key] = s
    # the parameters each implementation's cells of an experiment carry
    keys = {}
    for s in out.values():
        names = {p.split("=", 1)[0] for p in s["params"].split(";") if p}
        keys.setdefault((s["experiment"], s["impl"]), set()).update(names)
    for key, s in out.items():
        base = baselines.get(s["experiment"])
        s["baseline"], s["ratio"] = "", ""
        if not base:
            continue
        s["baseline"] = ";".join(f"{k}={v}" for k, v in sorted(base.items()))
        want = dict(s)
        want.update({k: str(v) for k, v in base.items()})
        if "impl" in base and "policy" not in base:
            want["policy"] = want["impl"] if want["impl"] != "volt" else want["policy"]
        if base.get("impl", "volt") != "volt":
            # a peer has no Volt-C knobs: compare at the parameters it shares
            peer = keys.get((s["experiment"], want["impl"]), set())
            want["params"] = ";".join(p for p in s["params"].split(";")
                                      if p and p.split("=", 1)[0] in peer)
        ref = out.get(tuple(want[c] for c in COLUMNS) + (want["params"], s["metric"], s["unit"]))
        if ref and ref["median"]:
            s["ratio"] = s["median"] / ref["median"]
    return sorted(out.values(), key=lambda s: tuple(str(s[c]) for c in SUMMARY[:9]))


def write_summary(run_dir, rows, baselines):
    summary = summarize(rows, baselines)
    with open(os.path.join(run_dir, "summary.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY)
        w.writeheader()
        for s in summary:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in s.items()})
    return summary


def merge(dest, sources):
    """Copies every finished cell of each source run into dest (with its
    fingerprint). A cell present in several sources must agree on the
    fingerprint, or the merge refuses it. Returns (copied, conflicts)."""
    os.makedirs(os.path.join(dest, "cells"), exist_ok=True)
    os.makedirs(os.path.join(dest, "fingerprints"), exist_ok=True)
    copied, conflicts = 0, []
    for src in sources:
        fdir = os.path.join(src, "fingerprints")
        for name in os.listdir(fdir) if os.path.isdir(fdir) else []:
            shutil.copyfile(os.path.join(fdir, name), os.path.join(dest, "fingerprints", name))
        for key in sorted(done_keys(src)):
            s_path = os.path.join(src, "cells", key + ".csv")
            d_path = os.path.join(dest, "cells", key + ".csv")
            if os.path.exists(d_path):
                if _fingerprints(d_path) != _fingerprints(s_path):
                    conflicts.append(key)
                continue
            shutil.copyfile(s_path, d_path)
            copied += 1
    return copied, conflicts


def _fingerprints(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["fingerprint"] for r in csv.DictReader(f)}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
