/**
 * SECTION:preforking
 * @title: preforking.h
 * @short_description: a pool of processes forked ahead of time (Apache's prefork MPM)
 * @include: socketserver/socketserver.h
 *
 * A pool of processes forked ahead of time (Apache's prefork MPM, Perl's
 * Net::Server::PreFork), with the thread pool's vocabulary. Python's
 * standard library has no counterpart.
 *
 * During serve_forever the children accept on the shared listening socket
 * themselves, one woken per connection, and run each request from
 * get_request to shutdown_request with every hook of the server class
 * (verify_request, handle_error, the handler's finish after a failure), as
 * the forking strategy does; the parent only keeps the pool at the right
 * size. Once a second (maintenance_interval), and at once when a child
 * exits, it follows Apache's idle-server maintenance:
 *
 *  - fewer than min_workers children: fork the missing ones;
 *  - more than max_spare_workers idle and more than min_workers in all:
 *    ask one idle child to leave (it finishes a request it took first);
 *  - fewer than min_spare_workers idle: fork spawn_rate children (1 at
 *    first, doubling each pass while the pool stays short, up to
 *    SS_PREFORKING_MAX_SPAWN_RATE), never more than max_workers in all;
 *    one log line the first time max_workers stops it;
 *  - otherwise the spawn rate falls back to 1.
 *
 * start_serving forks max(min_workers, min_spare_workers) children.
 * max_spare_workers defaults to min_workers + min_spare_workers (the rule
 * behind SS_PREFORKING_MAX_SPARE_DEFAULT), so that at rest the pool holds
 * no more than the thread pool would. min_spare_workers 0 counts as 1, as
 * Apache resets MinSpareServers 0 to 1: with no idle child kept nobody
 * would accept. Children leaving (retired, recycled) hold their place
 * against max_workers until they have exited. A child leaves after
 * max_requests connections (0 = never) and is replaced by the maintenance.
 *
 * Children wait on the listening socket with EPOLLEXCLUSIVE; while
 * requests are short (under 0.5 ms on average) only one per two CPUs holds
 * a place there, keeping it while it serves and taking the next pending
 * connection before it sleeps, and the other idle ones stand by (a process
 * switch costs several times a thread switch; the thread pool caps its
 * accepting workers the same way). When the place holders block in a
 * request, the parent lends their places to standby children within a few
 * milliseconds, so the backlog never waits behind a slow request.
 *
 * A child killed by a signal is reaped and reported through handle_error
 * (request NULL) with the signal and, when it died inside a request, the
 * client's address; the maintenance then replaces it. The parent reaps only
 * its own children, by pid: never waitpid(-1).
 *
 * What children count (served, errors, rejected) lives in memory shared
 * with the parent, so ss_server_get_stats sees it and nothing is lost with
 * a child. workers, busy and idle come from a scoreboard in shared memory
 * (each child writes its own slot); spawned and retired are the parent's.
 *
 * Outside serve_forever there is no pool: a request handed to
 * process_request there (handle_request, a direct call) runs in the
 * calling thread, as with the sync strategy.
 *
 * Stream and datagram transports alike: datagram children take datagrams
 * off the shared socket the same way and reply on it.
 *
 * The maintenance runs on a thread of the parent from start_serving to
 * stop_serving, which also forks the children. `fork` copies only the
 * calling thread: forking.h's warning about locks held by other threads
 * applies to the children too.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

/**
 * SS_PREFORKING_DEFAULT_MIN_WORKERS:
 *
 * Net::Server::PreFork's min_servers: 5.
 */
#define SS_PREFORKING_DEFAULT_MIN_WORKERS       5
/**
 * SS_PREFORKING_DEFAULT_MAX_WORKERS:
 *
 * Net::Server::PreFork's max_servers: 50.
 */
#define SS_PREFORKING_DEFAULT_MAX_WORKERS       50
/**
 * SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS:
 *
 * Net::Server::PreFork's min_spare_servers: 2.
 */
#define SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS 2
/**
 * SS_PREFORKING_MAX_SPARE_DEFAULT:
 *
 * As max_spare_workers: the default rule, min_workers + min_spare_workers.
 */
#define SS_PREFORKING_MAX_SPARE_DEFAULT         G_MAXUINT
/**
 * SS_PREFORKING_DEFAULT_MAX_REQUESTS:
 *
 * max_requests 0: never recycle a child.
 */
#define SS_PREFORKING_DEFAULT_MAX_REQUESTS      0
/**
 * SS_PREFORKING_DEFAULT_INTERVAL:
 *
 * Seconds between maintenance passes: 1.
 */
#define SS_PREFORKING_DEFAULT_INTERVAL          1.0
/**
 * SS_PREFORKING_MAX_SPAWN_RATE:
 *
 * The most children one maintenance pass forks: Apache's MAX_SPAWN_RATE,
 * 32.
 */
#define SS_PREFORKING_MAX_SPAWN_RATE            32
/**
 * SS_PREFORKING_WORKERS_LIMIT:
 *
 * A guard against typos (Apache's ServerLimit): the scoreboard has a slot
 * per possible child, so max_workers is at most this (20000).
 */
