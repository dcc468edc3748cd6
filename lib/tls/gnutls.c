/* gnutls.c: the TLS backend on GnuTLS: a connection's session, the
 * handshake, close_notify and the I/O table of a TLS connection
 * (request.h's SsRequestIO) that rfile and wfile use; its reads and
 * writes are gnutls-io.c's, the credentials sessions are made from
 * gnutls-creds.c's.
 *
 * Why GnuTLS: on this kind of machine a full TLS 1.3 handshake with an
 * ECDSA P-256 certificate costs the server 1.3-1.5 x less CPU with GnuTLS
 * 3.7 than with OpenSSL 3.0, and bulk transfer the same (BENCHMARKS.md,
 * bench/tls-libs.sh); a TLS server's connection rate is its handshake cost.
 *
 * The handshake (io->start) runs in the thread that runs the request, on
 * the socket made non-blocking for it, against one deadline for the whole
 * handshake (a client trickling a byte at a time cannot stretch it). It
 * first peeks at the client's first byte: a TLS connection starts with a
 * handshake record (0x16), so anything else -- an HTTP request sent to
 * the TLS port -- is refused at once with a message saying so. After it
 * the socket is blocking again and the handler's SO_RCVTIMEO/SO_SNDTIMEO
 * apply to every read and write, as on a plain connection.
 *
 * With a strategy that parks connections (the thread pool), a connection
 * whose first byte has not arrived when its worker starts it is parked
 * instead, for the handshake timeout: it waits in the pool's poller and
 * takes a worker again only when the ClientHello arrives, so silent
 * clients hold no worker. Closed by that timeout, it is reported as a
 * client that sent nothing, as it is without parking.
 *
 * A client that closes without close_notify ends its stream (a debug
 * line), as Python's suppress_ragged_eofs. A write that fails part-way
 * leaves the TLS stream cut, so no close_notify follows it; otherwise
 * shutdown sends one without waiting (the socket non-blocking for it) and
 * TCPServer's shutdown_request then shuts the socket down.
 */
#include "tls/gnutls-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define TLS_HANDSHAKE_RECORD 0x16

/* ---------------------------------------------------------------- the handshake */

static gboolean
session_new (SsTlsConnection *conn, SsRequest *request, GError **error)
{
  gnutls_session_t session;
  SsTlsCreds *creds = ss__tls_context_current_creds (conn->context);

  if (creds == NULL)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_TLS, "The TLS context has no certificate");
      return FALSE;
    }
  if (gnutls_init (&session, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0)
    {
      ss__tls_creds_unref (creds);
      g_set_error_literal (error, SS_ERROR, SS_ERROR_NO_RESOURCES, "Out of memory for a TLS session");
      return FALSE;
    }
  conn->creds = creds;
  conn->session = session;
  gnutls_priority_set (session, creds->priority);
  gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, creds->cert);
  /* GnuTLS refuses a client without a certificate in REQUIRE mode; a
   * certificate the client does send is verified after the handshake
   * (verify_peer): GnuTLS's own check during it would also fail a client
   * that sent none in REQUEST mode. */
  if (creds->verify_mode != SS_TLS_CERT_NONE)
    gnutls_certificate_server_set_request (session, creds->verify_mode == SS_TLS_CERT_REQUIRED
                                                        ? GNUTLS_CERT_REQUIRE
                                                        : GNUTLS_CERT_REQUEST);
  if (creds->n_alpn > 0)
    gnutls_alpn_set_protocols (session, creds->alpn, creds->n_alpn, GNUTLS_ALPN_SERVER_PRECEDENCE);
  /* Reads through the read-ahead (ss__gnutls_pull); writes as GnuTLS's own
   * (ss__gnutls_vec_push); both without waiting while conn->nonblocking. */
  conn->fd = request->fd;
  conn->ahead = g_malloc (SS_GNUTLS_READ_AHEAD);
  gnutls_transport_set_ptr (session, conn);
  gnutls_transport_set_pull_function (session, ss__gnutls_pull);
  gnutls_transport_set_pull_timeout_function (session, ss__gnutls_pull_timeout);
  gnutls_transport_set_vec_push_function (session, ss__gnutls_vec_push);
  return TRUE;
}

