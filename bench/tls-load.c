/* tls-load: a TLS load generator for the benchmarks in BENCHMARKS.md (TLS).
 *
 *   tls-load MODE HOST:PORT [-c CONNS] [-t THREADS] [-d SECONDS] [-b BYTES] [-l LINE]
 *
 * MODE
 *   handshake  each connection: connect, full TLS handshake (no session
 *              reuse), read to EOF (close_notify or FIN), close; repeat.
 *              Counts connections whose reply was complete (>= 1 byte).
 *   bulk       each connection: connect, handshake, read BYTES (default
 *              64 MiB) of what the server streams, close; repeat. Reports MB/s.
 *   echo       CONNS persistent connections, each sending a LINE-byte line
 *              (default 64, ending in '\n') and waiting for it back; round
 *              trips/s (the keep-alive line echo).
 *
 * THREADS (default 2) epoll loops share CONNS (default 100) non-blocking
 * connections. OpenSSL client, TLS 1.2 minimum, no certificate check (the
 * server's CPU is what is measured, not the client's trust store; the
 * CertificateVerify signature is still checked by the protocol).
 * Prints one line: "tls-load: mode=... ops=N ops/s=N MB/s=N errors=N".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { MODE_HANDSHAKE, MODE_BULK, MODE_ECHO };
enum { ST_CONNECTING, ST_HANDSHAKE, ST_WRITING, ST_READING };

typedef struct {
  int fd;
  SSL *ssl;
  int state;
  long got;      /* bytes read in this exchange */
  long sent;     /* echo: bytes of the line written */
} Conn;

typedef struct {
  int index;
  int nconns;
  long ops;
  long errors;
  long long bytes;
  pthread_t thread;
} Loop;

static int mode;
static struct sockaddr_in server;
static int n_conns = 100, n_threads = 2;
static double duration = 5;
static long bulk_bytes = 64L << 20;
static int line_len = 64;
static char *line;
static SSL_CTX *ctx;
static volatile int stop;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
conn_close (Conn *c)
{
  if (c->ssl != NULL)
    SSL_free (c->ssl);
  if (c->fd >= 0)
    close (c->fd);
  c->ssl = NULL;
  c->fd = -1;
  ERR_clear_error ();
}

static int
conn_open (int ep, Conn *c)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
  int one = 1;

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (c->fd, (struct sockaddr *) &server, sizeof server) < 0 && errno != EINPROGRESS)
    {
      close (c->fd);
      c->fd = -1;
      return -1;
    }
  c->ssl = SSL_new (ctx);
  SSL_set_fd (c->ssl, c->fd);
  SSL_set_connect_state (c->ssl);
  c->state = ST_CONNECTING;
  c->got = c->sent = 0;
  epoll_ctl (ep, EPOLL_CTL_ADD, c->fd, &ev);
  return 0;
}

/* Drives @c as far as it goes without blocking. Returns 0 to keep going
 * (waiting for an event), 1 when the exchange finished (reconnect in
 * handshake/bulk), -1 on error. */
static int
conn_step (Loop *loop, Conn *c)
{
  char buf[65536];

  for (;;)
    {
      int r, e;

      switch (c->state)
        {
        case ST_CONNECTING:
        case ST_HANDSHAKE:
          c->state = ST_HANDSHAKE;
          r = SSL_do_handshake (c->ssl);
          if (r == 1)
            {
              c->state = mode == MODE_ECHO ? ST_WRITING : ST_READING;
              continue;
            }
          e = SSL_get_error (c->ssl, r);
          return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;

        case ST_WRITING:
          r = SSL_write (c->ssl, line + c->sent, line_len - (int) c->sent);
          if (r > 0)
            {
              c->sent += r;
              if (c->sent == line_len)
                {
                  c->state = ST_READING;
                  c->got = 0;
                }
              continue;
            }
          e = SSL_get_error (c->ssl, r);
          return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;

        case ST_READING:
          r = SSL_read (c->ssl, buf, sizeof buf);
          if (r > 0)
            {
              c->got += r;
              loop->bytes += r;
              if (mode == MODE_BULK && c->got >= bulk_bytes)
                {
                  loop->ops++;
                  return 1;
                }
              if (mode == MODE_ECHO && c->got >= line_len)
                {
                  loop->ops++;
                  c->sent = 0;
                  c->state = ST_WRITING;
                }
              continue;
            }
          e = SSL_get_error (c->ssl, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
          if (mode == MODE_HANDSHAKE && c->got > 0
              && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL))
            {
              loop->ops++;
              return 1;
            }
          return -1;
        }
    }
}

