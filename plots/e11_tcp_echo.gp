# E11 networking: Volt-C's example servers (examples/echo_server.c,
# examples/http_hello.c) on each I/O driver (ring/uring, ring/epoll) against
# the same servers on Tokio and on libuv (experiments/peers/), each with 2
# worker threads, loaded by experiments/echo_load.c (one thread; closed loop,
# every byte checked) or wrk (HTTP, one thread) on the same 2 vCPUs, grouped
# by connection count; messages (HTTP: requests) per second, higher is
# better. p50 and p99 round-trip latencies are in summary.csv and the paper's
# table. Reproduces: io_uring vs epoll (216,637 vs 145,517 req/s, 300
# clients) and issue 9's goals against Tokio and libuv at 256 connections.
load vars
fig_title = "E11 TCP echo and HTTP hello: io_uring, epoll, Tokio, libuv"
load "plots/style.gp"
load "plots/bars.gp"
