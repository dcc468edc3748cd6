/* error.c: the SS_ERROR domain and errno translation.
 *
 * Every runtime failure in the library ends up here so that messages have
 * one shape: "WHAT: the errno text. WHAT TO DO." -- the caller names the
 * address in WHAT, this file adds the system's reason and the hint.
 */
#include "core/core.h"

#include <errno.h>
#include <pthread.h>

/* pthread_once rather than G_DEFINE_QUARK: GLib 2.74's one-time init is
 * futex-based and invisible to ThreadSanitizer, which then reports the
 * first errors raised by two pool workers at once as a race. For the same
 * reason the init raises one error: GLib allocates the lock of its
 * error-domain table lazily on the first g_error_new, and doing that here,
 * ordered by pthread_once before any SS_ERROR is raised, keeps every
 * later thread's use of it visibly ordered. */
static GQuark error_quark;
static pthread_once_t error_quark_once = PTHREAD_ONCE_INIT;

static void
error_quark_init (void)
{
  error_quark = g_quark_from_static_string ("ss-error-quark");
  g_error_free (g_error_new_literal (error_quark, SS_ERROR_FAILED, "init"));
}

GQuark
ss_error_quark (void)
{
  pthread_once (&error_quark_once, error_quark_init);
  return error_quark;
}

SsErrorCode
ss_error_code_from_errno (int errsv)
{
  switch (errsv)
    {
    case EADDRINUSE:
      return SS_ERROR_ADDRESS_IN_USE;
    case EACCES:
    case EPERM:
      return SS_ERROR_PERMISSION;
    case ENOENT:
    case ENOTDIR:
      return SS_ERROR_NOT_FOUND;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
    case ESHUTDOWN:
      return SS_ERROR_CLOSED;
    case ETIMEDOUT:
      return SS_ERROR_TIMED_OUT;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return SS_ERROR_WOULD_BLOCK;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return SS_ERROR_NO_RESOURCES;
    case EINVAL:
    case ENAMETOOLONG:
    case EAFNOSUPPORT:
    case EADDRNOTAVAIL:
      return SS_ERROR_INVALID_ADDRESS;
    default:
      return SS_ERROR_FAILED;
    }
}

void
ss_set_error_from_errno (GError **error, int errsv, const char *what, const char *hint)
{
  g_set_error (error, SS_ERROR, ss_error_code_from_errno (errsv), "%s: %s.%s%s",
               what, g_strerror (errsv), hint != NULL ? " " : "", hint != NULL ? hint : "");
}
