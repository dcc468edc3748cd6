/* threading.h: a thread per request (Python's ThreadingMixIn).
 *
 * Finished threads are not retained (Python's bpo-37193 leak): each
 * request thread is detached, the strategy keeps only a count of running
 * threads and a condition variable, so memory stays flat over any number
 * of requests.
 *
 * Python parity: as in Python, nothing caps the number of threads. Each
 * connection gets a thread for as long as it stays open, so a client
 * that opens connections and never closes them makes the server create
 * threads until pthread_create fails (the request is then reported to
 * handle_error and closed) -- give the handler class a timeout, or use
 * the thread pool (threadpool.h), whose max_workers bounds them.
 *
 * From a handler: ss_server_shutdown is safe (it waits for serve_forever
 * to return, which does not wait for request threads). So is
 * ss_server_server_close: it stops serve_forever first, then, with
 * block_on_close, waits for the other non-daemon request threads -- never
 * for the calling one. Free the server (ss_server_free, which waits for
 * every request thread) after serve_forever returns, not from a handler.
 * A handler may end its thread with pthread_exit() (Python's SystemExit):
 * the request is still shut down, the thread counted out, and
 * handle_error is not called.
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
