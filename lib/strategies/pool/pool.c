/* pool.c: the dynamic thread pool (the 2008 ThreadPoolingMixIn), its races
 * fixed -- the worker loop, a request's run, the hand-off and the
 * strategy ops.
 *
 * The pool keeps the post's policy and fixes its defects (policy.c says
 * both). One pthread mutex covers the queue, every counter, the flags and
 * the registry of worker threads, which is what makes those rules exact
 * (the post used two locks and raced); pool.h states the lock rules for
 * every file of the pool.
 *
 * Requests reach a worker in one of two ways:
 *
 *  - accept mode (start_serving .. stop_serving, i.e. during serve_forever):
 *    idle workers take requests off the listening socket themselves
 *    (accept.c), with no queue and no hand-off wake-up.
 *  - hand-off (handle_request, a direct process_request, or a call from a
 *    thread outside the pool during serve_forever): process_request puts
 *    the request in the queue (queue.c; bounded by max_queue, overload.c)
 *    and one waiting worker is signalled; the condvar is signalled only
 *    when a worker waits on it.
 *
 * A worker's loop: take a queued request if there is one; else, in accept
 * mode, accept (or be the sentinel) as the policy says; else sleep; after
 * every request, retire if the policy says so. Workers are spawned,
 * joined and reaped by the registry (workers.c). A handler may end its
 * worker's thread with pthread_exit(): cleanup handlers then shut the
 * request down and count the worker out, as a retiring worker is.
 */
#include "strategies/pool/pool.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ------------------------------------------------------------ the queue, with its signals */

void
ss__pool_enqueue_unlocked (SsThreadPool *pool, SsRequest *request)
{
  ss__pool_queue_push (&pool->queue, request);
  pool->counts.queued = pool->queue.len;
  if (pool->counts.queued == 1 && pool->counts.accepting)
    ss__wake_fd_set (&pool->queue_efd);
  if (pool->counts.waiting > 0)
    pthread_cond_signal (&pool->work_cond);
  ss__pool_unpark_sentinel_unlocked (pool);
}

static SsRequest *
dequeue_unlocked (SsThreadPool *pool)
{
  SsRequest *request = ss__pool_queue_pop (&pool->queue);

  if (request == NULL)
    return NULL;
  pool->counts.queued = pool->queue.len;
  if (pool->counts.queued == 0 && pool->counts.accepting)
    ss__wake_fd_clear (&pool->queue_efd);
  ss__pool_notify_state_unlocked (pool);
  return request;
}

/* ------------------------------------------------------------ the policy, applied */

/* min_workers start on first use (start_serving or the first hand-off).
 * Returns the workers counted, for the caller to spawn. */
static guint
start_unlocked (SsThreadPool *pool)
{
  if (pool->counts.started || pool->counts.stopping)
    return 0;
  pool->counts.started = TRUE;
  return ss__pool_count_spawn_unlocked (pool, ss__pool_missing_workers (&pool->counts));
}

static guint
grow_unlocked (SsThreadPool *pool)
{
  return ss__pool_count_spawn_unlocked (pool, ss__pool_to_grow (&pool->counts));
}

/* ------------------------------------------------------------ a request on a worker */

typedef struct {
  SsThreadPool *pool;
  SsServer *server;
  SsRequest *request;
  gboolean owned_by_override;   /* a user's process_request has it */
  SsPoolParkRun park;           /* its slot, when it parked before */
} RunningRequest;

/* pthread_cleanup handler: the handler ended the thread (pthread_exit)
 * inside the request. As Python's finally: the request is shut down, and
 * handle_error is not called. */
static void
request_unwound (void *data)
{
  RunningRequest *run = data;

  if (!run->owned_by_override)
    {
      ss_server_shutdown_request (run->server, run->request);
      ss_request_free (run->request);
    }
  pthread_mutex_lock (&run->pool->lock);
  run->pool->counts.busy--;
  ss__pool_park_run_ended_unlocked (run->pool, &run->park);
  ss__pool_notify_state_unlocked (run->pool);
  pthread_mutex_unlock (&run->pool->lock);
}

