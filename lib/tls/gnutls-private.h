/* gnutls-private.h: what the GnuTLS files of lib/tls share: the
 * credentials (gnutls-creds.c builds them, gnutls.c makes sessions from
 * them) and a connection's I/O (gnutls-io.c reads and writes, gnutls.c
 * starts the session and holds the I/O table).
 */
#pragma once

#include "tls/tls-private.h"

#include <gnutls/gnutls.h>

struct _SsTlsCreds {
  gint refs;  /* (atomic) */
  gnutls_certificate_credentials_t cert;
  gnutls_priority_t priority;
  gnutls_datum_t *alpn;
  guint n_alpn;
  SsTlsVerifyMode verify_mode;
};

static inline SsTlsConnection *
conn_of (SsRequest *request)
{
  return request->io_data;
}

static inline gnutls_session_t
session_of (SsTlsConnection *conn)
{
  return conn->session;
}

/* One read of the socket takes up to this much: a small record's header
 * and body, asked for by GnuTLS one after the other, in one recv(2). */
#define SS_GNUTLS_READ_AHEAD 4096

/* gnutls.c: the handshake, run by the first read (or write) of a
 * connection; parks a connection whose client has not spoken yet. */
gboolean ss__gnutls_start (SsRequest *request, GError **error);

/* gnutls-io.c: the session's transport (reads through the read-ahead),
 * and the SsRequestIO slots. */
ssize_t ss__gnutls_pull (gnutls_transport_ptr_t ptr, void *data, size_t len);
int ss__gnutls_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms);
ssize_t ss__gnutls_vec_push (gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt);
gboolean ss__gnutls_socket_readable_now (int fd);
gssize ss__gnutls_recv (SsRequest *request, void *buf, gsize n, GError **error);
gboolean ss__gnutls_send (SsRequest *request, const void *a, gsize a_len, const void *b,
                          gsize b_len, gboolean more, GError **error);
gsize ss__gnutls_pending (SsRequest *request);
gboolean ss__gnutls_fill_now (SsRequest *request);
