/* preforking.h: a pool of processes forked ahead of time (Apache's prefork
 * MPM, Perl's Net::Server::PreFork), with the thread pool's vocabulary.
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
 * requests are short (under 0.5 ms on average) only one per CPU does, the
 * other idle ones stand by (a process switch costs several times a thread
 * switch; the thread pool caps its accepting workers the same way), and a
 * child takes up to 16 pending connections per wake-up.
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
 * stop_serving, which also forks the children. fork() copies only the
 * calling thread: forking.h's warning about locks held by other threads
 * applies to the children too.
 */
#pragma once

#include "api.h"

#include "strategy.h"

G_BEGIN_DECLS

/* Net::Server::PreFork's defaults: min_servers 5, max_servers 50,
 * min_spare_servers 2. */
#define SS_PREFORKING_DEFAULT_MIN_WORKERS       5
#define SS_PREFORKING_DEFAULT_MAX_WORKERS       50
#define SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS 2
/* max_spare_workers = min_workers + min_spare_workers. */
#define SS_PREFORKING_MAX_SPARE_DEFAULT         G_MAXUINT
#define SS_PREFORKING_DEFAULT_MAX_REQUESTS      0     /* never recycle */
#define SS_PREFORKING_DEFAULT_INTERVAL          1.0   /* seconds between maintenance passes */
#define SS_PREFORKING_MAX_SPAWN_RATE            32    /* Apache's MAX_SPAWN_RATE */
/* A guard against typos (Apache's ServerLimit): the scoreboard has a slot
 * per possible child. */
#define SS_PREFORKING_WORKERS_LIMIT             20000

/* Called in a child: child_init after fork, before its first accept;
 * child_exit when it leaves of its own accord (max_requests, retired,
 * stopped), not when it is killed. */
typedef void (*SsPreforkingChildHook) (SsServer *server, gpointer user_data);

/* Returns: (transfer full), or NULL with @error when the limits do not fit
 * (min_workers > max_workers, max_workers 0 or above
 * SS_PREFORKING_WORKERS_LIMIT) or shared memory cannot be mapped.
 * max_spare_workers follows the default rule, max_requests is 0,
 * block_on_close TRUE. */
SS_API SsStrategy *ss_preforking_strategy_new (guint min_workers, guint max_workers,
                                               guint min_spare_workers, GError **error);

/* All four limits at once; @max_spare_workers may be
 * SS_PREFORKING_MAX_SPARE_DEFAULT, else it must be >= @min_spare_workers.
 * Fails (FALSE, @error, nothing changed) when they do not fit, or when
 * max_workers grows while children of an earlier serve_forever still run. */
SS_API gboolean ss_preforking_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                                   guint max_workers, guint min_spare_workers,
                                                   guint max_spare_workers, GError **error);

/* A child leaves after this many connections (0 = never). Before serving. */
SS_API void ss_preforking_strategy_set_max_requests (SsStrategy *strategy, guint max_requests);

/* Seconds between maintenance passes (default 1; tests use less). */
SS_API void ss_preforking_strategy_set_maintenance_interval (SsStrategy *strategy, double seconds);

/* Either hook may be NULL. Before serving. */
SS_API void ss_preforking_strategy_set_child_hooks (SsStrategy *strategy,
                                                    SsPreforkingChildHook child_init,
                                                    SsPreforkingChildHook child_exit,
                                                    gpointer user_data);

/* TRUE (default): server_close waits until every child has finished the
 * request it took and exited. FALSE: server_close asks them to leave and
 * returns; they are reaped by whatever runs later, or become the init
 * process's when the program exits. */
SS_API void ss_preforking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/* The maintenance as numbers, for monitoring and tests. */
typedef struct {
  guint64 passes;        /* maintenance passes run */
  guint spawn_rate;      /* what the next short pass may fork (1, 2, 4, ...) */
  guint last_spawned;    /* forked by the latest pass */
  guint64 crashed;       /* children killed by a signal or exiting non-zero */
  guint64 recycled;      /* children that left after max_requests */
  gboolean max_workers_reached;  /* a pass wanted more than max_workers */
} SsPreforkingInfo;

SS_API void ss_preforking_strategy_get_info (SsStrategy *strategy, SsPreforkingInfo *info);

SS_API gboolean ss_is_preforking_strategy (const SsStrategy *strategy);

G_END_DECLS
