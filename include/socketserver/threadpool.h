/**
 * SECTION:threadpool
 * @title: threadpool.h
 * @short_description: the dynamic thread pool (the 2008 ThreadPoolingMixIn)
 * @include: socketserver/socketserver.h
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
 * requests are short, one per two CPUs, the others on call for when a
 * request blocks); requests
 * handed over by process_request (handle_request, a user's override) go
 * through the pool's queue. Both paths share the policy above.
 *
 * Overload (the hand-off queue's bound): max_queue requests may wait in the
 * queue (0 = unbounded, the default for stream servers; datagram servers
 * default to SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE, since each queued
 * datagram holds a copy of its packet). When it is full, the overload
 * policy decides: SS_OVERLOAD_BLOCK (the default) makes the thread handing
 * the request over wait for a free slot, so the serving thread stops
 * taking requests and the kernel's listen backlog or receive buffer holds
 * the rest; SS_OVERLOAD_REJECT shuts the request down at once unprocessed,
 * counts it in SsServerStats.rejected and logs at most one line a second.
 * During serve_forever no request waits in the queue unless a worker is
 * free to take it (workers accept only when idle), which is BLOCK already;
 * with REJECT and a max_queue, one extra thread takes the connections that
 * arrive while every one of max_workers is busy, queues up to max_queue of
 * them and rejects the rest at once. (A pool worker handing a request over
 * itself -- a user's process_request calling `super` -- never blocks: it
 * takes the request next.)
 *
 * Closing from inside a handler: server_close (ss_server_server_close)
 * called from a handler running on a pool worker is safe. It stops the
 * pool and joins every other worker, then returns without waiting for its
 * own; that worker leaves once its handler returns, and ss_server_free
 * joins it, so freeing the server waits for that handler (a datagram
 * handler's reply still goes out on the server's socket, which its request
 * keeps open). Python's rule is the one to follow:
 * ss_server_shutdown() from a handler, server_close after serve_forever
 * returns. ss_server_free from inside a handler is refused (a critical;
 * nothing is freed).
 *
 * A handler that ends its thread with `pthread_exit` (the nearest C
 * meaning of Python's SystemExit in a request thread): its request is
 * still shut down, handle_error is not called, the worker is counted out
 * (and replaced when the pool would fall below min_workers), and
 * server_close returns as usual.
 *
 * Python-parity notes. Handlers have no default timeout, as in Python: a
 * client that never reads (or never sends) holds its worker forever, so
 * max_workers such clients hold the whole pool (100 with the defaults);
 * set the handler class's timeout to bound it. The pool never runs more
 * than max_workers requests at once; with a bounded max_queue the memory
 * held by waiting requests is bounded too.
 *
 * The pool is not in Python's standard library: it is the
 * ThreadPoolingMixIn of a 2008 python-list post, whose names it keeps.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

/**
 * SS_THREAD_POOL_DEFAULT_MIN_WORKERS:
 *
 * The post's min_workers: 5.
 */
#define SS_THREAD_POOL_DEFAULT_MIN_WORKERS       5
/**
 * SS_THREAD_POOL_DEFAULT_MAX_WORKERS:
 *
 * The post's max_workers: 100.
 */
#define SS_THREAD_POOL_DEFAULT_MAX_WORKERS       100
/**
 * SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS:
 *
 * The post's min_spare_workers: 5.
 */
#define SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS 5
/**
 * SS_THREAD_POOL_GROW_THRESHOLD:
 *
 * Queued requests before a worker is added: 3.
 */
#define SS_THREAD_POOL_GROW_THRESHOLD            3
/**
 * SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE:
 *
 * max_queue of a datagram server that did not set one: 64.
 */
#define SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE 64

/**
 * SsOverloadPolicy:
 * @SS_OVERLOAD_BLOCK: wait for a free slot: the kernel holds the rest
 * @SS_OVERLOAD_REJECT: shut it down at once, counted as rejected
 *
 * What the pool does with a request handed over while max_queue are
 * waiting (see the top of this section).
 */
typedef enum {
  SS_OVERLOAD_BLOCK,
  SS_OVERLOAD_REJECT,
} SsOverloadPolicy;

/**
 * ss_thread_pool_strategy_new:
 * @min_workers: workers kept at least (the post's default 5)
 * @max_workers: workers at most (100)
 * @min_spare_workers: idle workers kept at least (5)
 * @error: return location for a #GError, or %NULL
 *
 * The post's ThreadPoolingMixIn as a strategy.
 *
 * Returns: (transfer full) (nullable): the strategy; %NULL with @error
 *   when min &gt; max or max == 0 (%SS_ERROR_INVALID_ARGUMENT), or no fd is
 *   left for the pool's two eventfds (the errno's code)
 */
