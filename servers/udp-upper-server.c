/* udp-upper-server: the Python documentation's UDP example, ported.
 *
 * It mirrors the socketserver docs' "socketserver.UDPServer Example":
 *
 *     import socketserver
 *
 *     class MyUDPHandler(socketserver.BaseRequestHandler):
 *         """
 *         This class works similar to the TCP handler class, except that
 *         self.request consists of a pair of data and client socket, and since
 *         there is no connection the client address must be given explicitly
 *         when sending data back via sendto().
 *         """
 *
 *         def handle(self):
 *             data = self.request[0].strip()
 *             socket = self.request[1]
 *             print("{} wrote:".format(self.client_address[0]))
 *             print(data)
 *             socket.sendto(data.upper(), self.client_address)
 *
 *     if __name__ == "__main__":
 *         HOST, PORT = "localhost", 9999
 *         with socketserver.UDPServer((HOST, PORT), MyUDPHandler) as server:
 *             server.serve_forever()
 *
 * written on DatagramRequestHandler, the docs' other way to say the same:
 * the packet is read from rfile and the reply written to wfile, and the
 * base class's finish does the sendto(reply, client_address).
 *
 * Usage: udp-upper-server [ADDRESS]   (default "localhost:9999"; tests pass
 * "127.0.0.1:0"). The first stdout line is the banner with the real port.
 * Unlike the Python program it also stops cleanly on SIGINT or SIGTERM.
 */
#include "config.h"

#include <stdio.h>
#include <socketserver/socketserver.h>

typedef struct {
  SsDatagramRequestHandler base; /* the base, first member */
} MyUDPHandler;

/* bytes.strip() and bytes.upper(): ASCII only, as in Python. */
static void
strip (GByteArray *data)
{
  guint start = 0;

  while (data->len > 0 && g_ascii_isspace (data->data[data->len - 1]))
    data->len--;
  while (start < data->len && g_ascii_isspace (data->data[start]))
    start++;
  g_byte_array_remove_range (data, 0, start);
}

static void
upper (GByteArray *data)
{
  for (guint i = 0; i < data->len; i++)
    data->data[i] = (guint8) g_ascii_toupper ((char) data->data[i]);
}

static gboolean
my_udp_handle (SsRequestHandler *handler, GError **error)
{
  MyUDPHandler *self = (MyUDPHandler *) handler;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  char *host;
  char *text;
  char *shown;

  /* data = self.rfile.read().strip() */
  if (ss_rfile_read_all (self->base.rfile, data, self->base.packet_len, error) < 0)
    return FALSE;
  strip (data);

  host = ss_address_host_string (handler->client_address);
  text = g_strndup ((const char *) data->data, data->len);
  shown = g_strescape (text, NULL);
  printf ("%s wrote:\n%s\n", host, shown);
  fflush (stdout);
  g_free (shown);
  g_free (text);
  g_free (host);

  upper (data);
  return ss_wfile_write (self->base.wfile, data->data, data->len, error);
}

SS_DEFINE_HANDLER_CLASS (MyUDPHandler, my_udp_handler_class,
                         ss_datagram_request_handler_class,
                         .handle = my_udp_handle);

int
main (int argc, char **argv)
{
  const char *address = argc > 1 ? argv[1] : "localhost:9999";
  GError *error = NULL;
  SsServer *server;
  char *banner;
  gboolean ok;

  if (argc > 2)
    {
      fprintf (stderr, "usage: %s [HOST:PORT]\n", argv[0]);
      return 2;
    }

  server = ss_udp_server_new (address, &my_udp_handler_class, NULL, &error);
  if (server == NULL)
    {
      fprintf (stderr, "udp-upper-server: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  banner = ss_server_banner (server);
  printf ("%s\n", banner);
  fflush (stdout);
  g_free (banner);

  /* Python: server.serve_forever(), ended by Ctrl-C (or SIGTERM). */
  ok = ss_server_serve_until_signalled (server, 0.5, &error);
  if (!ok)
    {
      fprintf (stderr, "udp-upper-server: %s\n", error->message);
      g_error_free (error);
    }
  ss_server_free (server);
  return ok ? 0 : 1;
}
