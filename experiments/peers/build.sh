#!/bin/sh
# experiments/peers/build.sh: builds the Tokio and Go peers into build/peers/
# (used by `make compare` and `make reproduce`). Offline: Tokio from Debian's
# vendored crates (experiments/peers/tokio/.cargo/config.toml), Go from its
# standard library only.
set -eu

cd "$(dirname "$0")/../.."
BIN=$(pwd)/build/peers
mkdir -p "$BIN/go"
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
