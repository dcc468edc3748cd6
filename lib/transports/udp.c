/* udp.c: UDPServer, the datagram transport (and UnixDatagramServer's parent).
 *
 * As in Python, UDPServer is TCPServer without listen(): it inherits
 * server_bind, fileno and server_close, and a request is one datagram plus
 * the server socket to answer on. shutdown_request and close_request have
 * nothing to close, since the socket belongs to the server.
 *
 * get_request receives with recvmsg() so that the kernel's MSG_TRUNC flag
 * tells us when a datagram was longer than max_packet_size: Python drops
 * the tail silently, we drop it too but say so in request->truncated (and
 * the core refuses such a request when server->refuse_truncated is set).
 * Several pool workers may call get_request at once, so the receive buffer
 * is per call: on the stack up to 16 KiB (the default 8192 fits; small
 * enough for threads created with a reduced stack), on the heap beyond.
 */
#include "transports/transport-private.h"

#include <errno.h>
#include <sys/uio.h>

#define STACK_BUFFER_SIZE 16384

gboolean
ss__udp_server_server_activate (SsServer *self, GError **error)
{
  (void) self;
  (void) error;
  return TRUE; /* Python: "No need to call listen() for UDP." */
}

/* Receives one datagram into @buf; returns the request or NULL with @error. */
static SsRequest *
receive_into (SsServer *self, guint8 *buf, gsize size, GError **error)
{
  for (;;)
    {
      SsAddress client = { 0 };
      struct iovec iov = { .iov_base = buf, .iov_len = size };
      struct msghdr msg = {
        .msg_name = &client.storage,
        .msg_namelen = sizeof client.storage,
        .msg_iov = &iov,
        .msg_iovlen = 1,
      };
      ssize_t n = recvmsg (self->socket_fd, &msg, 0);
      int errsv;

      if (n >= 0)
        {
          client.len = MIN (msg.msg_namelen, (socklen_t) sizeof client.storage);
          return ss__server_new_datagram_request (self, &client, buf, (gsize) n,
                                                  (msg.msg_flags & MSG_TRUNC) != 0);
        }

      errsv = errno;
      /* ECONNREFUSED: an ICMP error left by an earlier reply, not about
       * this datagram. */
      if (errsv == EINTR || errsv == ECONNREFUSED)
        continue;
      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return NULL; /* nothing pending: not an error (server.h) */

      {
        g_autofree char *addr = ss_address_to_string (&self->server_address);
        g_autofree char *what = g_strdup_printf ("Could not receive a datagram on %s", addr);

        ss_set_error_from_errno (error, errsv, what, NULL);
      }
      return NULL;
    }
}

SsRequest *
ss__udp_server_get_request (SsServer *self, GError **error)
{
  gsize size = self->max_packet_size > 0 ? self->max_packet_size : SS_UDP_DEFAULT_MAX_PACKET_SIZE;

  if (size <= STACK_BUFFER_SIZE)
    {
      guint8 buf[STACK_BUFFER_SIZE];

      return receive_into (self, buf, size, error);
    }
  else
    {
      g_autofree guint8 *buf = g_malloc (size);

      return receive_into (self, buf, size, error);
    }
}

void
ss__udp_server_shutdown_request (SsServer *self, SsRequest *request)
{
  /* Python: "No need to shutdown anything." -- but still close_request,
   * so an override of it is called as in Python. */
  ss_server_close_request (self, request);
}

void
ss__udp_server_close_request (SsServer *self, SsRequest *request)
{
  (void) self;
  (void) request; /* the fd is the server's socket: never close it here */
}

const SsServerClass ss_udp_server_class = {
  .name = "UDPServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (SsServer),
  .address_family = AF_INET,
  .socket_type = SOCK_DGRAM,
  .server_bind = ss__tcp_server_server_bind,          /* TCPServer's */
  .server_activate = ss__udp_server_server_activate,
  .get_request = ss__udp_server_get_request,
  .shutdown_request = ss__udp_server_shutdown_request,
  .close_request = ss__udp_server_close_request,
  .server_close = ss__tcp_server_server_close,        /* TCPServer's */
  .fileno = ss__tcp_server_fileno,                    /* TCPServer's */
  SS__BASE_SERVER_BEHAVIOUR_SLOTS,
};

SsServer *
ss_udp_server_new (const char *address, const SsHandlerClass *handler_class,
                   SsStrategy *strategy, GError **error)
{
  return ss_server_new (&ss_udp_server_class, address, handler_class, strategy, TRUE, error);
}
