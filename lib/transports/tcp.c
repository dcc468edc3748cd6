/* tcp.c: TCPServer, the stream transport and the parent of the others.
 *
 * Python's UDPServer and UnixStreamServer inherit server_bind, fileno and
 * server_close from TCPServer, so these slots are written for any family
 * and socket type: the family comes from the parsed address (v4, v6 or a
 * path) and the type from the class chain. The listening socket is
 * non-blocking because the core waits for it with poll() and several pool
 * workers may accept on it at once: whoever loses the race must get
 * EAGAIN, not sleep in accept(). Accepted connections are blocking, which
 * is what handlers written in Python's style expect.
 *
 * server_bind stores the new fd in server->socket_fd before bind(), so a
 * failed bind is closed by server_close like any other socket: no path
 * of ours closes it twice or leaks it.
 */
#include "transports/transport-private.h"

#include <errno.h>
#include <unistd.h>

/* What to tell the user when bind() fails; NULL when we have nothing useful. */
static const char *
bind_hint (int family, int errsv)
{
  gboolean is_unix = family == AF_UNIX;

  switch (errsv)
    {
    case EADDRINUSE:
      return is_unix ? "A socket file already exists there: is another server running on it? "
                       "If not, remove the stale file, or choose another path"
                     : "Is another server running on it? Choose another port, or 0 for any free port";
    case EACCES:
    case EPERM:
      return is_unix ? "Choose a directory you may write to"
                     : "Ports below 1024 need root or CAP_NET_BIND_SERVICE: choose a port above 1023";
    case ENOENT:
      return "The directory does not exist: create it first or choose another path";
    case ENOTDIR:
      return "A component of the path is not a directory";
    case EADDRNOTAVAIL:
      return "This machine has no such address: use 127.0.0.1, 0.0.0.0, ::1 or one of its own addresses";
    case EROFS:
      return "The file system is read-only: choose another path";
    default:
      return NULL;
    }
}

static gboolean
set_flag (SsServer *self, int level, int option, const char *name, GError **error)
{
  int one = 1;

  if (setsockopt (self->socket_fd, level, option, &one, sizeof one) == 0)
    return TRUE;

  {
    int errsv = errno;
    g_autofree char *addr = ss_address_to_string (&self->server_address);
    g_autofree char *what = g_strdup_printf ("Could not set %s on the socket for %s", name, addr);

    ss_set_error_from_errno (error, errsv, what, NULL);
  }
  return FALSE;
}

