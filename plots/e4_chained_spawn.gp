# E4 chained_spawn: a chain of tasks, each spawning the next.
load vars
fig_title = "E4 chained_spawn: a chain of 1,000 tasks, each spawning the next"
load "plots/style.gp"
load "plots/bars.gp"
