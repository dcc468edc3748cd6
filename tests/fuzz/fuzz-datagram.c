/* fuzz-datagram.c: libFuzzer target for the datagram request path.
 *
 * A real UDPServer on 127.0.0.1 with the synchronous strategy, driven one
 * datagram at a time with ss_server_handle_request: the fuzzer's bytes go
 * through recvmsg (with MSG_TRUNC), the request record, a
 * DatagramRequestHandler whose handle reads the packet back through rfile
 * (readline with a limit, then read) and writes it to wfile, and finish's
 * sendto. Everything runs in this thread, so a run is deterministic.
 *
 * The first two bytes choose max_packet_size (1..9000) and the readline
 * limit; the rest is the datagram. Invariants, abort() on violation: the
 * handler ran once, request->truncated is set exactly when the datagram
 * was longer than max_packet_size, and the reply is the datagram cut to
 * max_packet_size.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort (); } while (0)
#define MAX_UDP_PAYLOAD 65507

static guint handled;
static gboolean saw_truncated;
static gssize line_limit;

static gboolean
fuzz_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;
  GString *line = g_string_new (NULL);
  guint8 buf[512];
  gssize got;

  handled++;
  saw_truncated = handler->request->truncated;
  /* Lines first, then the tail in blocks: both rfile paths, same bytes. */
  while ((got = ss_rfile_readline (self->rfile, line, line_limit, error)) > 0)
    {
      if (!ss_wfile_write (self->wfile, line->str, line->len, error))
        goto fail;
      g_string_truncate (line, 0);
      if (line_limit == 0)
        break;
    }
  if (got < 0)
    goto fail;
  while ((got = ss_rfile_read (self->rfile, buf, sizeof buf, error)) > 0)
    if (!ss_wfile_write (self->wfile, buf, (gsize) got, error))
      goto fail;
  g_string_free (line, TRUE);
  return got == 0;

fail:
  g_string_free (line, TRUE);
  return FALSE;
}

typedef struct {
  SsDatagramRequestHandler base;
} FuzzHandler;

SS_DEFINE_HANDLER_CLASS (FuzzHandler, fuzz_handler_class, ss_datagram_request_handler_class,
                         .handle = fuzz_handle);

static SsServer *server;
static int client = -1;

static void
quiet_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  (void) domain;
  (void) level;
  (void) message;
  (void) data;
}

static void
setup_once (void)
{
  GError *error = NULL;
  const SsAddress *addr;
  struct timeval tv = { .tv_sec = 5 };
  int bufsize = 1 << 20;

  g_log_set_default_handler (quiet_log, NULL);
  server = ss_udp_server_new ("127.0.0.1:0", &fuzz_handler_class, NULL, &error);
  CHECK (server != NULL);
  server->timeout = 5; /* handle_request gives up (and we abort) if no datagram arrives */
  addr = &server->server_address;
  client = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK (client >= 0);
  setsockopt (client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (client, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  setsockopt (server->socket_fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  CHECK (connect (client, (const struct sockaddr *) &addr->storage, addr->len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static guint8 reply[MAX_UDP_PAYLOAD + 1];
  GError *error = NULL;
  const guint8 *packet;
  gsize len, max_packet;
  ssize_t n;

  if (server == NULL)
    setup_once ();
  if (size < 2)
    return 0;
  max_packet = 1 + ((gsize) data[0] * 256 + data[1]) % 9000;
  line_limit = (gssize) (data[1] % 70) - 1; /* -1 (none) .. 68 */
  packet = data + 2;
  len = MIN (size - 2, (gsize) MAX_UDP_PAYLOAD);
  server->max_packet_size = max_packet;

  do
    n = send (client, packet, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  CHECK (n == (ssize_t) len);

  handled = 0;
  CHECK (ss_server_handle_request (server, &error));
  CHECK (error == NULL);
  CHECK (handled == 1);
  CHECK (saw_truncated == (len > max_packet));

  do
    n = recv (client, reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  CHECK (n == (ssize_t) MIN (len, max_packet));
  CHECK (n == 0 || memcmp (reply, packet, (gsize) n) == 0);
  return 0;
}
