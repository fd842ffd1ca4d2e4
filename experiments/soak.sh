#!/bin/sh
# SPDX-License-Identifier: MIT
# experiments/soak.sh: load and soak (issue 10; the goals are in
# ../shared/reference/reliability.md section 4). Four experiments:
#
#   echo-DRIVER   examples/echo_server under ECHO_CONNS connections of 64-byte
#                 messages for ECHO_SECS (experiments/echo_load.c: every byte
#                 of every echo compared); the server's RSS is sampled; it must
#                 not grow from ECHO_RSS_AT seconds to the end by more than 5%
#                 of the former or 4 MiB, whichever is larger
#   idle-DRIVER   IDLE_CONNS quiet connections held for IDLE_SECS, each
#                 answering a 32-byte heartbeat every 10 s (echo_load --idle,
#                 a separate process); the server's CPU use is measured
#   spawn-cancel  SPAWN_TASKS tasks, half cancelled at random points
#                 (experiments/spawn_cancel.c): no task, byte, descriptor or
#                 thread left behind
#   shutdown-DRIVER  SHUTDOWN_TASKS tasks in flight on timers, channels,
#                 sockets and the blocking pool when the runtime shuts down
#                 (experiments/shutdown_inflight.c): every task and message
#                 accounted for once
#
#   soak.sh [--short] [--out DIR] [--build DIR] [--drivers "uring epoll"]
#           [--only "echo idle spawn shutdown"]
#
#                      full (default)             --short (CI, about 1 min)
#   echo               1,000 conns x 300 s,       200 conns x 15 s,
#                      RSS at 60 s; the default   RSS at 1.5 s; uring and
#                      driver                     epoll
#   idle               10,000 conns x 60 s        2,000 conns x 15 s
#   spawn-cancel       10,000,000 tasks           1,000,000 tasks
#   shutdown           10,000 tasks, uring and epoll (both lengths)
#
# The sizes can be overridden from the environment: ECHO_CONNS, ECHO_SECS,
# ECHO_RSS_AT, ECHO_SAMPLE_EVERY, IDLE_CONNS, IDLE_SECS, SPAWN_TASKS,
# SHUTDOWN_TASKS. --drivers applies to echo (idle and shutdown run on the
# default driver and on uring and epoll respectively); "auto" is the
# runtime's choice. Programs come from --build DIR (or $BUILD; default
# build/): DIR/examples/echo_server and DIR/experiments/{echo_load,
# spawn_cancel,shutdown_inflight} (`make B=DIR examples experiments`).
#
# Output in --out DIR (default results/reliability/soak/): one NAME.json per
# run, {"run":..,"client_exit":..,"server_exit":..,"pass":..,"result":{the
# program's JSON figures}}, its log NAME.log, meta.json (mode, commit,
# kernel, CPUs, load average before and after: other processes on the
# machine slow throughput and latency, not RSS or the accounting) and
# summary.json (every run). A run passes when its programs exit 0 and its
# figures say "pass": no error, RSS drift within bound, no leak, every task
# and message accounted for. Server CPU is measured, not checked. Prints a
# line per run and closes with "N passed, N failed"; exit status 1 if any
# run failed, 2 for bad options or missing programs.
set -u

usage() {
	sed -n 's/^#   soak.sh/usage: soak.sh/p; s/^#           \[--only/              [--only/p' "$0" >&2
	exit 2
}
die() {
	echo "soak: $*" >&2
	exit 2
}

MODE=full OUT=results/reliability/soak BUILD=${BUILD:-build} DRIVERS='' ONLY='echo idle spawn shutdown'
while [ $# -gt 0 ]; do
	case $1 in
	--short) MODE=short && shift ;;
	--out) [ $# -ge 2 ] || usage && OUT=$2 && shift 2 ;;
	--build) [ $# -ge 2 ] || usage && BUILD=$2 && shift 2 ;;
	--drivers) [ $# -ge 2 ] || usage && DRIVERS=$2 && shift 2 ;;
	--only) [ $# -ge 2 ] || usage && ONLY=$2 && shift 2 ;;
	*) usage ;;
	esac
done
cd "$(dirname "$0")/.." || exit 2

if [ "$MODE" = short ]; then
	: "${ECHO_CONNS:=200}" "${ECHO_SECS:=15}" "${ECHO_RSS_AT:=1.5}" "${ECHO_SAMPLE_EVERY:=3}"
	: "${IDLE_CONNS:=2000}" "${IDLE_SECS:=15}" "${SPAWN_TASKS:=1000000}"
	: "${DRIVERS:=uring epoll}"
else
	: "${ECHO_CONNS:=1000}" "${ECHO_SECS:=300}" "${ECHO_RSS_AT:=60}" "${ECHO_SAMPLE_EVERY:=30}"
	: "${IDLE_CONNS:=10000}" "${IDLE_SECS:=60}" "${SPAWN_TASKS:=10000000}"
	: "${DRIVERS:=auto}"
