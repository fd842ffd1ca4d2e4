"""Tests of paper/tables.py: claim evaluation and the generated blocks, on a
tiny hand-written summary.csv (the one plots/test_extract.py uses).

    python3 -m unittest discover -s paper -p 'test_*.py'     (or make test-paper)
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "plots"))
import tables as T  # noqa: E402
import test_extract as TX  # noqa: E402


def claim(**kw):
    base = {"id": "c", "claim": "a claim", "source": "a source", "published": "2x",
            "section": "E4", "kind": "ratio"}
    base.update(kw)
    return base


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="volt-paper-")
        self.dir = os.path.join(self.tmp, "res")
        TX.write_results_dir(self.dir)
        self.res = T.Results(self.dir)

    def tearDown(self):
        shutil.rmtree(self.tmp)


class TestClaims(Base):
    def test_reproduced(self):
        c = claim(num={"experiment": "E2_yield_many", "policy": "chaselev"},
                  den={"experiment": "E2_yield_many", "policy": "ring"},
                  rule={"at_least": 1.21, "separated": True})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "reproduced")
        self.assertAlmostEqual(ev["value"], 38000 / 3500)
        self.assertAlmostEqual(ev["lo"], 37000 / 3600)
        self.assertAlmostEqual(ev["hi"], 39000 / 3400)

    def test_below_the_threshold_is_not_reproduced(self):
        # 170 / 50 = 3.4, the published 12x asks for sqrt(12) = 3.46
        c = claim(num={"experiment": "E4_chained_spawn", "policy": "chaselev", "workers": "2"},
                  den={"experiment": "E4_chained_spawn", "policy": "ring", "workers": "2"},
                  rule={"at_least": 3.46, "separated": True})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "not reproduced")
        self.assertIn("below the threshold", ev["note"])
        self.assertEqual(ev["ours"], "3.40x (3.08–3.75)")

    def test_overlapping_intervals_are_not_reproduced(self):
        # runnext / ring: 65 / 60 = 1.08 passes 1.05, but 50..80 overlaps 55..70
        c = claim(num={"experiment": "E8_skew", "policy": "runnext"},
                  den={"experiment": "E8_skew", "policy": "ring", "max_searching": "1"},
                  rule={"at_least": 1.05, "separated": True})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "not reproduced")
        self.assertIn("CIs overlap", ev["note"])

    def test_missing_cell_is_pending(self):
        c = claim(num={"experiment": "E3_ping_pong_hog", "lifo": "0"},
                  den={"experiment": "E3_ping_pong_hog", "lifo": "1"},
                  rule={"at_least": 28.8})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "pending")
        self.assertIn("no cell E3_ping_pong_hog", ev["note"])
        self.assertEqual(ev["ours"], "–")

    def test_ambiguous_selector_is_pending(self):
        c = claim(num={"experiment": "E1_spawn_many_local", "policy": "ring"},
                  den={"experiment": "E1_spawn_many_local", "policy": "tokio"},
                  rule={"at_most": 1})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "pending")
        self.assertIn("2 cells match", ev["note"])

    def test_wildcards_params_and_at_most(self):
        c = claim(num={"experiment": "E1_*local", "policy": "ring", "workers": "2"},
                  den={"experiment": "E1_*local", "impl": "tokio", "workers": "2"},
                  rule={"at_most": 0.5, "separated": True})
        self.assertEqual(T.evaluate(c, self.res)["verdict"], "reproduced")
        c = claim(kind="value", cell={"experiment": "E14_oversub", "idle": "spin",
                                      "workers": "2"}, rule={"at_most": 20})
        ev = T.evaluate(c, self.res)
        self.assertEqual((ev["value"], ev["verdict"]), (23, "not reproduced"))

    def test_value_in_another_time_unit(self):
        c = claim(kind="value", unit="ns",
                  cell={"experiment": "E4_chained_spawn", "policy": "ring"},
                  rule={"at_most": 60000})
        ev = T.evaluate(c, self.res)
        self.assertAlmostEqual(ev["value"], 50000)
        self.assertEqual(ev["verdict"], "reproduced")

    def test_metric_selects_a_secondary_metric(self):
        c = claim(kind="value", cell={"experiment": "E15_deque", "metric": "steal_success"},
                  rule={"at_least": 0.4})
        self.assertAlmostEqual(T.evaluate(c, self.res)["value"], 0.5)

    def test_fixed_verdict_keeps_our_figure(self):
        c = claim(num={"experiment": "E2_yield_many", "policy": "chaselev"},
                  den={"experiment": "E2_yield_many", "policy": "ring"},
                  rule={"fixed": "not testable here", "why": "x86 only"})
        ev = T.evaluate(c, self.res)
        self.assertEqual(ev["verdict"], "not testable here")
        self.assertTrue(ev["ours"].startswith("10.9x"))
        self.assertEqual(ev["note"], "x86 only")

    def test_the_shipped_claims_are_well_formed(self):
        claims = T.load_claims(os.path.join(HERE, "claims.json"))
        self.assertGreaterEqual(len(claims), 10)
        ids = [c["id"] for c in claims]
        self.assertEqual(len(ids), len(set(ids)))
        for c in claims:
            for key in ("claim", "source", "published", "kind", "rule"):
                self.assertIn(key, c, c["id"])
            self.assertIn(c["kind"], ("ratio", "value"))
            self.assertTrue({"num", "den"} <= set(c) if c["kind"] == "ratio" else "cell" in c)
            self.assertIn(T.evaluate(c, self.res)["verdict"], T.VERDICTS)


PAPER = """# A paper

