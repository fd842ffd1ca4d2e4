#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a Volt-C scheduling trace (the Chrome trace-event JSON that
VOLT_TRACE=<file> writes at shutdown). Standard library only.

    python3 scripts/trace_summary.py trace.json

Prints, per worker: polls, wakes, steals, parks, unparks; then, per task:
its polls on each worker and how often it changed worker between two
consecutive polls; then how a woken task was run: next on the same worker
that woke it, later on that worker, or on another worker, with the median
wake-to-poll delay of each.
"""
import bisect
import json
import statistics
import sys
from collections import Counter, defaultdict


def main(path):
    with open(path) as f:
        trace = json.load(f)
    other = trace.get("otherData", {})
    events = [e for e in trace["traceEvents"] if e.get("ph") != "M"]
    events.sort(key=lambda e: (e["ts"], e["tid"]))
    workers = int(other.get("workers", 1 + max((e["tid"] for e in events), default=0)))

    print(f"{path}: scheduler {other.get('scheduler')}, {workers} workers, "
          f"lifo {other.get('lifo')}, dropped {other.get('dropped_total')}, "
          f"unmatched poll records {other.get('unmatched_poll_records')}")
    per = defaultdict(Counter)
    for e in events:
        per[e["tid"]][e["name"]] += 1
    names = ["poll", "wake", "spawn", "steal", "park", "unpark"]
    print("worker " + " ".join(f"{n:>7}" for n in names))
    for w in range(workers):
        print(f"{w:>6} " + " ".join(f"{per[w][n]:>7}" for n in names))

    polls = [e for e in events if e["name"] == "poll"]
    span = (polls[-1]["ts"] + polls[-1]["dur"] - polls[0]["ts"]) if polls else 0
    print(f"polls: {len(polls)} over {span:.1f} us, median poll "
          f"{statistics.median(p['dur'] for p in polls) * 1000 if polls else 0:.0f} ns")

    where = defaultdict(Counter)
    moves = Counter()
    last = {}
    for p in polls:
        task = p["args"]["task"]
        where[task][p["tid"]] += 1
        if task in last and last[task] != p["tid"]:
            moves[task] += 1
        last[task] = p["tid"]
    print("task            " + " ".join(f"{'w' + str(w):>6}" for w in range(workers))
          + "  moves")
    for task in sorted(where, key=lambda t: -sum(where[t].values())):
        print(f"{task:<15} " + " ".join(f"{where[task][w]:>6}" for w in range(workers))
              + f"  {moves[task]:>5}")

    # For each wake, the next poll of the woken task: where, and whether it
    # was the very next poll on the worker that woke it.
    starts = defaultdict(list)  # worker -> start times of its polls, sorted
    for p in polls:
        starts[p["tid"]].append(p["ts"])
    pending = {}
    kinds = defaultdict(list)
    for e in events:
        if e["name"] == "wake":
            pending[e["args"]["task"]] = e
        elif e["name"] == "poll":
            w = pending.pop(e["args"]["task"], None)
            if w is None:
                continue
            if w["tid"] != e["tid"]:
                kind = "another worker"
            else:
                ts = starts[w["tid"]]
                i = bisect.bisect_right(ts, w["ts"])
                kind = "same worker, next" if i < len(ts) and ts[i] == e["ts"] \
                    else "same worker, later"
            kinds[kind].append(e["ts"] - w["ts"])
    total = sum(len(v) for v in kinds.values())
    for kind in ("same worker, next", "same worker, later", "another worker"):
        d = kinds.get(kind, [])
        med = statistics.median(d) * 1000 if d else 0
        print(f"woken task ran on {kind:<18}: {len(d):>7} "
              f"({100 * len(d) / total if total else 0:5.1f}%), median wake->poll {med:.0f} ns")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: trace_summary.py TRACE.json")
    main(sys.argv[1])
