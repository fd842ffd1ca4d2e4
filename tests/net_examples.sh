#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/net_examples.sh: end-to-end checks of the network examples over
# loopback, on each I/O driver (uring, epoll) under the `ring` and `sim`
# scheduler policies.
#
#   sh tests/net_examples.sh [BUILD_DIR] [--valgrind]
#
# Builds nothing: BUILD_DIR (default build) must hold examples/echo_server,
# examples/http_hello and examples/chat_server (make examples). Each server
# runs on a free port (counting up from 20000 + $$ % 12000), is waited for
# (a LISTEN socket within 5 s), checked by python3 clients (and curl), then
# stopped with TERM (an EXIT trap: no server outlives the script).
#   echo_server          4 messages (1 B to 20 KB) echoed byte for byte, then EOF
#   http_hello:curl      curl prints exactly "Hello, World!"
#   http_hello:pipeline  3 requests in one write get 3 responses; a request
#                        split over 3 writes gets 1; "Connection: close" closes
#   chat_server          A says "hello": B gets "<A's address>: hello"; B says
#                        "bye": A gets it next (A's own line was not sent to A)
# One line per case, "ok NAME [DRIVER/SCHED]" or "FAIL NAME [DRIVER/SCHED]: why"
# (with the server's stderr), then "net examples: N passed, M failed"; exit
# status 1 if anything failed. A driver the kernel refuses is skipped.
#
# --valgrind also runs echo_server --max-conns 2 under memcheck (the flags of
# the Makefile's VALGRIND), serves it two connections and requires exit
# status 0. It runs on uring with VOLT_IDLE=yield: valgrind 3.19 keeps its
# global lock while a thread blocks in io_uring_enter, so a worker parked in
# the driver would stop every other thread; with `yield` workers poll the
# driver without waiting. (epoll does not run under valgrind 3.19 at all: it
# does not know epoll_pwait2, which the epoll driver calls with no fallback.)
set -u

B=${1:-build}
VALGRIND_RUN=no
case ${2:-} in
--valgrind) VALGRIND_RUN=yes ;;
'') ;;
*)
	echo "usage: sh tests/net_examples.sh [BUILD_DIR] [--valgrind]" >&2
	exit 2
	;;
esac
VALGRIND="valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite"

for p in echo_server http_hello chat_server; do
	if [ ! -x "$B/examples/$p" ]; then
		echo "net_examples: $B/examples/$p is missing: make examples" >&2
		exit 2
	fi
