"""Tests of plots/extract.py on a tiny hand-written summary.csv.

    python3 -m unittest discover -s plots -p 'test_*.py'     (or make test-paper)
"""

import csv
import io
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract as X  # noqa: E402

HEADER = ("experiment,impl,policy,workers,pin,topology,params,metric,unit,n,median,min,max,"
          "ci_lo,ci_hi,baseline,ratio")

# Medians chosen so that each case below is decided by one fact.
SUMMARY = """\
E1_spawn_many_local,go,go,2,none,real,,time_per_iter,us,10,900,850,990,860,950,impl=tokio,0.5
E1_spawn_many_local,tokio,tokio,1,none,real,,time_per_iter,us,10,1500,1400,1600,1450,1550,impl=tokio,1
E1_spawn_many_local,tokio,tokio,2,none,real,,time_per_iter,us,10,1800,1700,1900,1750,1850,impl=tokio,1
E1_spawn_many_local,volt,ring,1,none,real,,steals_won,count,10,3,0,9,1,5,impl=tokio,
E1_spawn_many_local,volt,ring,1,none,real,,time_per_iter,us,10,700,650,800,680,720,impl=tokio,0.47
E1_spawn_many_local,volt,ring,2,none,real,,time_per_iter,us,10,750,700,900,720,800,impl=tokio,0.42
E1_spawn_many_local,volt,global,2,none,real,,time_per_iter,us,10,1700,1600,1800,1650,1750,impl=tokio,0.94
E2_yield_many,volt,chaselev,2,none,real,,time_per_iter,us,10,38000,36000,40000,37000,39000,,
E2_yield_many,volt,ring,2,none,real,,time_per_iter,us,10,3500,3300,3700,3400,3600,,
E4_chained_spawn,volt,chaselev,2,none,real,,time_per_iter,us,10,170,150,190,160,180,,
E4_chained_spawn,volt,ring,2,none,real,,time_per_iter,us,10,50,45,55,48,52,,
E8_skew,volt,ring,2,none,real,max_searching=1,time_per_iter,ms,5,60,55,70,55,70,,
E8_skew,volt,ring,2,none,real,max_searching=2,time_per_iter,ms,5,63,58,66,58,66,,
E8_skew,volt,runnext,2,none,real,max_searching=1,time_per_iter,ms,5,65,50,80,50,80,,
E14_oversub,volt,ring,2,none,real,idle=park,time_per_iter,ms,5,8,7,9,7,9,,
E14_oversub,volt,ring,2,none,real,idle=spin,time_per_iter,ms,5,23,20,25,20,25,,
E14_oversub,volt,ring,4,none,real,idle=park,time_per_iter,ms,5,11,10,12,10,12,,
E14_oversub,volt,ring,4,none,real,idle=spin,time_per_iter,ms,5,36,35,50,35,50,,
E15_deque,volt,chaselev,1,none,real,thieves=1,steal_success,ratio,5,0.5,0.4,0.6,0.4,0.6,,
E15_deque,volt,chaselev,1,none,real,thieves=1,ns_per_op,ns,5,12,11,13,11,13,,
"""


def write_results_dir(path, summary=SUMMARY, results_csv=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "summary.csv"), "w", encoding="utf-8") as f:
        f.write(HEADER + "\n" + summary)
    if results_csv is not None:
        with open(os.path.join(path, "results.csv"), "w", encoding="utf-8") as f:
            f.write(results_csv)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="volt-plots-")
        self.res = os.path.join(self.tmp, "res")
        # E15's program prints ns_per_op first, then steal_success.
        write_results_dir(self.res, results_csv=(
            "experiment,impl,policy,workers,pin,topology,params,rep,metric,value,unit,fingerprint\n"
            "E15_deque,volt,chaselev,1,none,real,thieves=1,1,ns_per_op,12,ns,x\n"
            "E15_deque,volt,chaselev,1,none,real,thieves=1,1,steal_success,0.5,ratio,x\n"))
        self.rows = X.read_summary(self.res)
        self.figs = {f["prefix"]: f for f in X.plan(self.rows, X.metric_order(self.res))}

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def panel(self, experiment):
        for f in self.figs.values():
            for p in f["panels"]:
                if p["experiment"] == experiment:
                    return p
        self.fail(f"no panel {experiment}")


class TestReading(Base):
    def test_params_parsed(self):
        self.assertEqual(X.parse_params("b=2;a=x"), {"a": "x", "b": "2"})
        self.assertEqual(X.parse_params(""), {})

    def test_primary_metric_prefers_time_per_iter(self):
        rows = [r for r in self.rows if r["experiment"] == "E1_spawn_many_local"]
        self.assertEqual(X.primary_metric(rows), "time_per_iter")

    def test_primary_metric_else_first_printed(self):
        rows = [r for r in self.rows if r["experiment"] == "E15_deque"]
        # The summary is sorted (ns_per_op < steal_success anyway); the
        # printed order wins over the summary's when they differ.
        self.assertEqual(X.primary_metric(rows, ["steal_success", "ns_per_op"]), "steal_success")
        self.assertEqual(X.primary_metric(rows, X.metric_order(self.res)["E15_deque"]),
                         "ns_per_op")

    def test_series_names(self):
        row = {"impl": "tokio", "policy": "tokio"}
        self.assertEqual(X.series_of(row), "tokio")
        self.assertEqual(X.series_of({"impl": "volt", "policy": "ring"}), "ring")

    def test_time_scale(self):
        self.assertEqual(X.time_scale("us", [38000, 3500]), (1e-3, "ms"))
        self.assertEqual(X.time_scale("us", [50, 170]), (1.0, "us"))
        self.assertEqual(X.time_scale("count", [3]), (1.0, "count"))


