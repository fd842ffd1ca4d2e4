# E7 fan-out / fan-in: skynet (10-ary tree, 10^6 leaves) and fib(30) with tasks above a serial cutoff.
# Reproduces: work stealing's speed-up (Blumofe-Leiserson) and the skynet figures.
load vars
fig_title = "E7 fan-out / fan-in"
load "plots/style.gp"
load "plots/bars.gp"