/* Waits until @fd is ready for @events or the deadline passes: 1 ready,
 * 0 timed out, -1 error (errno). */
static int
wait_fd (int fd, short events, gint64 deadline_us)
{
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = events };
      gint64 left = deadline_us - g_get_monotonic_time ();
      int n;

      if (left <= 0)
        return 0;
      n = poll (&pfd, 1, (int) MIN ((left + 999) / 1000, G_MAXINT));
      if (n > 0)
        return 1;
      if (n == 0)
        continue; /* rounding: the loop re-checks the deadline */
      if (errno != EINTR)
        return -1;
    }
}

/* A TLS connection's first byte is a handshake record; say what it was
 * instead when it is not. Returns FALSE with @error then. */
static gboolean
check_first_byte (SsRequest *request, double timeout, gint64 deadline_us, GError **error)
{
  guint8 first[4];
  ssize_t n;

  /* Mostly the bytes are there (a parked connection runs when they come):
   * one peek, and a wait only when they are not. */
  do
    n = recv (request->fd, first, sizeof first, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
      int ready = wait_fd (request->fd, POLLIN, deadline_us);

      if (ready == 0)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_TIMED_OUT,
                       "TLS handshake: the client sent nothing for %g s (the handshake timeout); "
                       "closed", timeout);
          return FALSE;
        }
      do
        n = ready > 0 ? recv (request->fd, first, sizeof first, MSG_PEEK) : -1;
      while (n < 0 && errno == EINTR);
    }
  if (n < 0)
    {
      ss_set_error_from_errno (error, errno, "TLS handshake: reading from the client", NULL);
      return FALSE;
    }
  if (n == 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_CLOSED,
                           "TLS handshake: the client closed the connection without sending anything");
      return FALSE;
    }
  if (first[0] == TLS_HANDSHAKE_RECORD)
    return TRUE;
  if (g_ascii_isalpha (first[0]))
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "TLS handshake: the client sent plain text (\"%.*s...\": HTTP to the TLS "
                 "port?), not a TLS ClientHello; it must connect with TLS (https://)",
                 (int) n, (const char *) first);
  else
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "TLS handshake: the client's first byte is 0x%02x, not a TLS handshake record "
                 "(0x16): not a TLS client", first[0]);
  return FALSE;
}

/* The message for a handshake that failed with @ret. */
static void
set_handshake_error (GError **error, SsTlsConnection *conn, int ret, int errsv)
{
  gnutls_session_t session = session_of (conn);

  switch (ret)
    {
    case GNUTLS_E_PREMATURE_TERMINATION:
      g_set_error_literal (error, SS_ERROR, SS_ERROR_CLOSED,
                           "TLS handshake: the client closed the connection in the middle of it");
      return;
    case GNUTLS_E_PULL_ERROR:
    case GNUTLS_E_PUSH_ERROR:
      ss_set_error_from_errno (error, errsv, "TLS handshake: the connection failed", NULL);
      return;
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "TLS handshake: the client gave up with the alert \"%s\" (does it trust the "
                   "server's certificate, and is it for the name the client asked for?)",
                   gnutls_alert_get_name (gnutls_alert_get (session)));
      return;
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
      g_set_error_literal (error, SS_ERROR, SS_ERROR_TLS,
                           "TLS handshake: the client sent no certificate, and this server requires "
                           "one signed by its CA (SS_TLS_CERT_REQUIRED)");
      return;
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_CERTIFICATE_ERROR:
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "TLS handshake: the client's certificate was refused: %s", gnutls_strerror (ret));
      return;
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "TLS handshake: no protocol version or cipher in common with the client (%s); "
                   "it may offer only versions below the server's minimum", gnutls_strerror (ret));
      return;
    default:
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "TLS handshake failed: %s (a broken or truncated ClientHello, or not a TLS client)",
                   gnutls_strerror (ret));
      return;
    }
}

