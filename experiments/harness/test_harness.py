"""Unit tests of the harness: matrix expansion, resumption, jobs and merge,
statistics, summaries. Run from the repository root:

    python3 -m unittest experiments.harness.test_harness
"""

import csv
import io
import json
import os
import stat
import tempfile
import unittest
from contextlib import redirect_stdout, redirect_stderr

from experiments.harness import __main__ as cli
from experiments.harness import results, runner, stats, suite as suites

# A stand-in experiment program: counts its runs in $CALLS, prints one
# result line per rep whose value is derived from VOLT_SCHED, fails for
# policy "bad".
FAKE = """#!/bin/sh
echo run >> "$CALLS"
reps=1
while [ $# -gt 0 ]; do
  case "$1" in --reps) reps=$2; shift ;; esac
  shift
done
[ "$VOLT_SCHED" = bad ] && { echo boom >&2; exit 3; }
i=1
while [ $i -le $reps ]; do
  case "$VOLT_SCHED" in ring) v=50 ;; *) v=100 ;; esac
  echo "noise line"
  echo "result,$i,time_per_iter,$((v + i)),us"
  i=$((i + 1))
done
"""


def write_suite(d, policies, reps=3, extra=None):
    prog = os.path.join(d, "fake.sh")
    with open(prog, "w") as f:
        f.write(FAKE)
    os.chmod(prog, os.stat(prog).st_mode | stat.S_IEXEC)
    s = {"name": "t", "reps": reps, "warmup": 0, "seed": 3, "experiments": [
        {"id": "E1", "program": prog, "args": ["--workers", "{workers}"],
         "matrix": {"policy": policies, "workers": [1, 2]},
         "baseline": {"impl": "peer"}},
        {"id": "E1", "impl": "peer", "program": prog, "args": [],
         "matrix": {"workers": [1, 2]}},
    ]}
    if extra:
        s["experiments"].append(extra)
    path = os.path.join(d, "suite.json")
    with open(path, "w") as f:
        json.dump(s, f)
    return path, s


def calls(d):
    try:
        with open(os.path.join(d, "calls")) as f:
            return len(f.readlines())
    except FileNotFoundError:
        return 0


def quiet(fn, *args):
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        return fn(*args)


class Matrix(unittest.TestCase):
    def test_expand_is_the_product(self):
        s = {"experiments": [{"id": "X", "program": "p",
                              "matrix": {"policy": ["a", "b", "c"], "workers": [1, 2]}},
                             {"id": "Y", "program": "q"}]}
        suites.check(s)
        cells = suites.expand(s)
        self.assertEqual(len(cells), 3 * 2 + 1)
        keys = {suites.cell_key(suites.params_of(c)) for c in cells}
        self.assertEqual(len(keys), 7)

    def test_key_ignores_order_and_entry(self):
        a = {"experiment": "E", "impl": "volt", "policy": "ring", "workers": 2}
        b = {"workers": 2, "policy": "ring", "impl": "volt", "experiment": "E"}
        self.assertEqual(suites.cell_key(a), suites.cell_key(b))
        self.assertNotEqual(suites.cell_key(a), suites.cell_key(dict(a, workers=1)))

    def test_columns_environment_command(self):
        entry = {"id": "E", "program": "prog", "args": ["--workers", "{workers}"],
                 "reps": 4}
        cell = {"experiment": "E", "impl": "volt", "policy": "ring", "workers": 2,
                "lifo": 0, "global_interval": 31, "_entry": entry}
        cols, params = suites.columns_of(cell)
        self.assertEqual(cols["policy"], "ring")
        self.assertEqual(cols["pin"], "none")
        self.assertEqual(cols["topology"], "real")
        self.assertEqual(params, "global_interval=31;lifo=0")
        env = suites.environment(cell)
        self.assertEqual(env, {"VOLT_SCHED": "ring", "VOLT_WORKERS": "2", "VOLT_LIFO": "0",
                               "VOLT_GLOBAL_INTERVAL": "31"})
        self.assertEqual(suites.command(cell, {"warmup": 1}),
                         ["prog", "--workers", "2", "--reps", "4", "--warmup", "1"])
        peer = dict(cell, impl="tokio")
        del peer["policy"]
        self.assertEqual(suites.columns_of(peer)[0]["policy"], "tokio")

    def test_unknown_placeholder_and_bad_suites(self):
        cell = {"experiment": "E", "impl": "volt", "_entry": {"id": "E", "program": "p",
                                                            "args": ["{nope}"]}}
        with self.assertRaises(suites.SuiteError):
            suites.command(cell, {})
        for bad in ({}, {"experiments": [{"program": "p"}]},
                    {"experiments": [{"id": "E", "program": "p", "matrix": {"a": []}}]},
                    {"experiments": [], "reps": -1}):
            with self.assertRaises(suites.SuiteError):
                suites.check(bad)

    def test_shuffle_is_seeded(self):
        cells = [{"experiment": str(i)} for i in range(20)]
        self.assertEqual(suites.shuffled(cells, 1), suites.shuffled(cells, 1))
        self.assertNotEqual(suites.shuffled(cells, 1), suites.shuffled(cells, 2))
        self.assertEqual(sorted(map(str, suites.shuffled(cells, 1))), sorted(map(str, cells)))


