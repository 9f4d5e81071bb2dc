# The benchmark chart: tests/bench/run.sh draws it from the .dat files bench.py derives from
# results.json. By hand:
#   gnuplot -e "dat='DIR'; out='results.png'; title='...'" tests/bench/chart.gp
# DIR holds scenarios.dat ("label" portico_rps nginx_rps portico_large_catalog_rps),
# connections.dat (connections portico_rps portico_p99_ms nginx_rps nginx_p99_ms) and
# targets.dat ("target" measured_over_target met), written by `bench.py report --dat DIR`.

if (!exists("dat")) dat = "build/bench/dat"
if (!exists("out")) out = "build/bench/results.png"
if (!exists("title")) title = "Portico benchmark"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 1400,1000 font "DejaVu Sans,10"
} else {
  set terminal png size 1400,1000
}
set output out
set termoption noenhanced
set datafile missing "NaN"
set key top right
set grid ytics lc rgb "#dddddd"

set multiplot layout 2,2 title title font ",14"

# 1. Throughput per scenario.
set title "Throughput per scenario (median of the rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "requests/s"
set yrange [0:*]
set xtics rotate by -15 nomirror
plot dat."/scenarios.dat" using 2:xtic(1) title "Portico" lc rgb "#1f77b4", \
     "" using 3 title "nginx" lc rgb "#2ca02c", \
     "" using 4 title "Portico, large catalog" lc rgb "#9ecae1"
unset style
set xtics norotate

# 2. (a) throughput by connections.
set title "(a) GET /v1/products/{id}: throughput by connections"
set style data linespoints
set logscale x 2
set xlabel "connections"
set ylabel "requests/s"
set yrange [0:*]
set xtics (16, 32, 64, 128, 256)
set xrange [12:340]
set key right center
plot dat."/connections.dat" using 1:2 title "Portico" lw 2 pt 7 lc rgb "#1f77b4", \
     "" using 1:4 title "nginx" lw 2 pt 5 lc rgb "#2ca02c"

# 3. (a) p99 latency by connections.
set title "(a) GET /v1/products/{id}: p99 latency by connections"
set ylabel "p99 latency (ms)"
set key top left
plot dat."/connections.dat" using 1:3 title "Portico" lw 2 pt 7 lc rgb "#1f77b4", \
     "" using 1:5 title "nginx" lw 2 pt 5 lc rgb "#2ca02c"
unset logscale x
unset xlabel
set xtics autofreq
set autoscale x
set key top right

# 4. Targets: measured relative to the target, oriented so that >= 1 means met.
set title "Targets (measured ÷ target; for upper limits target ÷ measured): ≥ 1 is met"
set style data boxes
set style fill solid 0.85 border -1
set boxwidth 0.6
set ylabel "× target"
set yrange [0:*]
set xtics rotate by -15 nomirror
set key off
plot dat."/targets.dat" using 0:2:($3 > 0 ? 0x2ca02c : 0xd62728):xtic(1) with boxes lc rgb variable, \
     1 with lines dt 2 lc rgb "black" notitle

unset multiplot
