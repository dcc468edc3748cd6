/* drain.c: ss_server_drain, a graceful stop with a deadline.
 *
 * server_close already does the graceful half: the listening socket is
 * closed first (stream servers), then the strategy waits for what it
 * started (threads joined, children reaped, queued requests run when
 * block_on_close). What it cannot do is stop waiting. So the drain runs
 * server_close on a thread of its own and waits for it with a deadline;
 * at the deadline it makes the waited-for requests end: the core shuts
 * down the connection of every request running on a thread of this
 * process (and of any that starts later), and the strategy signals its
 * worker processes (SIGTERM, then SIGKILL after SS_DRAIN_KILL_GRACE).
 * Then server_close returns by itself and the thread is joined: nothing
 * is freed under a handler still running.
 */
#include "ops/ops-private.h"

#include <signal.h>
#include <sys/socket.h>
#include <time.h>

typedef struct {
  SsServer *server;
  pthread_mutex_t lock;
  pthread_cond_t cond;     /* CLOCK_MONOTONIC */
  gboolean closed;         /* (lock) server_close returned */
} Drain;

static void *
close_thread (void *data)
{
  Drain *d = data;

  ss_server_server_close (d->server);
  pthread_mutex_lock (&d->lock);
  d->closed = TRUE;
  pthread_cond_broadcast (&d->cond);
  pthread_mutex_unlock (&d->lock);
  return NULL;
}

/* Waits until server_close returned or @seconds passed (< 0, NaN or 1e9
 * and more, where the time_t would overflow: no limit). */
static gboolean
wait_closed (Drain *d, double seconds)
{
  struct timespec end;
  gboolean closed;

  if (!(seconds >= 0 && seconds < 1e9))
    seconds = -1;
  clock_gettime (CLOCK_MONOTONIC, &end);
  if (seconds >= 0)
    {
      double whole = (double) (gint64) seconds;

      end.tv_sec += (time_t) whole;
      end.tv_nsec += (long) ((seconds - whole) * 1e9);
      if (end.tv_nsec >= 1000000000L)
        {
          end.tv_sec++;
          end.tv_nsec -= 1000000000L;
        }
    }
  pthread_mutex_lock (&d->lock);
  while (!d->closed)
    {
      if (seconds < 0)
        pthread_cond_wait (&d->cond, &d->lock);
      else if (pthread_cond_timedwait (&d->cond, &d->lock, &end) != 0)
        {
          /* ETIMEDOUT (EINTR is not returned): look once more, then go. */
          break;
        }
    }
  closed = d->closed;
  pthread_mutex_unlock (&d->lock);
  return closed;
}

static guint
signal_workers (SsServer *server, int sig)
{
  const SsStrategyOps *ops = server->strategy->ops;

  if (ops->signal_workers == NULL)
    return 0;
  return ops->signal_workers (server->strategy, server, sig);
}

/* Stops the listening socket itself, not only this process's fd: worker
 * processes of the preforking strategy hold copies of it, and while one
 * of them is busy the socket would go on listening and queue connections
 * that nobody takes. shutdown() of a listening socket ends listening for
 * every holder: new connections are refused. The children were told to
 * stop before (stop_serving), so none tries to accept on it again.
 * An inherited socket (socket activation) is left listening: systemd holds
 * it too and starts the next instance on the connections that queue in
 * its backlog meanwhile; shut down, it would refuse them for systemd too.
 * This process only closes its own fd when the drain ends. */
static void
stop_listening (SsServer *server)
{
  int fd = ss_server_fileno (server);

  if (fd >= 0 && !server->priv->adopted
      && ss__server_resolved_class (server)->socket_type == SOCK_STREAM)
    (void) shutdown (fd, SHUT_RD);
}

guint
ss__server_drain (SsServer *server, double timeout, gboolean refuse_new)
{
  pthread_condattr_t attr;
  pthread_t thread;
  Drain d = { .server = server };
  guint forced = 0;
  guint threads, processes;
  int rc;

  g_return_val_if_fail (server != NULL, 0);

  pthread_mutex_init (&d.lock, NULL);
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&d.cond, &attr);
  pthread_condattr_destroy (&attr);

  ss_server_shutdown (server);
  if (refuse_new)
    stop_listening (server);
  rc = pthread_create (&thread, NULL, close_thread, &d);
  if (rc != 0)
    {
      /* No thread to spare: force at once, then close here. */
      SS_WARNING ("ss_server_drain: could not start a thread (%s): forcing the open "
                  "requests at once instead of after %.1f s", g_strerror (rc), timeout);
      forced = ss__server_force_running (server) + signal_workers (server, SIGTERM);
      ss_server_server_close (server);
    }
  else
    {
      gboolean late = FALSE;
      guint killed = 0;

      threads = processes = 0;
      if (!wait_closed (&d, timeout))
        {
          late = TRUE;
          threads = ss__server_force_running (server);
          processes = signal_workers (server, SIGTERM);
          forced = threads + processes;
          if (!wait_closed (&d, SS_DRAIN_KILL_GRACE))
            killed = signal_workers (server, SIGKILL);
        }
      pthread_join (thread, NULL);
      /* Logged once server_close is done, never beside it: two threads
       * formatting a log line at once race inside glibc's tzset (a lock
       * ThreadSanitizer cannot see). */
      if (late)
        SS_MESSAGE ("Drain deadline (%.1f s) passed: %u connection(s) shut down, %u worker "
                    "process(es) sent SIGTERM%s", timeout, threads, processes,
                    killed > 0 ? ", then SIGKILL" : "");
    }
  pthread_cond_destroy (&d.cond);
  pthread_mutex_destroy (&d.lock);
  return forced;
}

guint
ss_server_drain (SsServer *server, double timeout)
{
  g_return_val_if_fail (server != NULL, 0);
  return ss__server_drain (server, timeout,
                           !__atomic_load_n (&server->priv->handed_over, __ATOMIC_ACQUIRE));
}
