/* operations.h: running a server in production -- graceful drain, live
 * stats on a signal.
 *
 * What Apache and nginx give their operators and Python's socketserver
 * never did, for any transport and strategy:
 *
 *   - ss_server_drain: stop taking connections at once, let the requests
 *     already accepted finish until a deadline, then force the rest (the
 *     connections of requests running on threads are shut down; processes
 *     of the forking and preforking strategies get SIGTERM, then SIGKILL).
 *     ss-echo and ss-bench drain on SIGTERM (--drain-timeout=S).
 *   - ss_server_stats_line / ss_server_print_stats_on_signal: the
 *     SsServerStats snapshot as one line, "workers=N busy=N idle=N
 *     queued=N served=N rejected=N spawned=N retired=N errors=N", on
 *     stderr whenever the process gets SIGUSR1 (ss-echo, ss-bench).
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ drain */

/* Seconds between SIGTERM and SIGKILL for worker processes that a drain
 * forces at its deadline. */
#define SS_DRAIN_KILL_GRACE 2.0

/* Ends @server gracefully and closes it (ss_server_server_close is done
 * when this returns; ss_server_free is left to the caller):
 *   1. serve_forever is asked to stop (ss_server_shutdown) and the
 *      listening socket is closed at once: new connections are refused
 *      (for a socket another process still holds -- a restart -- they go
 *      to that process);
 *   2. the requests already accepted (queued ones included) run until they
 *      end, for at most @timeout seconds (< 0: no deadline, as
 *      server_close itself);
 *   3. at the deadline the rest are forced: every stream connection whose
 *      handler runs on a thread of this process is shut down (its reads
 *      see EOF, its writes fail), requests that start after that are shut
 *      down as they start, and worker processes (forking, preforking) get
 *      SIGTERM, then SIGKILL SS_DRAIN_KILL_GRACE seconds later.
 * Returns how many requests or processes had to be forced (0: everything
 * ended by itself). Call it from the thread that ran serve_forever after it
 * returned, or from any other thread but a handler of @server. Idle
 * parked connections (ss_server_park_request) are closed at once, as
 * server_close closes them. */
SS_API guint ss_server_drain (SsServer *server, double timeout);

/* ------------------------------------------------------------ stats */

/* ss_server_get_stats as one line, without a newline:
 * "workers=N busy=N idle=N queued=N served=N rejected=N spawned=N
 * retired=N errors=N" (transfer full). */
SS_API char *ss_server_stats_line (SsServer *server);

typedef struct _SsStatsWatch SsStatsWatch;

/* From now on every @signo (SIGUSR1 in ss-echo and ss-bench) the process
 * gets writes ss_server_stats_line and a newline to stderr, from a thread
 * of the watch (the handler only writes a byte to a pipe, so the signal
 * may arrive in any thread, any call). Forked children get the program's
 * own disposition of @signo back. One watch per signal number at a time.
 * Returns: (transfer full): free with ss_stats_watch_free before the
 * server, in the process that created it; NULL with @error when the
 * signal is taken already or resources are short. */
SS_API SsStatsWatch *ss_server_print_stats_on_signal (SsServer *server, int signo, GError **error);

/* Stops the watch and puts the program's disposition of its signal back.
 * NULL is ignored. */
SS_API void ss_stats_watch_free (SsStatsWatch *watch);

G_END_DECLS
