#!/bin/bash
# bench/http.sh: ss-http-server against nginx and Python's http.server (issue 10).
#
# wrk (2 threads, CONNECTIONS connections, DURATION s) fetches a 1 KiB and
# a 1 MiB file from each server, with keep-alive (the servers speak
# HTTP/1.1) and with a connection per request (HTTP/1.0 servers, wrk
# sending Connection: close). Every server runs in its own session
# (setsid: the kernel schedules by autogroup), one at a time, interleaved
# over ROUNDS rounds; medians and ratios are printed, with each server's
# CPU time per request (from /proc, user + system, all its processes).
# Run it under `flock /work/notes/bench.lock` on a shared machine.
#
# TLS=1: the same over HTTPS (issue 12): ss-http-server --tls-cert/--tls-key
# and nginx (listen ... ssl) with one ECDSA P-256 certificate made for the
# run, TLS 1.2-1.3 allowed (wrk negotiates 1.3), no session resumption on
# either side (nginx: ssl_session_tickets off, ssl_session_cache off), so
# the close runs are a full handshake per request. Python's http.server
# (3.11 here) has no TLS and is left out.
#
# Usage: bench/http.sh [BUILD_DIR]      (default ./build, else .)
# Knobs: ROUNDS=3 DURATION=5 CONNECTIONS=100 SERVERS="ss nginx python"
#        MODES="keepalive close" FILES="1k.bin 1m.bin" (a subset, for A/B runs)
#        SS_FLAGS="..." (extra ss-http-server flags) OUT=dir (default /tmp/ss-http-bench.*)
# Needs wrk and nginx (Debian packages; quickstart.sh installs them).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD_DIR:-}}
if [ -z "$BUILD" ]; then
  if [ -x ./build/servers/ss-http-server ]; then BUILD=./build; else BUILD=.; fi
fi
BUILD=$(cd "$BUILD" && pwd)
SSH=$BUILD/servers/ss-http-server
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-100}
TLS=${TLS:-0}
if [ "$TLS" = 1 ]; then SERVERS=${SERVERS:-ss nginx}; SCHEME=https; else SERVERS=${SERVERS:-ss nginx python}; SCHEME=http; fi
SS_FLAGS=${SS_FLAGS:-}
MODES=${MODES:-keepalive close}
FILES=${FILES:-1k.bin 1m.bin}
OUT=${OUT:-$(mktemp -d /tmp/ss-http-bench.XXXXXX)}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: > "$RESULTS"

for need in wrk "$NGINX" python3 "$SSH"; do
  command -v "$need" > /dev/null 2>&1 || [ -x "$need" ] || {
    echo "http.sh: $need is missing (apt-get install wrk nginx; build ss-http-server)" >&2; exit 2; }
done

