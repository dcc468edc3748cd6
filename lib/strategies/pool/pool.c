/* pool.c: the dynamic thread pool (the 2008 ThreadPoolingMixIn), its races
 * fixed -- the pool object, the worker loop, a request's run, the strategy
 * ops and the public API.
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
 *    thread outside the pool during serve_forever): the request goes into
 *    the queue (queue.c) and one waiting worker is signalled; the condvar
 *    is signalled only when a worker waits on it.
 *
 * A worker's loop: take a queued request if there is one; else, in accept
 * mode, accept (or be the sentinel) as the policy says; else sleep; after
 * every request, retire if the policy says so. Workers are spawned,
 * joined and reaped by the registry (workers.c).
 */
#include "strategies/pool/pool.h"

#include <unistd.h>

static const SsStrategyOps pool_ops;

gboolean
ss_is_thread_pool_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &pool_ops;
}

/* ------------------------------------------------------------ the queue, with its signals */

static void
enqueue_unlocked (SsThreadPool *pool, SsRequest *request)
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

/* ------------------------------------------------------------ the worker */

void
ss__pool_run_request (SsThreadPool *pool, SsServer *server, SsRequest *request,
                      gboolean call_process_request)
{
  gint64 before, start;
  guint n;

  pool->counts.busy++;
  n = grow_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  ss__pool_spawn_or_log (pool, server, n);
  start = g_get_monotonic_time ();
  if (call_process_request)
    ss_server_process_request (server, request);
  else
    ss_server_run_request (server, request);

  pthread_mutex_lock (&pool->lock);
  pool->counts.busy--;
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

/* What an idle worker does in accept mode. Lock held; drops it while
 * accepting or watching. Returns whether it ran a request. */
static gboolean
take_idle_turn (SsThreadPool *pool, SsServer *server, PoolWorker *w, gboolean *idle)
{
  *idle = FALSE;
  switch (ss__pool_idle_role (&pool->counts))
    {
    case SS_POOL_ROLE_SENTINEL:
      if (!ss__pool_take_sentinel_turn (pool, server))
        return FALSE;
      /* The backlog was stalled: accept like any worker. */
      return ss__pool_take_accept_turn (pool, server, w);
    case SS_POOL_ROLE_ACCEPT:
      return ss__pool_take_accept_turn (pool, server, w);
    case SS_POOL_ROLE_SLEEP:
      break;
    }
  *idle = TRUE;
  return FALSE;
}

void *
ss__pool_worker_main (void *data)
{
  PoolWorker *w = data;
  SsThreadPool *pool = w->pool;
  SsServer *server;

  pthread_mutex_lock (&pool->lock);
  server = pool->server;
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
       * others served) checks here: the retire chain below only reaches
       * workers already waiting. */
      if (ss__pool_idle_should_retire (&pool->counts))
        break;
      pool->counts.waiting++;
      pthread_cond_wait (&pool->work_cond, &pool->lock);
      pool->counts.waiting--;
      /* Woken with nothing to do (a retiring worker found the pool still
       * above its spare count, see below; or start_serving, a lifted cap,
       * a wanted sentinel): retire if the policy says so. */
      if (ss__pool_idle_should_retire (&pool->counts))
        break;
    }

  ss__pool_worker_close_epoll (w);
  ss__pool_mark_exited_unlocked (pool, w);
  /* Workers that never ran a request (spawned by the post's "more than 3
   * waiting" rule) never reach the retire check; when a retiring worker
   * leaves the pool still above min_spare idle, it passes the check on to
   * one waiting worker, which retires in turn until the surplus is gone. */
  if (pool->counts.waiting > 0 && ss__pool_should_retire (&pool->counts))
    pthread_cond_signal (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

/* ------------------------------------------------------------ strategy ops */

static void
pool_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  guint n;

  pthread_mutex_lock (&pool->lock);
  /* Closing: with block_on_close a request still reaches the queue while
   * a worker is left to drain it (a user's process_request calling super()
   * on a worker); otherwise it is shut down unprocessed. */
  if (pool->counts.stopping && (!pool->block_on_close || pool->counts.workers == 0))
    {
      pool->rejected++;
      pthread_mutex_unlock (&pool->lock);
      ss_server_shutdown_request (server, request);
      ss_request_free (request);
      return;
    }
  n = start_unlocked (pool);
  enqueue_unlocked (pool, request);
  n += grow_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  ss__pool_spawn_or_log (pool, server, n);
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
pool_start_serving (SsStrategy *strategy, SsServer *server, GError **error)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  GError *local = NULL;
  guint n;

  pthread_mutex_lock (&pool->lock);
  n = start_unlocked (pool);
  pool->counts.accepting = TRUE;
  n += grow_unlocked (pool);   /* min_workers 0: still one to accept */
  if (pool->counts.queued > 0)
    ss__wake_fd_set (&pool->queue_efd);
  /* Workers waiting for hand-offs switch to accepting. */
  pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);

  if (ss__pool_spawn (pool, server, n, &local) == 0)
    return TRUE;

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
  return TRUE;
}

/* Returns once no worker touches the listening socket: every worker in
 * accept mode leaves it through control_efd and counts itself out. */
static void
pool_stop_serving (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  pool->counts.accepting = FALSE;
  ss__pool_unpark_sentinel_unlocked (pool);
  if (pool->in_accept > 0 || pool->counts.have_sentinel)
    {
      ss__wake_fd_set (&pool->control_efd);
      while (pool->in_accept > 0 || pool->counts.have_sentinel)
        ss__pool_wait_state (pool);
    }
  /* The next serve_forever starts without a stale sentinel state. */
  pool->counts.sentinel_wanted = FALSE;
  pool->stalled = FALSE;
  /* Nobody is in epoll now; re-arm for the next serve_forever. */
  ss__wake_fd_clear (&pool->control_efd);
  ss__wake_fd_clear (&pool->queue_efd);
  if (pool->counts.queued > 0 && pool->counts.waiting > 0)
    pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);
  ss__pool_reap (pool);
}

