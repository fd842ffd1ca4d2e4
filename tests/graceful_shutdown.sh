#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/graceful_shutdown.sh: end-to-end check of examples/graceful_shutdown
# on each I/O driver (uring, epoll), stopped once with SIGTERM and once with
# SIGINT.
#
#   sh tests/graceful_shutdown.sh [BUILD_DIR]
#
# Builds nothing: BUILD_DIR (default build) must hold
# examples/graceful_shutdown (make examples). The server listens on
# 127.0.0.1:0 (the port is read from its "listening on" line), answers each
# message after 100 ms, and has a grace period of 2 s. A python3 client:
#   1. opens 5 connections; each sends "1" and gets "1" back, so all 5 were
#      accepted and are in flight;
#   2. two of them ("finishing") send "2"; the signal goes to the server at
#      once; they read their "2" (the work in flight is let finish) and
#      close, so those two connections end by themselves within the grace;
#   3. the other three stay open and idle: at the end of the grace they are
#      cancelled, which they see as end of stream.
# The server must print exactly
#   shutdown: in-flight 5, finished 2, cancelled 3 (grace 2000 ms)
# and exit with status 0. The only time assumption is that a loopback
# round trip and a close take far less than the 2 s grace.
# One line per case, "ok NAME [DRIVER]" or "FAIL NAME [DRIVER]: why" (with
# the server's output), then "graceful_shutdown: N passed, M failed"; exit
# status 1 if anything failed. A driver the kernel refuses is skipped.
set -u

B=${1:-build}
EXE=$B/examples/graceful_shutdown
GRACE_MS=2000
WORK_MS=100
if [ ! -x "$EXE" ]; then
	echo "graceful_shutdown.sh: $EXE is missing: make examples" >&2
	exit 2
fi
command -v python3 >/dev/null || { echo "graceful_shutdown.sh: python3 is missing" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/graceful_shutdown.XXXXXX") || exit 2
SERVER=
cleanup() {
	[ -n "$SERVER" ] && kill -KILL "$SERVER" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/client.py" <<'EOF'
import os, signal, socket, sys

port, pid, signame = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    conns.append(s)
for s in conns:
    s.sendall(b"1")
for s in conns:
    if s.recv(1) != b"1":
        sys.exit("no answer to the first message")
finishing, staying = conns[:2], conns[2:]
for s in finishing:
    s.sendall(b"2")
os.kill(pid, getattr(signal, signame))
for s in finishing:
    if s.recv(1) != b"2":
        sys.exit("a finishing connection lost its answer")
    s.close()
for s in staying:
    if s.recv(1) != b"":
        sys.exit("a staying connection was not closed")
    s.close()
EOF

passed=0
failed=0
for driver in uring epoll; do
	for sig in TERM INT; do
		name="$sig [$driver]"
		"$EXE" --addr 127.0.0.1:0 --driver "$driver" --workers 2 \
			--grace-ms $GRACE_MS --work-ms $WORK_MS >"$TMP/out" 2>"$TMP/err" &
		SERVER=$!
		port=
		for _ in $(seq 1 100); do
			# the whole line: a port read from a half-written one would be wrong
			port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (driver.*/\1/p' "$TMP/err")
			[ -n "$port" ] && break
			kill -0 "$SERVER" 2>/dev/null || break
			sleep 0.05
		done
		if [ -z "$port" ]; then
			wait "$SERVER"
			status=$?
			SERVER=
			if grep -qi 'refuse\|not supported\|ENOSYS\|EPERM' "$TMP/err"; then
				echo "skip $name: $(cat "$TMP/err")"
				continue
			fi
			echo "FAIL $name: the server did not listen (status $status)"
			cat "$TMP/err"
			failed=$((failed + 1))
			continue
		fi
		why=
		python3 "$TMP/client.py" "$port" "$SERVER" "SIG$sig" 2>"$TMP/client" ||
			why="client: $(tail -1 "$TMP/client")"
		# the signal may not have been sent (a failed client): stop it anyway,
		# then give it 30 s to exit before KILL (an exit that hangs is a failure)
		[ -n "$why" ] && kill -"$sig" "$SERVER" 2>/dev/null
		for _ in $(seq 1 300); do
			kill -0 "$SERVER" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SERVER" 2>/dev/null; then
			kill -KILL "$SERVER" 2>/dev/null
			why="${why:-the server did not exit after SIG$sig}"
		fi
		wait "$SERVER"
		status=$?
		SERVER=
		want="shutdown: in-flight 5, finished 2, cancelled 3 (grace $GRACE_MS ms)"
		if [ -z "$why" ] && [ "$status" -ne 0 ]; then
			why="exit status $status"
		fi
		if [ -z "$why" ] && [ "$(cat "$TMP/out")" != "$want" ]; then
			why="report \"$(cat "$TMP/out")\", want \"$want\""
		fi
		if [ -z "$why" ]; then
			echo "ok   $name"
			passed=$((passed + 1))
		else
			echo "FAIL $name: $why"
			sed 's/^/  | /' "$TMP/err" "$TMP/out"
			failed=$((failed + 1))
		fi
	done
done
echo "graceful_shutdown: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
