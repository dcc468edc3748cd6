/* gnutls-io.c: a TLS connection's reads and writes on GnuTLS (the
 * recv, send, pending and fill_now slots of gnutls.c's SsRequestIO).
 *
 * Reads go through a small read-ahead (ss__gnutls_pull): GnuTLS asks for
 * a record's header and then its body, and one recv(2) serves both. A
 * run resumed from parking asks whether its client spoke with one read
 * without waiting into it (ss__gnutls_fill_now), not a poll and then the
 * reads; and a last read that came back short tells the pool's poller
 * that the socket is empty, so parking again needs no re-arm (park.c).
 * Writes up to CORK_MAX go out corked: one send(2) for their records.
 */
#include "tls/gnutls-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#define CORK_MAX 65536

/* ---------------------------------------------------------------- the read-ahead */

static gsize
ahead_held (const SsTlsConnection *conn)
{
  return conn->ahead_len - conn->ahead_pos;
}

/* A recv(2) of @n that got @got: whether the socket is known empty. */
static void
note_socket_read (SsTlsConnection *conn, ssize_t got, gsize n)
{
  conn->socket_drained = got > 0 ? (gsize) got < n : got < 0 && errno == EAGAIN;
}

/* One read into the empty read-ahead, with @flags: what recv(2) returned. */
static ssize_t
fill_ahead (SsTlsConnection *conn, int flags)
{
  ssize_t got = recv (conn->fd, conn->ahead, SS_GNUTLS_READ_AHEAD, flags);

  note_socket_read (conn, got, SS_GNUTLS_READ_AHEAD);
  if (got > 0)
    {
      conn->ahead_pos = 0;
      conn->ahead_len = (guint) got;
    }
  return got;
}

/* The flags of a read or a write of @conn's socket: the socket itself is
 * always blocking (SO_RCVTIMEO and SO_SNDTIMEO apply to the requests'
 * reads and writes); the handshake and close_notify, which must never
 * wait in recv(2) or send(2), ask per call, rather than switching the
 * socket with two fcntl(2) calls each way. */
static int
io_flags (const SsTlsConnection *conn)
{
  return conn->nonblocking ? MSG_DONTWAIT : 0;
}

/* GnuTLS asks for a record's header, then for its body: served from one
 * read of up to SS_GNUTLS_READ_AHEAD, so a small record costs one
 * recv(2), not two. errno tells GnuTLS. */
ssize_t
ss__gnutls_pull (gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  SsTlsConnection *conn = ptr;
  ssize_t got;
  gsize n;

  if (ahead_held (conn) == 0)
    {
      if (conn->ahead_eof)
        {
          conn->ahead_eof = FALSE;
          return 0;
        }
      if (conn->ahead_errno != 0)
        {
          errno = conn->ahead_errno;
          conn->ahead_errno = 0;
          return -1;
        }
      if (len >= SS_GNUTLS_READ_AHEAD)
        {
          got = recv (conn->fd, data, len, io_flags (conn));
          note_socket_read (conn, got, len);
          return got;
        }
      got = fill_ahead (conn, io_flags (conn));
      if (got <= 0)
        return got;
    }
  n = MIN (len, ahead_held (conn));
  memcpy (data, conn->ahead + conn->ahead_pos, n);
  conn->ahead_pos += (guint) n;
  return (ssize_t) n;
}

/* GnuTLS's writes: its own default's sendmsg(2), never raising SIGPIPE,
 * with io_flags. */
ssize_t
ss__gnutls_vec_push (gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
  SsTlsConnection *conn = ptr;
  struct msghdr msg = { .msg_iov = (struct iovec *) iov, .msg_iovlen = (size_t) iovcnt };

  return sendmsg (conn->fd, &msg, MSG_NOSIGNAL | io_flags (conn));
}

/* GnuTLS waits for the socket through this when a read has a timeout. */
int
ss__gnutls_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  SsTlsConnection *conn = ptr;
  struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
  int n;

  if (ahead_held (conn) > 0 || conn->ahead_eof || conn->ahead_errno != 0)
    return 1;
  /* EINTR is retried, as GnuTLS's own does: an error here is fatal. */
  do
    n = poll (&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int) MIN (ms, G_MAXINT));
  while (n < 0 && errno == EINTR);
  return n;
}

gboolean
ss__gnutls_socket_readable_now (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int n;

  do
    n = poll (&pfd, 1, 0);
  while (n < 0 && errno == EINTR);
  return n != 0;
}

/* ---------------------------------------------------------------- reading and writing */

