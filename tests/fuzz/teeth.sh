#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/teeth.sh BOUND WORKDIR MUTANT_BINARY...: shows that each
# fuzz target's oracle catches a planted bug. Each MUTANT_BINARY is a target
# linked against a library built with one -DVOLT_MUTANT_<NAME> (the Makefile's
# FUZZ_MUTANTS); it must crash within BOUND seconds, starting from an empty
# corpus (not the committed seeds, which may already hold a catching input)
# with a fixed seed, so the number of executions it needed is reproducible
# (the target's dictionary, tests/fuzz/NAME.dict, is used as in run.sh).
#
# Prints, per mutant, the seconds and executions to the first crash and the
# oracle's message, then "N caught, N missed"; fails if any was missed.
set -u

[ "$#" -ge 3 ] || { echo "usage: $0 BOUND WORKDIR MUTANT_BINARY..." >&2; exit 2; }
bound=$1
work=$2
shift 2
here=$(dirname "$0")
caught=0
missed=0

for bin in "$@"; do
	mutant=$(basename "$(dirname "$bin")")
	name=$(basename "$bin")
	dir=$work/$mutant
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	start=$(date +%s.%N)
	# shellcheck disable=SC2086 # $dict is one word or none
	timeout -k 10 $((bound + 60)) "$bin" -max_total_time="$bound" -seed=1 -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/" $dict "$dir/corpus" >"$dir/log" 2>&1
	rc=$?
	end=$(date +%s.%N)
	secs=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
	runs=$(sed -n 's/^stat::number_of_executed_[a-z]*:[[:space:]]*//p' "$dir/log" | tail -n 1)
	why=$(grep -a -m 1 'FUZZ_CHECK\|ERROR: AddressSanitizer\|runtime error' "$dir/log" |
		sed 's/^[^ ]*: //' | cut -c 1-150)
	if [ "$rc" -ne 0 ] && ls "$dir"/crash-* >/dev/null 2>&1; then
		caught=$((caught + 1))
		printf '%s (%s): caught after %s s, %s runs: %s\n' "$mutant" "$name" "$secs" \
			"${runs:-?}" "$why"
	else
		missed=$((missed + 1))
		printf '%s (%s): MISSED in %s s (%s runs, exit %s)\n' "$mutant" "$name" "$secs" \
			"${runs:-?}" "$rc"
	fi
done
echo "$caught caught, $missed missed"
echo "$caught passed, $missed failed"
[ "$missed" -eq 0 ]