void
ss__pool_run_request (SsThreadPool *pool, SsServer *server, SsRequest *request,
                      gboolean call_process_request)
{
  RunningRequest run = { pool, server, request, call_process_request, { 0 } };
  gint64 before, start;
  guint n;

  ss__pool_park_run_starts_unlocked (pool, request, &run.park);
  pool->counts.busy++;
  n = grow_unlocked (pool);
  ss__pool_note_busy_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  ss__pool_spawn_or_log (pool, server, n);
  start = g_get_monotonic_time ();
  pthread_cleanup_push (request_unwound, &run);
  if (call_process_request)
    ss_server_process_request (server, request);
  else
    ss_server_run_request (server, request);
  pthread_cleanup_pop (0);

  pthread_mutex_lock (&pool->lock);
  pool->counts.busy--;
  ss__pool_park_run_ended_unlocked (pool, &run.park);
  ss__pool_notify_state_unlocked (pool);
  /* The override usually hands the request on at once (super()): only the
   * pool's own runs say how long requests take. */
  if (call_process_request)
    return;
  before = pool->counts.request_us_avg;
  pool->counts.request_us_avg =
    ss__pool_next_request_avg (before, g_get_monotonic_time () - start);
  if (ss__pool_cap_lifted (before, pool->counts.request_us_avg) && pool->counts.accepting)
    {
      /* The cap is lifted: every idle worker accepts. */
      if (pool->counts.waiting > 0)
        pthread_cond_broadcast (&pool->work_cond);
      ss__pool_unpark_sentinel_unlocked (pool);
    }
}

/* ------------------------------------------------------------ the worker */

/* What an idle worker does in accept mode. Lock held; drops it while
 * accepting or watching. Returns whether it ran a request; *@idle says
 * that it has nothing to do but sleep. */
static gboolean
take_idle_turn (SsThreadPool *pool, SsServer *server, PoolWorker *w, gboolean *idle)
{
  SsPoolRole role = ss__pool_idle_role (&pool->counts, w->acceptor);

  *idle = FALSE;
  if (role != SS_POOL_ROLE_ACCEPT)
    ss__pool_give_up_place_unlocked (pool, w);
  switch (role)
    {
    case SS_POOL_ROLE_SENTINEL:
      if (!ss__pool_take_sentinel_turn (pool, server))
        return FALSE;
      /* The backlog was stalled: accept like any worker (taking one place
       * more than the cap until one of the acceptors gives it up), or the
       * sentinel opened one more place for itself. A connection waits:
       * take it without waiting on the socket. */
      w->took_last = TRUE;
      w->promoted = TRUE;
      return ss__pool_take_accept_turn (pool, server, w);
    case SS_POOL_ROLE_ACCEPT:
      return ss__pool_take_accept_turn (pool, server, w);
    case SS_POOL_ROLE_SLEEP:
      break;
    }
  *idle = TRUE;
  return FALSE;
}

/* A worker leaves the pool (lock held): counted out, the retire chain
 * passed on, and marked for joining. */
static void
worker_leaves_unlocked (SsThreadPool *pool, PoolWorker *w)
{
  ss__pool_uncount_unlocked (pool, w);
  ss__pool_give_up_place_unlocked (pool, w);
  /* Workers that never ran a request (spawned by the post's "more than 3
   * waiting" rule) never reach the retire check; when a retiring worker
   * leaves the pool still above min_spare idle, it passes the check on to
   * one waiting worker, which retires in turn until the surplus is gone. */
  if (pool->counts.waiting > 0 && ss__pool_should_retire (&pool->counts))
    pthread_cond_signal (&pool->work_cond);
  ss__pool_mark_exited_unlocked (pool, w);
}

/* pthread_cleanup handler: a handler ended this worker's thread (the
 * request itself was cleaned up by request_unwound). The worker leaves as
 * a retiring one does, and a replacement is spawned when the pool would
 * otherwise fall below min_workers or starve. */
static void
worker_unwound (void *data)
{
  PoolWorker *w = data;
  SsThreadPool *pool = w->pool;
  GError *error = NULL;
  SsServer *server;
  guint n;

  pthread_mutex_lock (&pool->lock);
  server = pool->server;
  worker_leaves_unlocked (pool, w);
  n = ss__pool_missing_workers (&pool->counts);
  if (n == 0)
    n = ss__pool_to_grow (&pool->counts);
  n = ss__pool_count_spawn_unlocked (pool, n);
  pthread_mutex_unlock (&pool->lock);

  /* Marked exited: `w` may be freed now, but the pool lives until every
   * worker is joined, this one included. No reaping here: it would find
   * this thread. */
  if (ss__pool_spawn (pool, server, n, &error) > 0)
    {
      ss_server_handle_error (server, NULL, error);
      g_error_free (error);
    }
}

