#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/os_examples.sh: end-to-end checks of the file and process examples,
# on each I/O driver (VOLT_DRIVER=uring, epoll).
#
#   sh tests/os_examples.sh [BUILD_DIR]
#
# Builds nothing: BUILD_DIR (default build) must hold examples/file_copy and
# examples/pipeline (make examples).
#   file_copy            a 3 MiB random file and an empty one copied byte for
#                        byte (cmp), a progress line on stderr ending at 100%;
#                        a missing source exits 1, bad usage 2
#   pipeline             the default `seq 1 100000 | wc -l` prints 100000 and
#                        reports both children "exited with 0"; a consumer that
#                        stops early (`head -1`) makes the producer die of a
#                        signal and the pipeline exit 1, the parent unharmed
# One line per case, "ok NAME [DRIVER]" or "FAIL NAME [DRIVER]: why" (with the
# program's stderr), then "os examples: N passed, M failed"; exit status 1 if
# anything failed. A driver the kernel refuses is skipped.
set -u

B=${1:-build}
COPY=$B/examples/file_copy
PIPE=$B/examples/pipeline
for exe in "$COPY" "$PIPE"; do
	[ -x "$exe" ] || { echo "os_examples: $exe missing (make examples)" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $1: $2"
	[ -s "$TMP/err" ] && sed 's/^/    /' "$TMP/err" | tail -n 5
	fail=$((fail + 1))
}

head -c 3145728 /dev/urandom > "$TMP/src"
: > "$TMP/empty"

for d in uring epoll; do
	# A driver the kernel refuses makes the runtime fail to start: skip it.
	if ! VOLT_DRIVER=$d "$COPY" "$TMP/empty" "$TMP/probe" 2> "$TMP/err"; then
		if grep -qi 'refuse\|not supported\|ENOSYS\|EPERM\|permitted' "$TMP/err"; then
			echo "skip [$d]: $(head -n 1 "$TMP/err")"
			continue
		fi
	fi

	name="file_copy [$d]"
	rm -f "$TMP/dst"
	if ! VOLT_DRIVER=$d "$COPY" "$TMP/src" "$TMP/dst" 2> "$TMP/err"; then
		bad "$name" "exit status $?"
	elif ! cmp -s "$TMP/src" "$TMP/dst"; then
		bad "$name" "the copy differs from the source"
	elif ! tr '\r' '\n' < "$TMP/err" | grep -q '100%'; then
		bad "$name" "no progress line reaching 100%"
	else
		ok "$name"
	fi

	name="file_copy:empty [$d]"
	rm -f "$TMP/dst"
	if VOLT_DRIVER=$d "$COPY" "$TMP/empty" "$TMP/dst" 2> "$TMP/err" &&
	   [ -f "$TMP/dst" ] && [ ! -s "$TMP/dst" ]; then
		ok "$name"
	else
		bad "$name" "an empty source did not give an empty copy"
	fi

	name="file_copy:errors [$d]"
	VOLT_DRIVER=$d "$COPY" "$TMP/no-such-file" "$TMP/dst" 2> "$TMP/err"
	missing=$?
	VOLT_DRIVER=$d "$COPY" 2> /dev/null
	usage=$?
	if [ "$missing" -eq 1 ] && [ "$usage" -eq 2 ]; then
		ok "$name"
	else
		bad "$name" "missing source exited $missing (want 1), no arguments $usage (want 2)"
	fi

	name="pipeline [$d]"
	out=$(VOLT_DRIVER=$d "$PIPE" 2> "$TMP/err")
	status=$?
	if [ "$status" -ne 0 ]; then
		bad "$name" "exit status $status"
	elif [ "$(echo "$out" | tr -d ' ')" != 100000 ]; then
		bad "$name" "wc -l printed '$out', want 100000"
	elif [ "$(grep -c 'exited with 0' "$TMP/err")" -ne 2 ]; then
		bad "$name" "both children should report 'exited with 0'"
	else
		ok "$name"
	fi

	name="pipeline:early-exit [$d]"
	out=$(VOLT_DRIVER=$d "$PIPE" "seq 1 10000000" "head -1" 2> "$TMP/err")
	status=$?
	if [ "$status" -eq 1 ] && [ "$out" = 1 ] && grep -q 'consumer: exited with 0' "$TMP/err"; then
		ok "$name"
	else
		bad "$name" "exit status $status (want 1), output '$out' (want 1)"
	fi
done

echo "os examples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
