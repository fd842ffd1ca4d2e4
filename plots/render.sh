#!/bin/sh
# plots/render.sh RESULTS_DIR [OUT_DIR]: every figure of a results directory.
#
# Extracts the data (plots/extract.py -> OUT_DIR/../data/, plots/data/ by
# default), then runs each figure's gnuplot script twice, for
# OUT_DIR/<figure>.png and .svg (plots/out/ by default), and prints the files
# written. A figure without data is skipped with a message
# (by extract.py); a gnuplot failure fails the run.
set -eu

cd "$(dirname "$0")/.."
results=${1:-}
out_dir=${2:-plots/out}
data=$(dirname "$out_dir")/data
[ "$out_dir" = plots/out ] && data=plots/data
if [ -z "$results" ]; then
	echo "usage: plots/render.sh RESULTS_DIR [OUT_DIR]" >&2
	exit 2
fi
if [ ! -f "$results/summary.csv" ]; then
	echo "render: no $results/summary.csv (run the harness first)" >&2
	exit 1
fi
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "render: gnuplot not found (make plots installs gnuplot-nox)" >&2
	exit 1
fi

python3 plots/extract.py "$results" --out "$data" >/dev/null
mkdir -p "$out_dir"
# Figures from an earlier run that this one no longer has would mislead.
for f in "$out_dir"/*.png "$out_dir"/*.svg; do
	[ -e "$f" ] || continue
	name=$(basename "$f"); name=${name%.*}
	grep -q "^$name " "$data/figures.txt" || rm -f "$f"
done

written=
while read -r name script; do
	for fmt in png svg; do
		out=$out_dir/$name.$fmt
		gnuplot -e "vars='$data/$name.vars'; fmt='$fmt'; out='$out'" "$script"
		written="$written $out"
	done
done < "$data/figures.txt"

if [ -z "$written" ]; then
	echo "render: no figures (no experiment rows in $results/summary.csv)"
	exit 0
fi
echo "render: figures from $results:"
for f in $written; do echo "  $f"; done
