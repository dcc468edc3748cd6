/* threading.h: a thread per request (Python's ThreadingMixIn).
 *
 * Finished threads are not retained (Python's bpo-37193 leak): the
 * strategy keeps only a count of running threads and a condition variable,
 * so memory stays flat over any number of requests.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

/* Returns: (transfer full). daemon_threads FALSE, block_on_close TRUE. */
SS_API SsStrategy *ss_threading_strategy_new (void);

/* Python's daemon_threads: when TRUE, server_close does not wait for running
 * request threads (they are detached; the process may exit under them). */
SS_API void ss_threading_strategy_set_daemon_threads (SsStrategy *strategy, gboolean daemon_threads);

/* Python's block_on_close: when TRUE (default) server_close waits for every
 * non-daemon request thread. */
SS_API void ss_threading_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/* Request threads running now (for tests and monitoring). */
SS_API guint ss_threading_strategy_active_threads (SsStrategy *strategy);

SS_API gboolean ss_is_threading_strategy (const SsStrategy *strategy);

G_END_DECLS
