/**
 * SECTION:forking
 * @title: forking.h
 * @short_description: a process per request (Python's ForkingMixIn)
 * @include: socketserver/socketserver.h
 *
 * The server tracks only the children it forked: collect_children waits for
 * those pids and never for -1, so a child the program forked itself keeps
 * its exit status for the program (CPython issue 1540386). A child exits
 * with status 0 when the request succeeded and 1 when it failed.
 *
 * `fork` copies only the calling thread. In a program with other threads,
 * a lock one of them held at that moment stays locked in the child, so a
 * handler run by this strategy should not depend on state other threads
 * lock (Python 3.12 warns about the same thing). On GLib 2.74 that includes
 * the slice allocator behind GString and GError unless G_SLICE=always-malloc
 * is set; glibc's malloc and this library's request path are safe.
 */
#pragma once

#include "api.h"

#include <sys/types.h>
#include "strategy.h"

G_BEGIN_DECLS

/**
 * SS_FORKING_DEFAULT_MAX_CHILDREN:
 *
 * Python's ForkingMixIn.max_children: 40.
 */
#define SS_FORKING_DEFAULT_MAX_CHILDREN 40
/**
 * SS_FORKING_DEFAULT_TIMEOUT:
 *
 * Python's ForkingMixIn.timeout: 300 seconds.
 */
#define SS_FORKING_DEFAULT_TIMEOUT      300.0

/**
 * ss_forking_strategy_new:
 *
 * Python's ForkingMixIn: max_children 40, block_on_close %TRUE. A server
 * created with this strategy gets timeout 300 s unless set otherwise.
 *
 * Returns: (transfer full): give it to ss_server_new()
 */
SS_API SsStrategy *ss_forking_strategy_new (void);

/**
 * ss_forking_strategy_set_max_children:
 * @strategy: a forking strategy
 * @max_children: the value (at least 1)
 *
 * Python's max_children: while this many children are alive, the server
 * waits for one to exit before forking another.
 */
SS_API void ss_forking_strategy_set_max_children (SsStrategy *strategy, guint max_children);
/**
 * ss_forking_strategy_set_block_on_close:
 * @strategy: a forking strategy
 * @block_on_close: the value
 *
 * Python's block_on_close (default %TRUE): server_close waits for every
 * child to exit.
 */
SS_API void ss_forking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/**
 * ss_forking_strategy_collect_children:
 * @strategy: a forking strategy
 * @server: its server
 * @blocking: wait for every child (Python's blocking=True)
 *
 * Python's collect_children(blocking=): reaps finished children of this
 * server; first blocks while max_children or more are alive.
 */
SS_API void ss_forking_strategy_collect_children (SsStrategy *strategy, SsServer *server, gboolean blocking);

/**
 * ss_forking_strategy_active_children:
 * @strategy: a forking strategy
 *
 * Python's len(active_children). Thread-safe.
 *
 * Returns: the children alive now
 */
SS_API guint ss_forking_strategy_active_children (SsStrategy *strategy);

/**
 * ss_is_forking_strategy:
 * @strategy: a strategy
 *
 * Whether @strategy is the forking one.
 *
 * Returns: %TRUE for one made by ss_forking_strategy_new()
 */
SS_API gboolean ss_is_forking_strategy (const SsStrategy *strategy);

G_END_DECLS
