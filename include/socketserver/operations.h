/**
 * SECTION:operations
 * @title: operations.h
 * @short_description: running a server in production: drain, stats on a signal, socket activation, sd_notify, restart
 * @include: socketserver/socketserver.h
 *
 * Running a server in production -- graceful drain, live stats on a
 * signal, socket activation, sd_notify.
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
 *   - socket activation (systemd's LISTEN_FDS/LISTEN_PID): the server
 *     adopts an inherited listening socket instead of binding, after
 *     checking its family and type (ss-echo does so by itself);
 *     ss_notify tells a service manager READY=1 / STOPPING=1.
 *   - ss_server_restart / ss_server_restart_on_signal: the program runs
 *     itself again handing the listening socket over (the activation
 *     path), waits until the new process is ready, then drains: no
 *     connection refused or lost across the restart (ss-echo: SIGHUP).
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ drain */

/**
 * SS_DRAIN_KILL_GRACE:
 *
 * Seconds between SIGTERM and SIGKILL for worker processes that a drain
 * forces at its deadline: 2.
 */
#define SS_DRAIN_KILL_GRACE 2.0

/**
 * ss_server_drain:
 * @server: a server
 * @timeout: seconds the accepted requests may still run; &lt; 0: no
 *   deadline, as server_close itself
 *
 * Ends @server gracefully and closes it (ss_server_server_close is done
 * when this returns; ss_server_free is left to the caller):
 *   1. serve_forever is asked to stop (ss_server_shutdown) and the
 *      listening socket is closed at once: new connections are refused
 *      (for a socket another process still holds -- a restart -- they go
 *      to that process; an inherited one, ss_server_adopt_socket, is left
 *      listening for systemd, which holds it too, so they wait in its
 *      backlog for the next instance);
 *   2. the requests already accepted (queued ones included) run until they
 *      end, for at most @timeout seconds (< 0: no deadline, as
 *      server_close itself);
 *   3. at the deadline the rest are forced: every stream connection whose
 *      handler runs on a thread of this process is shut down (its reads
 *      see EOF, its writes fail), requests that start after that are shut
 *      down as they start, and worker processes (forking, preforking) get
 *      SIGTERM, then SIGKILL SS_DRAIN_KILL_GRACE seconds later.
 *
 * Call it from the thread that ran serve_forever after it returned, or
 * from any other thread but a handler of @server. Idle parked connections
 * (ss_server_park_request) are closed at once, as server_close closes
 * them. No Python counterpart.
 *
 * Returns: how many requests or processes had to be forced (0:
 *   everything ended by itself)
 */
SS_API guint ss_server_drain (SsServer *server, double timeout);

/* ------------------------------------------------------------ stats */

/**
 * ss_server_stats_line:
 * @server: a server
 *
 * ss_server_get_stats as one line, without a newline: "workers=N busy=N
 * idle=N queued=N served=N rejected=N spawned=N retired=N errors=N".
 * Safe from any thread.
 *
 * Returns: (transfer full): g_free it
 */
SS_API char *ss_server_stats_line (SsServer *server);

typedef struct _SsOpsSignal SsOpsSignal;

/**
 * SsOpsSignal:
 *
 * An opaque watch for one signal number (stats or restart).
 */

/**
 * ss_server_print_stats_on_signal:
 * @server: a server
 * @signo: the signal (SIGUSR1 in ss-echo and ss-bench)
 * @error: return location for a #GError, or %NULL
 *
 * From now on every @signo the process
 * gets writes ss_server_stats_line and a newline to stderr, from a thread
 * of the watch (the handler only writes a byte to a pipe, so the signal
 * may arrive in any thread, any call). Forked children get the program's
 * own disposition of @signo back. One watch per signal number at a time.
 *
 * Returns: (transfer full) (nullable): free with ss_ops_signal_free
 *   before the server, in the process that created it; %NULL with @error
 *   when the signal is taken already or resources are short
 */
SS_API SsOpsSignal *ss_server_print_stats_on_signal (SsServer *server, int signo, GError **error);

/**
 * ss_ops_signal_free:
 * @watch: (transfer full) (nullable): a watch
 *
 * Stops the watch and puts the program's disposition of its signal back.
 * %NULL is ignored.
 */
SS_API void ss_ops_signal_free (SsOpsSignal *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsOpsSignal, ss_ops_signal_free)

/* ------------------------------------------------------------ activation */

/**
 * SS_LISTEN_FDS_START:
 *
 * The first inherited socket's fd in systemd's protocol: 3.
 */
#define SS_LISTEN_FDS_START 3

/**
 * ss_listen_fds:
 * @unset_environment: remove the variables afterwards
 * @error: return location for a #GError, or %NULL
 *
 * systemd's `sd_listen_fds`: how many sockets socket activation passed to
 * this process: LISTEN_FDS
 * when LISTEN_PID is this process's pid, else 0 (the variables were meant
 * for another process: a parent's, inherited). The fds are
 * SS_LISTEN_FDS_START, ... and are made close-on-exec. With
 * @unset_environment the variables are removed (LISTEN_FDNAMES too), so
 * programs the server runs do not see them.
 *
 * Returns: the count; -1 with @error (%SS_ERROR_INVALID_ARGUMENT) when a
 *   variable is not a number or a promised fd is not open
 */