fi
: "${SHUTDOWN_TASKS:=10000}"
SERVER=$BUILD/examples/echo_server
LOAD=$BUILD/experiments/echo_load
SPAWN=$BUILD/experiments/spawn_cancel
SHUTDOWN=$BUILD/experiments/shutdown_inflight
for p in "$SERVER" "$LOAD" "$SPAWN" "$SHUTDOWN"; do
	[ -x "$p" ] || die "$p is missing: make B=$BUILD examples experiments"
done
mkdir -p "$OUT" || die "cannot create $OUT"
rm -f "$OUT"/*.json "$OUT"/*.log

PASSED=0 FAILED=0

# jget KEY FILE: the scalar value of "KEY" in a one-line JSON file.
jget() {
	sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2" | tr -d '"' | head -n 1
}

# record NAME CLIENT_STATUS SERVER_STATUS DRIVER: wraps the result in
# $OUT/NAME.result into $OUT/NAME.json and counts the run.
record() {
	name=$1 crc=$2 src=$3 drv=$4 res=$OUT/$1.result
	if [ -s "$res" ] && [ "$(wc -l <"$res")" -eq 1 ] && grep -q '^{.*}$' "$res"; then
		body=$(cat "$res")
	else
		body=null
	fi
	pass=false
	if [ "$crc" -eq 0 ] && [ "$src" -eq 0 ] && grep -q '"pass":true' "$res" 2>/dev/null; then
		pass=true
	fi
	printf '{"run":"%s","driver":"%s","client_exit":%s,"server_exit":%s,"pass":%s,"result":%s}\n' \
		"$name" "$drv" "$crc" "$src" "$pass" "$body" >"$OUT/$name.json"
	rm -f "$res"
	if [ "$pass" = true ]; then
		PASSED=$((PASSED + 1))
		printf 'PASS %-16s %s\n' "$name" "$(describe "$name" "$OUT/$name.json")"
	else
		FAILED=$((FAILED + 1))
		case $name in
		echo-* | idle-*) st="client exit $crc, server exit $src" ;;
		*) st="exit $crc" ;;
		esac
		printf 'FAIL %-16s %s; %s (log: %s)\n' "$name" "$st" \
			"$(describe "$name" "$OUT/$name.json")" "$OUT/$name.log"
		tail -n 5 "$OUT/$name.log" | sed 's/^/     /'
	fi
}

# describe NAME FILE: the run's main figures, one line.
describe() {
	f=$2
	case $1 in
	echo-*)
		echo "$(jget conns "$f") conns x $(jget secs "$f") s: $(jget msgs "$f") echoes," \
			"$(jget bytes_checked "$f") bytes checked, $(jget errors "$f") errors;" \
			"RSS $(jget rss_first_kib "$f") KiB at $(jget rss_first_at_secs "$f") s ->" \
			"$(jget rss_end_kib "$f") KiB ($(jget rss_drift_pct "$f")%, bound" \
			"$(jget rss_bound_kib "$f") KiB); $(jget msgs_per_sec "$f") msg/s" ;;
	idle-*)
		echo "$(jget conns_alive "$f")/$(jget conns "$f") conns held $(jget secs "$f") s," \
			"$(jget heartbeats "$f") heartbeats (p99 $(jget p99_us "$f") us)," \
			"$(jget errors "$f") errors; server CPU $(jget server_cpu_pct "$f")%," \
			"RSS $(jget rss_end_kib "$f") KiB, $(jget server_fds_end "$f") fds" ;;
	spawn-*)
		echo "$(jget spawned "$f") tasks, $(jget cancel_planned "$f") cancel planned," \
			"$(jget joined_cancelled "$f") cancelled; live $(jget live_tasks_end "$f")," \
			"payloads $(jget payloads_outstanding "$f"), malloc leak" \
			"$(jget malloc_leaked_bytes "$f") B, fds $(jget fds_before "$f")->$(jget fds_after "$f")," \
			"threads $(jget threads_before "$f")->$(jget threads_after "$f"); $(jget secs "$f") s" ;;
	shutdown-*)
		echo "$(jget tasks "$f") tasks: $(jget completed "$f") completed +" \
			"$(jget dropped_unfinished "$f") dropped; $(jget msgs "$f") msgs:" \
			"$(jget msgs_received "$f") received + $(jget msgs_returned_to_sender "$f") returned +" \
			"$(jget msgs_drained_after "$f") drained; malloc leak $(jget malloc_leaked_bytes "$f") B;" \
			"shutdown $(jget shutdown_ms "$f") ms" ;;
	esac
}

# start_server DRIVER CONNS LOG: starts echo_server on a free port; sets SPID,
# PORT and SDRIVER (the driver it runs); false if it did not listen within 5 s.
start_server() {
	: >"$3"
	"$SERVER" --addr 127.0.0.1:0 --driver "$1" --workers 2 --max-conns "$2" 2>"$3" &
	SPID=$!
	i=0
	while [ $i -lt 50 ]; do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$3")
		SDRIVER=$(sed -n 's/.*(driver \([a-z]*\),.*/\1/p' "$3")
		[ -n "$PORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Whether the server is still running (a zombie has finished).
server_alive() {
	st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$SPID/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# stop_server WAIT_SECONDS: waits that long for the server to finish its
# connections and exit, then stops it; sets SRC to its exit status (124: it
# had to be stopped).
stop_server() {
	i=0
	while server_alive && [ $i -lt $(($1 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if server_alive; then
		kill -TERM "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		SRC=124
		return
	fi
	wait "$SPID"
	SRC=$?
}

# server_run KIND DRIVER CONNS ECHO_LOAD_ARGS...: one echo or idle run.
server_run() {
	kind=$1 drv=$2 conns=$3
	shift 3
	log=$OUT/$kind-$drv.log.tmp
	if ! start_server "$drv" "$conns" "$log.server"; then
		cat "$log.server" >"$log"
		name=$kind-$drv
		mv "$log" "$OUT/$name.log"
		rm -f "$log.server"
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		: >"$OUT/$name.result"
		record "$name" 2 1 "$drv"
		return
	fi
	name=$kind-$SDRIVER
	timeout -k 10 $((${IDLE_SECS%.*} + ${ECHO_SECS%.*} + 300)) "$LOAD" \
		--addr "127.0.0.1:$PORT" --conns "$conns" --threads 2 --server-pid "$SPID" --json "$@" \
		>"$OUT/$name.result" 2>"$log"
	crc=$?
	if [ "$crc" -eq 0 ]; then wait_s=30; else wait_s=0; fi
	stop_server $wait_s
	cat "$log.server" >>"$log"
	rm -f "$log.server"
	mv "$log" "$OUT/$name.log"
	record "$name" "$crc" "$SRC" "$SDRIVER"
}

# prog_run NAME DRIVER PROGRAM ARGS...: one spawn or shutdown run.
prog_run() {
	name=$1 drv=$2
	shift 2
	VOLT_DRIVER=$drv timeout -k 10 1800 "$@" --json >"$OUT/$name.result" 2>"$OUT/$name.log"
	record "$name" $? 0 "$drv"
}

loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo true || echo false)
load0=$(loadavg)
t0=$(date +%s)
echo "soak: $MODE run into $OUT (programs from $BUILD; load average $load0)"

for what in $ONLY; do
	case $what in
	echo)
		for d in $DRIVERS; do
			server_run echo "$d" "$ECHO_CONNS" --size 64 --secs "$ECHO_SECS" \
				--rss-at "$ECHO_RSS_AT" --sample-every "$ECHO_SAMPLE_EVERY"
		done ;;
	idle)
		server_run idle auto "$IDLE_CONNS" --idle --size 32 --heartbeat 10 \
			--secs "$IDLE_SECS" --sample-every 10 ;;
	spawn)
		prog_run spawn-cancel auto "$SPAWN" --tasks "$SPAWN_TASKS" ;;
	shutdown)
		for d in uring epoll; do
			prog_run "shutdown-$d" "$d" "$SHUTDOWN" --tasks "$SHUTDOWN_TASKS"
		done ;;
	*) die "--only: unknown experiment '$what' (echo idle spawn shutdown)" ;;
	esac
done

secs=$(($(date +%s) - t0))
printf '{"mode":"%s","date":"%s","commit":"%s","dirty":%s,"kernel":"%s","cpus":%s,' \
	"$MODE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$dirty" "$(uname -r)" "$(nproc)" \
	>"$OUT/meta.json"
printf '"loadavg_start":"%s","loadavg_end":"%s","secs":%s,"build":"%s"}\n' \
	"$load0" "$(loadavg)" "$secs" "$BUILD" >>"$OUT/meta.json"
{
	printf '{"mode":"%s","passed":%s,"failed":%s,"secs":%s,"runs":[' "$MODE" "$PASSED" "$FAILED" "$secs"
	sep=''
	for f in "$OUT"/*.json; do
		case $f in */meta.json | */summary.json) continue ;; esac
		printf '%s' "$sep"
		tr -d '\n' <"$f"
		sep=,
	done
	printf ']}\n'
} >"$OUT/summary.json.tmp" && mv "$OUT/summary.json.tmp" "$OUT/summary.json"
echo "soak: ${secs}s; results in $OUT (load average at the end $(loadavg))"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
