# make bench: Lambda cold start per variant and round (bench/lambda_cold_start.sh in the emulator).
# gnuplot -e "out='cold-start.png'; data='cold-start.dat'" bench/cold_start.gp
set terminal pngcairo size 1000,480 font "sans,10"
set output out
set termoption noenhanced
set title "make bench: Lambda cold start (emulator), medians per round"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set ylabel "milliseconds"
set yrange [0:*]
set grid ytics
set key top right
set xtics rotate by -20 scale 0
plot data using 2:xtic(1) title "init (start -> first /next)", '' using 3 title "first answer (init included)"
