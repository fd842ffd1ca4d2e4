# plots/experiment.gp: the figure of any experiment prefix without a script
# of its own (E5..E15 and later): one panel per experiment id, the primary
# metric by policy or peer and the parameter the suite varies. The title
# comes from plots/extract.py (FIGURE_TITLES, or the prefix).
# A figure that needs more than this gets plots/<figure>.gp, which
# plots/extract.py then names in figures.txt.
load vars
load "plots/style.gp"
load "plots/bars.gp"