SS_API SsStrategy *ss_thread_pool_strategy_new (guint min_workers, guint max_workers,
                                         guint min_spare_workers, GError **error);

/**
 * ss_thread_pool_strategy_set_limits:
 * @strategy: a thread pool strategy
 * @min_workers: workers kept at least
 * @max_workers: workers at most
 * @min_spare_workers: idle workers kept at least
 * @error: return location for a #GError, or %NULL
 *
 * The post's `init_thread_pool`: change the limits before serving.
 * (While serving, raised limits spawn the missing workers at once;
 * workers above a lowered max_workers retire after their next request.)
 * Thread-safe.
 *
 * Returns: %TRUE; %FALSE with %SS_ERROR_INVALID_ARGUMENT, nothing
 *   changed, when min &gt; max or max == 0
 */
SS_API gboolean ss_thread_pool_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                             guint max_workers, guint min_spare_workers,
                                             GError **error);

/**
 * ss_thread_pool_strategy_get_limits:
 * @strategy: a thread pool strategy
 * @min_workers: (out) (optional): min_workers
 * @max_workers: (out) (optional): max_workers
 * @min_spare_workers: (out) (optional): min_spare_workers
 *
 * The limits in force; any pointer may be %NULL. Thread-safe.
 */
SS_API void ss_thread_pool_strategy_get_limits (SsStrategy *strategy, guint *min_workers,
                                                guint *max_workers, guint *min_spare_workers);

/**
 * ss_thread_pool_strategy_set_block_on_close:
 * @strategy: a thread pool strategy
 * @block_on_close: the value
 *
 * Python's block_on_close (default %TRUE): server_close lets queued and
 * running requests finish before joining the workers; %FALSE drops
 * queued ones (shut down unprocessed) and still joins every worker.
 */
SS_API void ss_thread_pool_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/**
 * ss_thread_pool_strategy_set_max_queue:
 * @strategy: a thread pool strategy
 * @max_queue: the hand-off queue's bound: 0 = unbounded
 *
 * Setting it (0 included) replaces the datagram default. Set before
 * serving: the REJECT policy's extra accepting thread starts with
 * serve_forever. No Python counterpart (Python's pool, the post's, is
 * unbounded).
 */
SS_API void ss_thread_pool_strategy_set_max_queue (SsStrategy *strategy, guint max_queue);

/**
 * ss_thread_pool_strategy_set_overload_policy:
 * @strategy: a thread pool strategy
 * @policy: the policy
 *
 * What happens to a request handed over while the queue is full (default
 * %SS_OVERLOAD_BLOCK). Set before serving, as max_queue.
 */
SS_API void ss_thread_pool_strategy_set_overload_policy (SsStrategy *strategy,
                                                         SsOverloadPolicy policy);

/**
 * ss_thread_pool_strategy_join:
 * @strategy: a thread pool strategy
 *
 * Blocks until the queue is empty and no worker is busy (Python's
 * Queue.join that the post's server_close used). Not from a pool
 * worker: it would wait for itself.
 */
SS_API void ss_thread_pool_strategy_join (SsStrategy *strategy);

/**
 * ss_server_init_thread_pool:
 * @server: a server whose strategy is a thread pool
 * @min_workers: workers kept at least
 * @max_workers: workers at most
 * @min_spare_workers: idle workers kept at least
 * @error: return location for a #GError, or %NULL
 *
 * The post's self.init_thread_pool(min, max, min_spare) on the server:
 * ss_thread_pool_strategy_set_limits() on its strategy.
 *
 * Returns: %TRUE; %FALSE with %SS_ERROR_INVALID_ARGUMENT when the
 *   server's strategy is not a thread pool or the numbers do not fit
 */
SS_API gboolean ss_server_init_thread_pool (SsServer *server, guint min_workers, guint max_workers,
                                            guint min_spare_workers, GError **error);

/**
 * ss_is_thread_pool_strategy:
 * @strategy: a strategy
 *
 * Whether @strategy is a thread pool.
 *
 * Returns: %TRUE for one made by ss_thread_pool_strategy_new()
 */
SS_API gboolean ss_is_thread_pool_strategy (const SsStrategy *strategy);

G_END_DECLS
