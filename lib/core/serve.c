/* serve.c: the serving loops -- serve_forever, handle_request, shutdown.
 *
 * Python's serve_forever polls the socket every poll_interval and notices
 * shutdown() only on the next tick. Here shutdown() writes to an eventfd
 * that every wait also watches, so the loop stops at once; the fd stays
 * readable until serve_forever has finished, which is also what tells a
 * strategy's accepting threads to stop.
 *
 * Accepting is bounded per wake-up (SS_ACCEPT_BATCH) and returns on EAGAIN.
 * When accept fails for lack of fds (EMFILE/ENFILE) the socket stays
 * readable, so polling it again would spin: accepting pauses for
 * SS_EMFILE_PAUSE instead, logs at most one line a second, and resumes by
 * itself once fds are free again.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SS_ACCEPT_BATCH 16
#define SS_EMFILE_PAUSE_US (100 * 1000)
#define SS_EMFILE_LOG_INTERVAL_US G_USEC_PER_SEC

void
ss__server_wake (SsServer *server)
{
  ss__wake_fd_set (&server->priv->wake);
}

void
ss__server_wake_reset (SsServer *server)
{
  ss__wake_fd_clear (&server->priv->wake);
}

gboolean
ss__server_shutdown_requested (SsServer *server)
{
  return __atomic_load_n (&server->priv->shutdown_request, __ATOMIC_ACQUIRE);
}

static int
timeout_ms (double timeout)
{
  if (timeout < 0)
    return -1;
  if (timeout > INT_MAX / 1000.0)
    return INT_MAX;
  return (int) (timeout * 1000.0 + 0.999);
}

/* Waits for @fd (if >= 0) and, if @watch_wake, the wake fd. */
static int
wait_fds (SsServer *server, int fd, gboolean watch_wake, double timeout)
{
  struct pollfd pfd[2];
  nfds_t n = 0;
  double deadline = timeout >= 0 ? ss__now () + timeout : -1;

  if (fd >= 0)
    pfd[n++] = (struct pollfd) { .fd = fd, .events = POLLIN };
  if (watch_wake)
    pfd[n++] = (struct pollfd) { .fd = server->priv->wake.read_fd, .events = POLLIN };

  for (;;)
    {
      int r = poll (pfd, n, timeout_ms (timeout));

      if (r < 0 && errno == EINTR)
        {
          if (deadline >= 0)
            timeout = MAX (0.0, deadline - ss__now ());
          continue;
        }
      if (r < 0)
        return -2;
      if (r == 0)
        return 0;
      if (watch_wake && (pfd[n - 1].revents & POLLIN))
        return -1;
      return 1;
    }
}

double
ss__server_accept_paused_for (SsServer *server)
{
  gint64 until = __atomic_load_n (&server->priv->accept_paused_until, __ATOMIC_RELAXED);
  gint64 now;

  if (until == 0)
    return 0;
  now = g_get_monotonic_time ();
  return until > now ? (double) (until - now) / G_USEC_PER_SEC : 0;
}

