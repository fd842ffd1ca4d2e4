# E17 the blocking pool: 1,000 no-op jobs handed to the pool one after the
# other by a task that awaits each; Volt-C's policies against Tokio's spawn_blocking.
# Reproduces: Volt's Tier 4 "blocking spawn + wait" (13,865 ns against Tokio's 6,236 ns).
load vars
fig_title = "E17 the blocking pool: spawn a job and await it"
load "plots/style.gp"
load "plots/bars.gp"
