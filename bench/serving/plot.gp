# Latency percentiles per scenario (log scale), from summarize.py's percentiles.dat.
# gnuplot -e "out='latency.png'; data='percentiles.dat'" plot.gp
set terminal pngcairo size 1100,520 font "sans,10"
set output out
set title "Frost serving benchmarks: latency percentiles (medians of the runs; artillery: p50/p95/p99)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel "milliseconds (log)"
set yrange [0.05:*]
set grid ytics
set key top left
set xtics rotate by -25 scale 0
plot data using 2:xtic(1) title "p50", '' using 3 title "p90 (artillery: p95)", '' using 4 title "p99"
