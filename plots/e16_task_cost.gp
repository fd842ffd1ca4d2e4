# E16 what one task costs: resident bytes per suspended task, spawn+join and hand-off time: stackless task, fiber, OS thread.
# Reproduces: the seed's 256-512 B per task against 16-64 KB per thread.
load vars
fig_title = "E16 what one task costs"
load "plots/style.gp"
load "plots/bars.gp"