void *
ss__pool_worker_main (void *data)
{
  PoolWorker *w = data;
  SsThreadPool *pool = w->pool;
  SsServer *server;

  pthread_mutex_lock (&pool->lock);
  w->self = pthread_self ();
  w->tid = (pid_t) syscall (SYS_gettid);
  w->started = TRUE;
  server = pool->server;
  pthread_cleanup_push (worker_unwound, w);
  for (;;)
    {
      SsRequest *request;
      gboolean idle;

      /* With block_on_close the queue is drained before workers leave;
       * without it server_close has already emptied it. */
      if (pool->counts.stopping && pool->counts.queued == 0)
        break;
      request = dequeue_unlocked (pool);
      if (request != NULL)
        {
          ss__pool_run_request (pool, server, request, FALSE);
          if (ss__pool_should_retire (&pool->counts))
            break;
          continue;
        }
      if (take_idle_turn (pool, server, w, &idle))
        {
          if (ss__pool_should_retire (&pool->counts))
            break;
          continue;
        }
      if (!idle)
        continue;
      /* A worker that never ran a request (spawned for a burst that
       * others served) checks here: the retire chain only reaches workers
       * already waiting. */
      if (ss__pool_idle_should_retire (&pool->counts))
        break;
      pool->counts.waiting++;
      pthread_cond_wait (&pool->work_cond, &pool->lock);
      pool->counts.waiting--;
      /* Woken with nothing to do (a retiring worker found the pool still
       * above its spare count; or start_serving, a lifted cap, a wanted
       * sentinel): retire if the policy says so. */
      if (ss__pool_idle_should_retire (&pool->counts))
        break;
    }
  pthread_cleanup_pop (0);
  worker_leaves_unlocked (pool, w);
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

/* ------------------------------------------------------------ strategy ops */

static void
pool_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  SsPoolHandOff action;
  gboolean stopping;
  guint n;

  pthread_mutex_lock (&pool->lock);
  ss__pool_apply_max_queue_unlocked (pool, request->is_datagram);
  n = start_unlocked (pool);
  for (;;)
    {
      gboolean from_worker = ss__pool_queue_full (&pool->counts) &&
                             ss__pool_is_worker_thread_unlocked (pool);

      action = ss__pool_hand_off (&pool->counts, from_worker);
      if (action != SS_POOL_HAND_OFF_WAIT)
        break;
      /* BLOCK: this thread stops taking requests until a worker frees a
       * slot (every dequeue wakes state waiters) or the pool stops. */
      ss__pool_wait_state (pool);
    }
  if (action == SS_POOL_HAND_OFF_QUEUE)
    {
      ss__pool_enqueue_unlocked (pool, request);
      n += grow_unlocked (pool);
      pthread_mutex_unlock (&pool->lock);
      ss__pool_spawn_or_log (pool, server, n);
      return;
    }

  stopping = pool->counts.stopping;
  if (stopping)
    pool->rejected++;
  pthread_mutex_unlock (&pool->lock);
  ss__pool_spawn_or_log (pool, server, n);
  if (!stopping)
    {
      ss__pool_reject (pool, server, request);
      return;
    }
  ss_server_shutdown_request (server, request);
  ss_request_free (request);
}

/* One pool serves one server: it learns which here. */
static void
pool_attach (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  pool->server = server;
  pthread_mutex_unlock (&pool->lock);
}

static gboolean
socket_is_datagram (int fd)
{
  int type = 0;
  socklen_t len = sizeof type;

  return getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM;
}

static gboolean
pool_start_serving (SsStrategy *strategy, SsServer *server, GError **error)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  gboolean datagram = socket_is_datagram (ss_server_fileno (server));
  GError *local = NULL;
  guint n;

  pthread_mutex_lock (&pool->lock);
  ss__pool_apply_max_queue_unlocked (pool, datagram);
  n = start_unlocked (pool);
  pool->counts.accepting = TRUE;
  n += grow_unlocked (pool);   /* min_workers 0: still one to accept */
  if (pool->counts.queued > 0)
    ss__wake_fd_set (&pool->queue_efd);
  /* Workers waiting for hand-offs switch to accepting. */
  pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);

  ss__pool_reap (pool);
  if (ss__pool_spawn (pool, server, n, &local) == 0)
    {
      ss__pool_start_overload_watch (pool, server);
      return TRUE;
    }

  pthread_mutex_lock (&pool->lock);
  if (pool->counts.workers == 0)
    {
      /* Nobody would accept: abort serve_forever with the error. */
      pool->counts.accepting = FALSE;
      ss__wake_fd_clear (&pool->queue_efd);
      pthread_mutex_unlock (&pool->lock);
      g_propagate_error (error, local);
      return FALSE;
    }
  pthread_mutex_unlock (&pool->lock);
  ss_server_handle_error (server, NULL, local);
  g_error_free (local);
  ss__pool_start_overload_watch (pool, server);
  return TRUE;
}

/* Returns once no thread of the pool touches the listening socket: every
 * worker in accept mode leaves it through control_efd and counts itself
 * out, and the overload thread is joined. */
