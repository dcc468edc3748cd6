/* overload.c: the hand-off queue's bound (max_queue) applied -- rejecting,
 * and the thread that takes connections while every worker is busy.
 *
 * The decision itself (queue, wait, reject) is policy.c's; process_request
 * (pool.c) applies it for requests handed over. What lives here:
 *
 *  - the bound for a server of each kind: what the user set, else 0
 *    (unbounded) for stream servers and
 *    SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE for datagram ones, whose
 *    queued requests each hold a copy of their packet: with a single busy
 *    worker an unbounded queue grew by thousands of datagrams a second;
 *  - rejecting: the request is shut down unprocessed, counted in the
 *    stats, and one line a second at most says so (a flood of rejections
 *    must not become a flood of log lines);
 *  - in accept mode, the REJECT policy's own thread. Workers accept only
 *    when idle, so while all max_workers are busy nobody takes a
 *    connection and the kernel's backlog holds it -- which is BLOCK. For
 *    REJECT this thread watches the listening socket exactly while the
 *    pool is saturated, queues up to max_queue of what arrives and
 *    rejects the rest at once, so clients are told at once instead of
 *    waiting in the backlog. It parks on overload_cond otherwise, and is
 *    woken by the worker whose request saturates the pool.
 *
 * Locks: as everywhere in the pool (pool.h). The overload thread drops the
 * lock while it waits on the socket and while it takes a request
 * (verify_request is user code); stop_serving joins it before returning,
 * so it never touches the listening socket after serve_forever.
 */
#include "strategies/pool/pool.h"

#include <errno.h>
#include <poll.h>

/* The overload thread only polls and accepts. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OVERLOAD_STACK_SIZE (2u * 1024 * 1024)
#else
#define OVERLOAD_STACK_SIZE (256u * 1024)
#endif

#define REJECT_LOG_INTERVAL_US G_USEC_PER_SEC

void
ss__pool_apply_max_queue_unlocked (SsThreadPool *pool, gboolean datagram)
{
  if (pool->max_queue_set)
    pool->counts.max_queue = pool->max_queue;
  else
    pool->counts.max_queue = datagram ? SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE : 0;
}

void
ss__pool_reject (SsThreadPool *pool, SsServer *server, SsRequest *request)
{
  gint64 now = g_get_monotonic_time ();
  guint64 unlogged = 0;
  gboolean log = FALSE;
  guint max_queue;

  pthread_mutex_lock (&pool->lock);
  pool->rejected++;
  if (pool->reject_logged_at == 0 || now - pool->reject_logged_at >= REJECT_LOG_INTERVAL_US)
    {
      log = TRUE;
      unlogged = pool->rejects_unlogged;
      pool->rejects_unlogged = 0;
      pool->reject_logged_at = now;
    }
  else
    pool->rejects_unlogged++;
  max_queue = pool->counts.max_queue;
  pthread_mutex_unlock (&pool->lock);

  ss_server_shutdown_request (server, request);
  ss_request_free (request);
  if (log)
    {
      g_autofree char *where = ss_server_address_string (server);

      SS_MESSAGE ("Server %s is overloaded: rejected a request (all workers busy, max_queue %u "
                  "waiting; overload policy reject)%s; raise max_workers or max_queue, or "
                  "lower the load",
                  where, max_queue,
                  unlogged > 0 ? ", with more rejected since the last line" : "");
    }
}

void
ss__pool_note_busy_unlocked (SsThreadPool *pool)
{
  if (pool->overload_parked && ss__pool_saturated (&pool->counts))
    pthread_cond_signal (&pool->overload_cond);
}

/* Until the listening socket or the stop signal is readable; returns
 * whether the listening socket is (and no stop). Called without the lock. */
static gboolean
wait_for_connection (SsThreadPool *pool, int listen_fd)
{
  struct pollfd pfd[2] = {
    { .fd = listen_fd, .events = POLLIN },
    { .fd = pool->control_efd.read_fd, .events = POLLIN },
  };

  while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
    ;
  return (pfd[0].revents & POLLIN) && !(pfd[1].revents & POLLIN);
}

static void *
overload_main (void *data)
{
  SsThreadPool *pool = data;
  SsServer *server;

  pthread_mutex_lock (&pool->lock);
  server = pool->server;
  while (pool->counts.accepting && !pool->counts.stopping)
    {
      SsRequest *request;
      gboolean ready;

      if (!ss__pool_saturated (&pool->counts))
        {
          pool->overload_parked = TRUE;
          pthread_cond_wait (&pool->overload_cond, &pool->lock);
          pool->overload_parked = FALSE;
          continue;
        }
      pthread_mutex_unlock (&pool->lock);
      ready = wait_for_connection (pool, ss_server_fileno (server));
      pthread_mutex_lock (&pool->lock);
      /* A worker freed meanwhile takes the connection itself. */
      if (!ready || !ss__pool_saturated (&pool->counts))
        continue;
      pthread_mutex_unlock (&pool->lock);
      request = ss__pool_take_request (pool, server);
      pthread_mutex_lock (&pool->lock);
      if (request == NULL)
        continue;
      if (!ss__pool_queue_full (&pool->counts) && !pool->counts.stopping)
        {
          ss__pool_enqueue_unlocked (pool, request);
          continue;
        }
      pthread_mutex_unlock (&pool->lock);
      ss__pool_reject (pool, server, request);
      pthread_mutex_lock (&pool->lock);
    }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

void
ss__pool_start_overload_watch (SsThreadPool *pool, SsServer *server)
{
  pthread_attr_t attr;
  gboolean want;
  int err;

  pthread_mutex_lock (&pool->lock);
  want = pool->counts.reject && pool->counts.max_queue > 0 && pool->counts.accepting &&
         !pool->overload_running;
  pool->overload_running |= want;
  pthread_mutex_unlock (&pool->lock);
  if (!want)
    return;

  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, OVERLOAD_STACK_SIZE);
  err = pthread_create (&pool->overload_thread, &attr, overload_main, pool);
  pthread_attr_destroy (&attr);
  if (err != 0)
    {
      GError *error = NULL;

      pthread_mutex_lock (&pool->lock);
      pool->overload_running = FALSE;
      pthread_mutex_unlock (&pool->lock);
      ss_set_error_from_errno (&error, err, "Thread pool could not start its overload thread",
                               "While every worker is busy, new connections wait in the "
                               "listen backlog instead of being rejected; raise the limit "
                               "on threads (ulimit -u).");
      ss_server_handle_error (server, NULL, error);
      g_error_free (error);
    }
}

/* The caller has switched accept mode off and set control_efd. Only the
 * thread that started it (the serving thread) or pool_free calls this. */
void
ss__pool_stop_overload_watch (SsThreadPool *pool)
{
  gboolean running;

  pthread_mutex_lock (&pool->lock);
  running = pool->overload_running;
  if (pool->overload_parked)
    pthread_cond_signal (&pool->overload_cond);
  pthread_mutex_unlock (&pool->lock);
  if (!running)
    return;
  pthread_join (pool->overload_thread, NULL);
  pthread_mutex_lock (&pool->lock);
  pool->overload_running = FALSE;
  pthread_mutex_unlock (&pool->lock);
}
