#!/bin/sh
# compare.sh: the scheduler micro-benchmarks on every Volt-C policy, Tokio
# and Go, side by side (`make compare` runs it; experiments/README.md).
#
#	sh experiments/compare.sh    RUNS=10 REPS=10 WARMUP=3 WORKERS=2 by default
#
# Builds build/experiments/rt_bench, the Tokio peer (offline, from Debian's
# vendored crates) and the Go peer. Every cell (a benchmark on a Volt-C
# policy, names from `rt_bench --list`, or on Tokio or Go) gets its own
# process, so its own fresh runtime, as Tokio's bench builds one runtime per
# benchmark; all cells RUNS times round-robin, so one process's luck does
# not decide a cell (rep numbers continue from run to run). Writes every timed
# iteration to results/compare/compare.csv, the machine and toolchain to
# results/compare/fingerprint.json, and prints (and saves as table.txt) the
# median time per iteration in microseconds, the ratio to Tokio, and the
# spread between processes (largest / smallest per-process median).
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-10}
REPS=${REPS:-10}
WARMUP=${WARMUP:-3}
WORKERS=${WORKERS:-2}
OUT=$ROOT/results/compare
BIN=$ROOT/build/peers
CSV=$OUT/compare.csv
mkdir -p "$OUT"

say() { printf 'compare: %s\n' "$*" >&2; }

# ---- build

say "building libvolt and build/experiments/rt_bench"
make -s all experiments

sh experiments/peers/build.sh

# ---- run

# Other work on the machine skews everything: the load is kept in the fingerprint.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# rt_bench's benchmarks (E1-E5). busy2 is left to the harness (E5): Tokio 1.24
# never finishes it (the bug Tokio #5712 fixed) and chaselev takes seconds.
BENCHES="spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn
spawn_many_remote_busy1"
# The slow ones, up to a second per iteration, get SLOW_RUNS processes of 3
# repetitions: ping_pong_hog (E3; one worker in every implementation, its
# columns say /1w) and fanout's skynet and fib (E7).
SLOW_RUNS=${SLOW_RUNS:-3}
ARGS="--reps $REPS --warmup $WARMUP --workers $WORKERS"
echo "impl,bench,policy,workers,rep,ns" >"$CSV"
run() { # label command...: appends the command's CSV rows, reps renumbered
	shift
	# shellcheck disable=SC2086 # ARGS is several words
	"$@" --bench "$b" $ARGS | awk -F, -v OFS=, -v base=$(((r - 1) * REPS)) \
		'/^(#|impl,)/ { next } { $5 += base; print }' >>"$CSV"
}
# A slow benchmark: 3 repetitions after 1 warm-up, its time_per_iter protocol
# lines kept as rows (rt_bench prints them with --result, fanout always).
run_slow() { # impl policy workers command...
	impl=$1 pol=$2 w=$3
	shift 3
	"$@" --bench "$b" --reps 3 --warmup 1 --workers "$WORKERS" |
		awk -F, -v OFS=, -v impl="$impl" -v b="$b" -v pol="$pol" -v w="$w" \
			-v base=$(((r - 1) * REPS)) \
			'$1 == "result" && $3 == "time_per_iter" { print impl, b, pol, w, $2 + base, $4 * 1000 }' \
			>>"$CSV"
}
# The policies by name, on one line: what the library has today.
POLICIES=$(build/experiments/rt_bench --list | tr '\n' ' ' | sed 's/ $//')
r=1
while [ "$r" -le "$RUNS" ]; do
	say "run $r of $RUNS: $POLICIES tokio go"
	for b in $BENCHES; do
		for p in $POLICIES; do # one word per policy
			run "volt $p" env VOLT_SCHED="$p" build/experiments/rt_bench
		done
		run tokio "$BIN/tokio/release/rt_bench"
		run go "$BIN/go/rt_bench"
	done
	if [ "$r" -le "$SLOW_RUNS" ]; then
		b=ping_pong_hog
		for p in $POLICIES; do
			run_slow volt "$p" 1 env VOLT_SCHED="$p" build/experiments/rt_bench --result
		done
		run_slow tokio tokio 1 "$BIN/tokio/release/rt_bench" --result
		run_slow go go 1 "$BIN/go/rt_bench" --result
		for b in skynet fib; do
			for p in $POLICIES; do
				run_slow volt "$p" "$WORKERS" env VOLT_SCHED="$p" build/experiments/fanout
			done
			run_slow tokio tokio "$WORKERS" "$BIN/tokio/release/fanout"
			run_slow go go "$WORKERS" "$BIN/go/fanout"
		done
	fi
	r=$((r + 1))
done

# ---- fingerprint

esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
rev=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || rev="$rev+dirty"
tokio_ver=$(sed -n '/^name = "tokio"$/{n;s/^version = "\(.*\)"/\1/p;}' \
	experiments/peers/tokio/Cargo.lock 2>/dev/null)
