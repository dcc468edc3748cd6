/* error.h: the GError domain of libsocketserver.
 *
 * Every runtime failure is reported as a GError in SS_ERROR whose message
 * names the address involved, the errno text and what to do about it.
 * Programmer misuse (NULL where a pointer is required) is caught with
 * g_return_val_if_fail instead.
 */
#pragma once

#include "api.h"

#include <glib.h>

G_BEGIN_DECLS

#define SS_ERROR (ss_error_quark ())

typedef enum {
  SS_ERROR_FAILED,           /* anything not listed below */
  SS_ERROR_INVALID_ADDRESS,  /* malformed address string, bad port, path too long */
  SS_ERROR_RESOLVE,          /* host name could not be resolved */
  SS_ERROR_ADDRESS_IN_USE,   /* EADDRINUSE, or a Unix path that exists and is not a socket */
  SS_ERROR_PERMISSION,       /* EACCES / EPERM */
  SS_ERROR_NOT_FOUND,        /* ENOENT: a directory of a Unix path does not exist */
  SS_ERROR_CLOSED,           /* the peer closed or reset the connection (EPIPE, ECONNRESET) */
  SS_ERROR_TIMED_OUT,        /* a socket timeout expired */
  SS_ERROR_INVALID_ARGUMENT, /* an option or parameter out of range */
  SS_ERROR_HANDLER,          /* a request handler reported a failure of its own */
  SS_ERROR_TRUNCATED,        /* a datagram was larger than max_packet_size */
  SS_ERROR_WOULD_BLOCK,      /* non-blocking socket: nothing pending (EAGAIN); not a failure */
  SS_ERROR_NO_RESOURCES,     /* EMFILE, ENFILE, ENOBUFS, ENOMEM: out of fds or memory; retry later */
  SS_ERROR_TLS,              /* TLS: a handshake refused or broken, a certificate or key unusable */
  SS_ERROR_NOT_SUPPORTED,    /* the library was built without what the call needs (TLS) */
} SsErrorCode;

SS_API GQuark ss_error_quark (void);

/* Maps an errno value to the closest SsErrorCode. */
SS_API SsErrorCode ss_error_code_from_errno (int errsv);

/* Sets @error from @errsv: "@what: <strerror>" plus an optional hint. */
SS_API void ss_set_error_from_errno (GError **error, int errsv, const char *what, const char *hint);

G_END_DECLS
