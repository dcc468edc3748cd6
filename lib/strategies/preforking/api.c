/* api.c: the preforking strategy's public API -- construction, the
 * limits and the other settings, the info (include/socketserver/preforking.h).
 *
 * Every setter takes the strategy's lock; a child reads its own copy of
 * the settings, made by fork. ss__prefork_limits_unlocked turns the
 * settings into the limits the maintenance's policy reads (policy.c).
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

gboolean
ss_is_preforking_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &ss__prefork_ops;
}

static gboolean
check_limits (guint min_workers, guint max_workers, guint min_spare, guint max_spare, GError **error)
{
  if (max_workers == 0 || max_workers > SS_PREFORKING_WORKERS_LIMIT || min_workers > max_workers)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Process pool limits min_workers=%u max_workers=%u do not fit: need "
                   "min_workers <= max_workers and 1 <= max_workers <= %u",
                   min_workers, max_workers, SS_PREFORKING_WORKERS_LIMIT);
      return FALSE;
    }
  if (max_spare != SS_PREFORKING_MAX_SPARE_DEFAULT && max_spare < min_spare)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Process pool limits min_spare_workers=%u max_spare_workers=%u do not fit: "
                   "need min_spare_workers <= max_spare_workers",
                   min_spare, max_spare);
      return FALSE;
    }
  return TRUE;
}

SsPreforkLimits
ss__prefork_limits_unlocked (SsPreforkingStrategy *self)
{
  SsPreforkLimits limits = {
    .min_workers = self->min_workers,
    .max_workers = self->max_workers,
    .min_spare = self->min_spare,
    .max_spare = self->max_spare_setting,
  };

  /* As Apache resets MinSpareServers 0 to 1: with no idle child kept, the
   * last one could retire and nobody would accept. */
  limits.min_spare = MAX (limits.min_spare, 1);
  if (limits.max_spare == SS_PREFORKING_MAX_SPARE_DEFAULT)
    limits.max_spare = self->min_workers + self->min_spare;
  limits.max_spare = MAX (limits.max_spare, limits.min_spare);
  return limits;
}

SsStrategy *
ss_preforking_strategy_new (guint min_workers, guint max_workers, guint min_spare_workers,
                            GError **error)
{
  SsPreforkingStrategy *self;

  if (!check_limits (min_workers, max_workers, min_spare_workers, SS_PREFORKING_MAX_SPARE_DEFAULT, error))
    return NULL;

  self = g_new0 (SsPreforkingStrategy, 1);
  self->parent.ops = &ss__prefork_ops;
  pthread_mutex_init (&self->lock, NULL);
  self->min_workers = min_workers;
  self->max_workers = max_workers;
  self->min_spare = min_spare_workers;
  self->max_spare_setting = SS_PREFORKING_MAX_SPARE_DEFAULT;
  self->max_requests = SS_PREFORKING_DEFAULT_MAX_REQUESTS;
  self->interval = SS_PREFORKING_DEFAULT_INTERVAL;
  self->block_on_close = TRUE;
  self->epfd = -1;
  self->stop = (SsWakeFd) SS_WAKE_FD_INIT;
  self->policy.spawn_rate = 1;

  self->doorbell = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
  if (self->doorbell < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create the process pool's doorbell",
                               "Raise the open-file limit (ulimit -n)");
      ss__prefork_ops.free (&self->parent);
      return NULL;
    }
  self->shared = ss__prefork_map_shared (sizeof *self->shared, error);
  if (self->shared == NULL || !ss__prefork_resize_board_unlocked (self, max_workers, error)
      || !ss__wake_fd_open (&self->stop, "Could not create the process pool's stop fd", error))
    {
      ss__prefork_ops.free (&self->parent);
      return NULL;
    }
  self->shared->accept_cap = (gint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN) / 2);
  return &self->parent;
}

gboolean
ss_preforking_strategy_set_limits (SsStrategy *strategy, guint min_workers, guint max_workers,
                                   guint min_spare_workers, guint max_spare_workers, GError **error)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  gboolean ok = TRUE;

  g_return_val_if_fail (ss_is_preforking_strategy (strategy), FALSE);
  if (!check_limits (min_workers, max_workers, min_spare_workers, max_spare_workers, error))
    return FALSE;

  pthread_mutex_lock (&self->lock);
  if (max_workers > self->n_slots && self->alive > 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot raise max_workers to %u while %u children of the pool still run: "
                   "change it before serving or once they have exited", max_workers, self->alive);
      ok = FALSE;
    }
  else if (max_workers != self->n_slots && self->alive == 0)
    ok = ss__prefork_resize_board_unlocked (self, max_workers, error);
  if (ok)
    {
      self->min_workers = min_workers;
      self->max_workers = max_workers;
      self->min_spare = min_spare_workers;
      self->max_spare_setting = max_spare_workers;
    }
  pthread_mutex_unlock (&self->lock);
  return ok;
}

void
ss_preforking_strategy_set_max_requests (SsStrategy *strategy, guint max_requests)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->max_requests = max_requests;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_maintenance_interval (SsStrategy *strategy, double seconds)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  g_return_if_fail (seconds > 0 && seconds <= 3600);
  pthread_mutex_lock (&self->lock);
  self->interval = seconds;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_child_hooks (SsStrategy *strategy, SsPreforkingChildHook child_init,
                                        SsPreforkingChildHook child_exit, gpointer user_data)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->child_init = child_init;
  self->child_exit = child_exit;
  self->hook_data = user_data;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->block_on_close = block_on_close;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_get_info (SsStrategy *strategy, SsPreforkingInfo *info)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy) && info != NULL);
  pthread_mutex_lock (&self->lock);
  *info = (SsPreforkingInfo) {
    .passes = self->passes,
    .spawn_rate = self->policy.spawn_rate,
    .last_spawned = self->last_spawned,
    .crashed = self->crashed,
    .recycled = self->recycled,
    .max_workers_reached = self->max_reached,
  };
  pthread_mutex_unlock (&self->lock);
}
