# make bench: latency percentiles of the ratio runs (bench/run_all.sh), log scale.
# gnuplot -e "out='latency.png'; data='latency.dat'" bench/latency.gp
set terminal pngcairo size 1000,480 font "sans,10"
set output out
set termoption noenhanced
set title "make bench: latency percentiles (median over rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel "milliseconds (log)"
set grid ytics
set key top left
set xtics rotate by -20 scale 0
plot data using 2:xtic(1) title "p50", '' using 3 title "p90", '' using 4 title "p99"
