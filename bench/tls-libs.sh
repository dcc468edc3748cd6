#!/bin/bash
# bench/tls-libs.sh: OpenSSL against GnuTLS, the numbers behind the choice
# of TLS library (BENCHMARKS.md, "TLS").
#
#   bench/tls-libs.sh [BUILD_DIR]    (ROUNDS=3 DURATION=5 CONNS=16)
#
# Builds nothing but bench/tls-lib-server and bench/tls-load (make them
# first). Makes an ECDSA P-256 certificate in a temporary folder, then, for
# ROUNDS interleaved rounds, starts bench/tls-lib-server with each library
# in its own session (setsid) and loads it with bench/tls-load (the same
# OpenSSL client for both): full handshakes (TLS 1.3, 128-byte response,
# close) and bulk (64 MiB per connection over 4 connections). Server CPU
# comes from /proc/PID/stat (user + system) over the load. Loopback only.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-${BUILD_DIR:-$SRC/build}}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
SERVER=$BUILD/bench/tls-lib-server
LOAD=$BUILD/bench/tls-load
for p in "$SERVER" "$LOAD"; do
  [ -x "$p" ] || { echo "tls-libs.sh: $p is missing (make bench/tls-lib-server bench/tls-load)" >&2; exit 2; }
done
DIR=$(mktemp -d /tmp/ss-tls-libs.XXXXXX)
trap 'kill -TERM -- -$SPID 2>/dev/null; rm -rf "$DIR"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/key.pem"
openssl req -new -x509 -key "$DIR/key.pem" -out "$DIR/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
TICK=$(getconf CLK_TCK)
SPID=

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run LIB MODE LOADARGS...: one line of results
run () {
  local lib=$1 mode=$2 port c0 c1 out ops rate mbs
  shift 2
  setsid "$SERVER" "$lib" "$DIR/cert.pem" "$DIR/key.pem" "$mode" ${SERVER_THREADS:-4} > "$DIR/banner" 2>"$DIR/err" &
  SPID=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving on .* port \([0-9]*\).*/\1/p' "$DIR/banner")
    [ -n "$port" ] && break
    sleep 0.05
  done
  c0=$(cpu_ticks "$SPID")
  out=$("$LOAD" "$mode" "127.0.0.1:$port" -d "$DURATION" "$@")
  c1=$(cpu_ticks "$SPID")
  kill -TERM "$SPID"; wait "$SPID" 2>/dev/null; SPID=
  ops=$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<< "$out")
  rate=$(sed -n 's|.* ops/s=\([0-9]*\).*|\1|p' <<< "$out")
  mbs=$(sed -n 's|.* MB/s=\([0-9.]*\).*|\1|p' <<< "$out")
  awk -v l="$lib" -v m="$mode" -v o="$ops" -v r="$rate" -v mb="$mbs" -v c=$((c1 - c0)) -v t="$TICK" \
      -v e="$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<< "$out")" 'BEGIN {
    cpu = c / t;
    if (m == "handshake")
      printf "%-8s %-9s %8d handshakes/s  server cpu %6.0f us/handshake  errors %s\n", l, m, r, o ? cpu * 1e6 / o : 0, e;
    else
      printf "%-8s %-9s %8.0f MB/s          server cpu %6.2f ms/MB         errors %s\n", l, m, mb, mb ? cpu * 1e3 / (mb * '"$DURATION"') : 0, e;
  }'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); ${ROUNDS} rounds, ${DURATION}s each"
for round in $(seq "$ROUNDS"); do
  echo "== round $round"
  for lib in openssl gnutls; do run "$lib" handshake -c "$CONNS" -t 1; done
  for lib in openssl gnutls; do run "$lib" bulk -c 4 -t 1; done
done
