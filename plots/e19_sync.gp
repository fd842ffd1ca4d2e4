# E19 synchronisation primitives: a mutex's try_lock + unlock on one thread
# (no runtime; the tier-1 panel), and 4 tasks x 2,500 lock + increment +
# unlock on a 2-worker runtime (the tier-3 panel), in ns per operation;
# Volt-C (include/volt/sync.h) against tokio::sync. The other cases
# (rwlock, semaphore, once cell, notify, barrier) are in summary.csv.
# Reproduces: Volt's published Tier 1 / Tier 3 sync benchmarks.
load vars
fig_title = "E19 synchronisation primitives: uncontended and contended"
load "plots/style.gp"
load "plots/bars.gp"
