# E5 injection under load: 10,000 spawns injected while every worker is kept busy (busy1: yield and stall; busy2: re-spawn).
# Reproduces: Tokio #5712 / #5720: a capped LIFO slot and the global-queue interval keep injected tasks from starving.
load vars
fig_title = "E5 injection under load"
load "plots/style.gp"
load "plots/bars.gp"