static void
pool_stop_serving (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  pool->counts.accepting = FALSE;
  ss__pool_unpark_sentinel_unlocked (pool);
  if (pool->in_accept > 0 || pool->counts.have_sentinel || pool->overload_running)
    {
      ss__wake_fd_set (&pool->control_efd);
      while (pool->in_accept > 0 || pool->counts.have_sentinel)
        ss__pool_wait_state (pool);
    }
  pthread_mutex_unlock (&pool->lock);
  ss__pool_stop_overload_watch (pool);

  pthread_mutex_lock (&pool->lock);
  /* The next serve_forever starts without a stale sentinel state. */
  pool->counts.sentinel_wanted = FALSE;
  pool->stalled = FALSE;
  pool->counts.accept_boost = 0;
  pool->counts.wait_share = 0;
  memset (&pool->boost_trial, 0, sizeof pool->boost_trial);
  /* Nobody is in epoll now; re-arm for the next serve_forever (unless
   * server_close has run: then it stays set). */
  if (!pool->counts.stopping)
    ss__wake_fd_clear (&pool->control_efd);
  ss__wake_fd_clear (&pool->queue_efd);
  if (pool->counts.queued > 0 && pool->counts.waiting > 0)
    pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);
  /* Nobody would wake a parked connection now: close them. */
  ss__pool_park_close_all (pool, server);
  ss__pool_reap (pool);
}

static void
pool_service_actions (SsStrategy *strategy, SsServer *server)
{
  ss__pool_park_sweep ((SsThreadPool *) strategy, server);
  ss__pool_reap ((SsThreadPool *) strategy);
}

static gboolean
pool_can_park (SsStrategy *strategy, SsServer *server)
{
  return ss__pool_can_park ((SsThreadPool *) strategy);
}

static void
pool_park_request (SsStrategy *strategy, SsServer *server, SsRequest *request, double timeout)
{
  ss__pool_park ((SsThreadPool *) strategy, server, request, timeout);
}

static void
pool_server_close (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  GPtrArray *dropped = g_ptr_array_new ();
  guint i;

  pthread_mutex_lock (&pool->lock);
  pool->counts.stopping = TRUE;
  pool->counts.accepting = FALSE;
  ss__wake_fd_set (&pool->control_efd);   /* stays set: workers in epoll leave and exit */
  ss__pool_unpark_sentinel_unlocked (pool);
  if (!pool->counts.block_on_close)
    {
      SsRequest *request;

      while ((request = dequeue_unlocked (pool)) != NULL)
        g_ptr_array_add (dropped, request);
      pool->rejected += dropped->len;
    }
  pthread_cond_broadcast (&pool->work_cond);
  /* Threads blocked handing a request over decide again (and reject). */
  ss__pool_notify_state_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; i < dropped->len; i++)
    {
      ss_server_shutdown_request (server, g_ptr_array_index (dropped, i));
      ss_request_free (g_ptr_array_index (dropped, i));
    }
  g_ptr_array_free (dropped, TRUE);
  ss__pool_park_close_all (pool, server);
  ss__pool_join_all (pool);
}

static void
pool_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  stats->workers = pool->counts.workers;
  stats->busy = pool->counts.busy;
  stats->idle = pool->counts.workers - pool->counts.busy;
  stats->queued = pool->counts.queued;
  stats->parked = pool->parked + pool->ready_len;  /* the ring's are not running yet either */
  stats->spawned = pool->spawned;
  stats->retired = pool->retired;
  stats->rejected = pool->rejected;
  pthread_mutex_unlock (&pool->lock);
}

static void
pool_free (SsStrategy *strategy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  gboolean from_worker;

  pthread_mutex_lock (&pool->lock);
  from_worker = ss__pool_is_worker_thread_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
  if (from_worker)
    {
      g_critical ("Thread pool: freed from one of its own workers (a handler); "
                  "nothing was freed. Free the server after serve_forever returns.");
      return;
    }
  /* server_close (which ss_server_free runs first) joined every worker but
   * one that called it from its own handler: join that one now, once its
   * handler has returned. */
  ss__pool_stop_overload_watch (pool);
  ss__pool_join_all (pool);
  g_ptr_array_free (pool->all, TRUE);
  ss__pool_queue_clear (&pool->queue);
  ss__wake_fd_close (&pool->queue_efd);
  ss__wake_fd_close (&pool->control_efd);
  ss__pool_park_close (pool);
  pthread_cond_destroy (&pool->work_cond);
  pthread_cond_destroy (&pool->state_cond);
  pthread_cond_destroy (&pool->sentinel_cond);
  pthread_cond_destroy (&pool->overload_cond);
  pthread_mutex_destroy (&pool->lock);
  g_free (pool);
}

const SsStrategyOps ss__pool_ops = {
  .name = "threadpooling",
  .attach = pool_attach,
  .process_request = pool_process_request,
  .service_actions = pool_service_actions,
  .handle_timeout = NULL,
  .server_close = pool_server_close,
  .start_serving = pool_start_serving,
  .stop_serving = pool_stop_serving,
  .signal_workers = NULL,
  .can_park = pool_can_park,
  .park_request = pool_park_request,
  .get_stats = pool_get_stats,
  .free = pool_free,
};
