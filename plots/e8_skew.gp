# E8 skewed load imbalance: bursts of Pareto-cost tasks on one worker, against the searching-worker cap.
# Reproduces: Tokio's smooth ramp-up and #4383; Go's spinning-M rule.
load vars
fig_title = "E8 skewed load imbalance"
load "plots/style.gp"
load "plots/bars.gp"
