#!/bin/bash
# bench/tls-run.sh: libsocketserver over TLS against reference servers
# (BENCHMARKS.md, "TLS"), interleaved, each server in its own session.
#
#   bench/tls-run.sh [BUILD_DIR]     (ROUNDS=3 DURATION=5)
#
# 1. Full handshakes (TLS 1.3, ECDSA P-256, 128-byte reply, close):
#    ss-bench --tls --server=threadpooling against bench/tls-lib-server on
#    GnuTLS (4 threads in accept), bench/tls-load handshake -c 16.
# 2. Keep-alive line echo, 100 persistent TLS connections, 64-byte lines:
#    ss-echo --strategy=threadpooling --tls-cert (and with --park-idle)
#    against bench/ref-tls-echo (one epoll thread), bench/tls-load echo
#    -c 100 -t 2.
# Server CPU per operation from /proc/PID/stat. Builds nothing; loopback
# only; run it under flock /work/notes/bench.lock on a shared machine.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-${BUILD_DIR:-$SRC/build}}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
LOAD=$BUILD/bench/tls-load
for p in "$LOAD" "$BUILD/bench/tls-lib-server" "$BUILD/bench/ref-tls-echo" \
         "$BUILD/servers/ss-bench" "$BUILD/servers/ss-echo"; do
  [ -x "$p" ] || { echo "tls-run.sh: $p is missing: build first (make -j2)" >&2; exit 2; }
done
DIR=$(mktemp -d /tmp/ss-tls-run.XXXXXX)
SPID=
trap '[ -n "$SPID" ] && kill -TERM -- -"$SPID" 2>/dev/null; rm -rf "$DIR"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/key.pem"
openssl req -new -x509 -key "$DIR/key.pem" -out "$DIR/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
C=$DIR/cert.pem
K=$DIR/key.pem
TICK=$(getconf CLK_TCK)

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME MODE "SERVER COMMAND" LOADARGS...
run () {
  local name=$1 mode=$2 cmd=$3 port c0 c1 out
  shift 3
  # shellcheck disable=SC2086  # the command is split into words on purpose
  setsid $cmd > "$DIR/banner" 2> "$DIR/$name.err" &
  SPID=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving on .* port \([0-9]*\).*/\1/p' "$DIR/banner")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "  $name: did not start"; kill -TERM "$SPID"; SPID=; return; }
  c0=$(cpu_ticks "$SPID")
  out=$("$LOAD" "$mode" "127.0.0.1:$port" -d "$DURATION" "$@")
  c1=$(cpu_ticks "$SPID")
  kill -TERM "$SPID"; wait "$SPID" 2>/dev/null; SPID=
  awk -v n="$name" -v c=$((c1 - c0)) -v t="$TICK" -v out="$out" 'BEGIN {
    match(out, /ops=[0-9]+/); ops = substr(out, RSTART + 4, RLENGTH - 4);
    match(out, /ops\/s=[0-9]+/); rate = substr(out, RSTART + 6, RLENGTH - 6);
    match(out, /errors=[0-9]+/); err = substr(out, RSTART + 7, RLENGTH - 7);
    printf "  %-22s %8d ops/s  server cpu %7.1f us/op  errors %s\n", n, rate, ops ? c / t * 1e6 / ops : 0, err;
  }' | tee -a "$DIR/results"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); ${ROUNDS} rounds, ${DURATION}s each"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: full handshakes (128-byte reply, close), 16 connections"
  run ref-gnutls handshake "$BUILD/bench/tls-lib-server gnutls $C $K handshake 4" -c 16 -t 1
  run ss-bench-pool handshake "$BUILD/servers/ss-bench --tls --tls-cert=$C --tls-key=$K --server=threadpooling --packet-size=128 --port=0" -c 16 -t 1
  echo "== round $round: line echo, 100 persistent connections, 64-byte lines"
  run ref-tls-echo echo "$BUILD/bench/ref-tls-echo $C $K 0" -c 100 -t 2
  run ss-echo-pool echo "$BUILD/servers/ss-echo --strategy=threadpooling --max-workers=200 --address=127.0.0.1:0 --tls-cert=$C --tls-key=$K" -c 100 -t 2
  run ss-echo-pool-park echo "$BUILD/servers/ss-echo --strategy=threadpooling --park-idle --address=127.0.0.1:0 --tls-cert=$C --tls-key=$K" -c 100 -t 2
done
echo "== medians (and ratios to the reference of the same workload)"
# Plain awk (Debian's mawk has no asort): each column sorted by sort -n.
median () { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for name in $(awk '{ print $1 }' "$DIR/results" | sort -u); do
  ops=$(awk -v n="$name" '$1 == n { print $2 }' "$DIR/results" | median)
  cpu=$(awk -v n="$name" '$1 == n { print $6 }' "$DIR/results" | median)
  printf '%s %s %s\n' "$name" "$ops" "$cpu"
done > "$DIR/medians"
awk 'NR == FNR { ops[$1] = $2; cpu[$1] = $3; next }
  { ref = ($1 ~ /^ss-bench/) ? "ref-gnutls" : "ref-tls-echo";
    printf "  %-22s %8d ops/s  %7.1f us/op", $1, $2, $3;
    if ($1 != ref && ops[ref] > 0) printf "   x%.2f ops/s, x%.2f CPU/op vs %s", $2 / ops[ref], $3 / cpu[ref], ref;
    printf "\n" }' "$DIR/medians" "$DIR/medians"