/* A client certificate, when one was sent, must chain to the CA file
 * (no host name to check for a client). FALSE with @error when not. */
static gboolean
verify_peer (SsTlsConnection *conn, GError **error)
{
  gnutls_session_t session = session_of (conn);
  unsigned int n_peers = 0, status = 0;
  gnutls_datum_t why = { NULL, 0 };
  int ret;

  if (conn->creds->verify_mode == SS_TLS_CERT_NONE
      || gnutls_certificate_get_peers (session, &n_peers) == NULL || n_peers == 0)
    return TRUE;
  ret = gnutls_certificate_verify_peers2 (session, &status);
  if (ret == 0 && status == 0)
    return TRUE;
  if (ret == 0)
    gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &why, 0);
  g_set_error (error, SS_ERROR, SS_ERROR_TLS,
               "TLS handshake: the client's certificate was refused: %s (it must be signed by "
               "the CA of the server's CA file)",
               why.data != NULL ? (const char *) why.data : gnutls_strerror (ret));
  gnutls_free (why.data);
  gnutls_alert_send (session, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
  conn->broken = TRUE;
  return FALSE;
}

/* What a handler may ask about its connection, kept once the handshake is done. */
static void
record_session_facts (SsTlsConnection *conn)
{
  gnutls_session_t session = session_of (conn);
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  gnutls_datum_t alpn;

  switch (gnutls_protocol_get_version (session))
    {
    case GNUTLS_TLS1_3: conn->version = "TLSv1.3"; break;
    case GNUTLS_TLS1_2: conn->version = "TLSv1.2"; break;
    default: conn->version = "TLS"; break;
    }
  if (gnutls_alpn_get_selected_protocol (session, &alpn) == 0)
    conn->alpn_protocol = g_strndup ((const char *) alpn.data, alpn.size);
  peers = gnutls_certificate_get_peers (session, &n_peers);
  if (peers != NULL && n_peers > 0)
    {
      gnutls_x509_crt_t crt;
      gnutls_datum_t dn = { NULL, 0 };

      if (gnutls_x509_crt_init (&crt) == 0)
        {
          if (gnutls_x509_crt_import (crt, &peers[0], GNUTLS_X509_FMT_DER) == 0
              && gnutls_x509_crt_get_dn3 (crt, &dn, 0) == 0)
            {
              conn->peer_subject = g_strndup ((const char *) dn.data, dn.size);
              gnutls_free (dn.data);
            }
          gnutls_x509_crt_deinit (crt);
        }
    }
}

static gboolean
run_handshake (SsRequest *request, SsTlsConnection *conn, GError **error)
{
  double timeout = conn->context->handshake_timeout;
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  gnutls_session_t session;

  if (!check_first_byte (request, timeout, deadline_us, error))
    return FALSE;
  if (conn->session == NULL && !session_new (conn, request, error))
    return FALSE;
  session = session_of (conn);
  for (;;)
    {
      int ret = gnutls_handshake (session);
      int errsv = errno;
      int ready;

      if (ret == 0)
        break;
      if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
        {
          if (!gnutls_error_is_fatal (ret))
            continue; /* a warning alert, say: go on */
          set_handshake_error (error, conn, ret, errsv);
          /* Tell the client why, if it still listens (non-blocking: never waits). */
          gnutls_alert_send_appropriate (session, ret);
          conn->broken = TRUE;
          return FALSE;
        }
      ready = wait_fd (request->fd, gnutls_record_get_direction (session) ? POLLOUT : POLLIN,
                       deadline_us);
      if (ready == 0)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_TIMED_OUT,
                       "TLS handshake: the client did not finish it within %g s (the handshake "
                       "timeout); closed", timeout);
          conn->broken = TRUE;
          return FALSE;
        }
      if (ready < 0)
        {
          ss_set_error_from_errno (error, errno, "TLS handshake: waiting for the client", NULL);
          conn->broken = TRUE;
          return FALSE;
        }
    }
  if (!verify_peer (conn, error))
    return FALSE;
  record_session_facts (conn);
  conn->handshaken = TRUE;
  return TRUE;
}

