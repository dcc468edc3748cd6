/* echo.c: the ready-made echo handlers that ss-echo and the tests use.
 *
 * The stream echo is Python's
 *
 *     class EchoHandler(StreamRequestHandler):
 *         def handle(self):
 *             while line := self.rfile.readline(65536):
 *                 self.wfile.write(line)
 *
 * The limit is what keeps memory bounded: a line longer than 64 KiB is
 * echoed in 64 KiB pieces as it arrives, never collected whole. The
 * parking variant gives its worker back between lines (ss-echo
 * --park-idle). The datagram echo writes the packet to wfile, which
 * DatagramRequestHandler's finish sends back to the client.
 */
#include "handlers-private.h"

/* Echoes line after line until the client closes its side. With @park,
 * whenever the client has nothing for us to read -- before the first line
 * (a client that connects and waits holds no worker) and after each echo
 * -- the connection is parked where the strategy can (the thread pool),
 * to be run again when the client speaks. */
static gboolean
echo_lines (SsRequestHandler *handler, gboolean park, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = NULL;

  for (;;)
    {
      gssize got;

      if (park && ss_rfile_worth_parking (self->rfile)
          && ss_server_park_request (handler->server, handler->request, -1))
        return TRUE;
      if (line == NULL)
        line = g_string_sized_new (256);
      g_string_truncate (line, 0);
      got = ss_rfile_readline (self->rfile, line, SS_ECHO_LINE_LIMIT, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        return TRUE; /* the client closed its side */
      if (!ss_wfile_write (self->wfile, line->str, line->len, error))
        return FALSE;
    }
}

static gboolean
stream_echo_handle (SsRequestHandler *handler, GError **error)
{
  return echo_lines (handler, FALSE, error);
}

const SsHandlerClass ss_stream_echo_handler_class = {
  .name = "StreamEchoHandler",
  .parent = &ss_stream_request_handler_class,
  .instance_size = sizeof (SsStreamRequestHandler),
  .setup = ss__stream_request_handler_setup,
  .handle = stream_echo_handle,
  .finish = ss__stream_request_handler_finish,
  .dispose = ss__stream_request_handler_dispose,
  SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,
};

static gboolean
stream_echo_parking_handle (SsRequestHandler *handler, GError **error)
{
  return echo_lines (handler, TRUE, error);
}

const SsHandlerClass ss_stream_echo_parking_handler_class = {
  .name = "StreamEchoParkingHandler",
  .parent = &ss_stream_echo_handler_class,
  .instance_size = sizeof (SsStreamRequestHandler),
  .setup = ss__stream_request_handler_setup,
  .handle = stream_echo_parking_handle,
  .finish = ss__stream_request_handler_finish,
  .dispose = ss__stream_request_handler_dispose,
  SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,
};

static gboolean
datagram_echo_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  return ss_wfile_write (self->wfile, self->packet, self->packet_len, error);
}

const SsHandlerClass ss_datagram_echo_handler_class = {
  .name = "DatagramEchoHandler",
  .parent = &ss_datagram_request_handler_class,
  .instance_size = sizeof (SsDatagramRequestHandler),
  .setup = ss__datagram_request_handler_setup,
  .handle = datagram_echo_handle,
  .finish = ss__datagram_request_handler_finish,
  .dispose = ss__datagram_request_handler_dispose,
  SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,
};
