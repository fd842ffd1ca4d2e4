#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/model/run.sh CLEAN_BIN MUTANT_BIN...: `make test-model`.
#
# The clean model checker must pass every model over its default seeds
# (MODEL_SEEDS=N: over N seeds; `make test-reliability` asks for 10,000); each
# mutant build (a planted bug) must fail, i.e. be caught with a seed. The
# clean run goes in the background while the mutants run one after another
# (two cores). Counts models passed + mutants caught against everything
# else, and exits non-zero if anything failed or a mutant survived.
clean=$1
shift
limit=${MODEL_TIMEOUT:-300}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

timeout -k 5 "$limit" "$clean" ${MODEL_SEEDS:+--seeds "$MODEL_SEEDS"} >"$tmp/clean" 2>&1 &
clean_pid=$!
i=0
for bin in "$@"; do
	i=$((i + 1))
	timeout -k 5 "$limit" "$bin" --expect-fail >"$tmp/m$i" 2>&1
	echo $? >"$tmp/m$i.rc"
done
wait $clean_pid
clean_rc=$?

passed=0
failed=0
ok=$(grep -c '^ok ' "$tmp/clean")
bad=$(grep -c '^FAIL ' "$tmp/clean")
grep -E '^(ok|FAIL|  replay)' "$tmp/clean"
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$clean_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	echo "FAIL $clean exited with status $clean_rc:"
	tail -n 5 "$tmp/clean"
	failed=$((failed + 1))
fi
i=0
for bin in "$@"; do
	i=$((i + 1))
	rc=$(cat "$tmp/m$i.rc")
	if [ "$rc" -eq 0 ] && grep -q '^caught: ' "$tmp/m$i"; then
		grep '^caught: ' "$tmp/m$i"
		passed=$((passed + 1))
	else
		echo "SURVIVED $bin (status $rc): the models no longer catch this planted bug"
		tail -n 3 "$tmp/m$i"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