static void
out_of_fds (SsServer *server, const GError *error)
{
  struct SsServerPrivate *priv = server->priv;
  gint64 now = g_get_monotonic_time ();
  gint64 logged = __atomic_load_n (&priv->emfile_logged_at, __ATOMIC_RELAXED);

  __atomic_store_n (&priv->accept_paused_until, now + SS_EMFILE_PAUSE_US, __ATOMIC_RELAXED);
  if (now - logged >= SS_EMFILE_LOG_INTERVAL_US &&
      __atomic_compare_exchange_n (&priv->emfile_logged_at, &logged, now, FALSE,
                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    {
      guint64 skipped = __atomic_exchange_n (&priv->emfile_suppressed, 0, __ATOMIC_RELAXED);
      g_autofree char *where = ss_address_to_string (&server->server_address);

      SS_MESSAGE ("Server %s cannot accept: %s (pausing accept for %d ms%s; "
                  "raise the open-file limit or lower the load)",
                  where, error->message, SS_EMFILE_PAUSE_US / 1000,
                  skipped > 0 ? ", repeated failures since the last message" : "");
    }
  else
    __atomic_fetch_add (&priv->emfile_suppressed, 1, __ATOMIC_RELAXED);
}

SsRequest *
ss__server_take_request (SsServer *server, gboolean *took)
{
  GError *error = NULL;
  SsRequest *request = ss__server_get_request_or_none (server, &error);

  *took = FALSE;
  if (request == NULL)
    {
      if (error == NULL || g_error_matches (error, SS_ERROR, SS_ERROR_WOULD_BLOCK))
        ;  /* nothing pending: not an error, and nothing was allocated */
      else if (g_error_matches (error, SS_ERROR, SS_ERROR_NO_RESOURCES))
        out_of_fds (server, error);
      else
        ss_server_handle_error (server, NULL, error);
      g_clear_error (&error);
      return NULL;
    }
  *took = TRUE;
  if (ss_server_verify_request (server, request))
    return request;
  ss__server_count (server, SS__COUNT_REJECTED);
  ss_server_shutdown_request (server, request);
  ss_request_free (request);
  return NULL;
}

guint
ss_server_handle_pending (SsServer *server, guint max)
{
  guint taken = 0;

  g_return_val_if_fail (server != NULL, 0);

  /* fileno < 0: a handler closed the server (server_close) mid-batch. */
  while (taken < max && ss__server_accept_paused_for (server) == 0 && ss_server_fileno (server) >= 0)
    {
      gboolean took;
      SsRequest *request = ss__server_take_request (server, &took);

      if (!took)
        break;
      taken++;
      if (request != NULL)
        ss_server_process_request (server, request);
    }
  return taken;
}

/* The wake fd is readable but no shutdown was asked in this process: a
 * wake with nothing to do, such as one set before a fork by the parent's
 * copy of this server (an eventfd is one object shared across fork(): a
 * program that creates the server, forks and frees its own copy in the
 * parent sets it). Left set, it would make every poll return at once and
 * the loop spin without accepting. Cleared, then the loop looks at the
 * flag again before it waits, so a shutdown that raced the clear is not
 * lost. */
static void
clear_idle_wake (SsServer *server)
{
  if (!ss__server_shutdown_requested (server))
    ss__server_wake_reset (server);
}

/* The loop when the serving thread accepts (sync, threading, forking). */
static gboolean
accept_loop (SsServer *server, double poll_interval, GError **error)
{
  while (!ss__server_shutdown_requested (server))
    {
      double paused = ss__server_accept_paused_for (server);
      int fd = paused > 0 ? -1 : ss_server_fileno (server);
      int r = wait_fds (server, fd, TRUE, paused > 0 ? MIN (paused, poll_interval) : poll_interval);

      if (r == -2)
        {
          ss_set_error_from_errno (error, errno, "serve_forever: poll failed", NULL);
          return FALSE;
        }
      if (r == 1 && fd >= 0)
        ss_server_handle_pending (server, SS_ACCEPT_BATCH);
      else if (r == -1)
        clear_idle_wake (server);
      ss_server_service_actions (server);
    }
  return TRUE;
}

/* The loop when the strategy's own threads accept (the thread pool). */
static gboolean
delegated_loop (SsServer *server, double poll_interval, GError **error)
{
  SsStrategy *strategy = server->strategy;

  if (!strategy->ops->start_serving (strategy, server, error))
    return FALSE;
  while (!ss__server_shutdown_requested (server))
    {
      if (wait_fds (server, -1, TRUE, poll_interval) == -1)
        clear_idle_wake (server);
      ss_server_service_actions (server);
    }
  strategy->ops->stop_serving (strategy, server);
  return TRUE;
}

gboolean
ss_server_serve_forever (SsServer *server, double poll_interval, GError **error)
{
  struct SsServerPrivate *priv;
  gboolean ok = TRUE;

  g_return_val_if_fail (server != NULL, FALSE);
  priv = server->priv;
  if (poll_interval <= 0)
    poll_interval = 0.5;

  pthread_mutex_lock (&priv->lock);
  if (priv->serving)
    {
      pthread_mutex_unlock (&priv->lock);
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "serve_forever is already running on this server in another thread");
      return FALSE;
    }
  if (__atomic_load_n (&priv->closed, __ATOMIC_ACQUIRE) || server->socket_fd < 0)
    {
      pthread_mutex_unlock (&priv->lock);
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "serve_forever on a closed or unbound server: create it with "
                           "bind_and_activate, or call server_bind and server_activate first");
      return FALSE;
    }
  priv->serving = TRUE;
  priv->serving_thread = pthread_self ();
  pthread_mutex_unlock (&priv->lock);

  if (!ss__server_shutdown_requested (server))
    {
      if (server->strategy->ops->start_serving != NULL)
        ok = delegated_loop (server, poll_interval, error);
      else
        ok = accept_loop (server, poll_interval, error);
    }

  pthread_mutex_lock (&priv->lock);
  ss__server_wake_reset (server);
  __atomic_store_n (&priv->shutdown_request, FALSE, __ATOMIC_RELEASE);
  priv->serving = FALSE;
  pthread_cond_broadcast (&priv->is_shut_down_cond);
  pthread_mutex_unlock (&priv->lock);
  return ok;
}