#define SS_PREFORKING_WORKERS_LIMIT             20000

/**
 * SsPreforkingChildHook:
 * @server: the server, in the child
 * @user_data: what ss_preforking_strategy_set_child_hooks() was given
 *
 * Called in a child: child_init after fork, before its first accept;
 * child_exit when it leaves of its own accord (max_requests, retired,
 * stopped), not when it is killed. Net::Server's child_init_hook and
 * child_finish_hook.
 */
typedef void (*SsPreforkingChildHook) (SsServer *server, gpointer user_data);

/**
 * ss_preforking_strategy_new:
 * @min_workers: children kept at least
 * @max_workers: children at most
 * @min_spare_workers: idle children kept at least
 * @error: return location for a #GError, or %NULL
 *
 * A process pool. max_spare_workers follows the default rule,
 * max_requests is 0, block_on_close %TRUE.
 *
 * Returns: (transfer full) (nullable): the strategy, or %NULL with @error
 *   when the limits do not fit (min_workers &gt; max_workers, max_workers
 *   0 or above %SS_PREFORKING_WORKERS_LIMIT: %SS_ERROR_INVALID_ARGUMENT)
 *   or shared memory cannot be mapped (the errno's code, ENOMEM:
 *   %SS_ERROR_NO_RESOURCES)
 */
SS_API SsStrategy *ss_preforking_strategy_new (guint min_workers, guint max_workers,
                                               guint min_spare_workers, GError **error);

/**
 * ss_preforking_strategy_set_limits:
 * @strategy: a preforking strategy
 * @min_workers: children kept at least
 * @max_workers: children at most
 * @min_spare_workers: idle children kept at least
 * @max_spare_workers: idle children kept at most, or
 *   %SS_PREFORKING_MAX_SPARE_DEFAULT; else it must be &gt;=
 *   @min_spare_workers
 * @error: return location for a #GError, or %NULL
 *
 * All four limits at once.
 *
 * Returns: %TRUE; %FALSE with @error (%SS_ERROR_INVALID_ARGUMENT),
 *   nothing changed, when they do not fit, or when max_workers grows
 *   while children of an earlier serve_forever still run
 */
SS_API gboolean ss_preforking_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                                   guint max_workers, guint min_spare_workers,
                                                   guint max_spare_workers, GError **error);

/**
 * ss_preforking_strategy_set_max_requests:
 * @strategy: a preforking strategy
 * @max_requests: connections per child; 0 = never recycle
 *
 * A child leaves after this many connections (Apache's
 * MaxConnectionsPerChild) and is replaced. Before serving.
 */
SS_API void ss_preforking_strategy_set_max_requests (SsStrategy *strategy, guint max_requests);

/**
 * ss_preforking_strategy_set_maintenance_interval:
 * @strategy: a preforking strategy
 * @seconds: seconds between maintenance passes
 *
 * Default 1; tests use less.
 */
SS_API void ss_preforking_strategy_set_maintenance_interval (SsStrategy *strategy, double seconds);

/**
 * ss_preforking_strategy_set_child_hooks:
 * @strategy: a preforking strategy
 * @child_init: (nullable): called in each child after fork
 * @child_exit: (nullable): called in a child that leaves of its own accord
 * @user_data: passed to both
 *
 * Either hook may be %NULL. Before serving.
 */
SS_API void ss_preforking_strategy_set_child_hooks (SsStrategy *strategy,
                                                    SsPreforkingChildHook child_init,
                                                    SsPreforkingChildHook child_exit,
                                                    gpointer user_data);

/**
 * ss_preforking_strategy_set_block_on_close:
 * @strategy: a preforking strategy
 * @block_on_close: the value
 *
 * %TRUE (default): server_close waits until every child has finished the
 * request it took and exited. %FALSE: server_close asks them to leave and
 * returns; they are reaped by whatever runs later, or become the init
 * process's when the program exits.
 */
SS_API void ss_preforking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/**
 * SsPreforkingInfo:
 * @passes: maintenance passes run
 * @spawn_rate: what the next short pass may fork (1, 2, 4, ...)
 * @last_spawned: forked by the latest pass
 * @crashed: children killed by a signal or exiting non-zero
 * @recycled: children that left after max_requests
 * @max_workers_reached: a pass wanted more than max_workers
 *
 * The maintenance as numbers, for monitoring and tests.
 */
typedef struct {
  guint64 passes;
  guint spawn_rate;
  guint last_spawned;
  guint64 crashed;
  guint64 recycled;
  gboolean max_workers_reached;
} SsPreforkingInfo;

/**
 * ss_preforking_strategy_get_info:
 * @strategy: a preforking strategy
 * @info: (out caller-allocates): the numbers
 *
 * Fills @info with the maintenance's numbers (in the parent).
 */
SS_API void ss_preforking_strategy_get_info (SsStrategy *strategy, SsPreforkingInfo *info);

/**
 * ss_is_preforking_strategy:
 * @strategy: a strategy
 *
 * Whether @strategy is a process pool.
 *
 * Returns: %TRUE for one made by ss_preforking_strategy_new()
 */
SS_API gboolean ss_is_preforking_strategy (const SsStrategy *strategy);

G_END_DECLS