SS_API int ss_listen_fds (gboolean unset_environment, GError **error);

/**
 * ss_server_adopt_socket:
 * @server: a server created with bind_and_activate %FALSE
 * @fd: (transfer full): an inherited bound socket; the server owns it on
 *   success
 * @error: return location for a #GError, or %NULL
 *
 * Makes @fd, an inherited bound socket (listening, for a stream one), the
 * server's socket instead of server_bind + server_activate; the server's
 * address becomes the socket's. Call it on a server created with
 * bind_and_activate FALSE. Fails with SS_ERROR_INVALID_ARGUMENT, leaving
 * @fd alone, when it is not a socket, when its family or type does not
 * fit the server's class (an INET stream socket for TCPServer, a Unix
 * datagram one for UnixDatagramServer, ...), when a stream socket does
 * not listen, or when the server has a socket already; the message names
 * the fd, what it is and what was expected. On success the server owns
 * @fd (non-blocking, close-on-exec); an adopted Unix socket's file is
 * never removed by server_close.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_server_adopt_socket (SsServer *server, int fd, GError **error);

/**
 * ss_server_bind_or_adopt:
 * @server: a server created with bind_and_activate %FALSE
 * @adopted: (out) (optional): whether the socket was adopted
 * @error: return location for a #GError, or %NULL
 *
 * For a program's `main`: adopts the one socket that socket activation
 * passed (ss_listen_fds, the environment then unset), else binds and
 * activates as usual. More than one inherited socket is an error (a
 * server serves one).
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_server_bind_or_adopt (SsServer *server, gboolean *adopted, GError **error);

/* ------------------------------------------------------------ sd_notify */

/**
 * ss_notify:
 * @state: "READY=1", "STOPPING=1", "STATUS=...", several lines separated
 *   by '\n'
 * @error: return location for a #GError, or %NULL
 *
 * systemd's `sd_notify`: sends @state to the service manager's
 * NOTIFY_SOCKET (a path or an abstract name, written with a leading
 * "@"). Thread-safe. In a process that ss_server_restart started, the
 * first READY=1 goes to its predecessor and later states to the service
 * manager; after a restart has handed this process's service on, nothing
 * is sent (and %TRUE returned).
 *
 * Returns: %TRUE, also when NOTIFY_SOCKET is not set (nothing is sent);
 *   %FALSE with @error when it is malformed or the send fails
 */
SS_API gboolean ss_notify (const char *state, GError **error);

/* ------------------------------------------------------------ restart */

/**
 * ss_server_restart:
 * @server: a serving TCP or UDP server
 * @argv: (array zero-terminated=1) (nullable): the program to start;
 *   %NULL: this program again
 * @ready_timeout: seconds to wait for READY=1
 * @new_pid: (out) (optional): the new process's pid
 * @error: return location for a #GError, or %NULL
 *
 * Starts @argv (%NULL: this program again, /proc/self/exe with its own
 * arguments; otherwise argv[0] is a path, not searched in PATH) with the
 * server's listening socket as fd 3 and the socket-activation environment
 * naming it (LISTEN_FDS=1, LISTEN_PID), and NOTIFY_SOCKET set to a private
 * socket on which this process waits up to @ready_timeout seconds for
 * READY=1 (a program using ss_server_bind_or_adopt and ss_notify, as
 * ss-echo does). Then the socket is handed over: serve_forever is asked
 * to stop, and the caller's ss_server_drain serves the connections this
 * process accepted but leaves the socket listening, so the new process
 * goes on taking connections from the same backlog: none is refused or
 * lost. *@new_pid (may be NULL) gets the new process's pid, which is not
 * reaped here (it outlives this process). Under a service manager
 * (NOTIFY_SOCKET set, systemd's Type=notify) the manager is told
 * MAINPID= with the new process's pid, the new process reaches the
 * manager once ready, and this process's later ss_notify calls send
 * nothing: the service's notices are its successor's from then on.
 * TCP and UDP servers, every strategy.
 *
 * Returns: %TRUE once the new process is ready; %FALSE with @error, and
 *   this server goes on serving untouched, when the new process cannot
 *   start, exits or is not ready in time (it is sent SIGTERM then), or
 *   for a Unix socket server (not supported: this process would remove
 *   the socket file under the new one)
 */
SS_API gboolean ss_server_restart (SsServer *server, const char *const *argv, double ready_timeout,
                                   int *new_pid, GError **error);

/**
 * ss_server_restart_on_signal:
 * @server: a serving TCP or UDP server
 * @signo: the signal (SIGHUP in ss-echo)
 * @argv: (array zero-terminated=1) (nullable): as for ss_server_restart
 * @ready_timeout: as for ss_server_restart
 * @error: return location for a #GError, or %NULL
 *
 * ss_server_restart on every @signo, from the watch's thread, with a copy
 * of @argv; the outcome is logged (g_message on success, g_warning with
 * the reason on failure). A process restarts once; its successor takes
 * the next signal.
 *
 * Returns: (transfer full) (nullable): free with ss_ops_signal_free;
 *   %NULL with @error as ss_server_print_stats_on_signal
 */
SS_API SsOpsSignal *ss_server_restart_on_signal (SsServer *server, int signo,
                                                 const char *const *argv, double ready_timeout,
                                                 GError **error);

G_END_DECLS