Prose stays.

<!-- table:claims -->
stale
<!-- /table -->

<!-- figure:E4 -->
<!-- /figure -->

<!-- figure:E9 -->
old image
<!-- /figure -->

<!-- summary:E4 -->
<!-- /summary -->

<!-- table:E8 metrics=time_per_iter -->
<!-- /table -->

<!-- table:others -->
<!-- /table -->

<!-- table:coverage -->
<!-- /table -->

<!-- table:machine -->
<!-- /table -->

End.
"""


class TestBlocks(Base):
    def render(self, text=PAPER):
        claims = [claim(num={"experiment": "E4_chained_spawn", "policy": "chaselev"},
                        den={"experiment": "E4_chained_spawn", "policy": "ring"},
                        rule={"at_least": 3.46, "separated": True}),
                  claim(id="d", num={"experiment": "E10_x"}, den={"experiment": "E10_y"},
                        rule={"at_least": 2})]
        return T.render(text, self.res, claims)

    def test_idempotent_and_prose_untouched(self):
        once = self.render()
        self.assertEqual(self.render(once), once)
        self.assertTrue(once.startswith("# A paper\n\nProse stays.\n"))
        self.assertTrue(once.endswith("\n\nEnd.\n"))
        self.assertNotIn("stale", once)
        self.assertNotIn("old image", once)

    def test_claims_table_verdicts_and_tally(self):
        out = self.render()
        self.assertIn("**not reproduced** (below the threshold)", out)
        self.assertIn("**pending** (no cell E10_x", out)
        self.assertIn("Tally: 1 not reproduced, 1 pending.", out)

    def test_figures_present_and_pending(self):
        out = self.render()
        self.assertIn("](../plots/out/e4_chained_spawn.png)", out)
        self.assertIn("*Figure pending: no `E9_*` rows", out)

    def test_results_table_and_summary(self):
        out = self.render()
        self.assertIn("| `E8_skew` | time per iteration | ring | workers=2, max_searching=1 | "
                      "60.0 ms | 55.0–70.0 | 5 | – |", out)
        self.assertIn("best ring 50.0 µs, worst chaselev 170 µs (3.40x apart)", out)

    def test_others_lists_prefixes_without_a_section(self):
        out = self.render()
        others = out.split("<!-- table:others -->")[1].split("<!-- /table -->")[0]
        self.assertIn("`E14_oversub`", others)
        self.assertIn("`E1_spawn_many_local`", others)
        self.assertNotIn("`E4_chained_spawn`", others)  # E4 has a figure marker

    def test_coverage_marks_pending(self):
        out = self.render()
        self.assertIn("| E10 | channel MPMC throughput | – | – | pending |", out)
        self.assertIn("| E8 | skewed load imbalance | `E8_skew` | ring, runnext | measured |", out)

    def test_main_rewrites_the_file_in_place(self):
        paper = os.path.join(self.tmp, "p.md")
        claims = os.path.join(self.tmp, "c.json")
        with open(paper, "w", encoding="utf-8") as f:
            f.write(PAPER)
        with open(claims, "w", encoding="utf-8") as f:
            json.dump({"claims": []}, f)
        self.assertEqual(T.main([self.dir, "--paper", paper, "--claims", claims]), 0)
        with open(paper, encoding="utf-8") as f:
            first = f.read()
        T.main([self.dir, "--paper", paper, "--claims", claims])
        with open(paper, encoding="utf-8") as f:
            self.assertEqual(f.read(), first)


if __name__ == "__main__":
    unittest.main()
