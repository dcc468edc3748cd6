/* datagram.c: DatagramRequestHandler, a packet in and one reply out.
 *
 * Mirrors CPython's Lib/socketserver.py:
 *
 *     def setup(self):
 *         from io import BytesIO
 *         self.packet, self.socket = self.request
 *         self.rfile = BytesIO(self.packet)
 *         self.wfile = BytesIO()
 *
 *     def finish(self):
 *         self.socket.sendto(self.wfile.getvalue(), self.client_address)
 *
 * so finish always sends exactly one datagram, empty if the handler wrote
 * nothing (a client waiting for an answer gets one). The packet belongs to
 * the request and the socket to the server: neither is freed here.
 */
#include "handlers-private.h"

#include <errno.h>
#include <sys/socket.h>

gboolean
ss__datagram_request_handler_setup (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;
  SsRequest *request = handler->request;

  self->packet = request->packet;
  self->packet_len = request->packet_len;
  self->socket = request->fd;
  self->rfile = ss_rfile_new_memory (self->packet, self->packet_len);
  self->wfile = ss_wfile_new_memory ();
  return TRUE;
}

gboolean
ss__datagram_request_handler_finish (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;
  const SsAddress *client = handler->client_address;
  const guint8 *data;
  gsize len;

  data = ss_wfile_memory_data (self->wfile, &len);
  for (;;)
    {
      ssize_t sent = sendto (self->socket, data, len, MSG_NOSIGNAL,
                             (const struct sockaddr *) &client->storage, client->len);
      int errsv;
      char *what;

      if (sent >= 0)
        return TRUE;
      errsv = errno;
      if (errsv == EINTR)
        continue;
      what = ss_address_to_string (client);
      g_set_error (error, SS_ERROR, ss_error_code_from_errno (errsv),
                   "Sending the %" G_GSIZE_FORMAT "-byte reply to %s: %s%s",
                   len, what, g_strerror (errsv),
                   errsv == EMSGSIZE ? " (the reply is too large for one datagram)" : "");
      g_free (what);
      return FALSE;
    }
}

void
ss__datagram_request_handler_dispose (SsRequestHandler *handler)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  g_clear_pointer (&self->wfile, ss_wfile_free);
  g_clear_pointer (&self->rfile, ss_rfile_free);
  ss_base_request_handler_class.dispose (handler); /* super() */
}

const SsHandlerClass ss_datagram_request_handler_class = {
  .name = "DatagramRequestHandler",
  .parent = &ss_base_request_handler_class,
  .instance_size = sizeof (SsDatagramRequestHandler),
  .setup = ss__datagram_request_handler_setup,
  .handle = ss__base_request_handler_handle,   /* BaseRequestHandler's: the user's class supplies it */
  .finish = ss__datagram_request_handler_finish,
  .dispose = ss__datagram_request_handler_dispose,
  /* Stream attributes mean nothing for a datagram: BaseRequestHandler's. */
  SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,
};
