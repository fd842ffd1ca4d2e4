#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/chaos/run.sh BIN [FILTER]...: `make test-chaos`.
#
# Runs the test runner BIN of a chaos build (core/chaos.c: a seeded yield,
# spin or sleep at some atomic operations) once per seed, over the tests
# whose names contain one of the FILTERs, and adds up the runs.
#
#   CHAOS_SEEDS=N       how many seeds (default 3), each drawn at random, so
#                       every run explores new schedules...
#   CHAOS_SEED_LIST=".." ...or exactly these seeds (replays a CI run).
#   CHAOS_LOGS=DIR      where each run's full output goes (default: a
#                       temporary directory, removed at the end).
#   CHAOS_RUN_LIMIT=S   a hard limit in seconds per run (default 600).
#   VOLT_CHAOS_RATE, VOLT_CHAOS_SLEEP, VOLT_CHAOS_SPIN pass through to BIN.
#   VOLT_TEST_TIMEOUT_SCALE: the runner's per-case limit is 60 s times this
#                       (the Makefile sets 0.5: a lost wakeup costs 30 s).
#
# One line per seed ("VOLT_CHAOS_SEED=S: N passed, N failed, T s"), each
# failing case with its messages and the command that replays it (with real
# threads a replay makes the failure likely, not certain: core/chaos.c),
# then "chaos: K seeds (list), T s" and the last line, exactly "N passed,
# N failed" (", N skipped" appended if any were). Exit status 1 if any case
# failed or a run did not finish.
bin=$1
shift
[ -x "$bin" ] || { echo "tests/chaos/run.sh: no test runner at $bin" >&2; exit 2; }
limit=${CHAOS_RUN_LIMIT:-600}
if [ -n "$CHAOS_LOGS" ]; then
	logs=$CHAOS_LOGS
	mkdir -p "$logs" || exit 2
else
	logs=$(mktemp -d) || exit 2
	trap 'rm -rf "$logs"' EXIT INT TERM
fi

if [ -n "$CHAOS_SEED_LIST" ]; then
	seeds=$CHAOS_SEED_LIST
else
	seeds=
	i=0
	while [ "$i" -lt "${CHAOS_SEEDS:-3}" ]; do
		# 9 digits at most, like the seeds core/chaos.c picks itself
		seeds="$seeds $(($(od -An -N4 -tu4 /dev/urandom) % 1000000000))"
		i=$((i + 1))
	done
fi

passed=0
failed=0
skipped=0
runs_bad=0
start=$(date +%s)
for seed in $seeds; do
	log=$logs/seed-$seed.log
	t0=$(date +%s)
	VOLT_CHAOS_SEED=$seed timeout -k 10 "$limit" "$bin" "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	# the runner's last line: "N passed, N failed[, N skipped]"
	summary=$(tail -n 1 "$log" | grep -E '^[0-9]+ passed, [0-9]+ failed')
	if [ -z "$summary" ]; then
		echo "VOLT_CHAOS_SEED=$seed: the run did not finish (status $rc, $((t1 - t0)) s); its last lines:"
		tail -n 5 "$log" | sed 's/^/  /'
		runs_bad=$((runs_bad + 1))
		continue
	fi
	p=$(echo "$summary" | sed 's/ passed.*//')
	f=$(echo "$summary" | sed 's/.* \([0-9]*\) failed.*/\1/')
	s=$(echo "$summary" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	s=${s:-0}
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	echo "VOLT_CHAOS_SEED=$seed: $summary, $((t1 - t0)) s"
	# each failure: its messages (the lines the runner printed since the
	# previous case), then the command that replays it: this seed's chaos
	# settings, and the runtime's own seed (VOLT_SEED) when the test gave one
	[ "$f" -eq 0 ] && continue
	replay_env=$(sed -n 's/^chaos: //p' "$log" | head -n 1)
	awk -v env="${replay_env:-VOLT_CHAOS_SEED=$seed}" -v bin="$bin" '
	/^(ok|skip) / { buf = ""; rs = ""; next }
	/^chaos: / { next }
	/^FAIL / {
		printf "%s  %s\n", buf, $0
		pol = ""
		if ($3 ~ /^\[/) { pol = $3; gsub(/[][]/, "", pol); pol = "--policy " pol " " }
		print "  replay: " env rs " " bin " " pol $2
		buf = ""; rs = ""; next
	}
	{
		buf = buf "  " $0 "\n"
		if (match($0, /VOLT_SEED=[0-9]+/))
			rs = " " substr($0, RSTART, RLENGTH)
	}' "$log"
done
end=$(date +%s)
nseeds=$(echo $seeds | wc -w)
echo "chaos: $nseeds seeds ($(echo $seeds)), $((end - start)) s; logs in ${CHAOS_LOGS:-a temporary directory}"
failed=$((failed + runs_bad))
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