gssize
ss__gnutls_recv (SsRequest *request, void *buf, gsize n, GError **error)
{
  SsTlsConnection *conn = conn_of (request);

  if (!conn->handshaken && !ss__gnutls_start (request, error))
    return -1;
  for (;;)
    {
      ssize_t got = gnutls_record_recv (session_of (conn), buf, n);
      int errsv = errno;

      /* Known empty: the pool's poller need not be re-armed (park.c). */
      request->drained = conn->socket_drained && ahead_held (conn) == 0
                         && gnutls_record_check_pending (session_of (conn)) == 0;
      if (got >= 0)
        return got; /* 0: close_notify, the end of the stream */
      switch (got)
        {
        case GNUTLS_E_INTERRUPTED:
        case GNUTLS_E_WARNING_ALERT_RECEIVED:
          continue;
        case GNUTLS_E_REHANDSHAKE:
          /* TLS 1.2 renegotiation asked for: refused, the stream goes on. */
          gnutls_alert_send (session_of (conn), GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
          continue;
        case GNUTLS_E_AGAIN:
          ss__set_recv_error (error, EAGAIN, request->fd);
          return -1;
        case GNUTLS_E_PREMATURE_TERMINATION:
          {
            g_autofree char *who = ss_address_to_string (&request->client_address);

            g_debug ("TLS: %s closed the connection without close_notify: the end of its stream",
                     who);
          }
          return 0;
        case GNUTLS_E_PULL_ERROR:
          conn->broken = TRUE;
          ss__set_recv_error (error, errsv, request->fd);
          return -1;
        default:
          if (!gnutls_error_is_fatal ((int) got))
            continue;
          conn->broken = TRUE;
          g_set_error (error, SS_ERROR, SS_ERROR_TLS, "Reading from the client over TLS: %s",
                       gnutls_strerror ((int) got));
          return -1;
        }
    }
}

/* A write that failed with @ret cuts the stream (no close_notify after
 * it): a timeout (SO_SNDTIMEO) or a socket error as wfile reports them. */
static void
set_write_error (SsRequest *request, SsTlsConnection *conn, int ret, int errsv, gsize sent,
                 gsize total, GError **error)
{
  conn->broken = TRUE;
  if (ret == GNUTLS_E_AGAIN)
    ss__set_send_error (error, EAGAIN, request->fd, sent, total);
  else if (ret == GNUTLS_E_PUSH_ERROR)
    ss__set_send_error (error, errsv, request->fd, sent, total);
  else
    g_set_error (error, SS_ERROR, SS_ERROR_TLS, "Writing to the client over TLS: %s",
                 gnutls_strerror (ret));
}

/* Sends @len bytes (all, or corked); on failure the stream is cut. */
static gboolean
send_all (SsRequest *request, SsTlsConnection *conn, const guint8 *p, gsize len, gsize *sent,
          gsize total, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = gnutls_record_send (session_of (conn), p + done, len - done);
      int errsv = errno;

      if (n >= 0)
        {
          done += (gsize) n;
          continue;
        }
      if (n == GNUTLS_E_INTERRUPTED)
        continue;
      set_write_error (request, conn, (int) n, errsv, *sent + done, total, error);
      return FALSE;
    }
  *sent += done;
  return TRUE;
}

/* Sends what a corked session holds; errors as send_all. */
static gboolean
uncork (SsRequest *request, SsTlsConnection *conn, gsize total, GError **error)
{
  gnutls_session_t session = session_of (conn);

  while (gnutls_record_check_corked (session) > 0)
    {
      ssize_t n = gnutls_record_uncork (session, 0);
      int errsv = errno;

      if (n >= 0 || n == GNUTLS_E_INTERRUPTED)
        continue;
      set_write_error (request, conn, (int) n, errsv, 0, total, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss__gnutls_send (SsRequest *request, const void *a, gsize a_len, const void *b, gsize b_len,
          gboolean more, GError **error)
{
  SsTlsConnection *conn = conn_of (request);
  gsize total = a_len + b_len;
  gsize sent = 0;
  gboolean corked;

  if (!conn->handshaken && !ss__gnutls_start (request, error))
    return FALSE;
  if (conn->broken)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_CLOSED,
                           "Writing to the client over TLS: the stream was cut by an earlier error");
      return FALSE;
    }
  /* Two pieces, or one of several records: their records leave in one
   * send(2) (GnuTLS copies what is corked, so only up to CORK_MAX). */
  corked = total > 0 && total <= CORK_MAX && (b_len > 0 || total > 16384);
  if (corked)
    gnutls_record_cork (session_of (conn));
  if (!send_all (request, conn, a, a_len, &sent, total, error)
      || !send_all (request, conn, b, b_len, &sent, total, error))
    {
      if (corked)
        gnutls_record_discard_queued (session_of (conn));
      return FALSE;
    }
  return !corked || uncork (request, conn, total, error);
}

gsize
ss__gnutls_pending (SsRequest *request)
{
  SsTlsConnection *conn = conn_of (request);

  return conn->session != NULL ? gnutls_record_check_pending (session_of (conn)) + ahead_held (conn)
                               : 0;
}

/* A resumed run asks whether its client spoke: one read without waiting
 * into the read-ahead answers, and the record's read that follows costs
 * no system call. Before the handshake, a poll (its first bytes are
 * read by it). */
gboolean
ss__gnutls_fill_now (SsRequest *request)
{
  SsTlsConnection *conn = conn_of (request);
  ssize_t got;

  if (conn->session == NULL || !conn->handshaken)
    return ss__gnutls_socket_readable_now (request->fd);
  if (ss__gnutls_pending (request) > 0 || conn->ahead_eof || conn->ahead_errno != 0)
    return TRUE;
  do
    got = fill_ahead (conn, MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  if (got > 0)
    return TRUE;
  if (got == 0)
    conn->ahead_eof = TRUE;
  else if (errno == EAGAIN || errno == EWOULDBLOCK)
    {
      request->drained = TRUE;
      return FALSE;
    }
  else
    conn->ahead_errno = errno;
  return TRUE;
}

