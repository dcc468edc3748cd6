/* workers.c: the registry of the pool's worker threads.
 *
 * A worker is counted (counts.workers, spawned, pending_spawns) under the
 * lock when the policy decides to spawn it, and created after the lock is
 * dropped: the spawner puts its record in `all`, creates the thread, then
 * marks the record joinable (its handle is valid) and uncounts
 * pending_spawns. A worker that leaves its loop marks itself
 * exited under the lock as its last act; from then on it touches nothing
 * of the pool, and whoever reaps next (the serving thread's
 * service_actions, the next spawn, stop_serving, server_close) joins it
 * and frees its record. So no thread is ever left unjoined and no list
 * grows with requests.
 *
 * Locks: the lock is taken here around each registry change; it is never
 * held across pthread_create or pthread_join, and handle_error (user code)
 * runs without it.
 */
#include "strategies/pool/pool.h"

/* Workers run arbitrary handlers, so they get more stack than the threading
 * strategy's per-request threads, but far less than glibc's 8 MiB default
 * so that 200 of them stay cheap. Sanitizers need more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WORKER_STACK_SIZE (4u * 1024 * 1024)
#else
#define WORKER_STACK_SIZE (1024u * 1024)
#endif

guint
ss__pool_count_spawn_unlocked (SsThreadPool *pool, guint n)
{
  pool->counts.workers += n;
  pool->spawned += n;
  pool->pending_spawns += n;
  return n;
}

void
ss__pool_uncount_unlocked (SsThreadPool *pool, PoolWorker *w)
{
  ss__pool_worker_close_epoll (w);
  pool->counts.workers--;
  pool->retired++;
}

void
ss__pool_mark_exited_unlocked (SsThreadPool *pool, PoolWorker *w)
{
  /* After this, a joiner may free `w` as soon as the lock is dropped. */
  w->exited = TRUE;
  if (w->joinable)
    pool->exited_unjoined++;
  ss__pool_notify_state_unlocked (pool);
}

void
ss__pool_reap (SsThreadPool *pool)
{
  GPtrArray *done = NULL;
  guint i;

  pthread_mutex_lock (&pool->lock);
  for (i = 0; pool->exited_unjoined > 0 && i < pool->all->len;)
    {
      PoolWorker *w = g_ptr_array_index (pool->all, i);

      if (w->exited && w->joinable)
        {
          if (done == NULL)
            done = g_ptr_array_new ();
          g_ptr_array_add (done, w);
          g_ptr_array_remove_index_fast (pool->all, i);
          pool->exited_unjoined--;
        }
      else
        i++;
    }
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; done != NULL && i < done->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (done, i);

      pthread_join (w->thread, NULL);
      g_free (w);
    }
  if (done != NULL)
    g_ptr_array_free (done, TRUE);
}

/* Registers a worker about to be created: from here on it is in `all`
 * (not yet joinable), so that the worker can be recognised as one from
 * its first instruction (ss__pool_is_worker_thread_unlocked). */
static PoolWorker *
register_worker (SsThreadPool *pool)
{
  PoolWorker *w = g_new0 (PoolWorker, 1);

  w->pool = pool;
  w->epfd = -1;
  pthread_mutex_lock (&pool->lock);
  g_ptr_array_add (pool->all, w);
  pthread_mutex_unlock (&pool->lock);
  return w;
}

/* After pthread_create: makes the worker joinable, or unregisters and
 * uncounts one that could not be created (which the caller frees). */
static void
created_worker (SsThreadPool *pool, PoolWorker *w, int err)
{
  pthread_mutex_lock (&pool->lock);
  if (err == 0)
    {
      w->joinable = TRUE;
      if (w->exited)
        pool->exited_unjoined++;
    }
  else
    {
      g_ptr_array_remove_fast (pool->all, w);
      pool->counts.workers--;
      pool->spawned--;
    }
  pool->pending_spawns--;
  ss__pool_notify_state_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
}

guint
ss__pool_spawn (SsThreadPool *pool, SsServer *server, guint n, GError **error)
{
  pthread_attr_t attr;
  guint failed = 0;
  guint i;

  if (n == 0)
    return 0;
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, WORKER_STACK_SIZE);
  for (i = 0; i < n; i++)
    {
      PoolWorker *w = register_worker (pool);
      GError *local = NULL;
      int err;

      err = pthread_create (&w->thread, &attr, ss__pool_worker_main, w);
      created_worker (pool, w, err);
      if (err == 0)
        continue;

      g_free (w);
      ss_set_error_from_errno (&local, err, "Thread pool could not start a worker thread",
                               "Lower max_workers or raise the limit on threads "
                               "(ulimit -u, /proc/sys/kernel/threads-max).");
      if (failed == 0 && error != NULL)
        *error = g_error_copy (local);
      else if (server != NULL)
        ss_server_handle_error (server, NULL, local);
      g_error_free (local);
      failed++;
    }
  pthread_attr_destroy (&attr);
  return failed;
}

void
ss__pool_spawn_or_log (SsThreadPool *pool, SsServer *server, guint n)
{
  GError *error = NULL;

  if (n == 0)
    return;
  ss__pool_reap (pool);
  if (ss__pool_spawn (pool, server, n, &error) > 0)
    {
      ss_server_handle_error (server, NULL, error);
      g_error_free (error);
    }
}

void
ss__pool_join_all (SsThreadPool *pool)
{
  GPtrArray *workers, *kept;
  guint i;

  pthread_mutex_lock (&pool->lock);
  /* Workers being created now must be registered before we take the list;
   * no new spawn is decided once `stopping` is set. */
  while (pool->pending_spawns > 0)
    ss__pool_wait_state (pool);
  /* server_close from a worker's own handler: that worker cannot join
   * itself. It stays registered -- in the same locked step that takes the
   * others, so that a pool_free racing with this close always finds it --
   * leaves its loop once the handler returns (stopping is set), and
   * pool_free joins it, the last one out; by then it has joined the
   * others. */
  workers = pool->all;
  kept = g_ptr_array_new ();
  pool->all = kept;
  for (i = 0; i < workers->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (workers, i);

      if (pthread_equal (w->thread, pthread_self ()))
        {
          g_ptr_array_add (kept, w);
          g_ptr_array_remove_index_fast (workers, i);
          break;
        }
    }
  pool->exited_unjoined = 0;
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; i < workers->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (workers, i);

      pthread_join (w->thread, NULL);
      g_free (w);
    }
  g_ptr_array_free (workers, TRUE);
}

gboolean
ss__pool_is_worker_thread_unlocked (SsThreadPool *pool)
{
  guint i;

  for (i = 0; i < pool->all->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (pool->all, i);

      if (w->started && pthread_equal (w->self, pthread_self ()))
        return TRUE;
    }
  return FALSE;
}
