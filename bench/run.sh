#!/bin/bash
# bench/run.sh: the comparison in BENCHMARKS.md, in one command.
#
# Runs every reference server (bench/ref-*, GIO, Python's socketserver and
# the post's pool ported to Python 3) and every ss-bench strategy as a
# separate server process, each loaded by the same client
# (ss-bench --connect, 2 epoll threads, 100 clients), interleaved, ROUNDS
# rounds, and prints medians and ratios to the epoll ceiling. Every server
# starts in its own session (setsid), as a service under systemd does; the
# client stays in this one. The kernel schedules by autogroup, one group
# per session: a server in the client's session took CPU from the client
# in proportion to its runnable threads and looked faster than it is. Then a
# 1,000-client run, a burst and a ramp of the thread pool with
# --trace-pool (bench/plot-trace.sh turns the ramp into an SVG), and the
# issue's targets marked met or not met. Builds nothing.
#
# Usage: bench/run.sh [BUILD_DIR]   (or BUILD_DIR=...; default ./build, else .)
# Knobs (environment): ROUNDS=3 DURATION=4 CLIENTS=100 BIG_CLIENTS=1000
#   OUT=directory for the raw results (default a new /tmp/ss-bench-run.*)
# All traffic is on 127.0.0.1; every server is killed at the end.

set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD_DIR:-}}
if [ -z "$BUILD" ]; then
  if [ -x ./build/servers/ss-bench ]; then BUILD=./build; else BUILD=.; fi