class Stats(unittest.TestCase):
    def test_median(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 2, 3]), 2.5)
        with self.assertRaises(ValueError):
            stats.median([])

    def test_ci_small_samples_are_the_range(self):
        self.assertEqual(stats.median_ci([5, 1, 4, 2, 3]), (1, 5))

    def test_ci_order_statistics(self):
        xs = list(range(1, 21))  # n = 20: the 95% interval is x(6) .. x(15)
        self.assertEqual(stats.median_ci(xs), (6, 15))
        lo, hi = stats.median_ci(list(range(1, 101)))  # n = 100: x(40) .. x(61)
        self.assertEqual((lo, hi), (40, 61))

    def test_summarize(self):
        s = stats.summarize([10, 30, 20])
        self.assertEqual((s["n"], s["median"], s["min"], s["max"]), (3, 20, 10, 30))


class Running(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        os.environ["CALLS"] = os.path.join(self.d, "calls")

    def tearDown(self):
        self.tmp.cleanup()

    def test_parse_output_keeps_only_result_lines(self):
        text = "hello\nresult,1,time_per_iter,12.5,us\nresult,x,bad,1,us\nresult,2,n,3e2,count\n"
        self.assertEqual(results.parse_output(text),
                         [(1, "time_per_iter", 12.5, "us"), (2, "n", 300.0, "count")])

    def test_run_resume_and_failures(self):
        path, s = write_suite(self.d, ["ring", "global", "bad"])
        out = os.path.join(self.d, "run")
        ran, failed = quiet(runner.run_suite, s, out)
        self.assertEqual((ran, failed), (3 * 2 + 2, 2))
        self.assertEqual(calls(self.d), 8)
        self.assertEqual(len(os.listdir(os.path.join(out, "failed"))), 2)
        # resume: only the failed cells are tried again
        ran, failed = quiet(runner.run_suite, s, out)
        self.assertEqual((ran, failed), (2, 2))
        self.assertEqual(calls(self.d), 10)
        # a lost cell file is rerun
        victim = sorted(os.listdir(os.path.join(out, "cells")))[0]
        os.remove(os.path.join(out, "cells", victim))
        quiet(runner.run_suite, s, out)
        self.assertEqual(calls(self.d), 13)
        # --fresh starts over
        quiet(runner.run_suite, s, out, True)
        self.assertEqual(calls(self.d), 21)

    def test_results_and_summary(self):
        path, s = write_suite(self.d, ["ring", "global"], reps=3)
        out = os.path.join(self.d, "run")
        self.assertEqual(quiet(cli.main, ["run", "--suite", path, "--out", out]), 0)
        with open(os.path.join(out, "results.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), (2 * 2 + 2) * 3)
        self.assertEqual(set(rows[0]), set(results.ROW))
        with open(os.path.join(out, "summary.csv")) as f:
            summary = {(r["impl"], r["policy"], r["workers"]): r for r in csv.DictReader(f)}
        ring = summary[("volt", "ring", "2")]
        self.assertEqual(float(ring["median"]), 52)  # 51 52 53
        self.assertEqual((float(ring["min"]), float(ring["max"])), (51, 53))
        self.assertAlmostEqual(float(ring["ratio"]), 52 / 102, places=5)
        self.assertEqual(ring["baseline"], "impl=peer")
        self.assertAlmostEqual(float(summary[("peer", "peer", "1")]["ratio"]), 1.0)
        with open(os.path.join(out, "fingerprint.json")) as f:
            fp = json.load(f)
        for k in ("cpu_model", "cores", "hwloc_topology", "kernel", "git_revision"):
            self.assertIn(k, fp)

    def test_ratio_to_a_peer_at_shared_parameters(self):
        # the peer's cells carry `cap` too: Volt-C's ratio compares at the same cap
        def row(impl, params, value):
            r = dict.fromkeys(results.ROW, "")
            r.update({"experiment": "E", "impl": impl, "policy": "ring" if impl == "volt"
                      else impl, "workers": "2", "pin": "none", "topology": "real",
                      "params": params, "metric": "ns", "unit": "ns", "value": value})
            return r
        rows = [row("volt", "buffer=a;cap=1", 30), row("volt", "buffer=a;cap=8", 10),
                row("peer", "cap=1", 60), row("peer", "cap=8", 40)]
        got = {r["params"]: r["ratio"] for r in results.summarize(rows, {"E": {"impl": "peer"}})
               if r["impl"] == "volt"}
        self.assertAlmostEqual(got["buffer=a;cap=1"], 0.5)
        self.assertAlmostEqual(got["buffer=a;cap=8"], 0.25)

    def test_jobs_then_merge(self):
        path, s = write_suite(self.d, ["ring", "global"])
        out = os.path.join(self.d, "run")
        jobs = runner.emit_jobs(s, path, out)
        self.assertEqual(len(jobs), 6)
        keys = [j.split("--key ")[1] for j in jobs]
        sources = []
        for key in keys:
            job_dir = os.path.join(out, "jobs", key)
            self.assertEqual(quiet(cli.main, ["cell", "--suite", path, "--out", job_dir,
                                              "--key", key]), 0)
            sources.append(job_dir)
        self.assertEqual(quiet(cli.main, ["merge", "--out", out, "--suite", path, *sources]), 0)
        self.assertEqual(len(results.done_keys(out)), 6)
        self.assertEqual(runner.emit_jobs(s, path, out), [])  # nothing left to do
        with self.assertRaises(suites.SuiteError):
            runner.run_one(s, out, "0000000000000000")

    def test_merge_refuses_mixed_fingerprints(self):
        path, s = write_suite(self.d, ["ring"])
        a, b = os.path.join(self.d, "a"), os.path.join(self.d, "b")
        quiet(runner.run_suite, s, a)
        quiet(runner.run_suite, s, b)
        key = sorted(results.done_keys(b))[0]
        cell = os.path.join(b, "cells", key + ".csv")
        with open(cell) as f:
            text = f.read()
        with open(cell, "w") as f:
            f.write(text.replace(text.splitlines()[1].split(",")[-1], "otherhost"))
        dest = os.path.join(self.d, "m")
        copied, conflicts = results.merge(dest, [a, b])
        self.assertEqual(copied, 4)
        self.assertEqual(conflicts, [key])


if __name__ == "__main__":
    unittest.main()
