#!/usr/bin/env python3
"""plots/extract.py RESULTS_DIR: summary.csv -> the data files of the figures.

Reads RESULTS_DIR/summary.csv (experiments/README.md has its columns) and,
where present, RESULTS_DIR/results.csv (for the order in which a program
prints its metrics) and the suite file named in RESULTS_DIR/fingerprint.json
(for experiment titles). Writes into plots/data/ (or --out):

  <figure>.<panel>.dat   one block per series (policy or peer), separated by
                         two blank lines so gnuplot's `index` picks a series;
                         columns: x median lo hi n group (see write_panel)
  <figure>.vars          gnuplot variables: layout, titles, axis labels,
                         ranges, log scale, tics and series of each panel
  figures.txt            one line per figure written: "<figure> <script>"

Figures are driven by the data: one figure per experiment-id prefix (E1,
E2, ... or whatever precedes the first '_'), one panel per experiment id
in it. A panel plots the experiment's primary metric (time_per_iter where
present, else the first metric the program prints) as grouped bars: one
group per combination of the parameters that vary in that experiment
(workers, pin, topology, or a Volt-C knob in `params`), one bar per policy
or peer. Bars are medians; error bars are the distribution-free 95% CI of
the median (ci_lo..ci_hi, which the harness widens to min..max when n < 6),
or min..max with --range minmax.

Standard-library Python 3 only; paper/tables.py imports the readers below.
"""

import argparse
import csv
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Figures with a name and a script of their own; other prefixes get
# plots/experiment.gp and the name "<prefix>" in lower case.
FIGURE_NAMES = {
    "E1": "e1_spawn_many",
    "E2": "e2_yield_many",
    "E3": "e3_ping_pong",
    "E4": "e4_chained_spawn",
    "E5": "e5_injection",
    "E6": "e6_lifo_starvation",
    "E7": "e7_fan_out",
    "E8": "e8_skew",
    "E9": "e9_tail_latency",
    "E10": "e10_chan_crossbeam",
    "E11": "e11_tcp_echo",
    "E12": "e12_numa_steal",
    "E13": "e13_numa_policies",
    "E14": "e14_oversubscription",
    "E15": "e15_deque",
    "E16": "e16_task_cost",
    "E17": "e17_spawn_blocking",
    "E18": "e18_timers",
    "E19": "e19_sync",
    "E20": "e20_channels",
}
FIGURE_TITLES = {
    "E1": "E1 spawn_many: 10,000 empty tasks",
    "E2": "E2 yield_many: tasks that yield over and over",
    "E3": "E3 ping_pong: message hand-offs between task pairs",
    "E4": "E4 chained_spawn: a chain of spawns",
    "E5": "E5 injection under load",
    "E6": "E6 LIFO starvation and long polls",
    "E7": "E7 fan-out / fan-in",
    "E8": "E8 skewed load imbalance",
    "E9": "E9 tail latency, mixed I/O and CPU",
    "E10": "E10 channel MPMC throughput",
    "E11": "E11 TCP echo and HTTP hello: io_uring, epoll, Tokio, libuv",
    "E12": "E12 steal cost by topology distance",
    "E13": "E13 NUMA-aware policies",
    "E14": "E14 oversubscription and the idle policy",
    "E15": "E15 deque micro-benchmark and memory orders",
    "E16": "E16 what one task costs: stackless task, fiber, OS thread",
    "E17": "E17 the blocking pool: spawn a job and await it",
    "E18": "E18 timers: arming a sleep, and a million sleepers",
    "E19": "E19 synchronisation primitives: uncontended and contended",
    "E20": "E20 channels: the try fast path on one thread, and 4 x 4 MPMC",
}
# Experiments whose panel shows a metric other than the primary one.
PANEL_METRIC = {
    "E18_timer_insert_cancel": "sleep_ns",
    "E18_sleepers": "lateness_p99_us",
    "E9_tail": "p99_us",
    "E19_sync_uncontended": "mutex_ns",
    "E19_sync_contended": "mutex_contended_ns",
    "E20_chan_tier2": "roundtrip_ns",
    "E20_chan_mpmc": "mpmc_ns",
}
# Experiments whose Volt-C bars differ by a parameter rather than by policy:
# each bar is "<policy>/<value>" (the channel buffer), the parameter no group.
SERIES_PARAM = {
    "E11_echo_128": "driver",
    "E11_echo_1024": "driver",
    "E11_http": "driver",
    "E20_chan_tier2": "buffer",
    "E20_chan_mpmc": "buffer",
    "E10_chan_seq": "buffer",
    "E10_chan_spsc": "buffer",
    "E10_chan_mpsc": "buffer",
    "E10_chan_mpmc": "buffer",
    "E10_chan_select": "buffer",
}
# Within a figure, these ids come first, in this order; the rest follow sorted.
PANEL_ORDER = [
    "E1_spawn_many_local", "E1_spawn_many_remote",
    "E2_yield_many", "E2_yield_interval",
    "E3_ping_pong", "E3_ping_pong_lifo", "E3_ping_pong_hog",
    "E4_chained_spawn",
    "E19_sync_uncontended", "E19_sync_contended",
    "E20_chan_tier2", "E20_chan_mpmc",
    "E10_chan_seq", "E10_chan_spsc", "E10_chan_mpsc", "E10_chan_mpmc", "E10_chan_select",
    "E11_echo_128", "E11_echo_1024", "E11_http",
]
# Figures the paper expects even before their data exists: a missing one is
# reported as skipped.
EXPECTED = ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E12", "E13", "E14", "E15", "E16"]