done
command -v python3 >/dev/null || { echo "net_examples: python3 is missing" >&2; exit 2; }
if ! command -v curl >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y curl >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 &&
			apt-get install -y curl >/dev/null 2>&1; }
	fi
	command -v curl >/dev/null || { echo "net_examples: curl is missing" >&2; exit 2; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/net_examples.XXXXXX") || exit 2
PID=''
PORT=$((20000 + $$ % 12000))
PASSED=0 FAILED=0

# ------------------------------------------------------------ the servers

# Whether a socket listens on port $PORT (any address), from /proc/net/tcp*.
listening() {
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$(printf '%04X' "$PORT")" \
			'$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# Whether the server is still running (a zombie is not).
alive() {
	st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$PID/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Moves $PORT to the next port nothing listens on.
next_port() {
	PORT=$((PORT + 1))
	[ "$PORT" -lt 32000 ] || PORT=20000
	while listening; do
		PORT=$((PORT + 1))
	done
}

# start [ENV=VALUE...] CMD ARGS: runs CMD ARGS --port P in the background,
# stderr in $TMP/err; 0 once it listens, 1 if it exited or did not listen
# within $WAIT tenths of a second.
WAIT=50
start() {
	next_port
	env "$@" --port "$PORT" 2>"$TMP/err" &
	PID=$!
	i=0
	until listening; do
		if ! alive || [ "$i" -ge "$WAIT" ]; then
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# Sends TERM (KILL 2 s later) and reaps the server.
stop() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	i=0
	while alive && [ "$i" -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=''
}

# shellcheck disable=SC2317 # (run by the EXIT trap)
cleanup() {
	stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

pass() {
	echo "ok $1"
	PASSED=$((PASSED + 1))
}

fail() {
	echo "FAIL $1: $2"
	[ -s "$TMP/err" ] && sed 's/^/  | /' "$TMP/err" | head -20
	FAILED=$((FAILED + 1))
}

# ------------------------------------------------------------ the clients

cat >"$TMP/echo.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=float(sys.argv[2]))
for n in (1, 1000, 4096, 20000):
    data = bytes((i * 7 + n) % 251 for i in range(n))
    s.sendall(data)
    got = b""
    while len(got) < n:
        part = s.recv(n - len(got))
        if not part:
            sys.exit("EOF after %d of %d bytes" % (len(got), n))
        got += part
    if got != data:
        sys.exit("%d bytes came back different" % n)
s.shutdown(socket.SHUT_WR)
if s.recv(1) != b"":
    sys.exit("bytes after the echo")
EOF

cat >"$TMP/http.py" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
R = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"
GET = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

def read(s, n):
    got = b""
    while len(got) < n:
        part = s.recv(n - len(got))
        if not part:
            break
        got += part
    return got

s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(GET * 3)
got = read(s, 3 * len(R))
if got != R * 3:
    sys.exit("3 pipelined requests got %r" % got)
for part in (GET[:7], GET[7:-1], GET[-1:]):
    s.sendall(part)
    time.sleep(0.02)
got = read(s, len(R))
if got != R:
    sys.exit("a split request got %r" % got)
s.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
got = read(s, 2 * len(R))
if got != R:
    sys.exit("Connection: close got %r" % got)
EOF

cat >"$TMP/chat.py" <<'EOF'
import socket, sys
port = int(sys.argv[1])

def join():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    hello = f.readline()  # once the greeting is here, the server sends us every line
    if not hello.startswith(b"*** connected as "):
        sys.exit("greeting %r" % hello)
    return s, f, hello[len(b"*** connected as "):].strip()

def expect(f, text):
    line = f.readline()
    if not line.endswith(b": " + text + b"\n"):
        sys.exit("expected a line ending in %r, got %r" % (b": " + text, line))
    return line

a, fa, a_addr = join()
b, fb, b_addr = join()
a.sendall(b"hello\n")
line = expect(fb, b"hello")
if line != a_addr + b": hello\n":
    sys.exit("B got %r, not from %r" % (line, a_addr))
b.sendall(b"bye\n")
expect(fa, b"bye")  # not A's own "hello"
EOF

# ------------------------------------------------------------ the cases

# run_case DRIVER SCHED: every example on DRIVER under SCHED.
run_case() {
	d=$1 s=$2 tag="[$1/$2]"

	for ex in echo_server http_hello chat_server; do
		if ! start "$B/examples/$ex" --driver "$d" --sched "$s"; then
			if grep -q "runtime:" "$TMP/err" 2>/dev/null && [ "$d" = uring ]; then
				echo "skip $ex $tag: $(cat "$TMP/err")"
			else
				fail "$ex $tag" "the server did not listen on port $PORT within 5 s"
			fi
			stop
			continue
		fi
		if ! grep -q "^$ex: listening on 127.0.0.1:$PORT (driver $d, scheduler $s," "$TMP/err"; then
			fail "$ex $tag" "no (or a wrong) 'listening on' line"
			stop
			continue
		fi
		case $ex in
		echo_server)
			if out=$(python3 "$TMP/echo.py" "$PORT" 5 2>&1); then
				pass "$ex $tag"
			else
				fail "$ex $tag" "$out"
			fi
			;;
		http_hello)
			out=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/")
			if [ "$out" = "Hello, World!" ]; then
				pass "$ex:curl $tag"
			else
				fail "$ex:curl $tag" "curl printed '$out'"
			fi
			if out=$(python3 "$TMP/http.py" "$PORT" 2>&1); then
				pass "$ex:pipeline $tag"
			else
				fail "$ex:pipeline $tag" "$out"
			fi
			;;
		chat_server)
			if out=$(python3 "$TMP/chat.py" "$PORT" 2>&1); then
				pass "$ex $tag"
			else
				fail "$ex $tag" "$out"
			fi
			;;
		esac
		if ! alive; then
			fail "$ex $tag" "the server died"
		fi
		stop
	done
}

for d in uring epoll; do
	for s in ring sim; do
		run_case "$d" "$s"
	done
done

# echo_server --max-conns 2 under memcheck: two clients, then exit status 0.
run_valgrind() {
	name="echo_server under valgrind [uring/ring]"

	if ! command -v valgrind >/dev/null; then
		fail "$name" "valgrind is not installed (make deps-valgrind)"
		return
	fi
	WAIT=300 # valgrind starts slowly
	# ulimit: a valgrind that floods its log (a syscall it does not know) stops early
	if ! start VOLT_IDLE=yield sh -c "ulimit -f 20000; exec $VALGRIND \"\$@\"" sh \
		"$B/examples/echo_server" --driver uring --sched ring --max-conns 2; then
		fail "$name" "the server did not listen on port $PORT within 30 s"
		stop
		return
	fi
	for c in 1 2; do
		if ! out=$(python3 "$TMP/echo.py" "$PORT" 60 2>&1); then
			fail "$name" "client $c: $out"
			stop
			return
		fi
	done
	i=0
	while alive && [ "$i" -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive; then
		fail "$name" "still running 60 s after its two connections"
		stop
		return
	fi
	wait "$PID"
	st=$?
	PID=''
	if [ "$st" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "exit status $st (memcheck errors: 9)"
	fi
}

[ "$VALGRIND_RUN" = yes ] && run_valgrind

echo "net examples: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
