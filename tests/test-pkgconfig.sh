#!/bin/sh
# test-pkgconfig.sh: the installed library works for a third-party program.
#
# Installs the build into a temporary DESTDIR, then compiles and runs a
# small program outside the tree with nothing but
# `pkg-config --cflags --libs socketserver`: the headers, the .pc file and
# the shared library have to be where the .pc file says.
#
# The .pc file names absolute paths under the configured prefix; a copy with
# those paths moved under DESTDIR is used (PKG_CONFIG_SYSROOT_DIR would also
# move GLib's paths, which are not under DESTDIR). Sanitizer builds pass the
# same -fsanitize flags, since the installed library needs their runtime.
# Works inside `make distcheck` (read-only srcdir, separate builddir): it
# only writes under a mktemp folder.
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

pc=$(find "$tmp/root" -name socketserver.pc | head -n 1)
if [ -z "$pc" ]; then
  echo "test-pkgconfig: no socketserver.pc installed" >&2
  exit 1
fi
mkdir "$tmp/pc"
sed -E "s#^(prefix|exec_prefix|libdir|includedir)=/#\1=$tmp/root/#" "$pc" >"$tmp/pc/socketserver.pc"

flags=$(PKG_CONFIG_PATH="$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
        $PKG_CONFIG --cflags --libs socketserver)
libdir=$(PKG_CONFIG_PATH="$tmp/pc" $PKG_CONFIG --variable=libdir socketserver)
san="$(make_var SAN_CFLAGS) $(make_var SAN_LDFLAGS)"

cat >"$tmp/third-party.c" <<'EOF'
/* A program that knows nothing of the source tree. */
#include <stdio.h>
#include <socketserver/socketserver.h>

int
main (void)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, NULL, &error);

  if (server == NULL)
    {
      fprintf (stderr, "third-party: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  if (ss_server_port (server) == 0)
    {
      fprintf (stderr, "third-party: port 0 was not resolved\n");
      return 1;
    }
  printf ("third-party: bound port %u\n", ss_server_port (server));
  ss_server_free (server);
  return 0;
}
EOF

# shellcheck disable=SC2086 # the flags are word lists
$CC $san -o "$tmp/third-party" "$tmp/third-party.c" $flags
echo "compiled with: $CC $san $flags"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/third-party"

# It must have used the installed library, not one from the build tree.
if command -v ldd >/dev/null 2>&1; then
  LD_LIBRARY_PATH="$libdir" ldd "$tmp/third-party" | grep -F "$libdir/libsocketserver.so" >/dev/null || {
    echo "test-pkgconfig: third-party did not load libsocketserver from $libdir" >&2
    LD_LIBRARY_PATH="$libdir" ldd "$tmp/third-party" >&2
    exit 1
  }
fi