PEERS = ("tokio", "go", "libuv")
TIME_UNITS = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
UNIT_LABEL = {"us": "µs", "pct": "%"}
METRIC_LABEL = {
    "time_per_iter": "time per iteration",
    "ns_per_op": "time per operation",
    "sleep_ns": "sleep armed + dropped",
    "lateness_p50_us": "p50 lateness",
    "lateness_p99_us": "p99 lateness",
    "lateness_max_us": "max lateness",
    "lateness_p99_steady_us": "p99 lateness after 100 ms",
    "spawn_ms": "time to spawn all",
    "mutex_ns": "mutex try_lock + unlock",
    "mutex_contended_ns": "mutex lock + increment + unlock",
    "send_ns": "try_send",
    "recv_ns": "try_recv",
    "roundtrip_ns": "try_send + try_recv (capacity 1)",
    "bytes_per_op": "bytes allocated per op",
    "mpmc_ns": "time per message (4 x 4 MPMC)",
    "msg_ns": "time per message",
    "msgs_per_sec": "messages (HTTP: requests) per second",
    "p50_us": "p50 round-trip latency",
    "p99_us": "p99 round-trip latency",
    "p999_us": "p99.9 round-trip latency",
    "heavy_msgs_per_sec": "heavy requests per second",
}
# Parameter values with a meaning worth spelling out on an axis.
VALUE_LABEL = {("global_interval", "0"): "0 (self-tuned)", ("budget", "65535"): "off (65535)"}

LOG_SPAN = 10.0  # log scale when the largest median is >= this x the smallest


# ------------------------------------------------------------------ reading

def parse_params(text):
    """'a=1;b=x' -> {'a': '1', 'b': 'x'}."""
    out = {}
    for part in filter(None, (text or "").split(";")):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def read_summary(results_dir):
    """The rows of summary.csv as dicts, numbers as floats, params parsed
    into row['_params']. [] if there is no summary."""
    path = os.path.join(results_dir, "summary.csv")
    if not os.path.exists(path):
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            for k in ("median", "min", "max", "ci_lo", "ci_hi", "ratio"):
                r[k] = float(r[k]) if r.get(k) not in (None, "") else None
            r["n"] = int(float(r["n"])) if r.get("n") else 0
            r["_params"] = parse_params(r.get("params", ""))
            rows.append(r)
    return rows


