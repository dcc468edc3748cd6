/* threading.c: a thread per request (Python's ThreadingMixIn).
 *
 * Each request runs on a new detached pthread with a modest stack (glibc
 * caches freed stacks up to 40 MiB, so small stacks keep creation cheap
 * under load). Finished threads are not retained -- Python's bpo-37193 was a
 * list of finished threads growing with every request -- the strategy keeps
 * only counts of running threads under one mutex, and a condition variable
 * that server_close waits on when block_on_close asks it to.
 *
 * daemon_threads: server_close does not wait for daemon threads. Unlike
 * Python, C cannot keep the server alive under a running thread, so
 * freeing the strategy (ss_server_free) still waits for every thread: a
 * program that must not wait exits without freeing the server.
 *
 * From inside a request thread: server_close waits for the other request
 * threads, never for the calling one (a thread-local says which request
 * this thread runs), and the server is freed by whoever frees it after
 * serve_forever, once that thread is gone too. A handler may end its
 * thread with pthread_exit() (C's SystemExit): a cleanup handler then shuts
 * the request down as Python's finally does, without handle_error, and
 * counts the thread out.
 */
#include "strategies/strategy-private.h"

#include <errno.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REQUEST_STACK_SIZE (2u * 1024 * 1024)
#else
#define REQUEST_STACK_SIZE (256u * 1024)
#endif

typedef struct {
  SsStrategy parent;  /* base, first member */

  /* Guards the fields marked (lock). Never held while a request runs. */
  pthread_mutex_t lock;
  /* Broadcast when `active` or `active_nondaemon` falls and `waiters` > 0. */
  pthread_cond_t done_cond;
  guint active;              /* (lock) request threads running */
  guint active_nondaemon;    /* (lock) of those, the ones server_close waits for */
  guint waiters;             /* (lock) threads blocked on done_cond */
  gboolean daemon_threads;   /* (lock) */
  gboolean block_on_close;   /* (lock) */

  pthread_attr_t attr;       /* detached, REQUEST_STACK_SIZE; read-only after new */
} SsThreadingStrategy;

/* What a request thread needs: one small allocation per request, freed by
 * the thread (the thread start routine takes a single pointer). */
typedef struct {
  SsThreadingStrategy *self;
  SsServer *server;
  SsRequest *request;
  gboolean daemon;
} RequestJob;

static const SsStrategyOps threading_ops;

/* The request this thread runs, while it runs it. */
static __thread const RequestJob *current_job;

gboolean
ss_is_threading_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &threading_ops;
}

/* Counts a request thread out (or one that never started) and frees its job. */
static void
job_done (RequestJob *job)
{
  SsThreadingStrategy *self = job->self;

  pthread_mutex_lock (&self->lock);
  self->active--;
  if (!job->daemon)
    self->active_nondaemon--;
  if (self->waiters > 0)
    pthread_cond_broadcast (&self->done_cond);
  pthread_mutex_unlock (&self->lock);
  g_free (job);
}

/* pthread_cleanup handler: the handler ended the thread (pthread_exit)
 * inside the request. Python's SystemExit is no Exception, so no
 * handle_error; its finally still shuts the request down. */
static void
request_unwound (void *data)
{
  RequestJob *job = data;

  ss_server_shutdown_request (job->server, job->request);
  ss_request_free (job->request);
  current_job = NULL;
  job_done (job);
}

static void *
request_thread (void *data)
{
  RequestJob *job = data;

  current_job = job;
  pthread_cleanup_push (request_unwound, job);
  /* Python's process_request_thread: finish_request, handle_error on
   * failure, shutdown_request in every case. */
  ss_server_run_request (job->server, job->request);
  pthread_cleanup_pop (0);
  current_job = NULL;
  job_done (job);
  return NULL;
}