fi
BUILD=$(cd "$BUILD" && pwd)
SSB=$BUILD/servers/ss-bench
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
CLIENTS=${CLIENTS:-100}
BIG_CLIENTS=${BIG_CLIENTS:-1000}
OUT=${OUT:-$(mktemp -d /tmp/ss-bench-run.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: > "$RESULTS"

for prog in "$SSB" "$BUILD/bench/ref-epoll" "$BUILD/bench/ref-accept-threads" \
            "$BUILD/bench/ref-thread-per-conn" "$BUILD/bench/ref-fork-per-conn"; do
  if [ ! -x "$prog" ]; then
    echo "run.sh: $prog is missing: build first (make -j2 in $BUILD), or pass the build dir" >&2
    exit 2
  fi
done

# name|command; the servers print "Serving on 127.0.0.1 port N".
SERVERS=(
  "epoll|$BUILD/bench/ref-epoll 0"
  "accept-threads|$BUILD/bench/ref-accept-threads 0"
  "thread-per-conn|$BUILD/bench/ref-thread-per-conn 0"
  "fork-per-conn|$BUILD/bench/ref-fork-per-conn 0"
  "ss-sync|$SSB --server=sync --port=0"
  "ss-threading|$SSB --server=threading --port=0"
  "ss-threadpooling|$SSB --server=threadpooling --port=0"
  "ss-forking|$SSB --server=forking --port=0"
  "ss-preforking|$SSB --server=preforking --port=0"
  "py-pool|python3 $SRC/bench/pool_server.py 0"
  "py-threading|python3 $SRC/bench/python_servers.py threading 0"
  "py-forking|python3 $SRC/bench/python_servers.py forking 0"
)
if [ -x "$BUILD/bench/ref-gio" ]; then
  SERVERS+=("gio|$BUILD/bench/ref-gio 0 --max-threads=-1"
            "gio-10|$BUILD/bench/ref-gio 0 --max-threads=10")
fi

SPID=
cleanup () {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null
    sleep 0.5
    kill -KILL "$SPID" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME COMMAND: sets SPID and PORT, or returns 1.
start_server () {
  local name=$1 cmd=$2
  # A fresh file per start: never read the previous server's banner.
  SERIAL=$((${SERIAL:-0} + 1))
  local banner=$OUT/server-$SERIAL.out
  # Its own session. A background job of a script is no process-group
  # leader, so setsid execs in place and $! is the server's pid.
  # shellcheck disable=SC2086  # the command is split into words on purpose
  setsid $cmd > "$banner" 2>> "$OUT/server-$name.err" &
  SPID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^Serving on .* port \([0-9][0-9]*\).*/\1/p' "$banner" 2>/dev/null | head -1)
    if [ -n "$PORT" ]; then
      if [ "$(ps -o sid= -p "$SPID" | tr -d ' ')" != "$SPID" ]; then
        echo "run.sh: $name is not in a session of its own" >&2
        cleanup
        return 1
      fi
      return 0
    fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  cleanup
  wait "$SPID" 2>/dev/null
  SPID=
  return 1
}

# stop_server: prints "alive" or "died(STATUS)" (killed by a signal: 128+N).
stop_server () {
  local state=alive status
  if ! kill -0 "$SPID" 2>/dev/null; then
    wait "$SPID"; status=$?
    state="died($status)"
  else
    kill -TERM "$SPID" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  fi
  SPID=
  echo "$state"
}

# A summary field, or "-" when the client printed no summary.
field () { local v; v=$(sed -n "s|.* $1=\([0-9.]*\).*|\1|p" <<< "$2"); echo "${v:--}"; }

# measure ROUND NAME COMMAND CLIENTS: one line into results.txt.
measure () {
  local round=$1 name=$2 cmd=$3 clients=$4 summary state
  if ! start_server "$name" "$cmd"; then
    echo "$round $name $clients - - - - - - - nostart" >> "$RESULTS"
    echo "  $name: did not start (see $OUT/server-$name.err)"
    return 1
  fi
  summary=$("$SSB" --connect="127.0.0.1:$PORT" --n-clients="$clients" --duration="$DURATION" \
                   --server-pid="$SPID" | grep '^summary:')
  state=$(stop_server)
  echo "$round $name $clients $(field 'replies/s' "$summary") $(field p50 "$summary") \
$(field p99 "$summary") $(field max "$summary") $(field errors "$summary") \
$(field 'peak_threads+children' "$summary") $(field listen_overflows "$summary") $state" >> "$RESULTS"
  printf '  %-17s %8s replies/s  p99 %7s ms  errors %s  %s\n' "$name" \
    "$(field 'replies/s' "$summary")" "$(field p99 "$summary")" "$(field errors "$summary")" "$state"
}

START=$(date +%s)
echo "== machine"
{
  echo "cpus: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel: $(uname -sr)   $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "glib: $(pkg-config --modversion glib-2.0 2>/dev/null)   python: $(python3 --version 2>&1)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds=$ROUNDS duration=${DURATION}s clients=$CLIENTS (ss-bench --connect, 2 epoll threads; each server in its own session)"
} | tee "$OUT/machine.txt"

SKIP=" "
for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS, $CLIENTS clients, ${DURATION} s each"
  for entry in "${SERVERS[@]}"; do
    name=${entry%%|*}
    case "$SKIP" in *" $name "*) continue ;; esac
    measure "$round" "$name" "${entry#*|}" "$CLIENTS" || SKIP="$SKIP$name "
  done
done

echo "== $BIG_CLIENTS clients, ${DURATION} s each"
for entry in "${SERVERS[@]}"; do
  name=${entry%%|*}
  case "$name" in epoll|accept-threads|ss-threading|ss-threadpooling|ss-preforking) ;; *) continue ;; esac
  case "$SKIP" in *" $name "*) continue ;; esac
  measure big "$name" "${entry#*|}" "$BIG_CLIENTS"
done

echo "== thread pool (2, 200, 20): bursts of $CLIENTS clients for 3 s, then none; ramps 0 -> $CLIENTS -> 0 over 10 s"
echo "   (plain workload, and with --handler-delay=5: a handler that waits 5 ms, so the pool must grow;"
echo "   server and clients in one ss-bench process: these measure the pool's size over time, not speed)"
"$SSB" --server=threadpooling --port=0 --n-clients="$CLIENTS" --duration=3 \
       --trace-pool="$OUT/burst.dat" | grep -E '^(summary|rest):' | tee "$OUT/burst.txt"
"$SSB" --server=threadpooling --port=0 --n-clients="$CLIENTS" --duration=3 --handler-delay=5 \
       --trace-pool="$OUT/burst-delay.dat" | grep -E '^(summary|rest):' | tee "$OUT/burst-delay.txt"
"$SSB" --server=threadpooling --port=0 --n-clients="$CLIENTS" --duration=10 --ramp \
       --trace-pool="$OUT/ramp.dat" | grep -E '^(summary|rest):' | tee "$OUT/ramp.txt"
