#!/bin/sh
# experiments/peers/build.sh: builds the Tokio, Go and libuv peers into
# build/peers/ (used by `make compare` and `make reproduce`). Offline: Tokio
# from Debian's vendored crates (experiments/peers/tokio/.cargo/config.toml;
# every src/bin/*.rs, the E11 servers included), Go from its standard
# library only, libuv from Debian's libuv1-dev.
set -eu

cd "$(dirname "$0")/../.."
BIN=$(pwd)/build/peers
mkdir -p "$BIN/go" "$BIN/libuv"
say() { printf 'peers: %s\n' "$*" >&2; }

# cargo on PATH (rustup's, here) if any, else Debian's with Debian's rustc.
if command -v cargo >/dev/null 2>&1; then
	CARGO=$(command -v cargo)
else
	CARGO=/usr/bin/cargo
	export RUSTC=/usr/bin/rustc
fi
say "building the Tokio peer with $CARGO (offline)"
# Cargo.lock is not kept: it is resolved again from the local directory source,
# so a lock file written by another cargo version cannot get in the way.
rm -f experiments/peers/tokio/Cargo.lock
(cd experiments/peers/tokio &&
	CARGO_TARGET_DIR=$BIN/tokio "$CARGO" build --release --offline --quiet)

say "building the Go peer"
(cd experiments/peers/go && GOPROXY=off go build -o "$BIN/go/rt_bench" . &&
	GOPROXY=off go build -o "$BIN/go/fanout" ./fanout &&
	GOPROXY=off go build -o "$BIN/go/timer_bench" ./timer_bench &&
	GOPROXY=off go build -o "$BIN/go/chan_bench" ./chan_bench)

say "building the libuv peers"
if [ ! -f /usr/include/uv.h ]; then
	say "libuv is missing: apt-get install -y libuv1-dev"
	exit 1
fi
for p in echo_server http_hello; do
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread \
		-o "$BIN/libuv/$p" "experiments/peers/libuv/$p.c" -luv
done
