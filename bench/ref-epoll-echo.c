/* ref-epoll-echo.c: the ceiling for a keep-alive line echo.
 *
 * One thread per core, each with its own listening socket (SO_REUSEPORT)
 * and its own epoll loop over non-blocking connections: on input it reads
 * what is there and writes it straight back (a line echo needs nothing
 * more when every client sends a line and waits for it), keeping what the
 * socket buffer would not take until EPOLLOUT. No library, no hand-off:
 * what a hand-written C echo server does.
 *
 * Usage: ref-epoll-echo PORT [THREADS]   (PORT 0 = a free port; THREADS 0
 * or absent = one per online core). Prints "Serving on 127.0.0.1 port N"
 * and serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF_SIZE 16384

typedef struct {
  int fd;
  size_t pending;   /* bytes read and not yet written back */
  size_t sent;
  char buf[BUF_SIZE];
} Conn;

static int
listen_on (int port)
{
  int one = 1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
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

static void
conn_close (Conn *c)
{
  close (c->fd);
  free (c);
}

/* Writes back what is pending; 1 done, 0 wait for EPOLLOUT, -1 failed. */
static int
conn_flush (Conn *c)
{
  while (c->sent < c->pending)
    {
      ssize_t n = send (c->fd, c->buf + c->sent, c->pending - c->sent, MSG_NOSIGNAL);

      if (n > 0)
        c->sent += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return 0;
      else
        return -1;
    }
  c->pending = c->sent = 0;
  return 1;
}

static void *
loop (void *data)
{
  int lfd = *(int *) data;
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  struct epoll_event evs[MAX_EVENTS];

  epoll_ctl (ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;)
    {
      int n = epoll_wait (ep, evs, MAX_EVENTS, -1);

      for (int i = 0; i < n; i++)
        {
          Conn *c = evs[i].data.ptr;

          if (c == NULL)
            {
              int fd;

              while ((fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                {
                  Conn *nc = calloc (1, sizeof *nc);
                  struct epoll_event cev = { .events = EPOLLIN };

                  nc->fd = fd;
                  cev.data.ptr = nc;
                  epoll_ctl (ep, EPOLL_CTL_ADD, fd, &cev);
                }
              continue;
            }
          if (c->pending > 0)
            {
              int r = conn_flush (c);

              if (r < 0)
                conn_close (c);
              else if (r > 0)
                {
                  struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };

                  epoll_ctl (ep, EPOLL_CTL_MOD, c->fd, &cev);
                }
              continue;
            }
          for (;;)
            {
              ssize_t got = recv (c->fd, c->buf, sizeof c->buf, 0);
              int r;

              if (got < 0 && errno == EINTR)
                continue;
              if (got < 0 && errno == EAGAIN)
                break;
              if (got <= 0)
                {
                  conn_close (c);
                  break;
                }
              c->pending = (size_t) got;
              r = conn_flush (c);
              if (r < 0)
                {
                  conn_close (c);
                  break;
                }
              if (r == 0)
                {
                  struct epoll_event cev = { .events = EPOLLOUT, .data.ptr = c };

                  epoll_ctl (ep, EPOLL_CTL_MOD, c->fd, &cev);
                  break;
                }
            }
        }
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  int port = argc > 1 ? atoi (argv[1]) : 0;
  long threads = argc > 2 ? atol (argv[2]) : 0;
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int *fds;

  if (threads <= 0)
    threads = sysconf (_SC_NPROCESSORS_ONLN);
  fds = calloc ((size_t) threads, sizeof *fds);
  fds[0] = listen_on (port);
  if (fds[0] < 0 || getsockname (fds[0], (struct sockaddr *) &sin, &len) < 0)
    {
      perror ("ref-epoll-echo: listen");
      return 1;
    }
  for (long i = 1; i < threads; i++)
    if ((fds[i] = listen_on (ntohs (sin.sin_port))) < 0)
      {
        perror ("ref-epoll-echo: listen");
        return 1;
      }
  printf ("Serving on 127.0.0.1 port %d\n", ntohs (sin.sin_port));
  fflush (stdout);
  for (long i = 1; i < threads; i++)
    {
      pthread_t t;

      pthread_create (&t, NULL, loop, &fds[i]);
    }
  loop (&fds[0]);
  return 0;
}
