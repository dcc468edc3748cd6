#!/bin/sh
# installed-program.sh: a third-party program builds and runs against an
# installed libsocketserver, with nothing but pkg-config.
#
#   DESTDIR=/staging LIBDIR=/usr/local/lib tests/installed-program.sh
#
# LIBDIR is the configured libdir; DESTDIR (may be empty) the staging root
# `make install DESTDIR=...` used. `make installcheck` runs this (and so
# does `make distcheck`), `tests/test-pkgconfig.sh` runs it after its own
# staged install. The .pc file names absolute paths under the prefix;
# under a DESTDIR a copy with those paths moved there is used
# (PKG_CONFIG_SYSROOT_DIR would move GLib's paths too). Sanitizer builds
# pass SAN_FLAGS, since the installed library needs their runtime.
set -eu

: "${LIBDIR:?LIBDIR (the configured libdir) is required}"
: "${CC:=cc}"
: "${PKG_CONFIG:=pkg-config}"
DESTDIR=${DESTDIR:-}
SAN_FLAGS=${SAN_FLAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ss-installed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

pc=$DESTDIR$LIBDIR/pkgconfig/socketserver.pc
if [ ! -f "$pc" ]; then
  echo "installed-program: no socketserver.pc at $pc (run make install first)" >&2
  exit 1
fi
mkdir "$tmp/pc"
if [ -n "$DESTDIR" ]; then
  sed -E "s#^(prefix|exec_prefix|libdir|includedir)=/#\1=$DESTDIR/#" "$pc" >"$tmp/pc/socketserver.pc"
else
  cp "$pc" "$tmp/pc/socketserver.pc"
fi

flags=$(PKG_CONFIG_PATH="$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
        $PKG_CONFIG --cflags --libs socketserver)
libdir=$(PKG_CONFIG_PATH="$tmp/pc" $PKG_CONFIG --variable=libdir socketserver)

cat >"$tmp/third-party.c" <<'PROGRAM'
/* A program that knows nothing of the source tree: a thread-pool echo
 * server on a free port, one line through it, a clean close. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

static gpointer
serve (gpointer server)
{
  ss_server_serve_forever (server, 0.5, NULL);
  return NULL;
}

int
main (void)
{
  GError *error = NULL;
  g_autoptr (SsServer) server =
    ss_thread_pooling_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, &error);
  char reply[32] = { 0 };
  struct timeval ten_s = { 10, 0 };
  GThread *thread;
  int fd;

  if (server == NULL)
    {
      fprintf (stderr, "third-party: %s\n", error->message);
      return 1;
    }
  thread = g_thread_new ("serve", serve, server);
  fd = socket (AF_INET, SOCK_STREAM, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &ten_s, sizeof ten_s);
  if (connect (fd, (const struct sockaddr *) &server->server_address.storage,
               server->server_address.len) < 0
      || !ss_sendall (fd, "installed\n", 10, NULL)
      || recv (fd, reply, 10, MSG_WAITALL) != 10 || strcmp (reply, "installed\n") != 0)
    {
      fprintf (stderr, "third-party: no echo from the installed library\n");
      return 1;
    }
  close (fd);
  ss_server_shutdown (server);
  g_thread_join (thread);
  printf ("third-party: echoed through port %u\n", ss_server_port (server));
  return 0;
}
PROGRAM

# shellcheck disable=SC2086 # the flags are word lists
$CC $SAN_FLAGS -o "$tmp/third-party" "$tmp/third-party.c" $flags
echo "compiled with: $CC $SAN_FLAGS $flags"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/third-party"

# It must have used the installed library, not one from a build tree.
if command -v ldd >/dev/null 2>&1; then
  LD_LIBRARY_PATH="$libdir" ldd "$tmp/third-party" | grep -F "$libdir/libsocketserver.so" >/dev/null || {
    echo "installed-program: third-party did not load libsocketserver from $libdir" >&2
    LD_LIBRARY_PATH="$libdir" ldd "$tmp/third-party" >&2
    exit 1
  }
fi
