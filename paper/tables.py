#!/usr/bin/env python3
"""paper/tables.py RESULTS_DIR: regenerate the generated parts of paper.md.

The paper's Markdown holds blocks between markers; everything between an
opening and its closing marker is rewritten from RESULTS_DIR (summary.csv,
results.csv, fingerprint.json, failed/) and paper/claims.json, and nothing
else in the file is touched, so running it twice changes nothing:

  <!-- table:machine -->   ... <!-- /table -->   the fingerprint and the run
  <!-- table:coverage -->  ... <!-- /table -->   which experiments have data
  <!-- table:claims -->    ... <!-- /table -->   every claim with its verdict
  <!-- table:E1 -->        ... <!-- /table -->   results of the ids E1_* (or
                                                 one id); add metrics=a,b to
                                                 list other metrics than the
                                                 primary one
  <!-- figure:E1 -->       ... <!-- /figure -->  the figure, or "pending"
  <!-- summary:E1 -->      ... <!-- /summary --> one generated reading per id
  <!-- table:others -->    ... <!-- /table -->   experiments whose prefix has
                                                 no section of its own

Claims (paper/claims.json, whose "about" says how they are computed) get a
verdict: reproduced, not reproduced, not testable here, or pending (a cell
absent from the results). Standard-library Python 3 only.
"""

import argparse
import fnmatch
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "plots"))
import extract as X  # noqa: E402  (plots/extract.py: the summary readers)

DEFAULTS = {"pin": "none", "topology": "real"}  # left out of a row's settings
COLUMN_KEYS = ("experiment", "impl", "policy", "workers", "pin", "topology", "metric")
VERDICTS = ("reproduced", "not reproduced", "not testable here", "pending")
EXPERIMENT_NAMES = {
    "E1": "spawn_many (local, remote)", "E2": "yield_many", "E3": "ping_pong (+ CPU hog)",
    "E4": "chained_spawn", "E5": "injection under load", "E6": "LIFO starvation / long polls",
    "E7": "fan-out / fan-in (skynet, fib)", "E8": "skewed load imbalance",
    "E9": "tail latency, mixed I/O + CPU", "E10": "channel MPMC throughput",
    "E11": "TCP echo, epoll vs io_uring", "E12": "steal cost by topology distance",
    "E13": "NUMA-aware policies", "E14": "oversubscription and idle policy",
    "E15": "deque micro-benchmark, memory orders",
}
MARKER = re.compile(
    r"(<!-- (table|figure|summary):([A-Za-z0-9_*.-]+)((?: [a-z_]+=[^ >]+)*) -->)"
    r"(.*?)(<!-- /\2 -->)", re.S)


# ------------------------------------------------------------------ loading

class Results:
    """What the generators need from one results directory."""

    def __init__(self, results_dir):
        self.dir = results_dir
        self.rows = X.read_summary(results_dir)
        self.order = X.metric_order(results_dir)
        self.titles = X.suite_titles(results_dir)
        self.fingerprint = _json(os.path.join(results_dir, "fingerprint.json")) or {}
        self.suite = _json(os.path.join(ROOT, "experiments", "suites",
                                        self.fingerprint.get("suite", "") + ".json")) or {}
        self.figures = {f["prefix"]: f for f in X.plan(self.rows, self.order, self.titles)}
        self.by_exp = {}
        for r in self.rows:
            self.by_exp.setdefault(r["experiment"], []).append(r)

    def primary(self, experiment):
        return X.primary_metric(self.by_exp.get(experiment, []), self.order.get(experiment))

    def failed(self):
        d = os.path.join(self.dir, "failed")
        out = []
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), encoding="utf-8") as f:
                lines = f.read().splitlines()
            out.append((lines[0] if lines else "?", lines[1] if len(lines) > 1 else "?"))
        return out


def _json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------ formatting

