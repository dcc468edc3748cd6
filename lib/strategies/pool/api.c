/* api.c: the thread pool's public API -- construction, limits, the close
 * and overload settings, join (include/socketserver/threadpool.h).
 *
 * Every setter takes the pool's lock; none of them runs user code except
 * through handle_error when raising min_workers fails to spawn a thread.
 */
#include "strategies/pool/pool.h"

#include <time.h>
#include <unistd.h>

gboolean
ss_is_thread_pool_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &ss__pool_ops;
}

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
  pthread_condattr_t attr;
  pthread_mutexattr_t mattr;
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
  pool->parent.ops = &ss__pool_ops;
  /* Adaptive: a thread that finds the lock taken spins a little before
   * it sleeps in futex. The lock is held for a few counts at a time, so
   * with two acceptors on two CPUs it is almost always free again within
   * the spin; a plain mutex put the loser to sleep and paid a wake-up
   * (BENCHMARKS.md). */
  pthread_mutexattr_init (&mattr);
#ifdef __GLIBC__
  pthread_mutexattr_settype (&mattr, PTHREAD_MUTEX_ADAPTIVE_NP);   /* a GNU extension */
#endif
  pthread_mutex_init (&pool->lock, &mattr);
  pthread_mutexattr_destroy (&mattr);
  pthread_cond_init (&pool->work_cond, NULL);
  pthread_cond_init (&pool->state_cond, NULL);
  /* The sentinel's grace is a timed wait: on the monotonic clock. */
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&pool->sentinel_cond, &attr);
  pthread_condattr_destroy (&attr);
  pthread_cond_init (&pool->overload_cond, NULL);
  pool->counts.min_workers = min_workers;
  pool->counts.max_workers = max_workers;
  pool->counts.min_spare_workers = min_spare_workers;
  /* One accepting worker per two CPUs while requests are short (accept.c
   * says why): one on this 2-CPU machine, as the sync server has; boosted
   * up to one per CPU while the acceptors never wait (policy.c). */
  pool->counts.accept_max = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN));
  pool->counts.accept_cap = MAX (1u, pool->counts.accept_max / 2);
  pool->counts.block_on_close = TRUE;
  pool->all = g_ptr_array_new ();
  pool->queue_efd = queue_efd;
  pool->control_efd = control_efd;
  if (!ss__pool_park_open (pool, error))
    {
      ss__pool_ops.free (&pool->parent);
      return NULL;
    }
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
ss_thread_pool_strategy_get_limits (SsStrategy *strategy, guint *min_workers,
                                    guint *max_workers, guint *min_spare_workers)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  if (min_workers != NULL)
    *min_workers = pool->counts.min_workers;
  if (max_workers != NULL)
    *max_workers = pool->counts.max_workers;
  if (min_spare_workers != NULL)
    *min_spare_workers = pool->counts.min_spare_workers;
  pthread_mutex_unlock (&pool->lock);
}

void
ss_thread_pool_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  pool->counts.block_on_close = block_on_close;
  pthread_mutex_unlock (&pool->lock);
}

void
ss_thread_pool_strategy_set_max_queue (SsStrategy *strategy, guint max_queue)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  pool->max_queue_set = TRUE;
  pool->max_queue = max_queue;
  pool->counts.max_queue = max_queue;
  /* Waiters on a full queue look again (a raised bound frees them). */
  ss__pool_notify_state_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
}

void
ss_thread_pool_strategy_set_overload_policy (SsStrategy *strategy, SsOverloadPolicy policy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  g_return_if_fail (policy == SS_OVERLOAD_BLOCK || policy == SS_OVERLOAD_REJECT);
  pthread_mutex_lock (&pool->lock);
  pool->counts.reject = policy == SS_OVERLOAD_REJECT;
  ss__pool_notify_state_unlocked (pool);
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