class TestPlan(Base):
    def test_one_figure_per_prefix_with_known_names(self):
        names = {f["name"] for f in self.figs.values()}
        self.assertEqual(names, {"e1_spawn_many", "e2_yield_many", "e4_chained_spawn",
                                 "e8_skew", "e14_oversubscription", "e15_deque"})
        order = [f["prefix"] for f in X.plan(self.rows)]
        self.assertEqual(order, ["E1", "E2", "E4", "E8", "E14", "E15"])

    def test_e1_grouped_by_workers_policies_then_peers(self):
        p = self.panel("E1_spawn_many_local")
        self.assertEqual(p["keys"], ["workers"])
        self.assertEqual(p["groups"], [("1",), ("2",)])
        self.assertEqual(p["series"], ["global", "ring", "tokio", "go"])
        self.assertEqual(p["metric"], "time_per_iter")
        self.assertFalse(p["single"])
        # secondary metrics are not plotted
        self.assertEqual(len(p["bars"]), 6)

    def test_error_range_is_the_ci_or_minmax(self):
        p = self.panel("E1_spawn_many_local")
        ring2 = [b for b in p["bars"] if p["series"][b["series"]] == "ring" and b["group"] == 1][0]
        f = p["factor"]
        self.assertAlmostEqual(ring2["median"], 750 * f)
        self.assertAlmostEqual(ring2["lo"], 720 * f)
        self.assertAlmostEqual(ring2["hi"], 800 * f)
        mm = X.plan(self.rows, range_kind="minmax")[0]["panels"][0]
        ring2 = [b for b in mm["bars"] if mm["series"][b["series"]] == "ring" and b["group"] == 1][0]
        self.assertAlmostEqual(ring2["lo"], 700 * f)
        self.assertAlmostEqual(ring2["hi"], 900 * f)

    def test_log_scale_only_when_values_span_a_decade(self):
        self.assertTrue(self.panel("E2_yield_many")["log"])
        self.assertEqual(self.panel("E2_yield_many")["unit"], "ms")
        self.assertFalse(self.panel("E4_chained_spawn")["log"])
        self.assertEqual(self.panel("E4_chained_spawn")["ylabel"], "time per iteration (µs)")

    def test_single_group_puts_series_on_the_axis(self):
        p = self.panel("E4_chained_spawn")
        self.assertTrue(p["single"])
        self.assertEqual([label for _, label in p["xtics"]], ["chaselev", "ring"])
        self.assertEqual(p["xlabel"], "workers=2")

    def test_varied_knob_in_params_groups_the_bars(self):
        p = self.panel("E8_skew")
        self.assertEqual(p["keys"], ["max_searching"])
        self.assertEqual(p["series"], ["ring", "runnext"])

    def test_one_policy_two_knobs_colours_by_the_last(self):
        p = self.panel("E14_oversub")
        self.assertEqual(p["keys"], ["workers"])
        self.assertEqual(p["series"], ["ring:idle=park", "ring:idle=spin"])

    def test_primary_metric_of_a_generic_experiment(self):
        self.assertEqual(self.panel("E15_deque")["metric"], "ns_per_op")


class TestWriting(Base):
    def test_files_and_skips(self):
        out = os.path.join(self.tmp, "data")
        log = io.StringIO()
        figs = X.extract(self.res, out, log=log)
        self.assertIn("skip e3_ping_pong: no E3_* rows", log.getvalue())
        with open(os.path.join(out, "figures.txt"), encoding="utf-8") as f:
            listed = [line.split()[0] for line in f]
        self.assertEqual(listed, [f["name"] for f in figs])
        self.assertIn("e8_skew", listed)
        self.assertTrue(os.path.exists(os.path.join(out, "e1_spawn_many.1.dat")))
        with open(os.path.join(out, "e1_spawn_many.vars"), encoding="utf-8") as f:
            v = f.read()
        self.assertIn('P_series[1] = "global ring tokio go"', v)
        self.assertIn('P_styles[1] = "1 3 7 8"', v)  # the palette order in style.gp
        self.assertIn("95% CI of the median", v)

    def test_dat_blocks_one_per_series(self):
        out = os.path.join(self.tmp, "data")
        X.extract(self.res, out, log=io.StringIO())
        with open(os.path.join(out, "e1_spawn_many.1.dat"), encoding="utf-8") as f:
            blocks = f.read().split("\n\n\n")
        self.assertEqual(len(blocks), 4)
        data = [line.split() for line in blocks[1].splitlines() if not line.startswith("#")]
        self.assertEqual([d[5] for d in data], ["1", "2"])  # ring at 1 and 2 workers
        self.assertEqual(len(data[0]), 6)

    def test_no_summary_writes_nothing(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        out = os.path.join(self.tmp, "data2")
        log = io.StringIO()
        self.assertEqual(X.extract(empty, out, log=log), [])
        self.assertIn("no summary.csv rows", log.getvalue())
        with open(os.path.join(out, "figures.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "")

    def test_summary_header_matches_the_harness(self):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from experiments.harness import results
        self.assertEqual(tuple(next(csv.reader([HEADER]))), results.SUMMARY)


if __name__ == "__main__":
    unittest.main()
