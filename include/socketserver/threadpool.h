/* threadpool.h: the dynamic thread pool (the 2008 ThreadPoolingMixIn).
 *
 * Parameters keep the post's names and defaults: min_workers 5,
 * max_workers 100, min_spare_workers 5. min_workers start when the server
 * starts serving; a worker is added when more than 3 requests wait (or none
 * is idle, so no request starves) and fewer than max_workers exist; after a
 * request a worker retires when more than min_spare_workers are idle and
 * more than min_workers exist. A worker is counted when it is spawned, not
 * when it starts. One lock covers the queue and every counter.
 *
 * During serve_forever idle workers accept in turn themselves (while
 * requests are short, one per CPU at a time, the others on call); requests
 * handed over by process_request (handle_request, a user's override) go
 * through the pool's queue. Both paths share the policy above.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

#define SS_THREAD_POOL_DEFAULT_MIN_WORKERS       5
#define SS_THREAD_POOL_DEFAULT_MAX_WORKERS       100
#define SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS 5
#define SS_THREAD_POOL_GROW_THRESHOLD            3   /* queued requests before a worker is added */

/* Returns: (transfer full). Fails (NULL, @error) when min > max, max == 0. */
SS_API SsStrategy *ss_thread_pool_strategy_new (guint min_workers, guint max_workers,
                                         guint min_spare_workers, GError **error);

/* Python's init_thread_pool(): change the limits before serving. */
SS_API gboolean ss_thread_pool_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                             guint max_workers, guint min_spare_workers,
                                             GError **error);

/* block_on_close (default TRUE): server_close lets queued and running
 * requests finish before joining the workers; FALSE drops queued ones
 * (shut down unprocessed) and still joins every worker. */
SS_API void ss_thread_pool_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/* Blocks until the queue is empty and no worker is busy (Python's
 * Queue.join() that the post's server_close used). */
SS_API void ss_thread_pool_strategy_join (SsStrategy *strategy);

/* Python's init_thread_pool(min, max, min_spare) on the server: only for a
 * server whose strategy is a thread pool; fails with
 * SS_ERROR_INVALID_ARGUMENT otherwise or when the numbers do not fit. */
SS_API gboolean ss_server_init_thread_pool (SsServer *server, guint min_workers, guint max_workers,
                                            guint min_spare_workers, GError **error);

SS_API gboolean ss_is_thread_pool_strategy (const SsStrategy *strategy);

G_END_DECLS
