/* ref-epoll.c: the practical ceiling for the benchmark's workload.
 *
 * One thread per core, each with its own listening socket (SO_REUSEPORT,
 * so the kernel spreads connections across them without a shared accept
 * lock) and its own epoll loop. A connection gets the packet with one
 * send() and is closed; only when the socket buffer cannot take it all
 * does the connection stay in the loop until EPOLLOUT. No library, no
 * hand-off: this is what a hand-written C server of this kind does.
 *
 * Usage: ref-epoll PORT [PACKET_SIZE] [THREADS]   (PORT 0 = a free port;
 * THREADS 0 or absent = one per online core).
 * REF_EPOLL_SHUTDOWN=1 in the environment: shutdown(SHUT_WR) before each
 * close after a sent reply, as Python's shutdown_request does (what that
 * one call costs an epoll server: bench/syscall-cost.sh).
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256

typedef struct {
  int fd;
  size_t sent;
} Conn;

static char *packet;
static size_t packet_size = 16384;
static int shutdown_first;

static int
listen_on (int port)
{
  int one = 1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (fd, SOMAXCONN) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Sends what is left; returns 1 done, 0 try later, -1 failed. */
static int
conn_send (Conn *c)
{
  while (c->sent < packet_size)
    {
      ssize_t n = send (c->fd, packet + c->sent, packet_size - c->sent, MSG_NOSIGNAL);
      if (n > 0)
        c->sent += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      else
        return -1;
    }
  return 1;
}

/* Closes a connection; after a sent reply, shut down first if asked. */
static void
conn_close (int fd, int sent)
{
  if (sent && shutdown_first)
    shutdown (fd, SHUT_WR);
  close (fd);
}

static void
accept_all (int ep, int lfd)
{
  for (;;)
    {
      int fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return; /* EAGAIN, or a transient failure: the next event retries */
      Conn c = { .fd = fd };
      int r = conn_send (&c);
      if (r != 0)
        {
          conn_close (fd, r > 0);
          continue;
        }
      Conn *slow = malloc (sizeof *slow);
      *slow = c;
      struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = slow };
      if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        {
          close (fd);
          free (slow);
        }
    }
}

static void *
loop_main (void *arg)
{
  int lfd = (int) (intptr_t) arg;
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, events[MAX_EVENTS];
  epoll_ctl (ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;)
    {
      int n = epoll_wait (ep, events, MAX_EVENTS, -1);
      for (int i = 0; i < n; i++)
        {
          Conn *c = events[i].data.ptr;
          if (c == NULL)
            {
              accept_all (ep, lfd);
              continue;
            }
          int r = conn_send (c);
          if (r != 0)
            {
              conn_close (c->fd, r > 0);
              free (c);
            }
        }
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  int port = argc > 1 ? atoi (argv[1]) : 0;
  if (argc > 2)
    packet_size = strtoul (argv[2], NULL, 10);
  long threads = argc > 3 ? atol (argv[3]) : 0;
  const char *shut = getenv ("REF_EPOLL_SHUTDOWN");
  shutdown_first = shut != NULL && strcmp (shut, "1") == 0;
  if (threads <= 0)
    threads = sysconf (_SC_NPROCESSORS_ONLN);
  packet = malloc (packet_size);
  memset (packet, 'x', packet_size);

  int first = listen_on (port);
  if (first < 0)
    {
      fprintf (stderr, "ref-epoll: cannot listen on 127.0.0.1 port %d: %s\n", port, strerror (errno));
      return 1;
    }
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  getsockname (first, (struct sockaddr *) &sin, &len);
  port = ntohs (sin.sin_port);

  pthread_t tid;
  for (long t = 1; t < threads; t++)
    {
      int fd = listen_on (port);
      if (fd < 0)
        {
          fprintf (stderr, "ref-epoll: second socket on port %d: %s\n", port, strerror (errno));
          return 1;
        }
      pthread_create (&tid, NULL, loop_main, (void *) (intptr_t) fd);
    }
  printf ("Serving on 127.0.0.1 port %d (epoll, %ld threads, SO_REUSEPORT%s)\n", port, threads,
          shutdown_first ? ", shutdown before close" : "");
  fflush (stdout);
  loop_main ((void *) (intptr_t) first);
  return 0;
}
