/**
 * SECTION:threading
 * @title: threading.h
 * @short_description: a thread per request (Python's ThreadingMixIn)
 * @include: socketserver/socketserver.h
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
 * A handler may end its thread with `pthread_exit` (Python's SystemExit):
 * the request is still shut down, the thread counted out, and
 * handle_error is not called.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

/**
 * ss_threading_strategy_new:
 *
 * Python's ThreadingMixIn: daemon_threads %FALSE, block_on_close %TRUE.
 *
 * Returns: (transfer full): give it to ss_server_new()
 */
SS_API SsStrategy *ss_threading_strategy_new (void);

/**
 * ss_threading_strategy_set_daemon_threads:
 * @strategy: a threading strategy
 * @daemon_threads: the value
 *
 * Python's daemon_threads: when %TRUE, server_close does not wait for
 * running request threads (they are detached; the process may exit under
 * them). Set before serving.
 */
SS_API void ss_threading_strategy_set_daemon_threads (SsStrategy *strategy, gboolean daemon_threads);

/**
 * ss_threading_strategy_set_block_on_close:
 * @strategy: a threading strategy
 * @block_on_close: the value
 *
 * Python's block_on_close: when %TRUE (default) server_close waits for
 * every non-daemon request thread. Set before serving.
 */
SS_API void ss_threading_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/**
 * ss_threading_strategy_active_threads:
 * @strategy: a threading strategy
 *
 * For tests and monitoring; safe from any thread.
 *
 * Returns: the request threads running now
 */
SS_API guint ss_threading_strategy_active_threads (SsStrategy *strategy);

/**
 * ss_is_threading_strategy:
 * @strategy: a strategy
 *
 * Whether @strategy is the threading one (Python's isinstance check).
 *
 * Returns: whether @strategy was made by ss_threading_strategy_new()
 */
SS_API gboolean ss_is_threading_strategy (const SsStrategy *strategy);

G_END_DECLS