cat >"$OUT/fingerprint.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cpu_model": "$(esc "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)")",
  "cpus": $(nproc),
  "kernel": "$(uname -sr)",
  "gcc": "$(esc "$(gcc --version | head -1)")",
  "cflags": "-O2 -g (Makefile defaults)",
  "cargo": "$(esc "$( (command -v cargo >/dev/null && cargo --version) || /usr/bin/cargo --version)")",
  "rustc": "$(esc "$( (command -v rustc >/dev/null && rustc --version) || /usr/bin/rustc --version)")",
  "tokio": "${tokio_ver:-unknown}",
  "go": "$(esc "$(go version)")",
  "git_revision": "$rev",
  "policies": "$POLICIES",
  "workers": $WORKERS,
  "runs": $RUNS,
  "reps": $REPS,
  "warmup": $WARMUP,
  "pinning": "none",
  "loadavg_before": "$load_before",
  "loadavg_after": "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
}
EOF

# ---- the table

# Columns: each Volt-C policy, then tokio and go; cells are the median of the
# timed iterations in microseconds, then the ratio to tokio's median.
awk -F, -v cols="$POLICIES tokio go" -v workers="$WORKERS" \
	-v runs="$RUNS" -v reps="$REPS" -v warmup="$WARMUP" '
NR == 1 { next }
{
	key = $3 SUBSEP $2
	n[key]++
	v[key, n[key]] = $6
	run = int(($5 - 1) / reps)                # the process this row came from
	if (run + 1 > nrun) nrun = run + 1
	rn[key, run]++
	rv[key, run, rn[key, run]] = $6
	w[$3] = $4
	if (!($2 in seen)) { seen[$2] = 1; benches[++nb] = $2 }
}
function median(key,   i, m, a) {
	m = n[key]
	for (i = 1; i <= m; i++) a[i] = v[key, i] + 0
	return mid(a, m)
}
function run_median(key, run,   i, m, a) {
	m = rn[key, run]
	for (i = 1; i <= m; i++) a[i] = rv[key, run, i] + 0
	return mid(a, m)
}
function mid(a, m,   i, j, t) {
	for (i = 2; i <= m; i++)        # insertion sort: a handful of values
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function header(title,   c, label) {
	printf "%-24s", title
	for (c = 1; c <= nc; c++) {
		label = col[c]
		if (w[col[c]] != workers) label = label "/" w[col[c]] "w"
		printf " %10s", label
	}
	printf "\n"
}
END {
	nc = split(cols, col, " ")
	for (b = 1; b <= nb; b++)
		for (c = 1; c <= nc; c++)
			med[b, c] = (col[c] SUBSEP benches[b]) in n ? median(col[c] SUBSEP benches[b]) : -1
	header("median us/iter")
	for (b = 1; b <= nb; b++) {
		printf "%-24s", benches[b]
		for (c = 1; c <= nc; c++) printf(med[b, c] < 0 ? " %10s" : " %10.1f", med[b, c] < 0 ? "-" : med[b, c] / 1000)
		printf "\n"
	}
	printf "\n"
	header("ratio to tokio")
	for (c = 1; c <= nc; c++) if (col[c] == "tokio") t = c
	for (b = 1; b <= nb; b++) {
		printf "%-24s", benches[b]
		for (c = 1; c <= nc; c++)
			printf(med[b, c] < 0 || med[b, t] <= 0 ? " %10s" : " %10.2f", med[b, c] < 0 || med[b, t] <= 0 ? "-" : med[b, c] / med[b, t])
		printf "\n"
	}
	printf "\n"
	header("spread (runs)")
	for (b = 1; b <= nb; b++) {
		printf "%-24s", benches[b]
		for (c = 1; c <= nc; c++) {
			key = col[c] SUBSEP benches[b]
			lo = hi = -1
			for (r = 0; r < nrun; r++) {
				if (!((key, r) in rn)) continue
				x = run_median(key, r)
				if (lo < 0 || x < lo) lo = x
				if (x > hi) hi = x
			}
			printf(lo <= 0 ? " %10s" : " %10.2f", lo <= 0 ? "-" : hi / lo)
		}
		printf "\n"
	}
	printf "\n%d workers (a column marked /Nw ran on N); medians of %s timed iterations per cell\n", workers, n[col[1] SUBSEP benches[1]]
	printf "(%s processes x %s, each after %s warm-up iterations); ratio < 1 = faster than Tokio;\nspread = largest / smallest of the per-process medians (1.00 = the processes agree)\n", runs, reps, warmup
}' "$CSV" | tee "$OUT/table.txt"
say "wrote $CSV, $OUT/fingerprint.json and $OUT/table.txt"