"$SSB" --server=threadpooling --port=0 --n-clients="$CLIENTS" --duration=10 --ramp --handler-delay=5 \
       --trace-pool="$OUT/ramp-delay.dat" | grep -E '^(summary|rest):' | tee "$OUT/ramp-delay.txt"
echo "== process pool (2, 200, 20): a burst of $CLIENTS clients for 3 s, then none"
"$SSB" --server=preforking --port=0 --n-clients="$CLIENTS" --duration=3 \
       | grep -E '^(summary|rest):' | tee "$OUT/burst-prefork.txt"
for trace in ramp ramp-delay; do
  if "$SRC/bench/plot-trace.sh" "$OUT/$trace.dat" "$OUT/pool-$trace.svg" "ss-bench --server=threadpooling (2, 200, 20), clients 0 -> $CLIENTS -> 0$( [ $trace = ramp-delay ] && echo ", handler waits 5 ms")" 2> "$OUT/plot.err"; then
    echo "picture: $OUT/pool-$trace.svg"
  else
    echo "picture: not drawn ($(head -1 "$OUT/plot.err"))"
  fi
done

echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg); total $(( $(date +%s) - START )) s" \
  | tee -a "$OUT/machine.txt"

python3 - "$RESULTS" "$OUT/burst.txt $OUT/burst-delay.txt" "$CLIENTS" "$BIG_CLIENTS" "$OUT/burst-prefork.txt" <<'PY' | tee "$OUT/table.md"
import re, statistics, sys
results, burst_file, clients, big, prefork_burst = sys.argv[1:6]
rows = [l.split() for l in open(results) if l.strip()]
LABELS = {
    "epoll": "epoll, 1 thread per core, SO_REUSEPORT (bench/ref-epoll)",
    "accept-threads": "16 threads blocking in accept() (bench/ref-accept-threads)",
    "ss-threadpooling": "**ss-bench --server=threadpooling** (2, 200, 20)",
    "ss-sync": "**ss-bench --server=sync**",
    "ss-threading": "**ss-bench --server=threading**",
    "ss-forking": "**ss-bench --server=forking**",
    "ss-preforking": "**ss-bench --server=preforking**",
    "gio": "GThreadedSocketService, max-threads -1 (bench/ref-gio)",
    "gio-10": "GThreadedSocketService, max-threads 10 (GIO's default)",
    "thread-per-conn": "pthread per connection (bench/ref-thread-per-conn)",
    "fork-per-conn": "fork per connection (bench/ref-fork-per-conn)",
    "py-pool": "Python 3, the post's ThreadPoolingMixIn (2, 200, 20)",
    "py-threading": "Python 3 ThreadingTCPServer",
    "py-forking": "Python 3 ForkingTCPServer",
}

def num(x):
    try:
        return float(x)
    except ValueError:
        return None

def summarize(kind):
    out = {}
    for r in rows:
        if r[0] == "big" if kind == "big" else r[0] != "big":
            out.setdefault(r[1], []).append(r)
    med = {}
    for name, rs in out.items():
        rates = [num(r[3]) for r in rs if num(r[3]) is not None]
        p99s = [num(r[5]) for r in rs if num(r[5]) is not None]
        errs = [int(num(r[7])) for r in rs if num(r[7]) is not None]
        peaks = [int(num(r[8])) for r in rs if num(r[8]) is not None]
        ovf = [int(num(r[9])) for r in rs if num(r[9]) is not None]
        states = [r[10] for r in rs]
        med[name] = dict(rate=statistics.median(rates) if rates else None,
                         rates=rates, p99=statistics.median(p99s) if p99s else None,
                         errors=sum(errs), peak=max(peaks) if peaks else None,
                         overflows=sum(ovf), states=states)
    return med

m = summarize("rounds")
order = sorted(m, key=lambda n: -(m[n]["rate"] or 0))
ceiling = (m.get("epoll") or {}).get("rate")
print()
print("| server | replies/s (median) | vs epoll | rounds | p99 ms | errors | peak threads/procs | server state |")
print("|---|---|---|---|---|---|---|---|")
for n in order:
    d = m[n]
    rate = "%.0f" % d["rate"] if d["rate"] is not None else "-"
    ratio = "%.2f" % (d["rate"] / ceiling) if d["rate"] and ceiling else "-"
    rounds = " / ".join("%.0f" % x for x in d["rates"])
    p99 = "%.1f" % d["p99"] if d["p99"] is not None else "-"
    states = sorted(set(d["states"]))
    state = ", ".join("%s x%d" % (s, d["states"].count(s)) for s in states)
    print("| %s | %s | %s | %s | %s | %d | %s | %s |" % (LABELS.get(n, n), rate, ratio, rounds, p99,
          d["errors"], d["peak"] if d["peak"] is not None else "-", state))

