#!/bin/sh
# test-pkgconfig.sh: the installed library works for a third-party program.
#
# Installs the build into a temporary DESTDIR, then runs
# tests/installed-program.sh on it: a small program outside the tree,
# compiled with nothing but `pkg-config --cflags --libs socketserver`, so
# the headers, the .pc file and the shared library have to be where the
# .pc file says. Works inside `make distcheck` (read-only srcdir, separate
# builddir): it only writes under a mktemp folder.
set -eu

builddir=${SS_BUILDDIR:-.}
: "${CC:=cc}"
: "${PKG_CONFIG:=pkg-config}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ss-pkgconfig.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A value from the generated Makefile (e.g. SAN_CFLAGS), empty when unset.
make_var () {
  sed -n "s/^$1 = //p" "$builddir/Makefile" | head -n 1
}

# The test harness's make must not leak its jobserver into ours.
unset MAKEFLAGS MFLAGS MAKELEVEL
${MAKE:-make} -s -C "$builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2
  echo "test-pkgconfig: make install DESTDIR=$tmp/root failed" >&2
  exit 1
}

# The check itself is the one `make installcheck` runs; the configured
# libdir is where the .pc file landed under the staging root.
pc=$(find "$tmp/root" -name socketserver.pc | head -n 1)
if [ -z "$pc" ]; then
  echo "test-pkgconfig: no socketserver.pc installed" >&2
  exit 1
fi
libdir=$(dirname "$(dirname "$pc")")
DESTDIR="$tmp/root" LIBDIR="${libdir#"$tmp/root"}" CC="$CC" PKG_CONFIG="$PKG_CONFIG" \
  SAN_FLAGS="$(make_var SAN_CFLAGS) $(make_var SAN_LDFLAGS)" \
  sh "${SS_SRCDIR:-.}/tests/installed-program.sh"
