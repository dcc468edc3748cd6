/**
 * SECTION:signals
 * @title: signals.h
 * @short_description: stop a server cleanly on SIGINT / SIGTERM
 * @include: socketserver/socketserver.h
 *
 * The watch installs a SIGINT/SIGTERM handler that only writes a byte to a
 * pipe; a watcher thread reads it and asks the server to shut down, as
 * ss_server_shutdown() would (it does not wait for serve_forever to
 * return). A second SIGINT or SIGTERM while the watch is alive ends the
 * process at once with exit status 1 and a log line: the first one is then
 * waiting for requests that do not end (a client holding its connection
 * open), and a user pressing Ctrl-C twice wants out.
 *
 * Nothing of the watch reaches other processes: forked children (the
 * forking strategy's, a handler's own fork) get the program's dispositions
 * back, and programs a handler runs (exec, system, posix_spawn) start with
 * the program's signal mask and default dispositions, so SIGTERM stops
 * them as it would have without the watch. The watch may be created at any
 * time, also after strategy threads exist; it unblocks SIGINT and SIGTERM
 * in the calling thread (so a program that blocked them to keep an early
 * signal pending until the watch exists gets it now) and re-blocks them in
 * ss_signal_watch_free if they were blocked before. System calls that a
 * signal interrupts are restarted (SA_RESTART) where the kernel can.
 *
 * Python's counterpart is the KeyboardInterrupt a program catches around
 * `serve_forever`.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

typedef struct _SsSignalWatch SsSignalWatch;

/**
 * SsSignalWatch:
 *
 * An opaque watch for SIGINT and SIGTERM.
 */

/**
 * ss_server_shutdown_on_signals:
 * @server: the server to shut down
 * @error: return location for a #GError, or %NULL
 *
 * Starts a watch: the first SIGINT or SIGTERM asks @server to shut down.
 * At most 16 watches may be alive in a process (a 17th fails with
 * %SS_ERROR_NO_RESOURCES); failing to make the pipe or the watcher thread
 * gives the errno's code.
 *
 * Returns: (transfer full) (nullable): a watch to pass to
 *   ss_signal_watch_free() after serve_forever has returned, in the
 *   process that created it (a forked child has no watcher thread: it
 *   must not free the parent's watch); %NULL with @error set
 */
SS_API SsSignalWatch *ss_server_shutdown_on_signals (SsServer *server, GError **error);

/**
 * ss_signal_watch_signal:
 * @watch: a watch
 *
 * Which signal asked for the shutdown: 0 tells `main` that something
 * else (ss_server_shutdown()) stopped the server.
 *
 * Returns: the signal that stopped the server, or 0
 */
SS_API int ss_signal_watch_signal (SsSignalWatch *watch);

/**
 * ss_signal_watch_free:
 * @watch: (transfer full) (nullable): a watch
 *
 * Stops watching and puts the program's dispositions back; never shuts
 * the server down.
 */
SS_API void ss_signal_watch_free (SsSignalWatch *watch);

/**
 * ss_server_serve_until_signalled:
 * @server: a bound and activated server
 * @poll_interval: as for ss_server_serve_forever()
 * @error: return location for a #GError, or %NULL
 *
 * serve_forever until SIGINT or SIGTERM (or ss_server_shutdown()): the
 * watch above around one serve_forever, for a program's `main`, where
 * Python's would catch KeyboardInterrupt.
 *
 * Returns: what ss_server_serve_forever() returns; %FALSE with @error
 *   when the watch could not be made
 */
SS_API gboolean ss_server_serve_until_signalled (SsServer *server, double poll_interval, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsSignalWatch, ss_signal_watch_free)

G_END_DECLS
