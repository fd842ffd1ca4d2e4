# E6 LIFO starvation and long polls: message chains whose hops poll 10 us: LIFO slot on/off, its cap, stealable (runnext) or not (ring).
# Reproduces: tokio#4941 (20x with the slot off) against #8065 (-29% with a stealable slot).
load vars
fig_title = "E6 LIFO starvation and long polls"
load "plots/style.gp"
load "plots/bars.gp"
