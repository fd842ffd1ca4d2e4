#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run.sh SECS WORKDIR TARGET_BINARY...: runs each libFuzzer target
# for SECS seconds, two at a time (the machine has two cores), and fails if
# any of them crashed, leaked, timed out or ran out of memory.
#
# Each target starts from its committed seed corpus, tests/fuzz/corpus/NAME/,
# read-only: libFuzzer writes what it finds into the first corpus directory
# given, WORKDIR/NAME/corpus/, a scratch directory emptied at each run. The
# committed corpus grows only when a developer merges the scratch one into it
# (`make fuzz-merge`). A crashing input is saved as WORKDIR/NAME/crash-<sha1>
# (replay: TARGET_BINARY WORKDIR/NAME/crash-<sha1>). tests/fuzz/NAME.dict is
# passed as the dictionary when it exists.
#
# Prints one line per target with the executions run (libFuzzer's
# stat::number_of_executed_units) and a closing "N passed, N failed"; writes
# the same to WORKDIR/summary.csv (target,seconds,runs,corpus,result).
set -u

[ "$#" -ge 3 ] || { echo "usage: $0 SECS WORKDIR TARGET_BINARY..." >&2; exit 2; }
secs=$1
work=$2
shift 2
here=$(dirname "$0")
bins=$* # paths without spaces (build directories)

run_one() {
	bin=$1
	name=$(basename "$bin")
	dir=$work/$name
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	echo "$bin" >"$dir/bin"
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	# -timeout: one input running 10 s is a hang; the outer timeout catches a stuck process.
	# shellcheck disable=SC2086 # $dict is one word or none
	timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/" $dict \
		"$dir/corpus" "$here/corpus/$name" >"$dir/log" 2>&1
	echo $? >"$dir/rc"
}

# Two at a time.
while [ "$#" -gt 0 ]; do
	run_one "$1" &
	if [ "$#" -gt 1 ]; then
		run_one "$2" &
		shift
	fi
	shift
	wait
done

pass=0
fail=0
echo "target,seconds,runs,corpus,result" >"$work/summary.csv"
for bin in $bins; do
	name=$(basename "$bin")
	dir=$work/$name/
	rc=$(cat "$dir/rc")
	# "units" in libFuzzer 14, "runs" in some other versions
	runs=$(sed -n 's/^stat::number_of_executed_[a-z]*:[[:space:]]*//p' "$dir/log" | tail -n 1)
	corpus=$(find "$dir/corpus" -type f | wc -l)
	seeds=$(find "$here/corpus/$name" -type f 2>/dev/null | wc -l)
	crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
		-o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
	if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
		result=passed
		pass=$((pass + 1))
	else
		result=FAILED
		fail=$((fail + 1))
	fi
	printf '%s: %s runs in %s s, %s seeds + %s new inputs, %s\n' "$name" "${runs:-0}" "$secs" \
		"$seeds" "$corpus" "$result"
	echo "$name,$secs,${runs:-0},$((seeds + corpus)),$result" >>"$work/summary.csv"
	if [ "$result" = FAILED ]; then
		echo "--- $name (exit $rc), the end of $dir/log:"
		grep -av '^#[0-9]' "$dir/log" | tail -n 30
		for a in "$dir"crash-* "$dir"leak-* "$dir"timeout-* "$dir"oom-*; do
			[ -f "$a" ] && echo "--- replay: $(cat "$dir/bin") $a"
		done
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
