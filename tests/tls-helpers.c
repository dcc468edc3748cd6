/* tls-helpers.c: see tls-helpers.h. */
#include "config.h"
#include "tls-helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct _TestTlsClient {
  int fd;
  gnutls_session_t session;
  gnutls_certificate_credentials_t creds;
};

static char *tls_dir;
static pid_t tls_dir_owner;

/* At the exit of the process that made it: check forks every test, and
 * those children exit too. */
static void
remove_tls_dir (void)
{
  GDir *dir;
  const char *name;

  if (getpid () != tls_dir_owner)
    return;
  dir = g_dir_open (tls_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tls_dir, name, NULL);

      g_unlink (path);
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_rmdir (tls_dir);
}

/* No ck_assert here: main() calls it before any test runs (and forks). */
const char *
test_tls_dir (void)
{
  if (tls_dir == NULL)
    {
      const char *srcdir = g_getenv ("SS_SRCDIR") != NULL ? g_getenv ("SS_SRCDIR") : "..";
      g_autofree char *script = g_build_filename (srcdir, "tests", "tls-certs.sh", NULL);
      char *dir = g_strdup ("/tmp/ss-tls-certs-XXXXXX");
      g_autofree char *command = NULL;
      int status;

      if (g_mkdtemp (dir) == NULL)
        g_error ("tls: could not make a temporary folder: %s", g_strerror (errno));
      command = g_strdup_printf ("sh '%s' '%s'", script, dir);
      status = system (command);
      if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
        {
          g_rmdir (dir);
          g_free (dir);
          return NULL;
        }
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        g_error ("tls: %s failed", command);
      tls_dir = dir;
      tls_dir_owner = getpid ();
      atexit (remove_tls_dir);
    }
  return tls_dir;
}

char *
test_tls_file (const char *name)
{
  return g_build_filename (test_tls_dir (), name, NULL);
}

SsTlsContext *
test_tls_context (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = test_tls_file ("server.pem");
  g_autofree char *key = test_tls_file ("server-key.pem");
  SsTlsContext *context = ss_tls_context_new (&error);

  ck_assert_msg (context != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ss_tls_context_load_cert_chain (context, cert, key, NULL, &error), "%s",
                 error ? error->message : "");
  return context;
}

TestTlsClient *
test_tls_connect_full (SsServer *server, const char *cert, const char *alpn, GError **error)
{
  TestTlsClient *c = g_new0 (TestTlsClient, 1);
  g_autofree char *ca = test_tls_file ("ca.pem");
  int ret;

  c->fd = test_connect (server);
  ck_assert_int_eq (gnutls_certificate_allocate_credentials (&c->creds), 0);
  ck_assert_int_gt (gnutls_certificate_set_x509_trust_file (c->creds, ca, GNUTLS_X509_FMT_PEM), 0);
  if (cert != NULL)
    {
      g_autofree char *name = g_strdup_printf ("%s.pem", cert);
      g_autofree char *key_name = g_strdup_printf ("%s-key.pem", cert);
      g_autofree char *cert_path = test_tls_file (name);
      g_autofree char *key_path = test_tls_file (key_name);

      ck_assert_int_eq (gnutls_certificate_set_x509_key_file (c->creds, cert_path, key_path,
                                                              GNUTLS_X509_FMT_PEM), 0);
    }
  ck_assert_int_eq (gnutls_init (&c->session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
  ck_assert_int_eq (gnutls_set_default_priority (c->session), 0);
  gnutls_credentials_set (c->session, GNUTLS_CRD_CERTIFICATE, c->creds);
  /* Over a Unix socket too: the certificate names localhost. */
  gnutls_session_set_verify_cert (c->session, "localhost", 0);
  if (alpn != NULL)
    {
      gnutls_datum_t proto = { (unsigned char *) alpn, (unsigned int) strlen (alpn) };

      gnutls_alpn_set_protocols (c->session, &proto, 1, 0);
    }
  gnutls_transport_set_int (c->session, c->fd);
  do
    ret = gnutls_handshake (c->session);
  while (ret < 0 && !gnutls_error_is_fatal (ret));
  if (ret < 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_TLS, "client handshake: %s", gnutls_strerror (ret));
      test_tls_close (c, TRUE);
      return NULL;
    }
  return c;
}

TestTlsClient *
test_tls_connect (SsServer *server)
{
  g_autoptr (GError) error = NULL;
  TestTlsClient *c = test_tls_connect_full (server, NULL, NULL, &error);

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  return c;
}

int
test_tls_fd (TestTlsClient *client)
{
  return client->fd;
}

void
test_tls_send (TestTlsClient *client, const void *data, gsize len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = gnutls_record_send (client->session, p, len);

      if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
        continue;
      ck_assert_msg (n > 0, "tls send: %s", gnutls_strerror ((int) n));
      p += n;
      len -= (gsize) n;
    }
}

GString *
test_tls_recv_all (TestTlsClient *client, gsize max, gboolean *clean)
{
  GString *out = g_string_new (NULL);
  char buf[16384];

  if (clean != NULL)
    *clean = FALSE;
  while (out->len < max)
    {
      ssize_t n = gnutls_record_recv (client->session, buf, MIN (sizeof buf, max - out->len));

      if (n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n == 0 && clean != NULL)
        *clean = TRUE;
      if (n <= 0)
        break;
      g_string_append_len (out, buf, n);
    }
  return out;
}

char *
test_tls_recv_line (TestTlsClient *client)
{
  GString *line = g_string_new (NULL);
  char c;

  for (;;)
    {
      ssize_t n = gnutls_record_recv (client->session, &c, 1);

      if (n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        break;
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }
  if (line->len == 0)
    {
      g_string_free (line, TRUE);
      return NULL;
    }
  return g_string_free (line, FALSE);
}

char *
test_tls_server_subject (TestTlsClient *client)
{
  unsigned int n = 0;
  const gnutls_datum_t *peers = gnutls_certificate_get_peers (client->session, &n);
  gnutls_x509_crt_t crt;
  gnutls_datum_t dn;
  char *subject;

  ck_assert_ptr_nonnull (peers);
  ck_assert_uint_gt (n, 0);
  ck_assert_int_eq (gnutls_x509_crt_init (&crt), 0);
  ck_assert_int_eq (gnutls_x509_crt_import (crt, &peers[0], GNUTLS_X509_FMT_DER), 0);
  ck_assert_int_eq (gnutls_x509_crt_get_dn3 (crt, &dn, 0), 0);
  subject = g_strndup ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  gnutls_x509_crt_deinit (crt);
  return subject;
}

void
test_tls_close (TestTlsClient *client, gboolean abrupt)
{
  if (client == NULL)
    return;
  if (!abrupt && client->session != NULL)
    gnutls_bye (client->session, GNUTLS_SHUT_WR);
  if (client->session != NULL)
    gnutls_deinit (client->session);
  gnutls_certificate_free_credentials (client->creds);
  close (client->fd);
  g_free (client);
}

void
test_tls_echo_once (SsServer *server, const char *line)
{
  TestTlsClient *c = test_tls_connect (server);
  char *got;

  test_tls_send (c, line, strlen (line));
  got = test_tls_recv_line (c);
  ck_assert_ptr_nonnull (got);
  ck_assert_str_eq (got, line);
  g_free (got);
  test_tls_close (c, FALSE);
}
