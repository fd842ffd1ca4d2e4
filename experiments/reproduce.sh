#!/bin/sh
# experiments/reproduce.sh: the project's main job (`make reproduce`).
#
#	make reproduce                 the quick suite (about 7 minutes here)
#	make reproduce SUITE=full      the full one
#	make reproduce RESUME=1        continue an interrupted run
#
# Builds the library, the experiment programs, the examples (E11's servers)
# and the Tokio, Go and libuv peers;
# runs the suite (experiments/suites/$SUITE.json) into results/$SUITE/;
# draws the figures into plots/out/; regenerates the paper's tables in
# paper/paper.md; prints a summary naming the figures.
set -eu

cd "$(dirname "$0")/.."
SUITE=${SUITE:-quick}
OUT=results/$SUITE
start=$(date +%s)
say() { printf 'reproduce: %s\n' "$*"; }

[ -f "experiments/suites/$SUITE.json" ] || { say "no suite experiments/suites/$SUITE.json"; exit 2; }
say "building the library, the experiments, the examples and the peers"
make -s all experiments examples
sh experiments/peers/build.sh

fresh=--fresh
[ "${RESUME:-0}" = 1 ] && fresh=
say "running the $SUITE suite into $OUT/ (progress below; RESUME=1 continues a run)"
status=0
# shellcheck disable=SC2086 # $fresh is empty or one word
python3 -m experiments.harness run $fresh --suite "experiments/suites/$SUITE.json" \
	--out "$OUT" || status=$?

say "drawing the figures"
sh plots/render.sh "$OUT" >"$OUT/figures.txt"
say "regenerating the paper's tables"
python3 paper/tables.py "$OUT" >"$OUT/paper-tables.txt"

echo
echo "== Volt-C reproduce: the $SUITE suite, $(($(date +%s) - start)) s"
echo "results:  $OUT/results.csv, $OUT/summary.csv, $OUT/fingerprint.json"
failed=$(ls "$OUT/failed" 2>/dev/null | wc -l)
echo "cells:    $(ls "$OUT/cells" | wc -l) done, $failed failed$([ "$failed" -gt 0 ] && echo " (see $OUT/failed/)")"
echo "figures:"
sed 's/^/  /' "$OUT/figures.txt"
echo "paper:    paper/paper.md tables updated; \`make paper\` builds paper/paper.html"
grep -o 'claims: .*' "$OUT/paper-tables.txt" | sed 's/^claims: /claims:   /'
exit "$status"
