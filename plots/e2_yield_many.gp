# E2 yield_many: tasks that each yield many times, per policy and peer, and
# the ring policy's sensitivity to the global-queue interval.
load vars
fig_title = "E2 yield_many: every task yields 1,000 times; right: the global-queue check interval"
load "plots/style.gp"
load "plots/bars.gp"