def metric_order(results_dir):
    """experiment -> its metrics in the order the program printed them
    (from results.csv; {} if absent)."""
    path = os.path.join(results_dir, "results.csv")
    order = {}
    if not os.path.exists(path):
        return order
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            seen = order.setdefault(r["experiment"], [])
            if r["metric"] not in seen:
                seen.append(r["metric"])
    return order


def suite_titles(results_dir):
    """experiment id -> title, from the suite the run used (if found)."""
    try:
        with open(os.path.join(results_dir, "fingerprint.json"), encoding="utf-8") as f:
            name = json.load(f).get("suite", "")
        with open(os.path.join(ROOT, "experiments", "suites", name + ".json"),
                  encoding="utf-8") as f:
            suite = json.load(f)
    except (OSError, ValueError):
        return {}
    return {e["id"]: e["title"] for e in suite.get("experiments", []) if e.get("title")}


def primary_metric(rows, order=None):
    """time_per_iter if any row has it, else the first metric printed
    (results.csv order), else the first in the summary."""
    metrics = []
    for r in rows:
        if r["metric"] not in metrics:
            metrics.append(r["metric"])
    if not metrics:
        return None
    if "time_per_iter" in metrics:
        return "time_per_iter"
    for m in order or []:
        if m in metrics:
            return m
    return metrics[0]


def series_of(row):
    """A bar's name (one word): the Volt-C policy, or the peer's name."""
    if row["impl"] != "volt":
        pol = row.get("policy") or row["impl"]
        name = row["impl"] if pol == row["impl"] else f"{row['impl']}/{pol}"
    else:
        name = row["policy"] or "volt"
    return name.replace(" ", "_")


def prefix_of(experiment):
    m = re.match(r"^(E\d+)(?:_|$)", experiment)
    if m:
        return m.group(1)
    return experiment.split("_", 1)[0]


def prefix_key(prefix):
    m = re.match(r"^E(\d+)$", prefix)
    return (0, int(m.group(1)), "") if m else (1, 0, prefix)


def palette_names(style_path=os.path.join(HERE, "style.gp")):
    try:
        with open(style_path, encoding="utf-8") as f:
            m = re.search(r'^series_names\s*=\s*"([^"]*)"', f.read(), re.M)
        return m.group(1).split() if m else []
    except OSError:
        return []


def series_order(names, known):
    """Known names in palette order, other Volt-C policies, then peers."""
    def key(n):
        if n in known:
            return (0, known.index(n), n)
        return (2 if n.split("/")[0] in PEERS else 1, 0, n)
    return sorted(set(names), key=key)


def varied_keys(rows):
    """The parameters that take more than one value among rows."""
    keys = ["workers", "pin", "topology"]
    extra = sorted({k for r in rows for k in r["_params"]})
    varied = []
    for k in keys + extra:
        vals = {value_of(r, k) for r in rows}
        if len(vals) > 1:
            varied.append(k)
    return varied


def value_of(row, key):
    if key in ("workers", "pin", "topology"):
        return row.get(key, "")
    return row["_params"].get(key, "")


def _num_key(v):
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v)


def group_label(keys, values):
    if len(keys) == 1:
        v = values[0]
        return VALUE_LABEL.get((keys[0], v), v if v != "" else "-")
    return " ".join(f"{k}={v if v != '' else '-'}" for k, v in zip(keys, values))


def fixed_label(rows):
    """The settings every row of a one-group panel shares, e.g. 'workers=2'."""
    parts = []
    for k in ["workers"] + sorted({k for r in rows for k in r["_params"]}):
        vals = {value_of(r, k) for r in rows} - {""}
        if len(vals) == 1:
            parts.append(f"{k}={vals.pop()}")
    return ", ".join(parts) or "policy / peer"


