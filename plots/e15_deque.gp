# E15 the queues alone: owner push/pop against 0-3 thieves: Chase-Lev (seq_cst and Le et al.'s fences), the ring, the mutex queue.
# Reproduces: Le et al. PPoPP'13; Tokio's reason to drop Chase-Lev.
load vars
fig_title = "E15 the queues alone"
load "plots/style.gp"
load "plots/bars.gp"
