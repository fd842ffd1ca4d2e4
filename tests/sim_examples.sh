#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/sim_examples.sh: the unchanged echo and chat examples in the
# deterministic simulation (docs/simulation.md): the `sim` I/O driver, the
# `sim` policy and the virtual clock, with scripted peers inside the
# simulated network that check every byte, under seeded faults.
#
#   BUILD=build SEEDS=10 FIRST_SEED=1 sh tests/sim_examples.sh [BUILD_DIR]
#
# Builds nothing: BUILD_DIR (or $BUILD, default build) must hold
# examples/echo_server and examples/chat_server (make examples).
# For each seed S in FIRST_SEED .. FIRST_SEED + SEEDS - 1:
#   echo  echo_server --max-conns 50 with VOLT_SIM_PEERS=echo:50
#   chat  chat_server --max-conns 8 with VOLT_SIM_PEERS=chat:8, and every
#         fourth seed chat:32:64 (32 peers of up to 64 lines: enough for
#         the room to drop messages to slow readers, which the peers allow)
# under one of three fault plans, chosen by S:
#   0: delay=0.2,short=0.3,reset=0.02,refuse=0.05,drop=0.05,cap=4096
#   1: delay=0.5,delay_us=20000,short=0.5,cap=256     (slow, narrow pipes)
#   2: reset=0.1,reset_ops=30,refuse=0.1,drop=0.1,short=0.2
# A run passes if the server exits 0 (within RUN_TIMEOUT, default 60 s)
# and prints the world's summary, "sim: seed S: N connections, B bytes
# checked, R resets, F faults, E errors, hash H", with E = 0. The summary is the verdict: the
# peers find wrong, lost, repeated or extra bytes, early ends and stalls,
# and the exit status of the example cannot say so. Then, per example:
#   replay  the first seed, run again, prints the identical summary line
#           (a run is a pure function of its seed)
#   seeds   the seeds' trace hashes are pairwise different
# Prints "FAIL ..." lines with the server's stderr, a line per example
# (runs, connections, bytes checked, resets, faults, time per run), then
# "N passed, N failed"; exit status 1 if anything failed. VERBOSE=1 also
# prints "ok ..." per run.
# The runs take about 35 ms (echo) and 25 ms (chat) each on a 2-core VM.
set -u

B=${1:-${BUILD:-build}}
SEEDS=${SEEDS:-10}
FIRST_SEED=${FIRST_SEED:-1}
VERBOSE=${VERBOSE:-0}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}

for p in echo_server chat_server; do
	if [ ! -x "$B/examples/$p" ]; then
		echo "sim_examples: $B/examples/$p is missing: make examples" >&2
		exit 2
	fi
done
case $SEEDS$FIRST_SEED in
*[!0-9]*)
	echo "sim_examples: SEEDS and FIRST_SEED must be numbers" >&2
	exit 2
	;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sim_examples.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
PASSED=0 FAILED=0

plan() {
	case $(($1 % 3)) in
	0) echo "delay=0.2,short=0.3,reset=0.02,refuse=0.05,drop=0.05,cap=4096" ;;
	1) echo "delay=0.5,delay_us=20000,short=0.5,cap=256" ;;
	2) echo "reset=0.1,reset_ops=30,refuse=0.1,drop=0.1,short=0.2" ;;
	esac
}

# peers_of EXAMPLE SEED: the VOLT_SIM_PEERS spec, then the --max-conns.
peers_of() {
	if [ "$1" = echo ]; then
		echo "echo:50 50"
	elif [ $(($2 % 4)) = 0 ]; then
		echo "chat:32:64 32"
	else
		echo "chat:8 8"
	fi
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run EXAMPLE SEED OUT: runs one case; its stderr in OUT. 0 if it passed,
# else 1 with the reason in $WHY.
run() {
	set -- "$1" "$2" "$3" $(peers_of "$1" "$2")
	VOLT_DRIVER=sim VOLT_SCHED=sim VOLT_CLOCK=virtual VOLT_SEED=$2 \
		VOLT_SIM_FAULTS=$(plan "$2") VOLT_SIM_PEERS=$4 \
		timeout -k 5 $RUN_TIMEOUT "$B/examples/$1_server" --max-conns "$5" \
		>/dev/null 2>"$3"
	st=$?
	line=$(grep "^sim: seed $2: .* hash " "$3" | tail -n 1)
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then
		WHY="no exit within ${RUN_TIMEOUT}s"
	elif [ "$st" != 0 ]; then
		WHY="exit status $st"
	elif [ -z "$line" ]; then
		WHY="no summary line"
	elif ! echo "$line" | grep -q ", 0 errors, "; then
		WHY="errors: $line"
	else
		return 0
	fi
	return 1
}

fail() {
	echo "FAIL $1: $2"
	sed 's/^/    /' "$3" | head -n 20
	FAILED=$((FAILED + 1))
}

for ex in echo chat; do
	: >"$TMP/$ex.lines"
	start=$(now_ms)
	s=$FIRST_SEED
	while [ "$s" -lt $((FIRST_SEED + SEEDS)) ]; do
		out="$TMP/$ex.$s.err"
		if run "$ex" "$s" "$out"; then
			PASSED=$((PASSED + 1))
			grep "^sim: seed $s: " "$out" | tail -n 1 >>"$TMP/$ex.lines"
			[ "$VERBOSE" = 1 ] && echo "ok $ex seed $s ($(peers_of "$ex" "$s"))"
		else
			fail "$ex seed $s ($(peers_of $ex $s), VOLT_SIM_FAULTS=$(plan $s))" "$WHY" "$out"
		fi
		s=$((s + 1))
	done
	ms=$(($(now_ms) - start))
	runs=$(wc -l <"$TMP/$ex.lines")

	# replay: the first seed again, the same line to the last character
	out="$TMP/$ex.replay.err"
	first=$(grep "^sim: seed $FIRST_SEED: " "$TMP/$ex.lines")
	if [ -z "$first" ]; then
		fail "$ex replay seed $FIRST_SEED" "its first run failed" /dev/null
	elif ! run "$ex" "$FIRST_SEED" "$out"; then
		fail "$ex replay seed $FIRST_SEED" "$WHY" "$out"
	elif [ "$(grep "^sim: seed $FIRST_SEED: " "$out" | tail -n 1)" != "$first" ]; then
		fail "$ex replay seed $FIRST_SEED" "a different run: $first, then" "$out"
	else
		PASSED=$((PASSED + 1))
		[ "$VERBOSE" = 1 ] && echo "ok $ex replay seed $FIRST_SEED"
	fi

	# seeds: every seed's trace is its own
	dups=$(sed 's/.* hash //' "$TMP/$ex.lines" | sort | uniq -d | head -n 3)
	if [ -n "$dups" ]; then
		fail "$ex seeds" "equal trace hashes for different seeds: $dups" /dev/null
	else
		PASSED=$((PASSED + 1))
	fi
	awk -v ex="$ex" -v runs="$runs" -v ms="$ms" -v seeds="$SEEDS" '
		{ c += $4; b += $6; r += $9; f += $11 }
		END {
			printf "%s: %d of %d seeds passed: %d connections, %d bytes checked, " \
			       "%d resets, %d faults; %.1f ms per run\n",
			       ex, runs, seeds, c, b, r, f, seeds ? ms / seeds : 0
		}' "$TMP/$ex.lines"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