def time_scale(unit, values):
    """(factor, unit) to show time values in a readable unit."""
    base = dict(TIME_UNITS).get(unit)
    if base is None or not values:
        return 1.0, unit
    top = max(abs(v) for v in values) * base  # in ns
    best = TIME_UNITS[0]
    for name, f in TIME_UNITS:
        if top / f >= 1:
            best = (name, f)
    return base / best[1], best[0]


def unit_label(unit):
    return UNIT_LABEL.get(unit, unit)


def metric_label(metric):
    return METRIC_LABEL.get(metric, metric.replace("_", " "))


# ------------------------------------------------------------------ planning

def panel_of(experiment, rows, order, titles, known, range_kind="ci"):
    """One panel: the primary metric of one experiment (or its PANEL_METRIC),
    as grouped bars."""
    metric = PANEL_METRIC.get(experiment) or primary_metric(rows, order.get(experiment))
    rows = [r for r in rows if r["metric"] == metric and r["median"] is not None]
    if not rows:
        return None
    unit = rows[0]["unit"]
    lo_k, hi_k = ("ci_lo", "ci_hi") if range_kind == "ci" else ("min", "max")
    factor, shown = time_scale(unit, [r["median"] for r in rows])
    keys = varied_keys(rows)
    name_of = series_of
    by_knob = False
    sp = SERIES_PARAM.get(experiment)
    if sp:
        keys = [k for k in keys if k != sp]
        name_of = lambda r: series_of(r) + (  # noqa: E731
            f"/{r['_params'][sp]}" if r["_params"].get(sp) else "")
    elif len({series_of(r) for r in rows}) == 1 and len(keys) >= 2:
        # One policy, several knobs: the last knob becomes the bars' colour.
        last = keys.pop()
        only = series_of(rows[0])
        name_of = lambda r: f"{only}:{last}={value_of(r, last) or '-'}"  # noqa: E731
        by_knob = True
    groups = sorted({tuple(value_of(r, k) for k in keys) for r in rows},
                    key=lambda g: [_num_key(v) for v in g])
    series = series_order([name_of(r) for r in rows], known)
    series.sort(key=lambda n: _num_key(n.rsplit("=", 1)[-1]) if by_knob else (0, 0.0, ""))
    if sp:  # Volt-C's bars first, as where the policy names them
        series.sort(key=lambda n: n.split("/")[0] in PEERS)
    single = len(groups) == 1
    width = 0.7 if single else 0.8 / len(series)
    bars = []
    for r in rows:
        s = series.index(name_of(r))
        g = groups.index(tuple(value_of(r, k) for k in keys))
        x = s if single else g - 0.4 + width * (s + 0.5)
        lo = r[lo_k] if r[lo_k] is not None else r["median"]
        hi = r[hi_k] if r[hi_k] is not None else r["median"]
        bars.append({"series": s, "group": g, "x": x, "median": r["median"] * factor,
                     "lo": lo * factor, "hi": hi * factor, "n": r["n"],
                     "label": group_label(keys, groups[g]) if keys else "all"})
    meds = [b["median"] for b in bars]
    his = [b["hi"] for b in bars]
    los = [b["lo"] for b in bars]
    log = min(meds) > 0 and max(meds) / min(meds) >= LOG_SPAN
    top = max(max(meds) * 1.3, min(max(his), max(meds) * 3)) * 1.05
    if log:
        low = min(min(meds), min(x for x in los if x > 0) if any(x > 0 for x in los) else min(meds))
        ymin = 10 ** math.floor(math.log10(low * 0.9))
        ymax = 10 ** math.ceil(math.log10(max(max(his), top)))
        if ymax / max(meds) > 8:
            ymax = max(max(meds) * 2.5, min(max(his), max(meds) * 8))
    else:
        ymin, ymax = min(0.0, min(los) * 1.1), top
    if single:
        xtics = [(s, series[s]) for s in range(len(series))]
        xmin, xmax = -0.6, len(series) - 0.4
    else:
        xtics = [(g, group_label(keys, groups[g])) for g in range(len(groups))]
        xmin, xmax = -0.55, len(groups) - 0.45
    return {
        "experiment": experiment,
        "title": f"{experiment}: {titles[experiment]}" if experiment in titles else experiment,
        "metric": metric, "unit": shown, "raw_unit": unit, "factor": factor,
        "ylabel": f"{metric_label(metric)} ({unit_label(shown)})" if shown else metric_label(metric),
        "xlabel": ", ".join(keys) if not single else fixed_label(rows),
        "keys": keys, "groups": groups, "series": series, "bars": bars,
        "single": single, "width": width, "log": log, "ymin": ymin, "ymax": ymax,
        "ybase": ymin if log else 0.0, "xmin": xmin, "xmax": xmax, "xtics": xtics,
        "range": range_kind,
    }


