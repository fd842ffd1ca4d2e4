# plots/bars.gp: draws a figure's panels as grouped bars with error bars.
#
# Loaded by a figure script after its variables file and plots/style.gp.
# Each panel's data file has one block per series (`index s-1`); columns
# x median lo hi n group. A bar is a box from the panel's base (0, or the
# bottom of a log axis) to the median; the error bar, a vector with flat heads, spans lo..hi.

set multiplot layout fig_rows, fig_cols title fig_title . "\n" . fig_caption font ",12"
do for [p = 1:fig_npanels] {
	set title P_title[p] font ",11"
	set ylabel P_ylabel[p]
	set xlabel P_xlabel[p]
	if (P_log[p]) {
		set logscale y
		set format y "%g"
		set mytics 10
	} else {
		unset logscale y
		set format y "%g"
		set mytics 2
	}
	set yrange [P_ymin[p]:P_ymax[p]]
	set xrange [P_xmin[p]:P_xmax[p]]
	eval P_xtics[p]
	if (P_key[p]) { set key } else { unset key }
	f = P_file[p]
	bw = P_bw[p]
	yb = P_ybase[p]
	ns = words(P_series[p])
	plot for [s = 1:ns] f index (s - 1) using 1:2:($1 - bw / 2):($1 + bw / 2):(yb):2 \
		with boxxyerror ls int(word(P_styles[p], s)) title word(P_series[p], s), \
	     for [s = 1:ns] f index (s - 1) using 1:3:(0):($4 - $3) \
		with vectors heads size screen 0.006, 90 ls 100 notitle
}
unset multiplot