def fmt(v):
    """A number with 3 significant digits, no exponent for ordinary sizes."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e6 or a < 1e-3:
        return f"{v:.3g}"
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def settings(row, skip=()):
    parts = []
    if "workers" not in skip and row.get("workers"):
        parts.append(f"workers={row['workers']}")
    for k in ("pin", "topology"):
        if row.get(k) and row[k] != DEFAULTS.get(k) and k not in skip:
            parts.append(f"{k}={row[k]}")
    parts += [f"{k}={v}" for k, v in sorted(row["_params"].items()) if k not in skip]
    return ", ".join(parts) or "–"



def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def ids_for(res, key):
    """Experiment ids a marker argument names: an id, or a prefix (E1)."""
    if key in res.by_exp:
        return [key]
    ids = [e for e in res.by_exp if X.prefix_of(e) == key or fnmatch.fnmatchcase(e, key)]
    return sorted(ids, key=lambda e: (X.PANEL_ORDER.index(e) if e in X.PANEL_ORDER
                                      else len(X.PANEL_ORDER), e))


# ------------------------------------------------------------------ blocks

def results_table(res, key, opts):
    ids = ids_for(res, key)
    if not ids:
        return f"*Pending: no `{key}` rows in this results directory.*"
    known = X.palette_names()
    body = []
    for e in ids:
        metrics = opts.get("metrics", "").split(",") if opts.get("metrics") else [res.primary(e)]
        for m in metrics:
            rows = [r for r in res.by_exp[e] if r["metric"] == m and r["median"] is not None]
            if not rows:
                continue
            factor, unit = X.time_scale(rows[0]["unit"], [r["median"] for r in rows])
            u = X.unit_label(unit)
            series = X.series_order([X.series_of(r) for r in rows], known)
            rows.sort(key=lambda r: ([X._num_key(X.value_of(r, k)) for k in
                                      ["workers"] + sorted(r["_params"])],
                                     series.index(X.series_of(r))))
            for r in rows:
                ratio = "–"
                if r["ratio"] is not None and r.get("baseline"):
                    ratio = f"{r['ratio']:.2f} (vs {r['baseline'].split('=', 1)[-1]})"
                body.append([f"`{e}`", X.metric_label(m), X.series_of(r), settings(r),
                             f"{fmt(r['median'] * factor)} {u}",
                             f"{fmt(r['ci_lo'] * factor)}–{fmt(r['ci_hi'] * factor)}",
                             r["n"], ratio])
    return md_table(["experiment", "metric", "policy / peer", "settings", "median",
                     "95% CI of the median", "n", "ratio to baseline"], body)


def figure_block(res, key):
    prefix = X.prefix_of(key)
    fig = res.figures.get(prefix)
    if not fig:
        return f"*Figure pending: no `{prefix}_*` rows in this results directory.*"
    title = fig["title"].replace("[", "(").replace("]", ")")
    return (f"![{title}. Bars: medians; error bars: distribution-free 95% CI of the median "
            f"(min..max where n < 6).](../plots/out/{fig['name']}.png)")


def summary_block(res, key):
    ids = ids_for(res, key)
    if not ids:
        return f"*Pending: no `{key}` rows yet.*"
    lines = []
    for e in ids:
        m = res.primary(e)
        rows = [r for r in res.by_exp[e] if r["metric"] == m and r["median"] is not None]
        keys = X.varied_keys(rows)
        groups = {}
        for r in rows:
            groups.setdefault(tuple(X.value_of(r, k) for k in keys if k != "policy"),
                              []).append(r)
        factor, unit = X.time_scale(rows[0]["unit"], [r["median"] for r in rows])
        u = X.unit_label(unit)
        lower_better = m.startswith(("time", "ns_per", "latency")) or rows[0]["unit"] in (
            "ns", "us", "ms", "s")
        parts = []
        for g in sorted(groups, key=lambda g: [X._num_key(v) for v in g]):
            rs = sorted(groups[g], key=lambda r: r["median"], reverse=not lower_better)
            where = X.group_label(keys, list(g)) if keys else ""
            where = f"{', '.join(keys)} {where}: " if keys and len(keys) == 1 else (
                f"{where}: " if keys else "")
            best, worst = rs[0], rs[-1]
            if len(rs) == 1:
                parts.append(f"{where}{X.series_of(best)} {fmt(best['median'] * factor)} {u}")
                continue
            spread = (worst["median"] / best["median"] if lower_better else
                      best["median"] / worst["median"]) if best["median"] and worst["median"] else None
            parts.append(f"{where}best {X.series_of(best)} {fmt(best['median'] * factor)} {u}, "
                         f"worst {X.series_of(worst)} {fmt(worst['median'] * factor)} {u}"
                         + (f" ({spread:.2f}x apart)" if spread else ""))
        lines.append(f"- `{e}` ({X.metric_label(m)}, "
                     f"{'lower' if lower_better else 'higher'} is better): " + "; ".join(parts) + ".")
    return "\n".join(lines)


def machine_table(res):
    fp = res.fingerprint
    s = res.suite
    failed = res.failed()
    cells = len({(r["experiment"], r["impl"], r["policy"], r["workers"], r["pin"],
                  r["topology"], r["params"]) for r in res.rows})
    rows = [
        ["CPU", f"{fp.get('cpu_model', '?')}, {fp.get('cores', '?')} logical CPUs ({fp.get('machine', '?')})"],
        ["topology (hwloc)", fp.get("hwloc_topology", "?")],
        ["kernel", fp.get("kernel", "?")],
        ["compiler", f"{fp.get('compiler', '?')} {fp.get('cflags', '')}".strip()],
        ["git revision", f"`{fp.get('git_revision', '?')}`"],
        ["suite", f"`{fp.get('suite', '?')}`: {s.get('reps', '?')} timed repetitions after "
                  f"{s.get('warmup', '?')} warm-up ones per cell, cells in a random order (seed "
                  f"{s.get('seed', '?')})"],
        ["cells measured", f"{cells} ({len(res.by_exp)} experiment ids, {len(res.rows)} summary rows)"],
        ["cells failed", _failed_text(failed)],
    ]
    return md_table(["", "this results directory"], rows)


def _failed_text(failed):
    if not failed:
        return "0"
    progs = {}
    for why, argv in failed:
        prog = argv.split()[0] if argv.split() else "?"
        progs.setdefault((prog, why), 0)
        progs[(prog, why)] += 1
    return f"{len(failed)}: " + "; ".join(f"`{p}` {w} x{n}" for (p, w), n in sorted(progs.items()))


def coverage_table(res):
    prefixes = [f"E{i}" for i in range(1, 16)]
    prefixes += sorted({X.prefix_of(e) for e in res.by_exp} - set(prefixes), key=X.prefix_key)
    body = []
    for p in prefixes:
        ids = ids_for(res, p)
        impls = sorted({X.series_of(r) for e in ids for r in res.by_exp[e]},
                       key=lambda s: (s in X.PEERS, s))
        body.append([p, EXPERIMENT_NAMES.get(p, "–"),
                     ", ".join(f"`{e}`" for e in ids) or "–",
                     ", ".join(impls) or "–",
                     "measured" if ids else "pending"])
    return md_table(["", "experiment", "ids in these results", "policies / peers", "status"], body)


def others_table(res, sections):
    ids = sorted(e for e in res.by_exp if X.prefix_of(e) not in sections)
    if not ids:
        return "*None: every experiment in these results has a section above.*"
    return "\n\n".join(results_table(res, e, {}) for e in ids)


# ------------------------------------------------------------------ claims

def matches(row, sel, primary):
    for k, want in sel.items():
        if k == "metric":
            have = row["metric"]
        elif k in COLUMN_KEYS:
            have = row.get(k, "")
        else:
            have = row["_params"].get(k)
            if have is None:
                return False
        if not fnmatch.fnmatchcase(str(have), str(want)):
            return False
    if "metric" not in sel and row["metric"] != primary(row["experiment"]):
        return False
    return True


def select(res, sel):
    return [r for r in res.rows if matches(r, sel, res.primary)]


def describe(sel):
    exp = sel.get("experiment", "?")
    rest = ", ".join(f"{k}={v}" for k, v in sel.items() if k != "experiment")
    return f"{exp} [{rest}]" if rest else exp


def evaluate(claim, res):
    """dict: value, lo, hi, ours (text), verdict, note."""
    rule = claim.get("rule", {})
    cells = ([("num", claim["num"]), ("den", claim["den"])] if claim["kind"] == "ratio"
             else [("cell", claim["cell"])])
    found, notes = {}, []
    for name, sel in cells:
        rows = select(res, sel)
        if len(rows) == 1:
            found[name] = rows[0]
        elif not rows:
            notes.append(f"no cell {describe(sel)}")
        else:
            notes.append(f"{len(rows)} cells match {describe(sel)}: narrow the selector")
    out = {"value": None, "lo": None, "hi": None, "ours": "–", "note": "; ".join(notes)}
    if len(found) == len(cells):
        if claim["kind"] == "ratio":
            n, d = found["num"], found["den"]
            if d["median"] and d["ci_hi"] and d["ci_lo"]:
                out["value"] = n["median"] / d["median"]
                out["lo"] = n["ci_lo"] / d["ci_hi"]
                out["hi"] = n["ci_hi"] / d["ci_lo"]
                out["ours"] = f"{fmt(out['value'])}x ({fmt(out['lo'])}–{fmt(out['hi'])})"
        else:
            c = found["cell"]
            factor, unit = 1.0, c["unit"]
            if claim.get("unit") and dict(X.TIME_UNITS).get(c["unit"]) and \
                    dict(X.TIME_UNITS).get(claim["unit"]):
                factor = dict(X.TIME_UNITS)[c["unit"]] / dict(X.TIME_UNITS)[claim["unit"]]
                unit = claim["unit"]
            out["value"], out["lo"], out["hi"] = (c["median"] * factor, c["ci_lo"] * factor,
                                                  c["ci_hi"] * factor)
            out["ours"] = f"{fmt(out['value'])} {unit} ({fmt(out['lo'])}–{fmt(out['hi'])})"
    if "fixed" in rule:
        out["verdict"] = rule["fixed"]
        out["note"] = rule.get("why", "") + (f"; {out['note']}" if out["note"] else "")
    elif out["value"] is None:
        out["verdict"] = "pending"
    else:
        ok = True
        if "at_least" in rule:
            ok = ok and out["value"] >= rule["at_least"]
        if "at_most" in rule:
            ok = ok and out["value"] <= rule["at_most"]
        apart = True
        if rule.get("separated") and claim["kind"] == "ratio":
            n, d = found["num"], found["den"]
            apart = n["ci_lo"] > d["ci_hi"] if "at_least" in rule else n["ci_hi"] < d["ci_lo"]
        out["verdict"] = "reproduced" if ok and apart else "not reproduced"
        if ok and not apart:
            out["note"] = "the two cells' 95% CIs overlap"
        elif not ok:
            out["note"] = "below the threshold" if "at_least" in rule else "above the threshold"
    return out


def rule_text(rule, kind):
    if "fixed" in rule:
        return rule["fixed"]
    parts = []
    if "at_least" in rule:
        parts.append(f">= {rule['at_least']:g}" + ("x" if kind == "ratio" else ""))
    if "at_most" in rule:
        parts.append(f"<= {rule['at_most']:g}" + ("x" if kind == "ratio" else ""))
    if rule.get("separated"):
        parts.append("CIs apart")
    return ", ".join(parts)


def cell_text(claim, res):
    sels = [claim["num"], claim["den"]] if claim["kind"] == "ratio" else [claim["cell"]]
    exp = sels[0].get("experiment", "?")
    where = ""
    for e in res.suite.get("experiments", []):
        if fnmatch.fnmatchcase(e["id"], exp) and e.get("impl", "volt") == "volt":
            where = f"`{res.fingerprint.get('suite', '?')}`: `{e['program']} {' '.join(e.get('args', []))}`"
            break
    if claim["kind"] == "ratio":
        a = {k: v for k, v in sels[0].items() if sels[1].get(k) != v}
        b = {k: v for k, v in sels[1].items() if sels[0].get(k) != v}
        common = {k: v for k, v in sels[0].items() if sels[1].get(k) == v and k != "experiment"}
        text = (f"{exp}: {', '.join(f'{k}={v}' for k, v in a.items())} / "
                f"{', '.join(f'{k}={v}' for k, v in b.items())}"
                + (f" ({', '.join(f'{k}={v}' for k, v in common.items())})" if common else ""))
    else:
        text = describe(sels[0])
    return f"{text}" + (f"; {where}" if where else "")


def load_claims(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["claims"]


def claims_table(res, claims):
    body = []
    counts = {v: 0 for v in VERDICTS}
    for c in claims:
        ev = evaluate(c, res)
        counts[ev["verdict"]] = counts.get(ev["verdict"], 0) + 1
        verdict = f"**{ev['verdict']}**" + (f" ({ev['note']})" if ev["note"] else "")
        body.append([c["claim"], c["source"], c["published"], ev["ours"],
                     rule_text(c.get("rule", {}), c["kind"]), verdict,
                     f"{c.get('section', '')}: {cell_text(c, res)}"])
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    return (md_table(["claim", "source", "published", "ours (range)", "rule", "verdict",
                      "section: cells; suite: program"], body) + f"\n\nTally: {tally}.")


# ------------------------------------------------------------------ driver

def render(text, res, claims):
    sections = set(re.findall(r"<!-- figure:([A-Za-z0-9_]+) -->", text))

    def one(m):
        opening, kind, arg, opts_s, _, closing = m.groups()
        opts = dict(o.split("=", 1) for o in opts_s.split())
        if kind == "figure":
            body = figure_block(res, arg)
        elif kind == "summary":
            body = summary_block(res, arg)
        elif arg == "claims":
            body = claims_table(res, claims)
        elif arg == "machine":
            body = machine_table(res)
        elif arg == "coverage":
            body = coverage_table(res)
        elif arg == "others":
            body = others_table(res, {X.prefix_of(s) for s in sections})
        else:
            body = results_table(res, arg, opts)
        return f"{opening}\n{body}\n{closing}"

    return MARKER.sub(one, text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a results directory with summary.csv")
    ap.add_argument("--paper", default=os.path.join(HERE, "paper.md"))
    ap.add_argument("--claims", default=os.path.join(HERE, "claims.json"))
    a = ap.parse_args(argv)
    res = Results(a.results)
    if not res.rows:
        print(f"tables: no summary rows in {a.results}; every block will say pending",
              file=sys.stderr)
    claims = load_claims(a.claims)
    with open(a.paper, encoding="utf-8") as f:
        text = f.read()
    new = render(text, res, claims)
    n = len(MARKER.findall(text))
    if new != text:
        with open(a.paper, "w", encoding="utf-8") as f:
            f.write(new)
    verdicts = [evaluate(c, res)["verdict"] for c in claims]
    print(f"tables: {n} blocks in {os.path.relpath(a.paper)} from {a.results} "
          f"({'changed' if new != text else 'unchanged'}); claims: "
          + ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS if verdicts.count(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
