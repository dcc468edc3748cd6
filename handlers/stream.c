/* stream.c: StreamRequestHandler, rfile and wfile over a connected socket.
 *
 * Mirrors CPython's Lib/socketserver.py:
 *
 *     def setup(self):
 *         self.connection = self.request
 *         if self.timeout is not None:
 *             self.connection.settimeout(self.timeout)
 *         if self.disable_nagle_algorithm:
 *             self.connection.setsockopt(IPPROTO_TCP, TCP_NODELAY, True)
 *         self.rfile = self.connection.makefile('rb', self.rbufsize)
 *         self.wfile = _SocketWriter(...) if self.wbufsize == 0 else makefile('wb', ...)
 *
 *     def finish(self):
 *         if not self.wfile.closed:
 *             try:
 *                 self.wfile.flush()
 *             except socket.error:
 *                 pass   # e.g. a final ECONNABORTED
 *         self.wfile.close()
 *         self.rfile.close()
 *
 * The socket timeout becomes SO_RCVTIMEO and SO_SNDTIMEO (the socket stays
 * blocking, so every read and write waits at most that long). Closing the
 * files is dispose's job here, because dispose also runs when setup failed
 * half-way.
 */
#include "handlers-private.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

static gboolean
apply_timeout (SsStreamRequestHandler *self, double timeout, GError **error)
{
  struct timeval tv;

  tv.tv_sec = (time_t) timeout; /* timeout >= 0: truncation is floor */
  tv.tv_usec = (suseconds_t) ((timeout - (double) tv.tv_sec) * 1e6);
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    tv.tv_usec = 1; /* SO_RCVTIMEO 0 would mean "wait forever" */

  if (setsockopt (self->connection, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0
      || setsockopt (self->connection, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    {
      ss_set_error_from_errno (error, errno, "Setting the handler's socket timeout", NULL);
      return FALSE;
    }
  return TRUE;
}

/* TCP_NODELAY only means something for TCP; on a Unix stream socket it
 * would fail, so other families are left alone. */
static gboolean
apply_nodelay (SsStreamRequestHandler *self, GError **error)
{
  int domain = AF_UNSPEC;
  socklen_t len = sizeof domain;
  int one = 1;

  if (getsockopt (self->connection, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
    domain = ss_address_family (self->parent.client_address);
  if (domain != AF_INET && domain != AF_INET6)
    return TRUE;
  if (setsockopt (self->connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    {
      ss_set_error_from_errno (error, errno, "Disabling Nagle's algorithm (TCP_NODELAY)", NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss__stream_request_handler_setup (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  const SsHandlerClass *klass = handler->klass;
  double timeout = ss_handler_class_timeout (klass);
  gssize rbufsize = ss_handler_class_rbufsize (klass);
  gssize wbufsize = ss_handler_class_wbufsize (klass);

  self->connection = handler->request->fd;
  /* A run resumed from parking is on the socket its first run set up:
   * the options stay (up to three system calls per request saved). */
  if (!ss_request_resumed (handler->request))
    {
      if (timeout >= 0 && !apply_timeout (self, timeout, error))
        return FALSE;
      if (ss_handler_class_disable_nagle (klass) && !apply_nodelay (self, error))
        return FALSE;
    }
  /* rbufsize: < 0 the default buffer, 0 unbuffered (Python's raw socket
   * file: a read never takes more than asked, so a readline reads byte by
   * byte and leaves what follows the line in the socket), N bytes. */
  /* Over the request, so that a connection whose bytes go through a layer
   * (TLS) reads and writes through it. */
  self->rfile = ss_rfile_new_for_request (handler->request,
                                          rbufsize < 0 ? 0 : rbufsize == 0 ? 1 : (gsize) rbufsize);
  self->wfile = ss_wfile_new_for_request (handler->request, wbufsize > 0 ? (gsize) wbufsize : 0);
  return TRUE;
}

gboolean
ss__stream_request_handler_finish (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  GError *flush_error = NULL;

  /* As Python: a socket error on the final flush is swallowed. */
  if (self->wfile != NULL && !ss_wfile_flush (self->wfile, &flush_error))
    {
      g_debug ("%s.finish: final flush failed, ignored as Python does: %s",
               handler->klass->name, flush_error->message);
      g_error_free (flush_error);
    }
  return TRUE;
}

void
ss__stream_request_handler_dispose (SsRequestHandler *handler)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  g_clear_pointer (&self->wfile, ss_wfile_free);
  g_clear_pointer (&self->rfile, ss_rfile_free);
  ss_base_request_handler_class.dispose (handler); /* super() */
}

const SsHandlerClass ss_stream_request_handler_class = {
  .name = "StreamRequestHandler",
  .parent = &ss_base_request_handler_class,
  .instance_size = sizeof (SsStreamRequestHandler),
  .magic = SS_HANDLER_CLASS_MAGIC,
  .setup = ss__stream_request_handler_setup,
  .handle = ss__base_request_handler_handle,   /* BaseRequestHandler's: the user's class supplies it */
  .finish = ss__stream_request_handler_finish,
  .dispose = ss__stream_request_handler_dispose,
  /* Python's StreamRequestHandler class attributes. */
  .rbufsize = -1,
  .wbufsize = 0,
  .timeout = SS_TIMEOUT_NONE,
  .disable_nagle_algorithm = FALSE,
};
