# E10 channels, crossbeam-style: time per message through one channel in
# five shapes (seq: one task sends a capacity's worth and receives it;
# spsc 1 x 1; mpsc 4 x 1; mpmc 4 x 4; select: 2 producers on 2 channels, one
# consumer selecting), 100,000 messages on a 2-worker runtime, grouped by the
# capacity (1, 1,024; mpsc also unbounded); Volt-C on each channel buffer
# (ring/vyukov, ring/locked; its unbounded bar is volt/mpsc.h) against
# tokio::sync::mpsc (mpmc: the receiver shared under a tokio Mutex) and Go's
# channels. Capacity 0 (rendezvous) is not run: Volt-C's and Tokio's bounded
# channels refuse it. Reproduces: the shapes of crossbeam-channel's suite.
load vars
fig_title = "E10 channels, crossbeam-style: seq, spsc, mpsc, mpmc, select"
load "plots/style.gp"
load "plots/bars.gp"
