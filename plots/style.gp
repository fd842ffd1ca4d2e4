# plots/style.gp: the look shared by every figure.
#
# A figure script loads its variables file (plots/data/<figure>.vars, written
# by plots/extract.py), then this file, then draws. The caller sets
#   fmt  "png" or "svg"          (default "png")
#   out  the file to write       (default plots/out/figure.<fmt>)
# and the variables file sets fig_w, fig_h (pixels) from the panel layout.

if (!exists("fmt")) fmt = "png"
if (!exists("out")) out = "plots/out/figure." . fmt
if (!exists("fig_w")) fig_w = 640
if (!exists("fig_h")) fig_h = 460

if (fmt eq "svg") {
	set terminal svg size fig_w, fig_h dynamic noenhanced font "DejaVu Sans,11" \
		background rgb "white"
} else {
	set terminal pngcairo size fig_w, fig_h noenhanced font "DejaVu Sans,10" \
		background rgb "white"
}
set output out

# Series names in palette order: plots/extract.py reads this line to give
# each policy or peer the same colour in every figure (line style = position).
# Names not listed get styles 9.. in the order they are first seen.
series_names = "global chaselev ring runnext numa sim tokio go libuv ring/uring ring/epoll"

# Okabe-Ito based, readable by colour-blind readers and in greyscale.
set style line 1 lc rgb "#8c8c8c"   # global: the naive baseline, grey
set style line 2 lc rgb "#e69f00"   # chaselev: orange
set style line 3 lc rgb "#0072b2"   # ring (default, Tokio-like): blue
set style line 4 lc rgb "#009e73"   # runnext (Go-like): green
set style line 5 lc rgb "#56b4e9"   # numa: sky blue
set style line 6 lc rgb "#cc79a7"   # sim: pink
set style line 7 lc rgb "#d55e00"   # tokio: vermillion
set style line 8 lc rgb "#882255"   # go: wine
set style line 9 lc rgb "#44aa99"   # libuv: teal
set style line 10 lc rgb "#332288"  # ring/uring: indigo
set style line 11 lc rgb "#ddcc77"  # ring/epoll: sand
set style line 12 lc rgb "#aa4499"
set style line 13 lc rgb "#117733"
set style line 14 lc rgb "#999933"
# error bars
set style line 100 lc rgb "#1a1a1a" lw 1.2

set style fill solid 0.85 border rgb "#303030"

# A light grid behind the bars; only the left and bottom border.
set border 3 lw 1.2 lc rgb "#404040"
set grid ytics mytics lc rgb "#d9d9d9" lw 1 dt 1, lc rgb "#eeeeee" lw 0.5 dt 1
set grid noxtics
set grid back
set tics nomirror out scale 0.6
set xtics scale 0
set key outside right top vertical Left reverse samplen 1.2 spacing 1.1 noopaque nobox
set datafile missing "?"
