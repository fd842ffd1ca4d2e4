#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/chaos/teeth.sh BUILD_ROOT: `make test-chaos-teeth`.
#
# Does the chaos build earn its keep? For each planted bug below (a model
# mutant, -DVOLT_MUTANT_<NAME>), runs the same stress test of the ordinary
# suite TEETH_RUNS times (default 5) in two builds of the mutant:
#   BUILD_ROOT/chaos-mutant-NAME/tests/volt-test  with the chaos points
#                                                 (seeds 1..TEETH_RUNS)
#   BUILD_ROOT/plain-mutant-NAME/tests/volt-test  without (-O1 -g, no
#                                                 VOLT_CHAOS)
# A run is the test under every scheduler policy; it catches the bug if any
# case fails (a wrong result, or a hang cut off by the per-case limit,
# VOLT_TEST_TIMEOUT_SCALE=0.05, i.e. 3 s: a passing case takes 0.2 s at
# most). Prints one line per bug ("teeth: ok|FAIL NAME (TEST): ...") with
# both builds' counts, runs and cases, then "N passed, N failed": a bug
# passes if the chaos build caught it in at least TEETH_MIN runs (default
# 3 of 5; TEETH_RUNS and TEETH_MIN change both). The plain build's count is only
# reported: it is the comparison, not a requirement. Exit status 1 if the
# chaos build stopped catching a bug, 2 if a binary is missing.
#
# The bugs (docs/model-checking.md has the model checker's view of them):
#   NOTIFY_WAIT_NO_CAS  a notify waiter raises WAITERS with a plain store of
#     the word it read, overwriting a notify_one's PERMIT stored in between:
#     a lost wakeup, so sync_notify_ping_pong_exact hangs. The window is
#     between two atomic operations; only a chaos point holds it open.
#   VYUKOV_PUSH_PUBLISH_BEFORE_COPY  a channel push publishes the slot's
#     sequence before copying the element in, so a receiver may take stale
#     bytes: chan_mpmc_exactly_once_in_order sees a wrong or repeated
#     message. The mutant puts a scheduling point between the two, standing
#     for a preemption there; in the plain build it is empty.
root=${1:?usage: teeth.sh BUILD_ROOT}
runs=${TEETH_RUNS:-5}
min=${TEETH_MIN:-3}
scale=${TEETH_TIMEOUT_SCALE:-0.05}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# NAME TEST, one per line
bugs="notify_wait_no_cas sync_notify_ping_pong_exact
vyukov_push_publish_before_copy chan_mpmc_exactly_once_in_order"

# count BIN TEST MODE: runs the test $runs times; sets caught (runs that
# failed a case), cases (failed cases) and total (cases run); keeps the
# first failing log as $tmp/first.
count() {
	caught=0
	cases=0
	total=0
	rm -f "$tmp/first"
	i=1
	while [ "$i" -le "$runs" ]; do
		VOLT_CHAOS_SEED=$i VOLT_TEST_TIMEOUT_SCALE=$scale timeout -k 5 300 "$1" "$2" \
			>"$tmp/run" 2>&1
		n=$(grep -c '^FAIL ' "$tmp/run")
		t=$(grep -cE '^(ok|FAIL|skip) ' "$tmp/run")
		cases=$((cases + n))
		total=$((total + t))
		if [ "$n" -gt 0 ]; then
			caught=$((caught + 1))
			[ -f "$tmp/first" ] || { echo "seed $i" >"$tmp/first"; cat "$tmp/run" >>"$tmp/first"; }
		elif ! tail -n 1 "$tmp/run" | grep -qE '^[0-9]+ passed, 0 failed'; then
			echo "  $3 run $i did not finish:" && tail -n 3 "$tmp/run" | sed 's/^/    /'
		fi
		i=$((i + 1))
	done
}

passed=0
failed=0
start=$(date +%s)
echo "$bugs" | while read -r name test; do
	dir=$(echo "$name" | tr _ -)
	chaos=$root/chaos-mutant-$dir/tests/volt-test
	plain=$root/plain-mutant-$dir/tests/volt-test
	for b in "$chaos" "$plain"; do
		[ -x "$b" ] || { echo "teeth.sh: $b is missing (make test-chaos-teeth builds it)"; exit 2; }
	done
	upper=$(echo "$name" | tr a-z A-Z)
	t0=$(date +%s)
	count "$chaos" "$test" chaos
	c_caught=$caught c_cases=$cases c_total=$total
	[ -f "$tmp/first" ] && mv "$tmp/first" "$tmp/chaos-first"
	count "$plain" "$test" plain
	t1=$(date +%s)
	line="$upper ($test): chaos caught it in $c_caught/$runs runs ($c_cases/$c_total cases),"
	line="$line plain in $caught/$runs ($cases/$total cases), $((t1 - t0)) s"
	if [ "$c_caught" -ge "$min" ]; then
		echo "teeth: ok   $line"
		echo pass >>"$tmp/verdicts"
	else
		echo "teeth: FAIL $line: the chaos build no longer catches this planted bug (want $min/$runs)"
		echo fail >>"$tmp/verdicts"
	fi
	if [ -f "$tmp/chaos-first" ]; then
		head -n 1 "$tmp/chaos-first" | sed 's/^/  first chaos catch: /'
		tail -n +2 "$tmp/chaos-first" | grep -m 1 -B 3 '^FAIL ' | grep -vE '^(ok|seed) ' | \
			sed 's/^/    /'
		rm -f "$tmp/chaos-first"
	fi
done || exit $?
passed=$(grep -c pass "$tmp/verdicts" 2>/dev/null)
failed=$(grep -c fail "$tmp/verdicts" 2>/dev/null)
echo "chaos teeth: $runs runs per build, $(($(date +%s) - start)) s"
echo "${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
