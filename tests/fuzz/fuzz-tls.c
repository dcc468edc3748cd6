/* fuzz-tls.c: libFuzzer target for the server side of the TLS handshake.
 *
 * A TLS echo server (sync strategy, a short handshake timeout) on
 * 127.0.0.1; each input is what one client sends on a new connection
 * before it closes its side: garbage records, ClientHellos real and cut
 * (the seeds are Python ssl's), plain text. ss_server_handle_request
 * takes the connection and runs it as every strategy does: the handshake
 * (io->start), the handler only if that succeeded, shutdown_request.
 *
 * Invariants, abort() on violation: every connection is taken and ends
 * (served or, through handle_error, refused: one or the other exactly
 * once), and the server closes it (the client reads EOF or a reset, never
 * waits past 10 s). ASan/UBSan watch the rest.
 *
 * Each client binds a source address of its own in 127.0.0.0/8 (the port
 * still chosen at connect()): the client closes first, so each connection
 * leaves a TIME_WAIT on its 4-tuple, and at thousands of connections a
 * second one source address runs out of ephemeral ports (connect() fails
 * with EADDRNOTAVAIL), the sooner after a test suite has filled the table.
 *
 * The certificate comes from tests/tls-certs.sh, run once at start into
 * a temporary folder ($SS_SRCDIR, or the source tree this was built from).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#define CHECK(cond) do { if (!(cond)) abort (); } while (0)
/* A failed system call says which and why before it aborts. */
#define CHECK_ERRNO(cond, what) \
  do { if (!(cond)) { perror (what); abort (); } } while (0)

static SsServer *server;
static guint64 refused;

/* A socket connected to the server from 127.0.0.2-127.0.0.254 in turn. */
static int
connect_client (void)
{
  static guint32 next_host;
  struct sockaddr_in local = { .sin_family = AF_INET };
  int one = 1;
  int attempt;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK_ERRNO (fd >= 0, "socket");
  CHECK_ERRNO (setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) == 0,
               "setsockopt IP_BIND_ADDRESS_NO_PORT");
  local.sin_addr.s_addr = htonl (0x7f000002u + next_host);
  next_host = (next_host + 1) % 253;
  CHECK_ERRNO (bind (fd, (const struct sockaddr *) &local, sizeof local) == 0, "bind 127.0.0.x:0");
  /* Should every port of this source still be in TIME_WAIT, wait for the
   * kernel to free one (bounded: 10 s) rather than report a crash. */
  for (attempt = 0;; attempt++)
    {
      if (connect (fd, (const struct sockaddr *) &server->server_address.storage,
                   server->server_address.len) == 0)
        return fd;
      if (errno == EINTR)
        {
          /* libFuzzer's timer (SIGALRM, -timeout) interrupted it: the
           * connection goes on in the kernel; wait for it, read its end. */
          struct pollfd out = { .fd = fd, .events = POLLOUT };
          int soerr = 0;
          socklen_t len = sizeof soerr;

          while (poll (&out, 1, 10000) < 0)
            CHECK_ERRNO (errno == EINTR, "poll for the connection");
          CHECK_ERRNO (getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0, "SO_ERROR");
          errno = soerr;
          CHECK_ERRNO (soerr == 0, "connect to the TLS server (after EINTR)");
          return fd;
        }
      CHECK_ERRNO (errno == EADDRNOTAVAIL && attempt < 1000, "connect to the TLS server");
      g_usleep (10000);
    }
}

static void
quiet_handle_error (SsServer *self, SsRequest *request, const GError *error)
{
  refused++;
}

static const SsServerClass fuzz_server_class = {
  .name = "FuzzTLSServer",
  .parent = &ss_tcp_server_class,
  .handle_error = quiet_handle_error,
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *srcdir = g_getenv ("SS_SRCDIR") != NULL ? g_getenv ("SS_SRCDIR") : SS_FUZZ_SRCDIR;
  char *dir = g_strdup ("/tmp/ss-fuzz-tls-XXXXXX");
  g_autofree char *command = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  SsTlsContext *context;
  GError *error = NULL;

  CHECK (g_mkdtemp (dir) != NULL);
  command = g_strdup_printf ("sh '%s/tests/tls-certs.sh' '%s'", srcdir, dir);
  CHECK (system (command) == 0);
  cert = g_build_filename (dir, "server.pem", NULL);
  key = g_build_filename (dir, "server-key.pem", NULL);
  context = ss_tls_context_new (&error);
  CHECK (context != NULL);
  CHECK (ss_tls_context_load_cert_chain (context, cert, key, NULL, &error));
  ss_tls_context_set_handshake_timeout (context, 2);
  server = ss_server_new (&fuzz_server_class, "127.0.0.1:0", &ss_stream_echo_handler_class, NULL,
                          TRUE, &error);
  CHECK (server != NULL);
  CHECK (ss_server_set_tls_context (server, context, &error));
  ss_tls_context_unref (context);
  server->timeout = 5;
  g_free (dir); /* the files stay for the run; /tmp is the CI's */
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  SsServerStats before, after;
  struct pollfd pfd;
  char buf[65536];
  int fd;

  if (size > 16384)
    return 0; /* the socket buffer takes it at once */
  ss_server_get_stats (server, &before);
  fd = connect_client ();
  if (size > 0)
    CHECK (send (fd, data, size, MSG_NOSIGNAL) == (ssize_t) size);
  shutdown (fd, SHUT_WR);

  CHECK (ss_server_handle_request (server, NULL));

  /* The server has closed it: EOF (or a reset) after what it sent. */
  for (;;)
    {
      ssize_t n;

      pfd.fd = fd;
      pfd.events = POLLIN;
      CHECK (poll (&pfd, 1, 10000) == 1);
      n = recv (fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        break;
      CHECK (n > 0);
    }
  close (fd);
  ss_server_get_stats (server, &after);
  CHECK (after.served + after.errors == before.served + before.errors + 1);
  CHECK (after.errors == refused);
  return 0;
}
