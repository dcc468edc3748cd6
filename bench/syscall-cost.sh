#!/bin/bash
# bench/syscall-cost.sh: what Python's shutdown(SHUT_WR) costs the thread
# pool on the post's workload, and whether it is the call or its work
# (BENCHMARKS.md, "Issue 8's CPU bound").
#
# Runs, taking turns, ROUNDS times: ss-bench --server=threadpooling as it
# is; the same binary with shutdown(fd, SHUT_WR) made a no-op by an
# LD_PRELOAD shim; the same with the shutdown replaced by a getppid(2)
# (a system call that does nothing); bench/ref-epoll; and ref-epoll with
# REF_EPOLL_SHUTDOWN=1 (the same shutdown(2) before each close). Each server is
# in its own session; ss-bench --connect loads it (100 clients) from this
# one. Prints replies/s and the server's and the client's CPU per reply.
# The shims are for measuring only: they break shutdown_request's
# guarantees (tests/test-transports.c says which).
#
# Usage: bench/syscall-cost.sh [BUILD_DIR]   (ROUNDS=3 DURATION=5)
# Needs gcc and perf. Loopback only.

set -u
BUILD=$(cd "${1:-.}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
SSB=$BUILD/servers/ss-bench
command -v perf > /dev/null || { echo "syscall-cost.sh: perf is missing (apt-get install linux-perf)" >&2; exit 2; }
[ -x "$SSB" ] && [ -x "$BUILD/bench/ref-epoll" ] || { echo "syscall-cost.sh: build $BUILD first" >&2; exit 2; }
OUT=$(mktemp -d /tmp/ss-syscall-cost.XXXXXX)

shim () {
  cat > "$OUT/$1.c" << EOF
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
int
shutdown (int fd, int how)
{
  static int (*real) (int, int);
  if (how == SHUT_WR) { $2; return 0; }
  if (real == NULL) real = (int (*) (int, int)) dlsym (RTLD_NEXT, "shutdown");
  return real (fd, how);
}
EOF
  gcc -O2 -shared -fPIC -o "$OUT/$1.so" "$OUT/$1.c" -ldl || exit 2
}
shim noshutdown "(void) fd"
shim getppid "(void) fd; syscall (SYS_getppid)"

SPID=
trap '[ -n "$SPID" ] && kill -TERM "$SPID" 2> /dev/null' EXIT

# run NAME PRELOAD COMMAND...
run () {
  local name=$1 preload=$2 port replies server client
  shift 2
  setsid env ${preload:+LD_PRELOAD=$preload} "$@" > "$OUT/banner" 2> "$OUT/$name.err" &
  SPID=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving on .* port \([0-9][0-9]*\).*/\1/p' "$OUT/banner" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "syscall-cost.sh: $name did not start" >&2; exit 1; }
  perf stat -x, -e task-clock -o "$OUT/client.stat" \
    "$SSB" --connect=127.0.0.1:"$port" --duration="$DURATION" > "$OUT/client.out" 2>&1 &
  local c=$!
  sleep 0.3
  # The server's CPU over the run's middle (DURATION - 0.5 s).
  perf stat -x, -e task-clock -p "$SPID" -o "$OUT/server.stat" -- sleep "$(awk -v d="$DURATION" 'BEGIN { print d - 0.5 }')"
  wait "$c"
  kill -TERM "$SPID"; wait "$SPID" 2> /dev/null; SPID=
  replies=$(sed -n 's/.* replies=\([0-9]*\) .*/\1/p' "$OUT/client.out")
  server=$(awk -F, '/task-clock/ {print $1}' "$OUT/server.stat")
  client=$(awk -F, '/task-clock/ {print $1}' "$OUT/client.stat")
  awk -v n="$name" -v r="$replies" -v s="$server" -v c="$client" -v d="$DURATION" \
    'BEGIN { printf "%-22s %9.0f %12.1f %12.1f\n", n, r / d, s * 1000 / (r * (d - 0.5) / d), c * 1000 / r }'
}

printf '%-22s %9s %12s %12s\n' server replies/s "server us/r" "client us/r"
for _ in $(seq "$ROUNDS"); do
  run pool "" "$SSB" --server=threadpooling --port=0
  run pool-no-shutdown "$OUT/noshutdown.so" "$SSB" --server=threadpooling --port=0
  run pool-getppid "$OUT/getppid.so" "$SSB" --server=threadpooling --port=0
  run ref-epoll "" "$BUILD/bench/ref-epoll" 0
  run ref-epoll-shutdown "" env REF_EPOLL_SHUTDOWN=1 "$BUILD/bench/ref-epoll" 0
done