static void
pool_service_actions (SsStrategy *strategy, SsServer *server)
{
  ss__pool_reap ((SsThreadPool *) strategy);
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
  if (!pool->block_on_close)
    {
      SsRequest *request;

      while ((request = dequeue_unlocked (pool)) != NULL)
        g_ptr_array_add (dropped, request);
      pool->rejected += dropped->len;
    }
  pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; i < dropped->len; i++)
    {
      ss_server_shutdown_request (server, g_ptr_array_index (dropped, i));
      ss_request_free (g_ptr_array_index (dropped, i));
    }
  g_ptr_array_free (dropped, TRUE);
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
  stats->spawned = pool->spawned;
  stats->retired = pool->retired;
  stats->rejected = pool->rejected;
  pthread_mutex_unlock (&pool->lock);
}

static void
pool_free (SsStrategy *strategy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  /* server_close (which ss_server_free runs first) joined every worker. */
  g_ptr_array_free (pool->all, TRUE);
  ss__pool_queue_clear (&pool->queue);
  ss__wake_fd_close (&pool->queue_efd);
  ss__wake_fd_close (&pool->control_efd);
  pthread_cond_destroy (&pool->work_cond);
  pthread_cond_destroy (&pool->state_cond);
  pthread_cond_destroy (&pool->sentinel_cond);
  pthread_mutex_destroy (&pool->lock);
  g_free (pool);
}

static const SsStrategyOps pool_ops = {
  .name = "threadpooling",
  .attach = pool_attach,
  .process_request = pool_process_request,
  .service_actions = pool_service_actions,
  .handle_timeout = NULL,
  .server_close = pool_server_close,
  .start_serving = pool_start_serving,
  .stop_serving = pool_stop_serving,
  .get_stats = pool_get_stats,
  .free = pool_free,
};

/* ------------------------------------------------------------ public API */

static gboolean
check_limits (guint min_workers, guint max_workers, GError **error)
{
  if (max_workers == 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Thread pool: max_workers must be at least 1");
      return FALSE;
    }
  if (min_workers > max_workers)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Thread pool: min_workers (%u) is larger than max_workers (%u); "
                   "lower min_workers or raise max_workers", min_workers, max_workers);
      return FALSE;
    }
  return TRUE;
}

SsStrategy *
ss_thread_pool_strategy_new (guint min_workers, guint max_workers,
                             guint min_spare_workers, GError **error)
{
  SsWakeFd queue_efd = SS_WAKE_FD_INIT;
  SsWakeFd control_efd = SS_WAKE_FD_INIT;
  SsThreadPool *pool;

  if (!check_limits (min_workers, max_workers, error))
    return NULL;
  if (!ss__wake_fd_open (&queue_efd, "Thread pool: could not create an eventfd", error)
      || !ss__wake_fd_open (&control_efd, "Thread pool: could not create an eventfd", error))
    {
      ss__wake_fd_close (&queue_efd);
      return NULL;
    }

  pool = g_new0 (SsThreadPool, 1);
  pool->parent.ops = &pool_ops;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->work_cond, NULL);
  pthread_cond_init (&pool->state_cond, NULL);
  pthread_cond_init (&pool->sentinel_cond, NULL);
  pool->counts.min_workers = min_workers;
  pool->counts.max_workers = max_workers;
  pool->counts.min_spare_workers = min_spare_workers;
  pool->counts.accept_cap = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN));
  pool->block_on_close = TRUE;
  pool->all = g_ptr_array_new ();
  pool->queue_efd = queue_efd;
  pool->control_efd = control_efd;
  return &pool->parent;
}

gboolean
ss_thread_pool_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                    guint max_workers, guint min_spare_workers,
                                    GError **error)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  SsServer *server;
  guint n;

  g_return_val_if_fail (ss_is_thread_pool_strategy (strategy), FALSE);
  if (!check_limits (min_workers, max_workers, error))
    return FALSE;

  pthread_mutex_lock (&pool->lock);
  pool->counts.min_workers = min_workers;
  pool->counts.max_workers = max_workers;
  pool->counts.min_spare_workers = min_spare_workers;
  /* Raised while running: never below min_workers. (Lowered: workers
   * above max retire after their next request.) */
  n = ss__pool_count_spawn_unlocked (pool, ss__pool_missing_workers (&pool->counts));
  server = pool->server;
  pthread_mutex_unlock (&pool->lock);

  ss__pool_spawn_or_log (pool, server, n);
  return TRUE;
}

void
ss_thread_pool_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  pool->block_on_close = block_on_close;
  pthread_mutex_unlock (&pool->lock);
}

void
ss_thread_pool_strategy_join (SsStrategy *strategy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  while (pool->counts.queued > 0 || pool->counts.busy > 0)
    ss__pool_wait_state (pool);
  pthread_mutex_unlock (&pool->lock);
}

gboolean
ss_server_init_thread_pool (SsServer *server, guint min_workers, guint max_workers,
                            guint min_spare_workers, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);

  if (!ss_is_thread_pool_strategy (server->strategy))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "init_thread_pool: the server's strategy is “%s”, not “threadpooling”; "
                   "create the server with ss_thread_pool_strategy_new() or a "
                   "ThreadPooling constructor", ss_strategy_name (server->strategy));
      return FALSE;
    }
  return ss_thread_pool_strategy_set_limits (server->strategy, min_workers, max_workers,
                                             min_spare_workers, error);
}
