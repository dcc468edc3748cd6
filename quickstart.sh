#!/usr/bin/env bash
# quickstart.sh: from a fresh clone on Debian/Ubuntu to a running demo.
#
#   ./quickstart.sh             install missing build dependencies, build, run the demo
#   ./quickstart.sh --deps-only only install the missing dependencies (CI uses this)
#
# Dependencies come from apt-get (through sudo when not root), installed
# only when missing, after one `apt-get update`. The build is in-tree
# (./autogen.sh, ./configure, make), so `make check` runs right after.
# Re-running it skips whatever is already done.
#
# The demo is servers/ss-bench --server=all --n-clients=100 (the 2008
# post's benchmark: 100 clients against every strategy in turn, under a
# minute). When ss-bench is not usable it falls back to ss-echo: a
# thread-pool echo server and a one-line client.
set -euo pipefail

cd "$(dirname "$0")"

# gtk-doc-tools and libglib2.0-doc: make docs (the API reference, linked to GLib's).
PACKAGES=(build-essential autoconf automake libtool pkg-config libglib2.0-dev check
          python3 valgrind clang libclang-rt-dev gnuplot-nox gtk-doc-tools libglib2.0-doc
          # TLS: GnuTLS (the library's backend), openssl (the test certificates and
          # s_client), libssl-dev (the OpenSSL side of bench/tls-libs.sh)
          libgnutls28-dev openssl libssl-dev
          # the http tests' real clients, and the http benchmark's load and reference
          curl chromium wrk nginx
          # tests/test-haproxy.sh: the load balancer in front of two ss-echo processes
          # (the test runs a haproxy of its own with its own configuration, not the service)
          haproxy)

say () { printf '\n==> %s\n' "$*"; }
die () { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

usage () {
  sed -n '2,6s/^# \{0,1\}//p' "$0"
}

deps_only=no
for arg in "$@"; do
  case $arg in
    --deps-only) deps_only=yes ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $arg" ;;
  esac
done

# A package counts as present when dpkg has it installed; pkg-config and
# python3 also when the command exists (pkgconf, a pyenv python).
is_present () {
  case $1 in
    pkg-config|python3) command -v "$1" >/dev/null 2>&1 && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_deps () {
  local missing=() pkg sudo=()

  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: install these yourself if the build fails:"
    echo "    ${PACKAGES[*]}"
    return 0
  fi
  for pkg in "${PACKAGES[@]}"; do
    is_present "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "build dependencies: all present"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${missing[*]} as root"
    sudo=(sudo)
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build () {
  if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
    say "./autogen.sh"
    ./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; die "autogen.sh failed"; }
  fi
  if [ ! -f Makefile ] || [ configure -nt config.status ]; then
    say "./configure"
    ./configure -q
  fi
  say "make -j$(nproc)"
  make -j"$(nproc)"
}

# The fallback demo: ss-echo with the thread pool on a free port, one client
# line, SIGTERM, exit status.
demo_echo () {
  local out pid banner port reply status=0

  say "demo: servers/ss-echo --strategy=threadpooling --address=127.0.0.1:0"
  out=$(mktemp)
  servers/ss-echo --strategy=threadpooling --address=127.0.0.1:0 >"$out" &
  pid=$!
  for _ in $(seq 50); do
    banner=$(head -n 1 "$out")
    [ -n "$banner" ] && break
    sleep 0.1
  done
  rm -f "$out"
  [ -n "$banner" ] || { kill "$pid" 2>/dev/null; die "ss-echo printed no banner"; }
  echo "server: $banner"
  port=$(sed -n 's/^Serving on .* port \([0-9]*\) \.\.\.$/\1/p' <<<"$banner")

  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'hello, socketserver\n' >&3
  echo "client sent:     hello, socketserver"
  IFS= read -r -t 5 reply <&3 || true
  exec 3>&-
  echo "server echoed:   $reply"

  kill -TERM "$pid"
  wait "$pid" || status=$?
  echo "SIGTERM -> ss-echo exited with status $status"
  [ "$reply" = "hello, socketserver" ] && [ "$status" -eq 0 ] || die "the echo demo failed"
}

demo () {
  if servers/ss-bench --help >/dev/null 2>&1; then
    say "demo: servers/ss-bench --server=all --n-clients=100 --port=0 (the 2008 post's benchmark, every strategy)"
    servers/ss-bench --server=all --n-clients=100 --port=0
  else
    demo_echo
  fi
}

install_deps
[ "$deps_only" = yes ] && exit 0
build
demo
say "next: make check"
