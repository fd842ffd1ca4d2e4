# E13 NUMA-aware policies (synthetic topology): a 1-D stencil under ring and numa on a simulated two-node machine.
# Reproduces: Acar et al.; Olivier et al.; not testable on one NUMA node.
load vars
fig_title = "E13 NUMA-aware policies (synthetic topology)"
load "plots/style.gp"
load "plots/bars.gp"
