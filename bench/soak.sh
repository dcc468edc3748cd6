#!/bin/sh
# bench/soak.sh: a million requests through the thread pool, with the
# server's fds, threads and RSS sampled every second. Not part of make check.
#
#   bench/soak.sh [BUILDDIR] [REQUESTS]
#
# BUILDDIR (default: the current directory) holds servers/ss-bench.
# REQUESTS defaults to 1000000 (env SOAK_REQUESTS also works). The server is
# `ss-bench --server=threadpooling --port=0` (each request: connect, a
# 64-byte reply, close); the load is ss-bench's client mode in 10 s rounds of
# $SOAK_CLIENTS (default 50) clients until REQUESTS replies have arrived.
# Samples go to $SOAK_OUT (default soak-samples.txt): seconds, fds, threads,
# RSS kB. At the end it prints the first, last and maximum of each, and
# exits 1 if any round reported errors or the server died.
set -u

builddir=$(cd "${1:-.}" && pwd)
requests=${2:-${SOAK_REQUESTS:-1000000}}
clients=${SOAK_CLIENTS:-50}
out=${SOAK_OUT:-soak-samples.txt}
bench="$builddir/servers/ss-bench"
[ -x "$bench" ] || { echo "soak.sh: $bench not found (build first)" >&2; exit 2; }

banner=$(mktemp)
"$bench" --server=threadpooling --port=0 --packet-size=64 >"$banner" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; kill $sampler 2>/dev/null; rm -f "$banner"' EXIT INT TERM
port=""
for _ in $(seq 50); do
    port=$(sed -n 's/^Serving on [^ ]* port \([0-9]*\).*/\1/p' "$banner")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "soak.sh: no banner from ss-bench:" >&2; cat "$banner" >&2; exit 1; }

sample() {
    start=$(date +%s)
    echo "# seconds fds threads rss_kB" >"$out"
    while kill -0 "$server" 2>/dev/null; do
        fds=$(ls "/proc/$server/fd" 2>/dev/null | wc -l)
        threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$server/status" 2>/dev/null)
        rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$server/status" 2>/dev/null)
        [ -n "$threads" ] && echo "$(( $(date +%s) - start )) $fds $threads $rss" >>"$out"
        sleep 1
    done
}
sample &
sampler=$!

done_requests=0
errors=0
t0=$(date +%s)
while [ "$done_requests" -lt "$requests" ]; do
    summary=$("$bench" --connect="127.0.0.1:$port" --n-clients="$clients" --duration=10 \
              --packet-size=64 --server-pid="$server" 2>&1 | grep '^summary:')
    n=$(echo "$summary" | sed -n 's/.* replies=\([0-9]*\) .*/\1/p')
    e=$(echo "$summary" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
    [ -n "$n" ] || { echo "soak.sh: a round gave no summary" >&2; errors=$((errors + 1)); break; }
    done_requests=$((done_requests + n))
    errors=$((errors + ${e:-0}))
    echo "round: $n replies, ${e:-?} errors; total $done_requests"
    kill -0 "$server" 2>/dev/null || { echo "soak.sh: the server died" >&2; errors=$((errors + 1)); break; }
done
t1=$(date +%s)
sleep 2   # a last idle sample or two: what is left once the load is gone

kill "$server"
wait "$server" 2>/dev/null
wait "$sampler" 2>/dev/null
echo "requests: $done_requests in $((t1 - t0)) s, errors: $errors, samples in $out"
awk '!/^#/ { n++; for (i = 2; i <= 4; i++) { if (n == 1) first[i] = $i; last[i] = $i; if ($i > max[i]) max[i] = $i } }
     END { split("x fds threads rss_kB", name);
           for (i = 2; i <= 4; i++) printf "%-8s first %8d  last %8d  max %8d\n", name[i], first[i], last[i], max[i] }' "$out"
[ "$errors" -eq 0 ]
