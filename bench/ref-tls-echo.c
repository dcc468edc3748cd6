/* ref-tls-echo: the epoll TLS line-echo reference for BENCHMARKS.md (TLS).
 *
 *   ref-tls-echo CERT KEY [PORT]
 *
 * One thread, one epoll set, non-blocking sockets, GnuTLS with the same
 * settings as libsocketserver's TLS layer (the library's default priority,
 * TLS 1.2 minimum): each connection is handshaken, then every line it
 * sends is written back, until it closes. What an event-driven TLS server
 * costs per line, with no library of ours. Prints "Serving on 127.0.0.1
 * port N" (PORT 0 or none: a free port).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

typedef struct {
  int fd;
  gnutls_session_t session;
  int handshaken;
  char line[65536];
  size_t len;      /* bytes of the line read so far */
  size_t out;      /* non-zero: a complete line to write back */
  size_t sent;     /* of it, written */
} Conn;

static gnutls_certificate_credentials_t creds;
static gnutls_priority_t prio;

static void
conn_close (Conn *c)
{
  gnutls_deinit (c->session);
  close (c->fd);
  free (c);
}

/* Returns 0 to keep the connection, -1 to close it. */
static int
conn_run (Conn *c)
{
  for (;;)
    {
      ssize_t n;

      if (!c->handshaken)
        {
          int r = gnutls_handshake (c->session);

          if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            return 0;
          if (r < 0)
            return gnutls_error_is_fatal (r) ? -1 : 0;
          c->handshaken = 1;
        }
      if (c->out > 0)
        {
          /* On E_AGAIN the same call is made again when writable. */
          n = gnutls_record_send (c->session, c->line + c->sent, c->len - c->sent);
          if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            return 0;
          if (n < 0)
            return -1;
          c->sent += (size_t) n;
          if (c->sent < c->len)
            continue;
          c->out = c->len = c->sent = 0;
          continue;
        }
      n = gnutls_record_recv (c->session, c->line + c->len, sizeof c->line - c->len);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        return 0;
      if (n <= 0)
        return -1;
      c->len += (size_t) n;
      if (memchr (c->line + c->len - (size_t) n, '\n', (size_t) n) != NULL || c->len == sizeof c->line)
        c->out = c->len;
    }
}

int
main (int argc, char **argv)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof addr;
  struct epoll_event ev, events[256];
  int lfd, ep, one = 1, r;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s CERT KEY [PORT]\n", argv[0]);
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  gnutls_certificate_allocate_credentials (&creds);
  r = gnutls_certificate_set_x509_key_file (creds, argv[1], argv[2], GNUTLS_X509_FMT_PEM);
  if (r < 0 || gnutls_priority_init2 (&prio, "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL,
                                      GNUTLS_PRIORITY_INIT_DEF_APPEND) < 0)
    {
      fprintf (stderr, "ref-tls-echo: %s\n", gnutls_strerror (r));
      return 1;
    }
  addr.sin_port = htons (argc > 3 ? (uint16_t) atoi (argv[3]) : 0);
  lfd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (lfd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (lfd, 4096) < 0)
    {
      perror ("ref-tls-echo: bind/listen");
      return 1;
    }
  getsockname (lfd, (struct sockaddr *) &addr, &alen);
  printf ("Serving on 127.0.0.1 port %d\n", ntohs (addr.sin_port));
  fflush (stdout);
  ep = epoll_create1 (EPOLL_CLOEXEC);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL;
  epoll_ctl (ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;)
    {
      int n = epoll_wait (ep, events, 256, -1);

      for (int i = 0; i < n; i++)
        {
          Conn *c = events[i].data.ptr;

          if (c == NULL)
            {
              int fd;

              while ((fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                {
                  c = calloc (1, sizeof *c);
                  c->fd = fd;
                  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                  gnutls_init (&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
                  gnutls_priority_set (c->session, prio);
                  gnutls_credentials_set (c->session, GNUTLS_CRD_CERTIFICATE, creds);
                  gnutls_transport_set_int (c->session, fd);
                  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
                  ev.data.ptr = c;
                  epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev);
                }
              continue;
            }
          if (conn_run (c) < 0)
            conn_close (c);
        }
    }
}
