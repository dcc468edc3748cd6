/* echo-client.c: the load of the keep-alive line echo benchmark.
 *
 * CONNECTIONS persistent connections, each sending a LINE-byte line (LINE-1
 * bytes then '\n') and waiting until exactly that line came back before
 * sending the next: round trips per second. A few threads, each an epoll
 * loop over its share of the connections, so on a 2-core machine the time
 * goes to the server. A reply that differs from what was sent, a reset or
 * an early EOF counts as an error (and the connection is not reopened).
 *
 * With IDLE > 0, that many more connections are opened first, each
 * exchanging one line and then staying open and silent for the whole run:
 * idle keep-alive clients beside the active ones.
 *
 * Usage: echo-client HOST PORT [CONNECTIONS=100] [LINE=64] [SECONDS=5] [THREADS=2] [IDLE=0]
 * Prints one line: "round_trips=N seconds=S rate=R errors=E".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  size_t got;
} Conn;

static struct sockaddr_in server;
static size_t line_len = 64;
static char *line;
static double seconds = 5;
static int n_conns = 100, n_threads = 2, n_idle = 0;

typedef struct {
  int first, count;
  unsigned long round_trips, errors;
} Share;

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
send_line (Conn *c)
{
  return send (c->fd, line, line_len, MSG_NOSIGNAL) == (ssize_t) line_len ? 0 : -1;
}

static void *
drive (void *data)
{
  Share *sh = data;
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  Conn *conns = calloc ((size_t) sh->count, sizeof *conns);
  char *buf = malloc (line_len);
  struct epoll_event evs[256];
  double end;

  for (int i = 0; i < sh->count; i++)
    {
      int one = 1;
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };

      conns[i].fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect (conns[i].fd, (struct sockaddr *) &server, sizeof server) < 0)
        {
          perror ("echo-client: connect");
          exit (1);
        }
      setsockopt (conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      epoll_ctl (ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }
  for (int i = 0; i < sh->count; i++)
    if (send_line (&conns[i]) < 0)
      sh->errors++;
  end = now () + seconds;
  while (now () < end)
    {
      int n = epoll_wait (ep, evs, 256, 100);

      for (int i = 0; i < n; i++)
        {
          Conn *c = evs[i].data.ptr;
          ssize_t got = recv (c->fd, buf + c->got, line_len - c->got, 0);

          if (got <= 0)
            {
              if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
              sh->errors++;
              epoll_ctl (ep, EPOLL_CTL_DEL, c->fd, NULL);
              continue;
            }
          c->got += (size_t) got;
          if (c->got < line_len)
            continue;
          c->got = 0;
          if (memcmp (buf, line, line_len) != 0)
            sh->errors++;
          sh->round_trips++;
          if (send_line (c) < 0)
            sh->errors++;
        }
    }
  for (int i = 0; i < sh->count; i++)
    close (conns[i].fd);
  free (conns);
  free (buf);
  return NULL;
}

/* A connection that exchanges one line, then stays open and silent. */
static int
open_idle (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char *buf = malloc (line_len);
  size_t got = 0;

  if (connect (fd, (struct sockaddr *) &server, sizeof server) < 0
      || send (fd, line, line_len, MSG_NOSIGNAL) != (ssize_t) line_len)
    {
      perror ("echo-client: idle connection");
      free (buf);
      return -1;
    }
  while (got < line_len)
    {
      ssize_t n = recv (fd, buf + got, line_len - got, 0);

      if (n <= 0)
        {
          perror ("echo-client: idle connection's echo");
          free (buf);
          return -1;
        }
      got += (size_t) n;
    }
  free (buf);
  return fd;
}

int
main (int argc, char **argv)
{
  int *idle_fds;
  pthread_t threads[64];
  Share shares[64];
  unsigned long total = 0, errors = 0;
  double start;

  if (argc < 3)
    {
      fprintf (stderr, "usage: echo-client HOST PORT [CONNECTIONS] [LINE] [SECONDS] [THREADS]\n");
      return 2;
    }
  server.sin_family = AF_INET;
  server.sin_port = htons ((uint16_t) atoi (argv[2]));
  if (inet_pton (AF_INET, argv[1], &server.sin_addr) != 1)
    {
      fprintf (stderr, "echo-client: %s is not an IPv4 address\n", argv[1]);
      return 2;
    }
  if (argc > 3)
    n_conns = atoi (argv[3]);
  if (argc > 4)
    line_len = (size_t) atoi (argv[4]);
  if (argc > 5)
    seconds = atof (argv[5]);
  if (argc > 6)
    n_threads = atoi (argv[6]);
  if (n_threads < 1 || n_threads > 64 || line_len < 2 || n_conns < n_threads)
    {
      fprintf (stderr, "echo-client: bad arguments\n");
      return 2;
    }
  if (argc > 7)
    n_idle = atoi (argv[7]);
  line = malloc (line_len);
  memset (line, 'e', line_len - 1);
  line[line_len - 1] = '\n';
  idle_fds = calloc ((size_t) n_idle + 1, sizeof *idle_fds);
  for (int i = 0; i < n_idle; i++)
    if ((idle_fds[i] = open_idle ()) < 0)
      return 1;
  start = now ();
  for (int t = 0; t < n_threads; t++)
    {
      shares[t] = (Share) { .first = t * n_conns / n_threads,
                            .count = (t + 1) * n_conns / n_threads - t * n_conns / n_threads };
      pthread_create (&threads[t], NULL, drive, &shares[t]);
    }
  for (int t = 0; t < n_threads; t++)
    {
      pthread_join (threads[t], NULL);
      total += shares[t].round_trips;
      errors += shares[t].errors;
    }
  printf ("round_trips=%lu seconds=%.2f rate=%.0f errors=%lu\n", total, now () - start,
          (double) total / seconds, errors);
  for (int i = 0; i < n_idle; i++)
    close (idle_fds[i]);
  return errors > 0 ? 1 : 0;
}
