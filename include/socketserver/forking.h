/* forking.h: a process per request (Python's ForkingMixIn).
 *
 * The server tracks only the children it forked: collect_children waits for
 * those pids and never for -1, so a child the program forked itself keeps
 * its exit status for the program (CPython issue 1540386). A child exits
 * with status 0 when the request succeeded and 1 when it failed.
 *
 * fork() copies only the calling thread. In a program with other threads,
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

#define SS_FORKING_DEFAULT_MAX_CHILDREN 40
#define SS_FORKING_DEFAULT_TIMEOUT      300.0  /* Python's ForkingMixIn.timeout */

/* Returns: (transfer full). max_children 40, block_on_close TRUE. A server
 * created with this strategy gets timeout 300 s unless set otherwise. */
SS_API SsStrategy *ss_forking_strategy_new (void);

SS_API void ss_forking_strategy_set_max_children (SsStrategy *strategy, guint max_children);
SS_API void ss_forking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close);

/* Python's collect_children(blocking=): reaps finished children of this
 * server; first blocks while max_children or more are alive. */
SS_API void ss_forking_strategy_collect_children (SsStrategy *strategy, SsServer *server, gboolean blocking);

/* Children alive now. */
SS_API guint ss_forking_strategy_active_children (SsStrategy *strategy);

SS_API gboolean ss_is_forking_strategy (const SsStrategy *strategy);

G_END_DECLS
