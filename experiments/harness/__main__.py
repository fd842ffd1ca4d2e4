"""Command line of the harness. From the repository root:

    python3 -m experiments.harness run --suite experiments/suites/quick.json --out results/quick
    python3 -m experiments.harness run ... --fresh          start over instead of resuming
    python3 -m experiments.harness run ... --only E1_spawn_many_local,E2_yield_many
    python3 -m experiments.harness emit-jobs --suite S --out DIR    one command per pending cell
    python3 -m experiments.harness cell --suite S --out DIR --key K  run one cell (a job)
    python3 -m experiments.harness merge --out DIR SRC...           combine result sets
    python3 -m experiments.harness summarize --suite S --out DIR    results.csv + summary.csv
"""

import argparse
import os
import sys

from . import results, runner, suite as suites


def _baselines(suite):
    return {e["id"]: e["baseline"] for e in suite["experiments"] if e.get("baseline")}


def summarize(suite, run_dir):
    rows = results.write_results(run_dir)
    summary = results.write_summary(run_dir, rows, _baselines(suite))
    return rows, summary


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m experiments.harness")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("run", "emit-jobs", "cell", "summarize"):
        p = sub.add_parser(name)
        p.add_argument("--suite", required=True)
        p.add_argument("--out", required=True)
        if name in ("run", "emit-jobs"):
            p.add_argument("--only", default="", help="comma-separated experiment ids")
        if name == "run":
            p.add_argument("--fresh", action="store_true")
        if name == "cell":
            p.add_argument("--key", required=True)
    m = sub.add_parser("merge")
    m.add_argument("--out", required=True)
    m.add_argument("--suite", help="also write results.csv and summary.csv")
    m.add_argument("sources", nargs="+")
    a = ap.parse_args(argv)

    try:
        if a.command == "merge":
            copied, conflicts = results.merge(a.out, a.sources)
            print(f"merge: {copied} cells copied into {a.out}")
            for key in conflicts:
                print(f"merge: cell {key} differs in fingerprint between sources; kept the first")
            if a.suite:
                summarize(suites.load(a.suite), a.out)
            return 1 if conflicts else 0
        suite = suites.load(a.suite)
        only = set(filter(None, getattr(a, "only", "").split(",")))
        if a.command == "emit-jobs":
            print("\n".join(runner.emit_jobs(suite, a.suite, a.out, only)))
            return 0
        if a.command == "cell":
            return 0 if runner.run_one(suite, a.out, a.key) else 1
        if a.command == "run":
            ran, failed = runner.run_suite(suite, a.out, a.fresh, only)
            rows, summary = summarize(suite, a.out)
            print(f"harness: {ran} cells run, {failed} failed; {len(rows)} values, "
                  f"{len(summary)} summary rows in {os.path.join(a.out, 'summary.csv')}")
            return 1 if failed else 0
        rows, summary = summarize(suite, a.out)
        print(f"harness: {len(rows)} values, {len(summary)} summary rows")
        return 0
    except suites.SuiteError as e:
        print(f"harness: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
