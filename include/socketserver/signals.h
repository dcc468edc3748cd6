/* signals.h: stop a server cleanly on SIGINT / SIGTERM.
 *
 * No work is done in a signal handler: the signals are blocked in the
 * calling thread (and so in every thread it creates afterwards) and a
 * watcher thread takes them with sigwait(), then calls ss_server_shutdown().
 * Call it before serve_forever and before any strategy thread exists.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

typedef struct _SsSignalWatch SsSignalWatch;

/* Returns: (transfer full): a watch to pass to ss_signal_watch_free after
 * serve_forever has returned. */
SS_API SsSignalWatch *ss_server_shutdown_on_signals (SsServer *server, GError **error);

/* The signal that stopped the server, or 0. */
SS_API int ss_signal_watch_signal (SsSignalWatch *watch);

SS_API void ss_signal_watch_free (SsSignalWatch *watch);

/* serve_forever until SIGINT or SIGTERM (or ss_server_shutdown): the
 * watch above around one serve_forever, for a program's main(), where
 * Python's would catch KeyboardInterrupt. Call it before the program has
 * started other threads. */
SS_API gboolean ss_server_serve_until_signalled (SsServer *server, double poll_interval, GError **error);

G_END_DECLS
