# E12 steal cost by topology distance (synthetic topology): steal round trips between workers at each distance class of pack:2 numa:2 core:2.
# Reproduces: SSYNC/ccbench; not testable on one NUMA node.
load vars
fig_title = "E12 steal cost by topology distance (synthetic topology)"
load "plots/style.gp"
load "plots/bars.gp"