b = summarize("big")
if b:
    print()
    print("%s clients (one run each):" % big)
    print()
    print("| server | replies/s | p99 ms | errors | listen overflows (system-wide) | peak threads |")
    print("|---|---|---|---|---|---|")
    for n in sorted(b, key=lambda n: -(b[n]["rate"] or 0)):
        d = b[n]
        print("| %s | %s | %s | %d | %d | %s |" % (LABELS.get(n, n),
              "%.0f" % d["rate"] if d["rate"] else "-", "%.1f" % d["p99"] if d["p99"] else "-",
              d["errors"], d["overflows"], d["peak"]))

def rate(n):
    return (m.get(n) or {}).get("rate")

print()
print("Targets (ratios of medians from this run):")
print()
def target(text, ok, detail):
    print("- %s: %s (%s)" % (text, "met" if ok else "NOT met", detail))
def ratio_target(text, a, b, want):
    if rate(a) and rate(b):
        r = rate(a) / rate(b)
        target(text, r >= want, "%.0f / %.0f = %.2f" % (rate(a), rate(b), r))
    else:
        print("- %s: not measured" % text)
ratio_target("threadpooling >= 0.95 x epoll", "ss-threadpooling", "epoll", 0.95)
ratio_target("threadpooling >= 1.0 x epoll (issue 8, servers in their own session)", "ss-threadpooling", "epoll", 1.0)
ratio_target("threading >= 0.95 x pthread per connection", "ss-threading", "thread-per-conn", 0.95)
ratio_target("forking >= 0.95 x fork per connection", "ss-forking", "fork-per-conn", 0.95)
ratio_target("threadpooling >= 1.5 x threading", "ss-threadpooling", "ss-threading", 1.5)
ratio_target("preforking >= 0.9 x epoll", "ss-preforking", "epoll", 0.9)
ep = b.get("epoll")
for n in ("ss-threadpooling", "ss-threading", "ss-preforking"):
    d = b.get(n)
    if not d or not ep or not d["p99"] or not ep["p99"]:
        continue
    ok = d["errors"] == 0 and d["overflows"] == 0 and d["p99"] <= 1.2 * ep["p99"]
    target("%s clients, %s: 0 errors, 0 overflows, p99 <= 1.2 x epoll" % (big, n), ok,
           "errors %d, overflows %d, p99 %.1f ms vs epoll %.1f ms = %.2f x"
           % (d["errors"], d["overflows"], d["p99"], ep["p99"], d["p99"] / ep["p99"]))
for burst in burst_file.split():
    rest = open(burst).read()
    label = "pool back to min + min_spare within 1 s of a burst (%s)" % (
        "handler waits 5 ms" if "delay" in burst else "plain workload")
    mr = re.search(r"rest: .*?workers=(\d+) .*? ([0-9.]+)s after", rest)
    mp = re.search(r"peak_threads=(\d+)", rest)
    peak = "peak %s threads, " % mp.group(1) if mp else ""
    if mr:
        target(label, float(mr.group(2)) <= 1.0, "%s%s workers after %s s" % (peak, mr.group(1), mr.group(2)))
    else:
        target(label, False, rest.strip().splitlines()[-1] if rest.strip() else "no rest line")
# The process pool: back within max(2 s, 2 maintenance intervals of 1 s).
rest = open(prefork_burst).read()
mr = re.search(r"rest: .*?workers=(\d+) .*? ([0-9.]+)s after", rest)
mp = re.search(r"peak_processes=(\d+)", rest)
label = "process pool back to min + min_spare within 2 s of a burst"
if mr:
    target(label, float(mr.group(2)) <= 2.0, "peak %s processes, %s children after %s s"
           % (mp.group(1) if mp else "?", mr.group(1), mr.group(2)))
else:
    target(label, False, rest.strip().splitlines()[-1] if rest.strip() else "no rest line")
PY
echo "raw results: $OUT"