ROOT=$OUT/root
mkdir -p "$ROOT"
head -c 1024 /dev/urandom > "$ROOT/1k.bin"
head -c $((1024 * 1024)) /dev/urandom > "$ROOT/1m.bin"
# nginx's workers run as nobody: they must be able to read the files (a
# 403 would count as a request served quickly; non-2xx answers are
# reported and a run with any is marked).
chmod 755 "$OUT" "$ROOT"
chmod 644 "$ROOT"/*.bin
TLS_FLAGS=()
if [ "$TLS" = 1 ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/key.pem"
  openssl req -new -x509 -key "$OUT/key.pem" -out "$OUT/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
  chmod 644 "$OUT/key.pem" "$OUT/cert.pem"
  TLS_FLAGS=(--tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem")
fi

SPID=
cleanup () {
  if [ -n "$SPID" ]; then
    kill -TERM -- -"$SPID" 2>/dev/null
    sleep 0.3
    kill -KILL -- -"$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  fi
  SPID=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port () {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The CPU time (user + system, in clock ticks) of the session SPID leads.
session_ticks () {
  local total=0 pid fields
  for pid in $(ps -o pid= -s "$SPID" 2>/dev/null); do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $fields
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# start NAME MODE: starts the server in a new session on a free port; sets
# SPID and PORT. MODE is keepalive or close.
start () {
  local name=$1 mode=$2 proto=HTTP/1.1 keep=75
  [ "$mode" = close ] && proto=HTTP/1.0 keep=0
  PORT=$(free_port)
  case $name in
    ss)
      # shellcheck disable=SC2086
      setsid "$SSH" -b 127.0.0.1 -d "$ROOT" -p "$proto" --max-workers=200 "${TLS_FLAGS[@]}" $SS_FLAGS "$PORT" \
        > "$OUT/ss.out" 2> /dev/null &
      ;;
    nginx)
      sed -e "s|@PORT@|$PORT|" -e "s|@ROOT@|$ROOT|" -e "s|@OUT@|$OUT|g" -e "s|@KEEPALIVE@|$keep|" \
        "$SRC/bench/nginx-http.conf" > "$OUT/nginx.conf"
      [ "$TLS" = 1 ] && sed -i "s|^\( *\)listen 127.0.0.1:$PORT;|\1listen 127.0.0.1:$PORT ssl;\n\1ssl_certificate $OUT/cert.pem;\n\1ssl_certificate_key $OUT/key.pem;\n\1ssl_protocols TLSv1.2 TLSv1.3;\n\1ssl_session_tickets off;\n\1ssl_session_cache off;|" "$OUT/nginx.conf"
      setsid "$NGINX" -c "$OUT/nginx.conf" -p "$OUT" > /dev/null 2>> "$OUT/nginx.err" &
      ;;
    python)
      setsid python3 -m http.server -b 127.0.0.1 -d "$ROOT" -p "$proto" "$PORT" > /dev/null 2>&1 &
      ;;
  esac
  SPID=$!
  for _ in $(seq 100); do
    if curl -s -k -o /dev/null "$SCHEME://127.0.0.1:$PORT/1k.bin" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "  $name did not start" >&2
  cleanup
  return 1
}

# measure ROUND NAME MODE FILE
measure () {
  local round=$1 name=$2 mode=$3 file=$4 out rps before after ticks cpu_us hdr=()
  start "$name" "$mode" || { echo "$round $name $mode $file - - -" >> "$RESULTS"; return; }
  [ "$mode" = close ] && hdr=(-H "Connection: close")
  before=$(session_ticks)
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "$SCHEME://127.0.0.1:$PORT/$file" 2>&1)
  after=$(session_ticks)
  cleanup
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<< "$out")
  errors=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p; s/.*Socket errors: \(.*\)/\1/p' <<< "$out" | tr '\n' ' ')
  ticks=$((after - before))
  if [ -n "$rps" ] && [ "${rps%.*}" -gt 0 ]; then
    cpu_us=$(python3 -c "print(round($ticks / $(getconf CLK_TCK) * 1e6 / ($rps * $DURATION), 1))")
  else
    cpu_us=-
  fi
  echo "$round $name $mode $file ${rps:--} $cpu_us ${errors:-none}" >> "$RESULTS"
  printf '  %-7s %-9s %-7s %10s req/s  %6s us CPU/req  %s\n' "$name" "$mode" "$file" "${rps:--}" "$cpu_us" "${errors:-}"
}

echo "== machine: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, $SCHEME"
echo "   ss-http-server flags: --max-workers=200 ${SS_FLAGS:-(none)}; nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'); $(python3 --version)"
for round in $(seq "$ROUNDS"); do
  echo "== round $round"
  for mode in $MODES; do
    for file in $FILES; do
      for name in $SERVERS; do
        measure "$round" "$name" "$mode" "$file"
      done
    done
  done
done
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" <<'PY' | tee "$OUT/table.md"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
cpu = {}
for r in rows:
    if r[4] == '-':
        continue
    med.setdefault((r[1], r[2], r[3]), []).append(float(r[4]))
    if r[5] != '-':
        cpu.setdefault((r[1], r[2], r[3]), []).append(float(r[5]))
print("| mode | file | server | requests/s (median) | CPU us/request | vs nginx | vs Python |")
print("|---|---|---|---:|---:|---:|---:|")
for mode in ("keepalive", "close"):
    for f in ("1k.bin", "1m.bin"):
        for s in ("ss", "nginx", "python"):
            k = (s, mode, f)
            if k not in med:
                continue
            v = statistics.median(med[k])
            n = med.get(("nginx", mode, f))
            p = med.get(("python", mode, f))
            c = statistics.median(cpu[k]) if k in cpu else float('nan')
            rn = "%.2f" % (v / statistics.median(n)) if n else "-"
            rp = "%.1f" % (v / statistics.median(p)) if p else "-"
            print("| %s | %s | %s | %.0f | %.1f | %s | %s |" % (mode, f, s, v, c, rn, rp))
PY
echo "raw results: $RESULTS"