static void
threading_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;
  RequestJob *job = g_new (RequestJob, 1);
  pthread_t thread;
  int err;

  job->self = self;
  job->server = server;
  job->request = request;

  /* Count before creating, so server_close never misses a thread. */
  pthread_mutex_lock (&self->lock);
  job->daemon = self->daemon_threads;
  self->active++;
  if (!job->daemon)
    self->active_nondaemon++;
  pthread_mutex_unlock (&self->lock);

  err = pthread_create (&thread, &self->attr, request_thread, job);
  if (err != 0)
    {
      GError *error = NULL;

      job_done (job);

      /* Never drop a request silently: report it and close it. */
      ss_set_error_from_errno (&error, err, "Could not start a thread for the request",
                               "Too many threads: lower the load, raise the limit on "
                               "threads (ulimit -u) or use the thread pool strategy.");
      ss_server_handle_error (server, request, error);
      g_error_free (error);
      ss_server_shutdown_request (server, request);
      ss_request_free (request);
    }
}

/* Waits until *count (a field under the lock) is at most @mine: the
 * calling thread's own share of it. */
static void
wait_for_others (SsThreadingStrategy *self, const guint *count, guint mine)
{
  pthread_mutex_lock (&self->lock);
  while (*count > mine)
    {
      self->waiters++;
      pthread_cond_wait (&self->done_cond, &self->lock);
      self->waiters--;
    }
  pthread_mutex_unlock (&self->lock);
}

static void
threading_server_close (SsStrategy *strategy, SsServer *server)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;
  const RequestJob *me = current_job != NULL && current_job->self == self ? current_job : NULL;
  gboolean block;

  pthread_mutex_lock (&self->lock);
  block = self->block_on_close;
  pthread_mutex_unlock (&self->lock);
  /* From one of our request threads: wait for the others, not for itself. */
  if (block)
    wait_for_others (self, &self->active_nondaemon, me != NULL && !me->daemon ? 1 : 0);
}

static void
threading_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;

  pthread_mutex_lock (&self->lock);
  stats->workers = self->active;
  stats->busy = self->active;
  pthread_mutex_unlock (&self->lock);
}

static void
threading_free (SsStrategy *strategy)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;

  /* Every thread, daemon or not, uses the server and this struct. */
  wait_for_others (self, &self->active, 0);
  pthread_attr_destroy (&self->attr);
  pthread_cond_destroy (&self->done_cond);
  pthread_mutex_destroy (&self->lock);
  g_free (self);
}

static const SsStrategyOps threading_ops = {
  .name = "threading",
  .attach = NULL,
  .process_request = threading_process_request,
  .service_actions = NULL,
  .handle_timeout = NULL,
  .server_close = threading_server_close,
  .start_serving = NULL,
  .stop_serving = NULL,
  .signal_workers = NULL,
  .can_park = NULL,
  .park_request = NULL,
  .get_stats = threading_get_stats,
  .free = threading_free,
};

SsStrategy *
ss_threading_strategy_new (void)
{
  SsThreadingStrategy *self = g_new0 (SsThreadingStrategy, 1);

  self->parent.ops = &threading_ops;
  pthread_mutex_init (&self->lock, NULL);
  pthread_cond_init (&self->done_cond, NULL);
  self->daemon_threads = FALSE;
  self->block_on_close = TRUE;
  pthread_attr_init (&self->attr);
  pthread_attr_setdetachstate (&self->attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&self->attr, REQUEST_STACK_SIZE);
  return &self->parent;
}

void
ss_threading_strategy_set_daemon_threads (SsStrategy *strategy, gboolean daemon_threads)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;

  g_return_if_fail (ss_is_threading_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->daemon_threads = daemon_threads;
  pthread_mutex_unlock (&self->lock);
}

void
ss_threading_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;

  g_return_if_fail (ss_is_threading_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->block_on_close = block_on_close;
  pthread_mutex_unlock (&self->lock);
}

guint
ss_threading_strategy_active_threads (SsStrategy *strategy)
{
  SsThreadingStrategy *self = (SsThreadingStrategy *) strategy;
  guint active;

  g_return_val_if_fail (ss_is_threading_strategy (strategy), 0);
  pthread_mutex_lock (&self->lock);
  active = self->active;
  pthread_mutex_unlock (&self->lock);
  return active;
}
