/* ref-fork-per-conn.c: one accepting process, a fork per connection.
 *
 * The classic pre-thread Unix server (and what Python's ForkingMixIn
 * does): accept, fork, the child sends the packet and exits, the parent
 * closes its copy of the socket and accepts again. SIGCHLD is ignored so
 * the kernel reaps the children; no waitpid bookkeeping on the hot path.
 *
 * Usage: ref-fork-per-conn PORT [PACKET_SIZE].
 * Prints "Serving on 127.0.0.1 port N" and serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *packet;
static size_t packet_size = 16384;

static void
serve_child (int fd)
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
        _exit (1);
    }
  close (fd);
  _exit (0);
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
  signal (SIGCHLD, SIG_IGN);

  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (lfd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (lfd, SOMAXCONN) < 0)
    {
      fprintf (stderr, "ref-fork-per-conn: cannot listen on 127.0.0.1 port %d: %s\n", port, strerror (errno));
      return 1;
    }
  socklen_t len = sizeof sin;
  getsockname (lfd, (struct sockaddr *) &sin, &len);
  printf ("Serving on 127.0.0.1 port %d (a fork per connection)\n", ntohs (sin.sin_port));
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
      pid_t pid = fork ();
      if (pid == 0)
        {
          close (lfd);
          serve_child (fd);
        }
      if (pid < 0)
        usleep (1000); /* out of processes: drop this one, back off */
      close (fd);
    }
  return 0;
}
