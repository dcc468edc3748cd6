/* ref-thread-per-conn.c: one accepting thread, a new pthread per connection.
 *
 * The classic hand-written threaded server (and what Python's
 * ThreadingMixIn does): accept, pthread_create a detached thread that sends
 * the packet and closes, accept again. Every request pays a thread
 * creation and exit plus the wake-up of the new thread.
 *
 * Usage: ref-thread-per-conn PORT [PACKET_SIZE].
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

static void *
conn_main (void *arg)
{
  int fd = (int) (intptr_t) arg;
  size_t sent = 0;
  while (sent < packet_size)
    {
      ssize_t n = send (fd, packet + sent, packet_size - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else
        break;
    }
  close (fd);
  return NULL;
}

int
main (int argc, char **argv)
{
  int one = 1;
  int port = argc > 1 ? atoi (argv[1]) : 0;
  if (argc > 2)
    packet_size = strtoul (argv[2], NULL, 10);
  packet = malloc (packet_size);
  memset (packet, 'x', packet_size);

  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (lfd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (lfd, SOMAXCONN) < 0)
    {
      fprintf (stderr, "ref-thread-per-conn: cannot listen on 127.0.0.1 port %d: %s\n", port, strerror (errno));
      return 1;
    }
  socklen_t len = sizeof sin;
  getsockname (lfd, (struct sockaddr *) &sin, &len);

  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  printf ("Serving on 127.0.0.1 port %d (a pthread per connection)\n", ntohs (sin.sin_port));
  fflush (stdout);
  for (;;)
    {
      int fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE)
            usleep (10000);
          continue;
        }
      pthread_t tid;
      if (pthread_create (&tid, &attr, conn_main, (void *) (intptr_t) fd) != 0)
        conn_main ((void *) (intptr_t) fd); /* out of threads: serve inline */
    }
  return 0;
}
