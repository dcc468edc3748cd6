/* threaded-tcp-server: the Python documentation's ThreadingMixIn example.
 *
 * The socketserver docs' "Asynchronous Mixins" example, ported line by
 * line: a ThreadingTCPServer whose handler answers with the name of the
 * thread it runs in, the server's loop in a thread of its own, and three
 * clients in the same program.
 *
 *     import socket
 *     import threading
 *     import socketserver
 *
 *     class ThreadedTCPRequestHandler(socketserver.BaseRequestHandler):
 *
 *         def handle(self):
 *             data = str(self.request.recv(1024), 'ascii')
 *             cur_thread = threading.current_thread()
 *             response = bytes("{}: {}".format(cur_thread.name, data), 'ascii')
 *             self.request.sendall(response)
 *
 *     class ThreadedTCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
 *         pass
 *
 *     def client(ip, port, message):
 *         with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
 *             sock.connect((ip, port))
 *             sock.sendall(bytes(message, 'ascii'))
 *             response = str(sock.recv(1024), 'ascii')
 *             print("Received: {}".format(response))
 *
 *     if __name__ == "__main__":
 *         # Port 0 means to select an arbitrary unused port
 *         HOST, PORT = "localhost", 0
 *
 *         server = ThreadedTCPServer((HOST, PORT), ThreadedTCPRequestHandler)
 *         with server:
 *             ip, port = server.server_address
 *
 *             # Start a thread with the server -- that thread will then start one
 *             # more thread for each request
 *             server_thread = threading.Thread(target=server.serve_forever)
 *             # Exit the server thread when the main thread terminates
 *             server_thread.daemon = True
 *             server_thread.start()
 *             print("Server loop running in thread:", server_thread.name)
 *
 *             client(ip, port, "Hello World 1")
 *             client(ip, port, "Hello World 2")
 *             client(ip, port, "Hello World 3")
 *
 *             server.shutdown()
 *
 * What C does differently: threads have no names, so the program numbers
 * them as Python does ("Thread-1" is the first thread it starts after the
 * main one), through a thread-local name given on first use; and the
 * server's loop runs in a GThread that main joins after shutdown(), where
 * Python leaves a daemon thread to die with the process.
 *
 * Usage: threaded-tcp-server [HOST:PORT]   (default "localhost:0").
 * Prints what the Python program prints, and exits 0.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

/* threading.current_thread().name: "MainThread", then Thread-1, Thread-2,
 * ... in the order the threads first ask. */
static gint thread_counter;
static __thread char thread_name[32];
static const char *server_thread_name;  /* (atomic) set by the server's thread */

static const char *
current_thread_name (void)
{
  if (thread_name[0] == '\0')
    g_snprintf (thread_name, sizeof thread_name, "Thread-%d",
                g_atomic_int_add (&thread_counter, 1) + 1);
  return thread_name;
}

static gboolean
threaded_handle (SsRequestHandler *handler, GError **error)
{
  char data[1024 + 1];
  ssize_t n;
  g_autofree char *response = NULL;

  /* data = str(self.request.recv(1024), 'ascii') */
  do
    n = recv (handler->request->fd, data, 1024, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      ss_set_error_from_errno (error, errno, "recv from the client", NULL);
      return FALSE;
    }
  data[n] = '\0';
  response = g_strdup_printf ("%s: %s", current_thread_name (), data);
  return ss_sendall (handler->request->fd, response, strlen (response), error);
}

SS_DEFINE_HANDLER_CLASS (SsRequestHandler, threaded_handler_class,
                         ss_base_request_handler_class,
                         .handle = threaded_handle);

static void
client (const SsAddress *address, const char *message)
{
  int sock = socket (ss_address_family (address), SOCK_STREAM | SOCK_CLOEXEC, 0);
  char response[1024 + 1];
  ssize_t n;

  if (sock < 0 || connect (sock, (const struct sockaddr *) &address->storage, address->len) < 0
      || !ss_sendall (sock, message, strlen (message), NULL))
    {
      perror ("threaded-tcp-server: client");
      exit (1);
    }
  n = recv (sock, response, 1024, 0);
  response[MAX (n, 0)] = '\0';
  printf ("Received: %s\n", response);
  close (sock);
}

static gpointer
serve_forever_thread (gpointer server)
{
  GError *error = NULL;

  /* server_thread.name: the first thread named after the main one. */
  g_atomic_pointer_set (&server_thread_name, current_thread_name ());
  if (!ss_server_serve_forever (server, 0.5, &error))
    {
      fprintf (stderr, "threaded-tcp-server: %s\n", error->message);
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

  strcpy (thread_name, "MainThread");
  server = ss_threading_tcp_server_new (address, &threaded_handler_class, &error);
  if (server == NULL)
    {
      fprintf (stderr, "threaded-tcp-server: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  /* Start a thread with the server -- that thread will then start one
   * more thread for each request. */
  server_thread = g_thread_new ("server", serve_forever_thread, server);
  while (g_atomic_pointer_get (&server_thread_name) == NULL)
    g_usleep (1000);
  printf ("Server loop running in thread: %s\n", server_thread_name);

  client (&server->server_address, "Hello World 1");
  client (&server->server_address, "Hello World 2");
  client (&server->server_address, "Hello World 3");

  ss_server_shutdown (server);
  g_thread_join (server_thread);
  return 0;  /* with server: the g_autoptr closes it */
}
