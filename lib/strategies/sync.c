/* strategy.c: the synchronous strategy and strategy construction by name.
 *
 * Sync is Python's plain TCPServer: the request runs inline in the serving
 * thread, so it needs nothing but process_request. Naming strategies here
 * lets programs (ss-echo, ss-bench) map a command-line word to an object.
 */
#include "strategies/strategy-private.h"

static void
sync_process_request (SsStrategy *self, SsServer *server, SsRequest *request)
{
  ss_server_run_request (server, request);
}

static void
sync_free (SsStrategy *self)
{
  g_free (self);
}

static const SsStrategyOps sync_ops = {
  .name = "sync",
  .attach = NULL,
  .process_request = sync_process_request,
  .service_actions = NULL,
  .handle_timeout = NULL,
  .server_close = NULL,
  .start_serving = NULL,
  .stop_serving = NULL,
  .signal_workers = NULL,
  .can_park = NULL,
  .park_request = NULL,
  .get_stats = NULL,
  .free = sync_free,
};

SsStrategy *
ss_sync_strategy_new (void)
{
  SsStrategy *self = g_new0 (SsStrategy, 1);

  self->ops = &sync_ops;
  return self;
}

SsStrategy *
ss_strategy_new_by_name (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  if (g_str_equal (name, "sync"))
    return ss_sync_strategy_new ();
  if (g_str_equal (name, "threading"))
    return ss_threading_strategy_new ();
  if (g_str_equal (name, "threadpooling"))
    return ss_thread_pool_strategy_new (SS_THREAD_POOL_DEFAULT_MIN_WORKERS,
                                        SS_THREAD_POOL_DEFAULT_MAX_WORKERS,
                                        SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS, error);
  if (g_str_equal (name, "forking"))
    return ss_forking_strategy_new ();
  if (g_str_equal (name, "preforking"))
    return ss_preforking_strategy_new (SS_PREFORKING_DEFAULT_MIN_WORKERS,
                                       SS_PREFORKING_DEFAULT_MAX_WORKERS,
                                       SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS, error);
  g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
               "Unknown strategy “%s”: use sync, threading, threadpooling, forking or preforking",
               name);
  return NULL;
}

const char *
ss_strategy_name (const SsStrategy *strategy)
{
  g_return_val_if_fail (strategy != NULL, NULL);
  return strategy->ops->name;
}

void
ss_strategy_free (SsStrategy *strategy)
{
  if (strategy != NULL)
    strategy->ops->free (strategy);
}
