#!/bin/bash
# bench/perf-reply.sh: replies/s and the server's CPU per reply, A/B.
#
# Starts each server given as NAME=COMMAND in its own session (setsid: the
# kernel schedules by autogroup, one group per session, so a server in the
# load generator's session would take CPU from the client), loads it with
# ss-bench --connect (100 clients, the post's 16 KiB workload) from this
# session, and counts the task-clock and context switches of the server's
# processes (every process of its session: a process pool's workers too)
# with `perf stat -p` over the middle of the run. The servers take turns,
# ROUNDS rounds, so background load hits each about equally; the table has
# the medians and each server's ratio to the first one named.
#
# Usage: bench/perf-reply.sh [BUILD_DIR] NAME=COMMAND [NAME=COMMAND ...]
#   COMMAND prints "Serving on ... port N" and takes port 0 (as bench/run.sh's).
#   e.g. bench/perf-reply.sh build epoll="build/bench/ref-epoll 0" \
#          pool="build/servers/ss-bench --server=threadpooling --port=0"
# Knobs: ROUNDS=5 DURATION=5 CLIENTS=100 OUT=dir
# Run it under `flock /work/notes/bench.lock` on a shared machine.

set -u

BUILD=.
if [ $# -gt 0 ] && [ -d "$1" ]; then BUILD=$1; shift; fi
BUILD=$(cd "$BUILD" && pwd)
SSB=$BUILD/servers/ss-bench
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CLIENTS=${CLIENTS:-100}
OUT=${OUT:-$(mktemp -d /tmp/ss-perf-reply.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: > "$RESULTS"
[ $# -gt 0 ] || { sed -n '2,20p' "$0"; exit 2; }
command -v perf > /dev/null || { echo "perf-reply.sh: perf is missing (apt-get install linux-perf)" >&2; exit 2; }

SPID=
cleanup () {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null; sleep 0.3; kill -KILL "$SPID" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND: SPID, PORT; the server is a session leader.
start () {
  local banner=$OUT/$1.out
  # shellcheck disable=SC2086  # the command is split into words on purpose
  setsid $2 > "$banner" 2>> "$OUT/$1.err" &
  SPID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^Serving on .* port \([0-9][0-9]*\).*/\1/p' "$banner" 2>/dev/null | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
  done
  [ -n "$PORT" ] || { echo "perf-reply.sh: $1 did not start (see $OUT/$1.err)" >&2; exit 1; }
  # setsid execs in place (a background job is no group leader), so the
  # pid is the server's and it leads its own session.
  [ "$(ps -o sid= -p "$SPID" | tr -d ' ')" = "$SPID" ] || { echo "perf-reply.sh: $1 is not in its own session" >&2; exit 1; }
}

stop () {
  kill -TERM "$SPID" 2>/dev/null
  for _ in $(seq 40); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=
}

measure () {
  local round=$1 name=$2 cmd=$3 window summary rate clock cs pids
  window=$(awk "BEGIN { print $DURATION - 1 }")
  start "$name" "$cmd"
  "$SSB" --connect="127.0.0.1:$PORT" --n-clients="$CLIENTS" --duration="$DURATION" \
         > "$OUT/client.txt" 2>&1 &
  local cpid=$!
  sleep 0.5
  # Every process of the server's session, not only its leader: the worker
  # processes of a process pool (preforking) are where its replies are made.
  # (One forked during the window is not counted: forking's per-connection
  # children are not measured here.)
  pids=$(ps -o pid= -s "$SPID" | awk 'NF { printf "%s%s", sep, $1; sep = "," }')
  perf stat -x, -e task-clock,context-switches -p "${pids:-$SPID}" -o "$OUT/perf.txt" -- sleep "$window" 2>/dev/null
  wait "$cpid"
  stop
  summary=$(grep '^summary:' "$OUT/client.txt")
  rate=$(sed -n 's|.* replies/s=\([0-9.]*\).*|\1|p' <<< "$summary")
  clock=$(awk -F, '$3 ~ /task-clock/ { print $1 }' "$OUT/perf.txt")
  cs=$(awk -F, '$3 ~ /context-switches/ { print $1 }' "$OUT/perf.txt")
  awk -v r="$round" -v n="$name" -v rate="${rate:-0}" -v clock="${clock:-0}" -v cs="${cs:-0}" -v w="$window" \
    'BEGIN { replies = rate * w; if (replies < 1) replies = 1;
             printf "%s %s %.0f %.2f %.3f\n", r, n, rate, clock * 1000 / replies, cs / replies }' >> "$RESULTS"
  tail -1 "$RESULTS" | awk '{ printf "  round %s %-16s %7s replies/s  %6s us CPU/reply  %6s switches/reply\n", $1, $2, $3, $4, $5 }'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); rounds=$ROUNDS duration=${DURATION}s clients=$CLIENTS"
for round in $(seq "$ROUNDS"); do
  for entry in "$@"; do
    measure "$round" "${entry%%=*}" "${entry#*=}"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" "${1%%=*}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
first = sys.argv[2]
names = []
for r in rows:
    if r[1] not in names:
        names.append(r[1])
med = {n: [statistics.median(float(r[i]) for r in rows if r[1] == n) for i in (2, 3, 4)] for n in names}
# Ratios per round (each server against the first one in the same round),
# then their median: pairs taken a few seconds apart share the background
# load, which medians of the whole run do not.
def paired(n, i):
    by_round = {}
    for r in rows:
        by_round.setdefault(r[0], {})[r[1]] = float(r[i])
    ratios = [v[n] / v[first] for v in by_round.values() if n in v and first in v and v[first] > 0]
    return statistics.median(ratios) if ratios else float("nan")
print()
print("| server | replies/s | vs %s (paired) | CPU us/reply | vs %s (paired) | switches/reply | rounds (replies/s) |" % (first, first))
print("|---|---|---|---|---|---|---|")
for n in names:
    m = med[n]
    rounds = " / ".join(r[2] for r in rows if r[1] == n)
    print("| %s | %.0f | %.2f | %.1f | %.2f | %.2f | %s |" % (n, m[0], paired(n, 2), m[1],
          paired(n, 3), m[2], rounds))
PY
echo "raw: $RESULTS"