gboolean
ss__tcp_server_server_bind (SsServer *self, GError **error)
{
  int family = ss_address_family (&self->server_address);
  gboolean inet = family == AF_INET || family == AF_INET6;
  int errsv;

  if (self->socket_fd < 0)
    {
      self->socket_fd = socket (family, ss__server_resolved_class (self)->socket_type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (self->socket_fd < 0)
        {
          g_autofree char *addr = ss_address_to_string (&self->server_address);
          g_autofree char *what = NULL;

          errsv = errno;
          what = g_strdup_printf ("Could not create a socket for %s", addr);
          ss_set_error_from_errno (error, errsv, what, NULL);
          return FALSE;
        }
    }

  /* Never on Unix sockets: the options mean nothing there (Python checks
   * the family the same way). */
  if (inet && self->allow_reuse_address && !set_flag (self, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", error))
    return FALSE;
  if (inet && self->allow_reuse_port && !set_flag (self, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", error))
    return FALSE;

  if (bind (self->socket_fd, (const struct sockaddr *) &self->server_address.storage,
            self->server_address.len) < 0)
    {
      g_autofree char *addr = ss_address_to_string (&self->server_address);
      g_autofree char *what = NULL;

      errsv = errno;
      what = g_strdup_printf ("Could not bind to %s", addr);
      ss_set_error_from_errno (error, errsv, what, bind_hint (family, errsv));
      return FALSE;
    }

  /* Python: self.server_address = self.socket.getsockname(), so port 0
   * becomes the port the kernel chose. */
  {
    SsAddress real = { .len = sizeof real.storage };

    if (getsockname (self->socket_fd, (struct sockaddr *) &real.storage, &real.len) == 0
        && real.len <= sizeof real.storage && (family != AF_UNIX || real.len > sizeof (sa_family_t)))
      self->server_address = real;
  }
  return TRUE;
}

gboolean
ss__tcp_server_server_activate (SsServer *self, GError **error)
{
  int backlog = self->request_queue_size > 0 ? self->request_queue_size : SOMAXCONN;

  if (listen (self->socket_fd, backlog) < 0)
    {
      int errsv = errno;
      g_autofree char *addr = ss_address_to_string (&self->server_address);
      g_autofree char *what = g_strdup_printf ("Could not listen on %s", addr);

      ss_set_error_from_errno (error, errsv, what, NULL);
      return FALSE;
    }
  return TRUE;
}

/* accept(2) on Linux passes on network errors of the new connection; the
 * man page says to treat them like EAGAIN and try again. */
static gboolean
accept_error_is_transient (int errsv)
{
  switch (errsv)
    {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EOPNOTSUPP:
#ifdef ENONET
    case ENONET:
#endif
      return TRUE;
    default:
      return FALSE;
    }
}

SsRequest *
ss__tcp_server_get_request (SsServer *self, GError **error)
{
  for (;;)
    {
      SsAddress client = { .len = sizeof client.storage };
      int fd, errsv;

      /* No SOCK_NONBLOCK: the connection is blocking, whatever the
       * listening socket is. */
      fd = accept4 (self->socket_fd, (struct sockaddr *) &client.storage, &client.len, SOCK_CLOEXEC);
      if (fd >= 0)
        {
          if (client.len > sizeof client.storage)
            client.len = sizeof client.storage;
          return ss__server_new_stream_request (self, fd, &client);
        }

      errsv = errno;
      if (accept_error_is_transient (errsv))
        continue;
      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return NULL; /* nothing pending: not an error (server.h) */

      {
        g_autofree char *addr = ss_address_to_string (&self->server_address);
        g_autofree char *what = g_strdup_printf ("Could not accept a connection on %s", addr);
        const char *hint = NULL;

        if (errsv == EMFILE || errsv == ENFILE)
          hint = "Out of file descriptors: raise the limit (ulimit -n) or lower the load";
        else if (errsv == ENOBUFS || errsv == ENOMEM)
          hint = "Out of memory for sockets: lower the load";
        ss_set_error_from_errno (error, errsv, what, hint);
      }
      return NULL;
    }
}

void
ss__tcp_server_shutdown_request (SsServer *self, SsRequest *request)
{
  /* Python: explicitly shutdown. socket.close() merely releases the
   * socket and waits for GC to perform the actual close. Errors (the
   * peer is gone: ENOTCONN) are ignored as Python ignores OSError.
   * A layer over the connection (TLS) ends its own stream first
   * (close_notify). */
  if (request->io != NULL && request->io->shutdown != NULL)
    request->io->shutdown (request);
  if (request->fd >= 0)
    (void) shutdown (request->fd, SHUT_WR);
  ss_server_close_request (self, request);
}

void
ss__tcp_server_close_request (SsServer *self, SsRequest *request)
{
  if (request->fd >= 0)
    {
      ss__server_running_closes (self, request->fd);
      close (request->fd);
      request->fd = -1;
    }
}

void
ss__tcp_server_server_close (SsServer *self)
{
  ss__server_close_socket (self);
}

int
ss__tcp_server_fileno (SsServer *self)
{
  return self->socket_fd;
}

const SsServerClass ss_tcp_server_class = {
  .name = "TCPServer",
  .parent = &ss_base_server_class,
  .instance_size = sizeof (SsServer),
  .address_family = AF_INET,
  .socket_type = SOCK_STREAM,
  .server_bind = ss__tcp_server_server_bind,
  .server_activate = ss__tcp_server_server_activate,
  .get_request = ss__tcp_server_get_request,
  .shutdown_request = ss__tcp_server_shutdown_request,
  .close_request = ss__tcp_server_close_request,
  .server_close = ss__tcp_server_server_close,
  .fileno = ss__tcp_server_fileno,
  SS__BASE_SERVER_BEHAVIOUR_SLOTS,
};

SsServer *
ss_tcp_server_new (const char *address, const SsHandlerClass *handler_class,
                   SsStrategy *strategy, GError **error)
{
  return ss_server_new (&ss_tcp_server_class, address, handler_class, strategy, TRUE, error);
}
