# E9 tail latency under mixed I/O and CPU: experiments/rpc_server.c (ring
# policy, io_uring driver, 2 workers) under experiments/echo_load.c's closed
# loop (50 connections, 128-byte requests; one request in 100 burns 1 ms of
# CPU in 1 us slices, each taking one unit of the cooperative budget), on
# the same 2 vCPUs; one group per budget (off = 65535: a burn never yields)
# and event interval; the cheap requests' p99 round trip, lower is better.
# p50, p99.9 and both request rates are in summary.csv and the paper's
# table. Tests: Tokio's preemption post (about 3x lower tail latency with
# the budget).
load vars
fig_title = "E9 tail latency: cheap requests beside 1 ms CPU requests, by budget"
load "plots/style.gp"
load "plots/bars.gp"