void
ss__server_in_forked_child (SsServer *server)
{
  struct SsServerPrivate *priv = server->priv;

  /* One thread exists here: the locks are made fresh, not trusted (another
   * thread of the parent may have held them at the fork). */
  pthread_mutex_init (&priv->lock, NULL);
  pthread_mutex_init (&priv->running_lock, NULL);
  pthread_cond_init (&priv->is_shut_down_cond, NULL);
  priv->running = NULL;   /* nodes on the stacks of the parent's threads */
  priv->forcing = FALSE;
  priv->serving = FALSE;
  __atomic_store_n (&priv->shutdown_request, FALSE, __ATOMIC_RELEASE);
  ss__wake_fd_close (&priv->wake);   /* the child's copies only */
  if (!ss__wake_fd_open (&priv->wake, "wake fd", NULL))
    priv->wake = (SsWakeFd) SS_WAKE_FD_INIT;   /* writes to -1 fail harmlessly */
}

void
ss__server_request_shutdown (SsServer *server)
{
  struct SsServerPrivate *priv = server->priv;

  pthread_mutex_lock (&priv->lock);
  __atomic_store_n (&priv->shutdown_request, TRUE, __ATOMIC_RELEASE);
  ss__server_wake (server);
  pthread_mutex_unlock (&priv->lock);
}

void
ss_server_shutdown (SsServer *server)
{
  struct SsServerPrivate *priv;

  g_return_if_fail (server != NULL);
  priv = server->priv;

  pthread_mutex_lock (&priv->lock);
  __atomic_store_n (&priv->shutdown_request, TRUE, __ATOMIC_RELEASE);
  ss__server_wake (server);
  /* A handler calling shutdown from inside serve_forever must not wait
   * for the loop it is running in. */
  while (priv->serving && !pthread_equal (priv->serving_thread, pthread_self ()))
    pthread_cond_wait (&priv->is_shut_down_cond, &priv->lock);
  pthread_mutex_unlock (&priv->lock);
}

gboolean
ss_server_handle_request (SsServer *server, GError **error)
{
  double deadline;

  g_return_val_if_fail (server != NULL, FALSE);
  if (server->socket_fd < 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "handle_request on a closed or unbound server");
      return FALSE;
    }

  deadline = server->timeout >= 0 ? ss__now () + server->timeout : -1;
  for (;;)
    {
      double left = deadline >= 0 ? MAX (0.0, deadline - ss__now ()) : -1;
      double paused = ss__server_accept_paused_for (server);
      int r;

      if (paused > 0)
        {
          g_usleep ((gulong) (MIN (paused, left >= 0 ? left : paused) * G_USEC_PER_SEC));
          r = 0;
        }
      else
        r = wait_fds (server, ss_server_fileno (server), FALSE, left);
      if (r == -2)
        {
          ss_set_error_from_errno (error, errno, "handle_request: poll failed", NULL);
          return FALSE;
        }
      if (r == 1 && ss_server_handle_pending (server, 1) == 1)
        return TRUE;
      if (deadline >= 0 && ss__now () >= deadline)
        {
          ss_server_handle_timeout (server);
          return TRUE;
        }
    }
}