def plan(rows, order=None, titles=None, range_kind="ci", known=None):
    """The figures for a summary: a list of dicts (name, prefix, title, panels)."""
    order = order or {}
    titles = titles or {}
    known = known if known is not None else palette_names()
    by_prefix = {}
    for r in rows:
        by_prefix.setdefault(prefix_of(r["experiment"]), {}).setdefault(
            r["experiment"], []).append(r)
    figures = []
    for prefix in sorted(by_prefix, key=prefix_key):
        ids = sorted(by_prefix[prefix], key=lambda e: (
            PANEL_ORDER.index(e) if e in PANEL_ORDER else len(PANEL_ORDER), e))
        panels = [p for p in (panel_of(e, by_prefix[prefix][e], order, titles, known,
                                       range_kind) for e in ids) if p]
        if not panels:
            continue
        name = FIGURE_NAMES.get(prefix, prefix.lower())
        figures.append({"name": name, "prefix": prefix, "panels": panels,
                        "title": FIGURE_TITLES.get(prefix, f"{prefix}")})
    return figures


def figure_name(prefix):
    return FIGURE_NAMES.get(prefix, prefix.lower())


# ------------------------------------------------------------------ writing

def _q(s):
    """A gnuplot double-quoted string."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(v):
    return f"{v:.6g}"


def write_panel(path, panel):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {panel['experiment']}: {panel['metric']} in {panel['unit']}; "
                f"bars at x, error range = "
                f"{'95% CI of the median (ci_lo..ci_hi)' if panel['range'] == 'ci' else 'min..max'}\n")
        f.write(f"# groups: {', '.join(panel['keys']) or '(one)'}\n")
        for s, name in enumerate(panel["series"]):
            if s:
                f.write("\n\n")
            f.write(f"# series {s}: {name}\n# x median lo hi n group\n")
            for b in sorted((b for b in panel["bars"] if b["series"] == s),
                            key=lambda b: b["x"]):
                label = b["label"].replace(" ", "_") or "-"
                f.write(f"{_num(b['x'])} {_num(b['median'])} {_num(b['lo'])} "
                        f"{_num(b['hi'])} {b['n']} {label}\n")


def caption(range_kind):
    if range_kind == "ci":
        return "bars: medians; error bars: 95% CI of the median (min..max where n < 6)"
    return "bars: median; error bars: min..max of the repetitions"


def write_vars(path, fig, files, known):
    panels = fig["panels"]
    n = len(panels)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    styles = {}
    extra = 9
    out = [f"# {fig['name']}: written by plots/extract.py; do not edit",
           f"fig_name = {_q(fig['name'])}",
           f"fig_title = {_q(fig['title'])}",
           f"fig_caption = {_q(caption(panels[0]['range']))}",
           f"fig_npanels = {n}", f"fig_rows = {rows}", f"fig_cols = {cols}",
           f"fig_w = {max(760, 540 * cols)}", f"fig_h = {430 * rows + 50}"]
    for name in ("file", "title", "ylabel", "xlabel", "series", "styles", "xtics"):
        out.append(f"array P_{name}[{n}]")
    for name in ("log", "ymin", "ymax", "ybase", "xmin", "xmax", "bw", "key"):
        out.append(f"array P_{name}[{n}]")
    for i, (p, fpath) in enumerate(zip(panels, files), 1):
        st = []
        for s in p["series"]:
            if s in known:
                st.append(known.index(s) + 1)
            else:
                if s not in styles:
                    styles[s] = extra
                    extra = min(extra + 1, 14)
                st.append(styles[s])
        tics = ", ".join(f"{_q(label)} {_num(x)}" for x, label in p["xtics"])
        rotate = " rotate by 20 right" if (not p["single"] and
                                          max(len(l) for _, l in p["xtics"]) > 10) else ""
        out += [f"P_file[{i}] = {_q(fpath)}",
                f"P_title[{i}] = {_q(p['title'])}",
                f"P_ylabel[{i}] = {_q(p['ylabel'])}",
                f"P_xlabel[{i}] = {_q(p['xlabel'])}",
                f"P_series[{i}] = {_q(' '.join(p['series']))}",
                f"P_styles[{i}] = {_q(' '.join(map(str, st)))}",
                f"P_xtics[{i}] = {_q('set xtics (' + tics + ')' + rotate)}",
                f"P_log[{i}] = {int(p['log'])}",
                f"P_ymin[{i}] = {_num(p['ymin'])}", f"P_ymax[{i}] = {_num(p['ymax'])}",
                f"P_ybase[{i}] = {_num(p['ybase'])}",
                f"P_xmin[{i}] = {_num(p['xmin'])}", f"P_xmax[{i}] = {_num(p['xmax'])}",
                f"P_bw[{i}] = {_num(p['width'])}",
                f"P_key[{i}] = {0 if p['single'] else 1}"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def script_for(name):
    own = os.path.join("plots", name + ".gp")
    return own if os.path.exists(os.path.join(ROOT, own)) else os.path.join("plots", "experiment.gp")


def extract(results_dir, out_dir, range_kind="ci", log=sys.stderr):
    """Writes every figure's data; returns the figures (see plan)."""
    rows = read_summary(results_dir)
    if not rows:
        print(f"extract: no summary.csv rows in {results_dir}", file=log)
    figures = plan(rows, metric_order(results_dir), suite_titles(results_dir), range_kind)
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):  # stale data from an earlier run
        if name.endswith((".dat", ".vars")) or name == "figures.txt":
            os.remove(os.path.join(out_dir, name))
    known = palette_names()
    have = {f["prefix"] for f in figures}
    for prefix in EXPECTED:
        if prefix not in have:
            print(f"extract: skip {figure_name(prefix)}: no {prefix}_* rows in the summary",
                  file=log)
    rel = os.path.relpath(out_dir, ROOT) if os.path.isabs(out_dir) else out_dir
    lines = []
    for fig in figures:
        files = []
        for i, p in enumerate(fig["panels"], 1):
            fname = f"{fig['name']}.{i}.dat"
            write_panel(os.path.join(out_dir, fname), p)
            files.append(os.path.join(rel, fname))
        write_vars(os.path.join(out_dir, fig["name"] + ".vars"), fig, files, known)
        lines.append(f"{fig['name']} {script_for(fig['name'])}")
        print(f"extract: {fig['name']}: {len(fig['panels'])} panel(s): "
              f"{', '.join(p['experiment'] for p in fig['panels'])}", file=log)
    with open(os.path.join(out_dir, "figures.txt"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return figures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a results directory with summary.csv")
    ap.add_argument("--out", default=os.path.join("plots", "data"))
    ap.add_argument("--range", choices=("ci", "minmax"), default="ci",
                    help="error bars: 95%% CI of the median (default) or min..max")
    a = ap.parse_args(argv)
    figures = extract(a.results, a.out, a.range)
    for fig in figures:
        print(fig["name"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