static void *
loop_main (void *arg)
{
  Loop *loop = arg;
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  Conn *conns = calloc ((size_t) loop->nconns, sizeof *conns);
  struct epoll_event events[256];

  for (int i = 0; i < loop->nconns; i++)
    {
      conns[i].fd = -1;
      if (conn_open (ep, &conns[i]) < 0)
        loop->errors++;
    }
  while (!stop)
    {
      int n = epoll_wait (ep, events, 256, 100);
      for (int i = 0; i < n; i++)
        {
          Conn *c = events[i].data.ptr;
          int r = conn_step (loop, c);

          if (r == 0)
            continue;
          if (r < 0)
            loop->errors++;
          conn_close (c);
          if (!stop && conn_open (ep, c) < 0)
            loop->errors++;
        }
    }
  for (int i = 0; i < loop->nconns; i++)
    conn_close (&conns[i]);
  free (conns);
  close (ep);
  return NULL;
}

int
main (int argc, char **argv)
{
  Loop *loops;
  long ops = 0, errors = 0;
  long long bytes = 0;
  double start, elapsed;
  char host[64];
  int port, opt;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s handshake|bulk|echo HOST:PORT [-c N] [-t N] [-d S] [-b BYTES] [-l N]\n",
               argv[0]);
      return 2;
    }
  mode = strcmp (argv[1], "bulk") == 0 ? MODE_BULK : strcmp (argv[1], "echo") == 0 ? MODE_ECHO
                                                                                   : MODE_HANDSHAKE;
  if (sscanf (argv[2], "%63[^:]:%d", host, &port) != 2)
    return 2;
  optind = 3;
  while ((opt = getopt (argc, argv, "c:t:d:b:l:")) != -1)
    switch (opt)
      {
      case 'c': n_conns = atoi (optarg); break;
      case 't': n_threads = atoi (optarg); break;
      case 'd': duration = atof (optarg); break;
      case 'b': bulk_bytes = atol (optarg); break;
      case 'l': line_len = atoi (optarg); break;
      default: return 2;
      }
  if (n_threads > n_conns)
    n_threads = n_conns;
  line = malloc ((size_t) line_len);
  memset (line, 'e', (size_t) line_len);
  line[line_len - 1] = '\n';
  server.sin_family = AF_INET;
  server.sin_port = htons ((uint16_t) port);
  inet_pton (AF_INET, host, &server.sin_addr);
  signal (SIGPIPE, SIG_IGN);

  ctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);

  loops = calloc ((size_t) n_threads, sizeof *loops);
  start = now ();
  for (int i = 0; i < n_threads; i++)
    {
      loops[i].index = i;
      loops[i].nconns = n_conns / n_threads + (i < n_conns % n_threads);
      pthread_create (&loops[i].thread, NULL, loop_main, &loops[i]);
    }
  while (now () - start < duration)
    usleep (20000);
  stop = 1;
  elapsed = now () - start;
  for (int i = 0; i < n_threads; i++)
    {
      pthread_join (loops[i].thread, NULL);
      ops += loops[i].ops;
      errors += loops[i].errors;
      bytes += loops[i].bytes;
    }
  printf ("tls-load: mode=%s conns=%d threads=%d duration=%.1fs ops=%ld ops/s=%.0f MB/s=%.1f errors=%ld\n",
          argv[1], n_conns, n_threads, elapsed, ops, ops / elapsed, bytes / elapsed / 1e6, errors);
  SSL_CTX_free (ctx);
  free (loops);
  free (line);
  return ops > 0 ? 0 : 1;
}
