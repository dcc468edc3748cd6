#!/bin/bash
# bench/echo-run.sh: the keep-alive line echo benchmark (issue 10's parked
# connections), in one command.
#
# 100 persistent connections, each sending a 64-byte line and waiting for
# its echo (bench/echo-client, 2 epoll threads), against: a hand-written
# epoll echo server (bench/ref-epoll-echo, a thread per core), a thread per
# connection (bench/ref-thread-echo), and ss-echo's thread pool with and
# without --park-idle, and the threading strategy. ROUNDS interleaved
# rounds, each server started in its own session (setsid) as a service
# would be, the client in ours; medians, ratios to epoll, and the server's
# CPU per round trip (utime+stime from /proc over the run).
# Then the idle-connections case: IDLE (1,000) idle keep-alive clients
# beside the 100 active ones, against ss-echo --park-idle with at most 50
# workers, and the active clients' rate against the same pool without the
# idle ones.
#
# Usage: bench/echo-run.sh [BUILD_DIR]
# Knobs: ROUNDS=3 DURATION=4 CONNS=100 LINE=64 IDLE=1000
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-${BUILD_DIR:-$SRC/build}}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
CONNS=${CONNS:-100}
LINE=${LINE:-64}
IDLE=${IDLE:-1000}
OUT=${OUT:-$(mktemp -d /tmp/ss-echo-run.XXXXXX)}
mkdir -p "$OUT"
CLIENT=$BUILD/bench/echo-client
ECHO=$BUILD/servers/ss-echo
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

for prog in "$CLIENT" "$ECHO" "$BUILD/bench/ref-epoll-echo" "$BUILD/bench/ref-thread-echo"; do
  [ -x "$prog" ] || { echo "echo-run.sh: $prog is missing: build first" >&2; exit 2; }
done

SERVERS=(
  "epoll-echo|$BUILD/bench/ref-epoll-echo 0"
  "thread-per-conn|$BUILD/bench/ref-thread-echo 0"
  "ss-pool-park-idle|$ECHO --strategy=threadpooling --park-idle --address=127.0.0.1:0"
  "ss-pool|$ECHO --strategy=threadpooling --max-workers=200 --address=127.0.0.1:0"
  "ss-threading|$ECHO --strategy=threading --address=127.0.0.1:0"
)

# start NAME CMD...: the server in its own session; sets PID and PORT.
start () {
  local name=$1; shift
  local banner=$OUT/$name.banner
  : > "$banner"
  setsid "$@" > "$banner" 2> "$OUT/$name.err" &
  PID=$!
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^Serving on .* port \([0-9]*\).*/\1/p' "$banner" | head -n 1)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "echo-run.sh: $name printed no banner" >&2
  kill "$PID" 2>/dev/null
  return 1
}

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

stop () { kill -TERM "$PID" 2>/dev/null; sleep 0.2; kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

# run NAME IDLE CMD...: one measurement; appends "NAME rate cpu_us errors".
run () {
  local name=$1 idle=$2; shift 2
  local before after line rate errors hz cpu_us
  start "$name" "$@" || { echo "$name 0 0 start" >> "$OUT/results.txt"; return; }
  before=$(cpu_ticks "$PID")
  line=$("$CLIENT" 127.0.0.1 "$PORT" "$CONNS" "$LINE" "$DURATION" 2 "$idle")
  after=$(cpu_ticks "$PID")
  stop
  rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$line")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$line")
  hz=$(getconf CLK_TCK)
  cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v r="${rate:-0}" -v d="$DURATION" \
           'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / (r * d); else print 0 }')
  echo "$name ${rate:-0} $cpu_us ${errors:-?}" >> "$OUT/results.txt"
}

median () { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print 0 }'; }

: > "$OUT/results.txt"
echo "keep-alive line echo: $CONNS connections, $LINE-byte lines, ${DURATION}s x $ROUNDS rounds; raw results in $OUT"
for r in $(seq "$ROUNDS"); do
  for entry in "${SERVERS[@]}"; do
    name=${entry%%|*}
    # shellcheck disable=SC2086
    run "$name" 0 ${entry#*|}
  done
done
for r in $(seq "$ROUNDS"); do
  run "pool50-active-only" 0 "$ECHO" --strategy=threadpooling --park-idle --max-workers=50 --address=127.0.0.1:0
  run "pool50-plus-${IDLE}-idle" "$IDLE" "$ECHO" --strategy=threadpooling --park-idle --max-workers=50 --address=127.0.0.1:0
done

epoll=$(awk '$1 == "epoll-echo" { print $2 }' "$OUT/results.txt" | median)
printf '\n%-26s %12s %9s %14s %7s\n' server "round trips/s" "vs epoll" "server us/rt" errors
for name in $(awk '{ print $1 }' "$OUT/results.txt" | awk '!seen[$0]++'); do
  rate=$(awk -v n="$name" '$1 == n { print $2 }' "$OUT/results.txt" | median)
  cpu=$(awk -v n="$name" '$1 == n { print $3 }' "$OUT/results.txt" | median)
  errs=$(awk -v n="$name" '$1 == n { s += $4 } END { print s + 0 }' "$OUT/results.txt")
  printf '%-26s %12s %9s %14s %7s\n' "$name" "$rate" \
    "$(awk -v a="$rate" -v b="$epoll" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" "$cpu" "$errs"
done
active=$(awk '$1 == "pool50-active-only" { print $2 }' "$OUT/results.txt" | median)
withidle=$(awk -v n="pool50-plus-${IDLE}-idle" '$1 == n { print $2 }' "$OUT/results.txt" | median)
echo
echo "targets: --park-idle vs epoll echo >= 0.90: $(awk -v n=ss-pool-park-idle '$1 == n { print $2 }' "$OUT/results.txt" | median | awk -v b="$epoll" '{ printf "%.2f", $1 / b }')"
echo "         $CONNS active beside $IDLE idle vs active alone (pool of 50) >= 0.90: $(awk -v a="$withidle" -v b="$active" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
