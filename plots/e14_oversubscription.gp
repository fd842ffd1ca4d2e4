# E14 oversubscription and the idle policy: waves of 5 us tasks with 1-4 workers on 2 CPUs, idle = park, spin or yield, with and without a CPU hog.
# Reproduces: Arora-Blumofe-Plaxton's bound; the cost of spinning idle.
load vars
fig_title = "E14 oversubscription and the idle policy"
load "plots/style.gp"
load "plots/bars.gp"
