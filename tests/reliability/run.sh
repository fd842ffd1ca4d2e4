#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/reliability/run.sh [OUT]: `make test-reliability` (docs/reliability.md).
#
# Runs every reliability suite one after another, each under its own time
# limit, with its full output in OUT/logs/NAME.log (default OUT:
# results/reliability/latest), then writes the figures (seeds explored,
# planted bugs caught, faults injected and survived, connections held, RSS
# drift, leaks) to OUT/summary.json and OUT/summary.md and prints them.
#
# Every suite ends its output with "N passed, N failed"; the closing line
# here sums them (a suite that fails without such a line counts as one
# failure). Exit status: non-zero if any suite failed.
#
#	RELIABILITY_ONLY="models fuzz"   run only these suites
#	MODEL_SEEDS=10000 FUZZ_SECS=60 SIM_SEEDS=200 CHAOS_SEEDS=3   the sizes
set -u
out=${1:-results/reliability/latest}
make=${MAKE:-make}
MODEL_SEEDS=${MODEL_SEEDS:-10000}
FUZZ_SECS=${FUZZ_SECS:-60}
SIM_SEEDS=${SIM_SEEDS:-200}
CHAOS_SEEDS=${CHAOS_SEEDS:-3}
export MODEL_SEEDS FUZZ_SECS SIM_SEEDS CHAOS_SEEDS

rm -rf "$out/logs"
mkdir -p "$out/logs" || exit 1
: >"$out/steps.tsv"
start_all=$(date +%s)

# step NAME LIMIT_SECONDS COMMAND...: runs one suite, records its status.
step() {
	name=$1 limit=$2
	shift 2
	case " ${RELIABILITY_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
	echo "== reliability: $name (limit ${limit}s): $*"
	t0=$(date +%s)
	timeout -k 10 "$limit" "$@" >"$out/logs/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	printf '%s\t%s\t%s\n' "$name" "$rc" "$secs" >>"$out/steps.tsv"
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/logs/$name.log" | tail -n 1 |
		sed "s/^/   $name: /"
	if [ "$rc" -ne 0 ]; then
		echo "   $name: FAILED (status $rc, ${secs}s); the end of $out/logs/$name.log:"
		tail -n 15 "$out/logs/$name.log" | sed 's/^/     /'
	else
		echo "   $name: ok in ${secs}s"
	fi
}

# `make test-reliability` has built everything first, so each limit below
# times a suite, not the compiler.
step models 300 "$make" test-model MODEL_SEEDS="$MODEL_SEEDS"
step chaos 300 "$make" test-chaos CHAOS_SEEDS="$CHAOS_SEEDS"
step chaos-teeth 180 "$make" test-chaos-teeth
step sim 240 "$make" test-sim SEEDS="$SIM_SEEDS"
step faults 300 env VOLT_RELIABILITY=1 build/tests/volt-test fault alloc_fail bad_input
step faults-asan 300 env VOLT_RELIABILITY=1 ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	build/asan/tests/volt-test fault alloc_fail bad_input
step fuzz 400 "$make" test-fuzz FUZZ_SECS="$FUZZ_SECS"
step fuzz-teeth 300 "$make" fuzz-teeth
step soak 300 sh experiments/soak.sh --short --out "$out/soak"

total=$(($(date +%s) - start_all))
python3 tests/reliability/summarize.py "$out" "$total"