gboolean
ss__gnutls_start (SsRequest *request, GError **error)
{
  SsTlsConnection *conn = conn_of (request);
  gboolean ok;

  if (conn->handshaken)
    return TRUE; /* a parked connection run again */
  if (conn->broken)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_TLS, "The TLS handshake failed earlier");
      return FALSE;
    }
  /* Nothing from the client yet: wait in the strategy's poller, if it has
   * one, rather than in this worker (once; then the deadline runs here). */
  if (conn->parked_at_us == 0 && !ss__gnutls_socket_readable_now (request->fd)
      && ss_server_park_request (conn->server, request, conn->context->handshake_timeout))
    {
      conn->parked_at_us = g_get_monotonic_time ();
      return TRUE; /* run again when the client speaks */
    }
  /* Non-blocking for the handshake alone: one deadline for all of it. */
  conn->nonblocking = TRUE;
  ok = run_handshake (request, conn, error);
  conn->nonblocking = FALSE;
  return ok;
}

/* A connection parked before its first byte and shut down after the
 * handshake timeout: the strategy closed it for silence. Reported as it
 * is without parking (handle_error: a log line, counted). */
static void
report_silent (SsRequest *request, SsTlsConnection *conn)
{
  double timeout = conn->context->handshake_timeout;
  double waited = (g_get_monotonic_time () - conn->parked_at_us) / (double) G_USEC_PER_SEC;
  GError *error = NULL;

  if (waited < timeout * 0.9)
    return; /* closed because serving stops, not for silence */
  g_set_error (&error, SS_ERROR, SS_ERROR_TIMED_OUT,
               "TLS handshake: the client sent nothing for %g s (the handshake timeout); closed",
               timeout);
  ss_server_handle_error (conn->server, request, error);
  g_error_free (error);
}

static void
tls_shutdown (SsRequest *request)
{
  SsTlsConnection *conn = conn_of (request);

  if (!conn->handshaken && !conn->broken && conn->parked_at_us != 0)
    report_silent (request, conn);

  if (!conn->handshaken || conn->broken || request->fd < 0)
    return;
  /* close_notify without waiting: the socket is about to be shut down,
   * and a client that reads nothing must not hold this thread. */
  conn->nonblocking = TRUE;
  (void) gnutls_bye (session_of (conn), GNUTLS_SHUT_WR);
  conn->broken = TRUE; /* nothing more on this stream */
}

static void
tls_free (SsRequest *request)
{
  SsTlsConnection *conn = conn_of (request);

  if (conn == NULL)
    return;
  if (conn->session != NULL)
    gnutls_deinit (session_of (conn));
  ss__tls_creds_unref (conn->creds);
  ss_tls_context_unref (conn->context);
  g_free (conn->peer_subject);
  g_free (conn->alpn_protocol);
  g_free (conn->ahead);
  g_free (conn);
  request->io_data = NULL;
}

const SsRequestIO ss__tls_io = {
  .name = "tls",
  .start = ss__gnutls_start,
  .recv = ss__gnutls_recv,
  .send = ss__gnutls_send,
  .sendfile = NULL, /* no kernel TLS here (BENCHMARKS.md): ss_wfile_sendfile copies */
  .pending = ss__gnutls_pending,
  .shutdown = tls_shutdown,
  .free = tls_free,
  .fill_now = ss__gnutls_fill_now,
};
