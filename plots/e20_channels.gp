# E20 channels: a try_send + try_recv round trip on a channel of capacity 1,
# on one thread without a runtime (the tier-2 panel), and 4 producer x 4
# consumer tasks through a channel of capacity 1,024 on a 2-worker runtime
# (the MPMC panel), in ns per operation or message; Volt-C on each channel
# buffer (ring/vyukov, ring/locked) against tokio::sync::mpsc (its MPMC
# consumers share the receiver under a tokio Mutex) and Go's buffered
# channels. send_ns, recv_ns and the bytes allocated per op are in
# summary.csv. Reproduces: Volt's published Tier 2 channel benchmarks and
# its MPMC case (113.7 ns against Tokio's 50.6, Tokio on async_channel).
load vars
fig_title = "E20 channels: the try fast path on one thread, and 4 x 4 MPMC"
load "plots/style.gp"
load "plots/bars.gp"
