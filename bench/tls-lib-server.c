/* tls-lib-server: the same small TLS server over OpenSSL and over GnuTLS,
 * to choose the library libsocketserver's TLS layer is built on.
 *
 *   tls-lib-server openssl|gnutls CERT KEY [handshake|bulk] [THREADS]
 *
 * Prints "Serving on 127.0.0.1 port N" (a free port) and serves until
 * killed. THREADS threads (default 4) each block in accept() on the one
 * listening socket, then per connection: a full TLS 1.3 handshake (TLS 1.2
 * minimum, the library's default ciphers and groups, no session tickets so
 * every connection is a full handshake whatever the client), then
 *   handshake: a 128-byte response, close_notify, close;
 *   bulk:      64 KiB records until the client closes.
 * Both backends do exactly the same, so server CPU per handshake and per
 * byte compares the libraries and nothing else. No library of ours.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <gnutls/gnutls.h>

#define RESPONSE_SIZE 128
#define BULK_CHUNK 65536

static int listen_fd;
static int bulk;
static int use_gnutls;
static SSL_CTX *ossl_ctx;
static gnutls_certificate_credentials_t gt_creds;
static gnutls_priority_t gt_prio;
static char response[RESPONSE_SIZE];
static char chunk[BULK_CHUNK];

static void
serve_openssl (int fd)
{
  SSL *ssl = SSL_new (ossl_ctx);
  SSL_set_fd (ssl, fd);
  if (SSL_accept (ssl) == 1)
    {
      if (!bulk)
        {
          if (SSL_write (ssl, response, sizeof response) > 0)
            SSL_shutdown (ssl);
        }
      else
        while (SSL_write (ssl, chunk, sizeof chunk) > 0)
          ;
    }
  SSL_free (ssl);
  ERR_clear_error ();
}

static void
serve_gnutls (int fd)
{
  gnutls_session_t s;
  int ret;

  gnutls_init (&s, GNUTLS_SERVER | GNUTLS_NO_TICKETS);
  gnutls_priority_set (s, gt_prio);
  gnutls_credentials_set (s, GNUTLS_CRD_CERTIFICATE, gt_creds);
  gnutls_transport_set_int (s, fd);
  do
    ret = gnutls_handshake (s);
  while (ret < 0 && !gnutls_error_is_fatal (ret));
  if (ret == 0)
    {
      if (!bulk)
        {
          if (gnutls_record_send (s, response, sizeof response) > 0)
            gnutls_bye (s, GNUTLS_SHUT_WR);
        }
      else
        while (gnutls_record_send (s, chunk, sizeof chunk) > 0)
          ;
    }
  gnutls_deinit (s);
}

static void *
worker (void *arg)
{
  (void) arg;
  for (;;)
    {
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      if (use_gnutls)
        serve_gnutls (fd);
      else
        serve_openssl (fd);
      shutdown (fd, SHUT_WR);
      close (fd);
    }
  return NULL;
}

static void
setup_openssl (const char *cert, const char *key)
{
  ossl_ctx = SSL_CTX_new (TLS_server_method ());
  SSL_CTX_set_min_proto_version (ossl_ctx, TLS1_2_VERSION);
  SSL_CTX_set_num_tickets (ossl_ctx, 0);
  SSL_CTX_set_options (ossl_ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode (ossl_ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file (ossl_ctx, cert) != 1
      || SSL_CTX_use_PrivateKey_file (ossl_ctx, key, SSL_FILETYPE_PEM) != 1)
    {
      ERR_print_errors_fp (stderr);
      exit (1);
    }
}

static void
setup_gnutls (const char *cert, const char *key)
{
  int ret;

  gnutls_global_init ();
  gnutls_certificate_allocate_credentials (&gt_creds);
  ret = gnutls_certificate_set_x509_key_file (gt_creds, cert, key, GNUTLS_X509_FMT_PEM);
  if (ret < 0)
    {
      fprintf (stderr, "gnutls: %s\n", gnutls_strerror (ret));
      exit (1);
    }
  /* The library's defaults, TLS 1.2 and 1.3 only. */
  ret = gnutls_priority_init2 (&gt_prio, "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL,
                               GNUTLS_PRIORITY_INIT_DEF_APPEND);
  if (ret < 0)
    {
      fprintf (stderr, "gnutls priority: %s\n", gnutls_strerror (ret));
      exit (1);
    }
}

int
main (int argc, char **argv)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int one = 1, threads;

  if (argc < 4)
    {
      fprintf (stderr, "usage: %s openssl|gnutls CERT KEY [handshake|bulk] [THREADS]\n", argv[0]);
      return 2;
    }
  use_gnutls = strcmp (argv[1], "gnutls") == 0;
  bulk = argc > 4 && strcmp (argv[4], "bulk") == 0;
  threads = argc > 5 ? atoi (argv[5]) : 4;
  memset (response, 'r', sizeof response);
  memset (chunk, 'b', sizeof chunk);
  signal (SIGPIPE, SIG_IGN);
  if (use_gnutls)
    setup_gnutls (argv[2], argv[3]);
  else
    setup_openssl (argv[2], argv[3]);

  listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (listen_fd, 4096) < 0)
    {
      perror ("bind/listen");
      return 1;
    }
  getsockname (listen_fd, (struct sockaddr *) &addr, &len);
  printf ("Serving on 127.0.0.1 port %d\n", ntohs (addr.sin_port));
  fflush (stdout);
  for (int i = 1; i < threads; i++)
    {
      pthread_t t;
      pthread_create (&t, NULL, worker, NULL);
    }
  worker (NULL);
  return 0;
}
