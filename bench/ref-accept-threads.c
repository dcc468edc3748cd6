/* ref-accept-threads.c: N threads blocking in accept() on one socket.
 *
 * The fastest blocking design measured for this workload: each thread
 * accepts, sends the packet, closes and accepts again. No queue and no
 * hand-off, so no wake-up of a second thread per request; the kernel
 * wakes one waiter per connection (exclusive wait on the accept queue).
 *
 * Usage: ref-accept-threads PORT [PACKET_SIZE] [THREADS]  (default 16).
 * Prints "Serving on 127.0.0.1 port N" and serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *packet;
static size_t packet_size = 16384;
static int listen_fd;

static void
send_all (int fd)
{
  size_t sent = 0;
  while (sent < packet_size)
    {
      ssize_t n = send (fd, packet + sent, packet_size - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else
        return;
    }
}

static void *
acceptor_main (void *arg)
{
  (void) arg;
  for (;;)
    {
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE)
            usleep (10000);
          continue;
        }
      send_all (fd);
      close (fd);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  int one = 1;
  int port = argc > 1 ? atoi (argv[1]) : 0;
  if (argc > 2)
    packet_size = strtoul (argv[2], NULL, 10);
  long threads = argc > 3 ? atol (argv[3]) : 16;
  if (threads <= 0)
    threads = 16;
  packet = malloc (packet_size);
  memset (packet, 'x', packet_size);

  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (listen_fd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (listen_fd, SOMAXCONN) < 0)
    {
      fprintf (stderr, "ref-accept-threads: cannot listen on 127.0.0.1 port %d: %s\n", port, strerror (errno));
      return 1;
    }
  socklen_t len = sizeof sin;
  getsockname (listen_fd, (struct sockaddr *) &sin, &len);

  pthread_t tid;
  for (long t = 1; t < threads; t++)
    pthread_create (&tid, NULL, acceptor_main, NULL);
  printf ("Serving on 127.0.0.1 port %d (%ld threads in accept)\n", ntohs (sin.sin_port), threads);
  fflush (stdout);
  acceptor_main (NULL);
  return 0;
}
