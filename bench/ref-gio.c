/* ref-gio.c: GLib's GThreadedSocketService serving the benchmark workload.
 *
 * What a GLib programmer writes: a GThreadedSocketService whose "run"
 * handler writes the packet with g_output_stream_write_all and closes the
 * connection. GIO accepts in the main loop and hands each connection to a
 * GThreadPool of at most max-threads threads. The listen backlog is raised
 * to SOMAXCONN (GIO's default is 10) so that every server in the
 * comparison has the same queue.
 *
 * Usage: ref-gio PORT [PACKET_SIZE] [--max-threads=N]
 *   N = -1 (default here: unlimited) or e.g. 10 (GIO's own default).
 * Prints "Serving on 127.0.0.1 port N" and serves until killed.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char *packet;
static gsize packet_size = 16384;

static gboolean
on_run (GThreadedSocketService *service, GSocketConnection *connection,
        GObject *source, gpointer user_data)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_output_stream_write_all (out, packet, packet_size, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

int
main (int argc, char **argv)
{
  int port = 0, max_threads = -1, positional = 0;
  g_autoptr (GError) error = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_has_prefix (argv[i], "--max-threads="))
        max_threads = atoi (argv[i] + strlen ("--max-threads="));
      else if (positional++ == 0)
        port = atoi (argv[i]);
      else
        packet_size = strtoul (argv[i], NULL, 10);
    }
  packet = g_malloc (packet_size);
  memset (packet, 'x', packet_size);

  GSocketService *service = g_threaded_socket_service_new (max_threads);
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), SOMAXCONN);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (loopback, (guint16) port);
  GSocketAddress *effective = NULL;
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      fprintf (stderr, "ref-gio: cannot listen on 127.0.0.1 port %d: %s\n", port, error->message);
      return 1;
    }
  g_signal_connect (service, "run", G_CALLBACK (on_run), NULL);
  g_socket_service_start (service);
  printf ("Serving on 127.0.0.1 port %u (GThreadedSocketService, max-threads %d)\n",
          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)), max_threads);
  fflush (stdout);

  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}
