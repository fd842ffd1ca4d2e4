# E3 ping_pong: task pairs handing messages back and forth, per policy and
# peer; the same with the LIFO slot off and on; the ping_pong beside a CPU
# hog (Go's PingPongHog) where the suite has it.
load vars
fig_title = "E3 ping_pong: hand-offs between task pairs; the LIFO / runnext slot off and on"
load "plots/style.gp"
load "plots/bars.gp"
