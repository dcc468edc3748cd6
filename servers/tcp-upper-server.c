/* tcp-upper-server: the Python documentation's TCP example, ported.
 *
 * It mirrors the socketserver docs' "socketserver.TCPServer Example", the
 * variant built on StreamRequestHandler:
 *
 *     import socketserver
 *
 *     class MyTCPHandler(socketserver.StreamRequestHandler):
 *
 *         def handle(self):
 *             # self.rfile is a file-like object created by the handler.
 *             # We can now use e.g. readline() instead of raw recv() calls.
 *             # We limit ourselves to 10000 bytes to avoid abuse by the sender.
 *             self.data = self.rfile.readline(10000).rstrip()
 *             print("{} wrote:".format(self.client_address[0]))
 *             print(self.data)
 *             # Likewise, self.wfile is a file-like object used to write back
 *             # to the client
 *             self.wfile.write(self.data.upper())
 *
 *     if __name__ == "__main__":
 *         HOST, PORT = "localhost", 9999
 *         with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
 *             server.serve_forever()
 *
 * Usage: tcp-upper-server [ADDRESS]   (default "localhost:9999"; tests pass
 * "127.0.0.1:0"). The first stdout line is the banner with the real port.
 * Unlike the Python program it also stops cleanly on SIGINT or SIGTERM.
 */
#include "config.h"

#include <stdio.h>
#include <socketserver/socketserver.h>

typedef struct {
  SsStreamRequestHandler base; /* the base, first member */
  GString *data;               /* self.data */
} MyTCPHandler;

/* bytes.rstrip() and bytes.upper(): ASCII only, as in Python. */
static void
rstrip (GString *s)
{
  while (s->len > 0 && g_ascii_isspace (s->str[s->len - 1]))
    g_string_truncate (s, s->len - 1);
}

static void
upper (GString *s)
{
  for (gsize i = 0; i < s->len; i++)
    s->str[i] = g_ascii_toupper (s->str[i]);
}

static gboolean
my_tcp_handle (SsRequestHandler *handler, GError **error)
{
  MyTCPHandler *self = (MyTCPHandler *) handler;
  char *host;
  char *shown;

  self->data = g_string_new (NULL);
  if (ss_rfile_readline (self->base.rfile, self->data, 10000, error) < 0)
    return FALSE;
  rstrip (self->data);

  host = ss_address_host_string (handler->client_address);
  shown = g_strescape (self->data->str, NULL);
  printf ("%s wrote:\n%s\n", host, shown);
  fflush (stdout);
  g_free (shown);
  g_free (host);

  upper (self->data);
  return ss_wfile_write (self->base.wfile, self->data->str, self->data->len, error);
}

static void
my_tcp_dispose (SsRequestHandler *handler)
{
  MyTCPHandler *self = (MyTCPHandler *) handler;

  if (self->data != NULL)
    g_string_free (self->data, TRUE);
  ss_stream_request_handler_class.dispose (handler); /* super() */
}

SS_DEFINE_HANDLER_CLASS (MyTCPHandler, my_tcp_handler_class,
                         ss_stream_request_handler_class,
                         .handle = my_tcp_handle,
                         .dispose = my_tcp_dispose);

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

  server = ss_tcp_server_new (address, &my_tcp_handler_class, NULL, &error);
  if (server == NULL)
    {
      fprintf (stderr, "tcp-upper-server: %s\n", error->message);
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
      fprintf (stderr, "tcp-upper-server: %s\n", error->message);
      g_error_free (error);
    }
  ss_server_free (server);
  return ok ? 0 : 1;
}
