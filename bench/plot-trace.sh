#!/bin/sh
# bench/plot-trace.sh: draw an ss-bench --trace-pool file as an SVG.
#
# Usage: bench/plot-trace.sh TRACE.dat OUT.svg [TITLE]
# The trace's columns: time_s clients workers busy queued server_threads.
# Shows the clients (the load), the pool's workers and busy workers, and the
# queue, over time: the pool growing with the load and shrinking after it.
# Needs gnuplot (Debian: apt-get install -y gnuplot-nox).
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 TRACE.dat OUT.svg [TITLE]" >&2
  exit 2
fi
if ! command -v gnuplot > /dev/null; then
  echo "plot-trace.sh: gnuplot is missing: apt-get install -y gnuplot-nox" >&2
  exit 1
fi
gnuplot <<EOF
set terminal svg size 900,420 dynamic font "sans,12" background rgb "white"
set output "$2"
set title "${3:-ss-bench --server=threadpooling (2, 200, 20): clients 0 -> max -> 0}"
set xlabel "time (s)"
set ylabel "count"
set key top left
set grid
plot "$1" using 1:2 with lines lw 2 lc rgb "#999999" title "clients", \
     "$1" using 1:3 with steps lw 2 lc rgb "#1f77b4" title "pool workers", \
     "$1" using 1:4 with steps lw 1 lc rgb "#d62728" title "busy workers", \
     "$1" using 1:5 with steps lw 1 lc rgb "#2ca02c" title "queued requests"
EOF
