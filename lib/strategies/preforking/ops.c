/* ops.c: the preforking strategy's ops -- what the server calls.
 *
 * start_serving forks the first children and starts the maintenance
 * thread (manager.c), stop_serving stops it and tells every child to
 * stop, server_close reaps them (waiting when block_on_close); in a child,
 * process_request runs the request it took (child.c), and outside
 * serve_forever the parent runs one inline, as sync would. Every op takes
 * the strategy's lock only around its own fields: forks, reaps and
 * handle_error run without it (prefork.h).
 */
#include "strategies/preforking/prefork.h"

#include <signal.h>
#include <unistd.h>

static void
preforking_attach (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  pthread_mutex_lock (&self->lock);
  self->server = server;
  pthread_mutex_unlock (&self->lock);
  ss__server_share_counters (server, &self->shared->counters);
}

/* In a child: the request runs here (the scoreboard says busy already).
 * In the parent, outside serve_forever: inline, as sync would. */
static void
preforking_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  if (self->in_child)
    ss__prefork_child_run (self, server, request);
  else
    ss_server_run_request (server, request);
}

static gboolean
preforking_start_serving (SsStrategy *strategy, SsServer *server, GError **error)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  GError *spawn_error = NULL;
  GError *manager_error = NULL;
  SsPreforkLimits limits;
  guint n, i;

  /* Children of an earlier serve_forever that have left since. */
  ss__prefork_reap (self, FALSE);

  pthread_mutex_lock (&self->lock);
  self->policy = (SsPreforkPolicy) { .spawn_rate = 1, .max_reported = FALSE };
  if (self->alive == 0)
    {
      /* Whatever children killed in their place left counted. */
      self->shared->on_socket = 0;
      self->shared->standby = 0;
    }
  self->max_reached = FALSE;
  self->shared->lent = 0;
  limits = ss__prefork_limits_unlocked (self);
  n = MIN (MAX (limits.min_workers, limits.min_spare), limits.max_workers);
  /* Children of an earlier serve_forever still leaving hold their slots. */
  n = MIN (n, self->n_slots - MIN (self->alive, self->n_slots));
  self->serving = TRUE;
  pthread_mutex_unlock (&self->lock);

  /* Apache's StartServers: the pool is ready before the first client. A
   * fork that fails is retried by the next pass; without the maintenance
   * thread nobody would, so that aborts serve_forever. */
  for (i = 0; i < n; i++)
    if (!ss__prefork_spawn (self, &spawn_error))
      break;
  if (ss__prefork_manager_start (self, &manager_error))
    {
      if (spawn_error != NULL)
        {
          ss_server_handle_error (server, NULL, spawn_error);
          g_error_free (spawn_error);
        }
      return TRUE;
    }
  g_clear_error (&spawn_error);

  pthread_mutex_lock (&self->lock);
  self->serving = FALSE;
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  pthread_mutex_unlock (&self->lock);
  ss__prefork_reap (self, TRUE);
  g_propagate_error (error, manager_error);
  return FALSE;
}

/* Children stop taking connections at once; each finishes the one it has.
 * The parent's listening fd is no child's: server_close may close it. */
static void
preforking_stop_serving (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  ss__prefork_manager_stop (self);
  pthread_mutex_lock (&self->lock);
  self->serving = FALSE;
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  pthread_mutex_unlock (&self->lock);
}

static void
preforking_server_close (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  gboolean block;

  ss__prefork_manager_stop (self);
  pthread_mutex_lock (&self->lock);
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  block = self->block_on_close;
  pthread_mutex_unlock (&self->lock);
  ss__prefork_reap (self, block);
}

/* A drain's deadline: every child still alive gets @sig (SIGTERM keeps
 * its default in a child, child.c). A slot keeps its pid until
 * the child is reaped, so the number is never a stranger's. */
static guint
preforking_signal_workers (SsStrategy *strategy, SsServer *server, int sig)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  guint slot, n = 0;

  (void) server;
  pthread_mutex_lock (&self->lock);
  for (slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0 && kill (self->children[slot].pid, sig) == 0)
      n++;
  pthread_mutex_unlock (&self->lock);
  return n;
}

static void
preforking_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  guint slot;

  pthread_mutex_lock (&self->lock);
  stats->workers = self->alive;
  for (slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0
        && __atomic_load_n (&self->board[slot].state, __ATOMIC_ACQUIRE) == SS_PREFORK_SLOT_BUSY)
      stats->busy++;
  stats->idle = stats->workers - MIN (stats->busy, stats->workers);
  stats->spawned = self->spawned;
  stats->retired = self->retired;
  pthread_mutex_unlock (&self->lock);
}

static void
preforking_free (SsStrategy *strategy)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  /* After server_close: the manager is stopped; children still running
   * (block_on_close FALSE) keep their own copies of the mappings. */
  ss__prefork_manager_stop (self);
  for (guint slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].fd >= 0)
      close (self->children[slot].fd);
  ss__prefork_unmap (self);
  ss__wake_fd_close (&self->stop);
  if (self->doorbell >= 0)
    close (self->doorbell);
  g_free (self->children);
  pthread_mutex_destroy (&self->lock);
  g_free (self);
}

const SsStrategyOps ss__prefork_ops = {
  .name = "preforking",
  .attach = preforking_attach,
  .process_request = preforking_process_request,
  .service_actions = NULL,
  .handle_timeout = NULL,
  .server_close = preforking_server_close,
  .start_serving = preforking_start_serving,
  .stop_serving = preforking_stop_serving,
  .signal_workers = preforking_signal_workers,
  .can_park = NULL,
  .park_request = NULL,
  .get_stats = preforking_get_stats,
  .free = preforking_free,
};
