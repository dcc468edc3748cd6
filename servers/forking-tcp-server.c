/* forking-tcp-server: the ThreadingMixIn example with ForkingMixIn.
 *
 * Python's socketserver documentation says of its "Asynchronous Mixins"
 * example that "the ForkingMixIn class is used in the same way, except
 * that the server will spawn a new process for each request" -- which is
 * how most forking socketservers in the wild are written. This is that
 * program: a ForkingTCPServer whose handler answers with the process it
 * runs in, the server's loop in a thread, three clients in the same
 * program, and the children reaped by the server:
 *
 *     import os, socket, threading, socketserver
 *
 *     class ForkedTCPRequestHandler(socketserver.BaseRequestHandler):
 *         def handle(self):
 *             data = str(self.request.recv(1024), 'ascii')
 *             response = bytes("{}: {}".format(os.getpid(), data), 'ascii')
 *             self.request.sendall(response)
 *
 *     class ForkedTCPServer(socketserver.ForkingMixIn, socketserver.TCPServer):
 *         pass
 *
 *     def client(ip, port, message):          # as in the threading example
 *         ...
 *             print("Received: {}".format(response))
 *
 *     if __name__ == "__main__":
 *         server = ForkedTCPServer(("localhost", 0), ForkedTCPRequestHandler)
 *         with server:
 *             ip, port = server.server_address
 *             server_thread = threading.Thread(target=server.serve_forever)
 *             server_thread.daemon = True
 *             server_thread.start()
 *             print("Server loop running in process:", os.getpid())
 *             client(ip, port, "Hello World 1")
 *             client(ip, port, "Hello World 2")
 *             client(ip, port, "Hello World 3")
 *             server.shutdown()
 *
 * What C does differently: nothing a porter has to think about -- the
 * child runs finish_request, shutdown_request and exits with 0 or 1
 * (forking.h), and server_close, run by the g_autoptr at the end, waits
 * for the children (block_on_close), as Python's `with server:` does.
 *
 * Usage: forking-tcp-server [HOST:PORT]   (default "localhost:0").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

static gboolean
forked_handle (SsRequestHandler *handler, GError **error)
{
  char data[1024 + 1];
  ssize_t n;
  g_autofree char *response = NULL;

  do
    n = recv (handler->request->fd, data, 1024, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      ss_set_error_from_errno (error, errno, "recv from the client", NULL);
      return FALSE;
    }
  data[n] = '\0';
  response = g_strdup_printf ("%d: %s", (int) getpid (), data);
  return ss_sendall (handler->request->fd, response, strlen (response), error);
}

SS_DEFINE_HANDLER_CLASS (SsRequestHandler, forked_handler_class,
                         ss_base_request_handler_class,
                         .handle = forked_handle);

static void
client (const SsAddress *address, const char *message)
{
  int sock = socket (ss_address_family (address), SOCK_STREAM | SOCK_CLOEXEC, 0);
  char response[1024 + 1];
  ssize_t n;

  if (sock < 0 || connect (sock, (const struct sockaddr *) &address->storage, address->len) < 0
      || !ss_sendall (sock, message, strlen (message), NULL))
    {
      perror ("forking-tcp-server: client");
      exit (1);
    }
  n = recv (sock, response, 1024, 0);
  response[MAX (n, 0)] = '\0';
  printf ("Received: %s\n", response);
  fflush (stdout);
  close (sock);
}

static gpointer
serve_forever_thread (gpointer server)
{
  GError *error = NULL;

  if (!ss_server_serve_forever (server, 0.5, &error))
    {
      fprintf (stderr, "forking-tcp-server: %s\n", error->message);
      g_error_free (error);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  const char *address = argc > 1 ? argv[1] : "localhost:0";
  GError *error = NULL;
  g_autoptr (SsServer) server = NULL;
  GThread *server_thread;

  server = ss_forking_tcp_server_new (address, &forked_handler_class, &error);
  if (server == NULL)
    {
      fprintf (stderr, "forking-tcp-server: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  server_thread = g_thread_new ("server", serve_forever_thread, server);
  printf ("Server loop running in process: %d\n", (int) getpid ());
  fflush (stdout);

  client (&server->server_address, "Hello World 1");
  client (&server->server_address, "Hello World 2");
  client (&server->server_address, "Hello World 3");

  ss_server_shutdown (server);
  g_thread_join (server_thread);
  return 0;  /* with server: the g_autoptr closes it, reaping the children */
}
