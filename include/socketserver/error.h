/**
 * SECTION:error
 * @title: error.h
 * @short_description: the GError domain of libsocketserver
 * @include: socketserver/socketserver.h
 *
 * Every runtime failure is reported as a #GError in %SS_ERROR whose message
 * names the address involved, the errno text and what to do about it
 * ("WHAT: the errno text. WHAT TO DO."). Programmer misuse (NULL where a
 * pointer is required) is caught with g_return_val_if_fail() instead.
 *
 * Python raises OSError (and its subclasses) where these functions return
 * FALSE or NULL with a #GError set; the codes below stand for the
 * subclasses (ConnectionResetError is %SS_ERROR_CLOSED, TimeoutError
 * %SS_ERROR_TIMED_OUT, and so on).
 */
#pragma once

#include "api.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * SS_ERROR:
 *
 * The error domain of every #GError the library sets: ss_error_quark().
 * The codes are #SsErrorCode.
 */
#define SS_ERROR (ss_error_quark ())

/**
 * SsErrorCode:
 * @SS_ERROR_FAILED: anything not listed below
 * @SS_ERROR_INVALID_ADDRESS: malformed address string, bad port, path too
 *   long (also EINVAL, ENAMETOOLONG, EAFNOSUPPORT, EADDRNOTAVAIL)
 * @SS_ERROR_RESOLVE: host name could not be resolved
 * @SS_ERROR_ADDRESS_IN_USE: EADDRINUSE, or a Unix path that exists and is
 *   not a socket
 * @SS_ERROR_PERMISSION: EACCES / EPERM
 * @SS_ERROR_NOT_FOUND: ENOENT (or ENOTDIR): a directory of a Unix path
 *   does not exist
 * @SS_ERROR_CLOSED: the peer closed or reset the connection (EPIPE,
 *   ECONNRESET, ENOTCONN, ESHUTDOWN)
 * @SS_ERROR_TIMED_OUT: a socket timeout expired (ETIMEDOUT)
 * @SS_ERROR_INVALID_ARGUMENT: an option or parameter out of range
 * @SS_ERROR_HANDLER: a request handler reported a failure of its own
 * @SS_ERROR_TRUNCATED: a datagram was larger than max_packet_size, on a
 *   server with refuse_truncated set
 * @SS_ERROR_WOULD_BLOCK: non-blocking socket: nothing pending (EAGAIN);
 *   not a failure
 * @SS_ERROR_NO_RESOURCES: EMFILE, ENFILE, ENOBUFS, ENOMEM: out of fds or
 *   memory; retry later
 * @SS_ERROR_TLS: TLS: a handshake refused or broken, a certificate or key
 *   unusable
 * @SS_ERROR_NOT_SUPPORTED: the library was built without what the call
 *   needs (TLS)
 *
 * The codes of %SS_ERROR. ss_error_code_from_errno() maps errno values
 * onto them as listed.
 */
typedef enum {
  SS_ERROR_FAILED,
  SS_ERROR_INVALID_ADDRESS,
  SS_ERROR_RESOLVE,
  SS_ERROR_ADDRESS_IN_USE,
  SS_ERROR_PERMISSION,
  SS_ERROR_NOT_FOUND,
  SS_ERROR_CLOSED,
  SS_ERROR_TIMED_OUT,
  SS_ERROR_INVALID_ARGUMENT,
  SS_ERROR_HANDLER,
  SS_ERROR_TRUNCATED,
  SS_ERROR_WOULD_BLOCK,
  SS_ERROR_NO_RESOURCES,
  SS_ERROR_TLS,
  SS_ERROR_NOT_SUPPORTED,
} SsErrorCode;

/**
 * ss_error_quark:
 *
 * The quark behind %SS_ERROR. Thread-safe (initialised once, with
 * `pthread_once`).
 *
 * Returns: the error domain quark
 */
SS_API GQuark ss_error_quark (void);

/**
 * ss_error_code_from_errno:
 * @errsv: an errno value
 *
 * Maps an errno value to the closest #SsErrorCode (the list at
 * #SsErrorCode; anything else is %SS_ERROR_FAILED). A pure function,
 * thread-safe.
 *
 * Returns: the code
 */
SS_API SsErrorCode ss_error_code_from_errno (int errsv);

/**
 * ss_set_error_from_errno:
 * @error: (out) (optional): where to put the error, or %NULL
 * @errsv: the errno value
 * @what: what failed, naming the address involved
 * @hint: (nullable): what to do about it, or %NULL
 *
 * Sets @error in %SS_ERROR with the code ss_error_code_from_errno() gives
 * and the message "@what: &lt;strerror (@errsv)&gt;." followed by @hint.
 * Thread-safe.
 */
SS_API void ss_set_error_from_errno (GError **error, int errsv, const char *what, const char *hint);

G_END_DECLS
