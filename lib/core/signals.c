/* signals.c: shut a server down on SIGINT or SIGTERM, without a handler.
 *
 * A signal handler may call almost nothing, and ss_server_shutdown takes
 * locks, so no work happens in one: the two signals are blocked in the
 * calling thread (threads it creates later inherit the mask) and a watcher
 * thread takes them synchronously with sigwait(), then calls
 * ss_server_shutdown() like any other thread would.
 *
 * To stop the watcher, ss_signal_watch_free sets a flag under the lock and
 * sends SIGTERM to the watcher thread alone (pthread_kill): the watcher
 * wakes, sees the flag and returns without touching the server. Using one
 * of the signals it already waits for means no third signal (SIGUSR1, ...)
 * is taken away from the program.
 */
#include "core/core.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

struct _SsSignalWatch {
  SsServer *server;           /* borrowed */
  pthread_t watcher;
  sigset_t waited;            /* SIGINT, SIGTERM */
  sigset_t old_mask;          /* the caller's mask before, restored by free */
  pthread_mutex_t lock;       /* guards stopping and signal */
  gboolean stopping;          /* (lock) free was called: exit at the next wake */
  int signal;                 /* (lock) the first signal taken, or 0 */
};

static void *
watch_thread (void *data)
{
  SsSignalWatch *watch = data;

  for (;;)
    {
      gboolean stopping;
      int sig = 0;

      if (sigwait (&watch->waited, &sig) != 0)
        continue;

      pthread_mutex_lock (&watch->lock);
      stopping = watch->stopping;
      if (!stopping && watch->signal == 0)
        watch->signal = sig;
      pthread_mutex_unlock (&watch->lock);

      if (stopping)
        break;
      /* Outside the lock: shutdown waits for serve_forever to return. */
      ss_server_shutdown (watch->server);
    }
  return NULL;
}

SsSignalWatch *
ss_server_shutdown_on_signals (SsServer *server, GError **error)
{
  SsSignalWatch *watch;
  int rc;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  watch = g_new0 (SsSignalWatch, 1);
  watch->server = server;
  pthread_mutex_init (&watch->lock, NULL);
  sigemptyset (&watch->waited);
  sigaddset (&watch->waited, SIGINT);
  sigaddset (&watch->waited, SIGTERM);

  rc = pthread_sigmask (SIG_BLOCK, &watch->waited, &watch->old_mask);
  if (rc == 0)
    {
      /* The watcher inherits the mask just set: the signals stay blocked
       * there too, as sigwait requires. */
      rc = pthread_create (&watch->watcher, NULL, watch_thread, watch);
      if (rc != 0)
        pthread_sigmask (SIG_SETMASK, &watch->old_mask, NULL);
    }
  if (rc != 0)
    {
      ss_set_error_from_errno (error, rc, "Could not start the signal watcher thread", NULL);
      pthread_mutex_destroy (&watch->lock);
      g_free (watch);
      return NULL;
    }
  return watch;
}

int
ss_signal_watch_signal (SsSignalWatch *watch)
{
  int sig;

  g_return_val_if_fail (watch != NULL, 0);

  pthread_mutex_lock (&watch->lock);
  sig = watch->signal;
  pthread_mutex_unlock (&watch->lock);
  return sig;
}

void
ss_signal_watch_free (SsSignalWatch *watch)
{
  if (watch == NULL)
    return;

  pthread_mutex_lock (&watch->lock);
  watch->stopping = TRUE;
  pthread_mutex_unlock (&watch->lock);

  /* Directed at the watcher only; blocked there, so it just ends sigwait. */
  pthread_kill (watch->watcher, SIGTERM);
  pthread_join (watch->watcher, NULL);

  pthread_sigmask (SIG_SETMASK, &watch->old_mask, NULL);
  pthread_mutex_destroy (&watch->lock);
  g_free (watch);
}

gboolean
ss_server_serve_until_signalled (SsServer *server, double poll_interval, GError **error)
{
  SsSignalWatch *watch;
  gboolean ok;

  g_return_val_if_fail (server != NULL, FALSE);
  watch = ss_server_shutdown_on_signals (server, error);
  if (watch == NULL)
    return FALSE;
  ok = ss_server_serve_forever (server, poll_interval, error);
  ss_signal_watch_free (watch);
  return ok;
}
