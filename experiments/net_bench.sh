#!/bin/sh
# SPDX-License-Identifier: MIT
# experiments/net_bench.sh: one harness cell of E11 (TCP echo or HTTP
# hello): starts a server, waits for its port, runs the load, stops the server.
#
#   net_bench.sh --server "CMD ARGS" --kind echo|http --conns N [--size B]
#                [--secs S] [--reps N] [--warmup S] [--port P] [--load-args "ARGS"]
#
# The server runs from the repository's root as `CMD ARGS --port P` (one
# program, not a pipeline: it gets TERM, then KILL 2 s later, on any exit).
# P defaults to 20000 + $$ % 12000, below the ephemeral ports; it must be
# free, and the server must listen on it within 5 s (else exit status 2).
# echo: build/experiments/echo_load --result --threads 1 (its own warm-up,
#   repetitions and harness lines; it also waits for the connections).
#   --load-args adds echo_load options (E9: "--heavy-every K --heavy-us U").
# http: one untimed `wrk -t1` of --warmup seconds, then per repetition
#   `wrk -t1 -cN -dS --latency http://127.0.0.1:P/`, its Requests/sec, 50%
#   and 99% latencies (in us) and errors (socket errors + non-2xx responses)
#   printed as the same result lines; wrk's output goes to stderr. wrk takes
#   whole seconds: S and the warm-up are rounded up.
# Exit status: the client's (http: 1 if wrk failed, reported errors or got
# no response at all).
set -u
set -f # $SERVER is split into words, never globbed

usage() {
	echo "usage: net_bench.sh --server CMD --kind echo|http --conns N [--size B]" \
		"[--secs S] [--reps N] [--warmup S] [--port P] [--load-args ARGS]" >&2
	exit 2
}
die() {
	echo "net_bench: $*" >&2
	exit 2
}

SERVER='' KIND='' CONNS='' SIZE=128 SECS=3 REPS=1 WARMUP=0.5 LOAD_ARGS=''
PORT=$((20000 + $$ % 12000))
while [ $# -ge 2 ]; do
	case $1 in
	--server) SERVER=$2 ;;
	--kind) KIND=$2 ;;
	--conns) CONNS=$2 ;;
	--size) SIZE=$2 ;;
	--secs) SECS=$2 ;;
	--reps) REPS=$2 ;;
	--warmup) WARMUP=$2 ;;
	--port) PORT=$2 ;;
	--load-args) LOAD_ARGS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
if [ $# -ne 0 ] || [ -z "$SERVER" ] || [ -z "$CONNS" ]; then usage; fi
case $KIND in echo | http) ;; *) usage ;; esac
cd "$(dirname "$0")/.." || exit 2
LOAD=build/experiments/echo_load
if [ "$KIND" = echo ]; then
	[ -x "$LOAD" ] || die "$LOAD is missing: make experiments"
else
	command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk"
fi

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
# shellcheck disable=SC2317 # (run by the EXIT trap)
stop() {
	kill -TERM "$PID" 2>/dev/null || return 0
	i=0
	while alive && [ "$i" -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
}

listening && die "port $PORT is already in use"
$SERVER --port "$PORT" &
PID=$!
trap stop EXIT
trap 'exit 130' INT TERM
i=0
until listening; do
	alive || die "the server exited: $SERVER --port $PORT"
	[ "$i" -lt 50 ] || die "nothing listens on port $PORT after 5 s: $SERVER"
	sleep 0.1
	i=$((i + 1))
done

if [ "$KIND" = echo ]; then
	# shellcheck disable=SC2086 # $LOAD_ARGS: split into words on purpose (set -f)
	"$LOAD" --result --threads 1 --addr "127.0.0.1:$PORT" --conns "$CONNS" --size "$SIZE" \
		--secs "$SECS" --warmup "$WARMUP" --reps "$REPS" $LOAD_ARGS
	exit $?
fi

# wrk's durations are whole seconds.
ceil() { awk -v x="$1" 'BEGIN { n = int(x); if (n < x) n++; print n }'; }
URL=http://127.0.0.1:$PORT/
D=$(ceil "$SECS")
[ "$D" -ge 1 ] || D=1
W=$(ceil "$WARMUP")
if [ "$W" -gt 0 ]; then
	wrk -t1 -c"$CONNS" -d"${W}s" "$URL" >&2 || exit 1
fi
status=0
rep=1
while [ "$rep" -le "$REPS" ]; do
	out=$(wrk -t1 -c"$CONNS" -d"${D}s" --latency "$URL") || status=1
	printf '%s\n' "$out" >&2
	printf '%s\n' "$out" | awk -v rep="$rep" '
		function us(v) {  # wrk prints 312.45us, 1.20ms, 2.00s, 1.00m
			if (v ~ /us$/) return v + 0
			if (v ~ /ms$/) return v * 1e3
			if (v ~ /[0-9]s$/) return v * 1e6
			if (v ~ /m$/) return v * 6e7
			return -1
		}
		$1 == "Requests/sec:" { rps = $2 }
		$1 == "50%" { p50 = us($2) }
		$1 == "99%" { p99 = us($2) }
		/Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { err += $NF }
		END {
			if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
			printf "result,%d,msgs_per_sec,%s,msg/s\n", rep, rps
			printf "result,%d,p50_us,%.2f,us\n", rep, p50
			printf "result,%d,p99_us,%.2f,us\n", rep, p99
			printf "result,%d,errors,%d,count\n", rep, err
			exit err > 0 || rps + 0 == 0
		}' || status=1
	rep=$((rep + 1))
done
exit $status
