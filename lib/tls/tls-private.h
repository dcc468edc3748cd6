/* tls-private.h: what the files of lib/tls share.
 *
 * lib/tls is a layer over the stream transports, so it sits where they do
 * (transport-private.h: the public API, io/fd.h and the core calls a
 * transport may use). context.c is the library's own part: the context's
 * settings, reload, the server hook and the per-request accessors; the
 * TLS library's part, its credentials and the connection's I/O table, is
 * one backend file: gnutls.c, or none.c in a build without TLS.
 */
#pragma once

#include "transports/transport-private.h"

#include <pthread.h>

#include <socketserver/tls.h>

/* What a connection is made from, built by the backend from the settings
 * below and shared by every connection made from it (a reference each):
 * a reload builds new ones, old connections keep theirs. */
typedef struct _SsTlsCreds SsTlsCreds;

/* The settings a context was given, as the backend builds from them. */
typedef struct {
  const char *certfile;
  const char *keyfile;        /* NULL: the key is in certfile */
  const char *password;       /* NULL: the key is not encrypted */
  const char *cafile;         /* NULL: no client certificates verified */
  SsTlsVersion minimum_version;
  const char *const *alpn;    /* NULL-terminated, or NULL */
  SsTlsVerifyMode verify_mode;
} SsTlsSettings;

struct _SsTlsContext {
  gint refs;                  /* (atomic) */
  pthread_mutex_t lock;       /* guards current and every setting below */
  SsTlsCreds *current;        /* (lock) what new connections are made from; NULL until
                               * a certificate was loaded */
  char *certfile;             /* (lock) as given, for reload */
  char *keyfile;
  char *password;
  char *password_file;        /* when set, password is read from it at each (re)load */
  char *cafile;
  SsTlsVersion minimum_version;
  char **alpn;
  SsTlsVerifyMode verify_mode;
  double handshake_timeout;   /* (atomic-free: a double set before serving) */
};

/* One TLS connection: request->io_data of a request of a server with a
 * context. Made (without I/O) where the request is accepted; the backend
 * makes its session in io->start, in the thread that runs the request. */
typedef struct {
  SsServer *server;           /* the request's (it outlives its requests) */
  SsTlsContext *context;      /* a reference */
  SsTlsCreds *creds;          /* a reference, from start on */
  gpointer session;           /* the backend's */
  gboolean handshaken;        /* the handshake succeeded */
  gboolean broken;            /* a fatal error or a cut write: send no close_notify */
  gint64 parked_at_us;        /* parked before its first byte (monotonic), or 0 */
  char *peer_subject;         /* after the handshake: the client certificate's, or NULL */
  char *alpn_protocol;
  const char *version;        /* "TLSv1.3", static */
  /* The backend's read-ahead (gnutls-io.c), from start on: what one read
   * took off the socket past what the session asked for. */
  int fd;
  guint8 *ahead;
  guint ahead_pos;
  guint ahead_len;
  gboolean ahead_eof;         /* fill_now met the end of the stream: the next read says so */
  int ahead_errno;            /* fill_now met an error: the next read reports it */
  gboolean socket_drained;    /* the last read of the socket came back short: it held no more */
  gboolean nonblocking;       /* the handshake and close_notify: reads and writes never wait */
} SsTlsConnection;

/* The backend. */
extern const SsRequestIO ss__tls_io;
/* "GnuTLS 3.7.9", or NULL when built without TLS. */
const char *ss__tls_backend_version (void);
/* Builds credentials from @settings, reading the files now; NULL with
 * @error (SS_ERROR_TLS naming the file) when one is unusable. */
SsTlsCreds *ss__tls_creds_build (const SsTlsSettings *settings, GError **error);
/* Whether @cafile can be read and holds at least one certificate. */
gboolean ss__tls_check_ca_file (const char *cafile, GError **error);
SsTlsCreds *ss__tls_creds_ref (SsTlsCreds *creds);
void ss__tls_creds_unref (SsTlsCreds *creds);

/* context.c: the credentials new connections are made from now (a
 * reference: unref it), or NULL when none was loaded. */
SsTlsCreds *ss__tls_context_current_creds (SsTlsContext *context);

/* The error of a call made in a build without TLS. */
void ss__tls_set_not_built (GError **error);
