/* ops-private.h: the first include of lib/ops, the operations layer
 * (drain, stats on a signal, socket activation, sd_notify, restart).
 *
 * The layer sits on top of the core: it drives a server from outside as
 * an operator would (shutdown, server_close, its sockets), and uses of the
 * core's internals only what core.h says is for it (the running requests
 * that a drain forces, ss__server_force_running).
 */
#pragma once

#include "core/core.h"

#include <socketserver/operations.h>

/* ss_server_drain; @refuse_new FALSE leaves the listening socket itself
 * alone (only this process's fd is closed): a restart has handed it to
 * the new process, which goes on accepting on it. */
guint ss__server_drain (SsServer *server, double timeout, gboolean refuse_new);

/* What a signal watch runs on its own thread when its signal comes. */
typedef void (*SsOpsAction) (SsServer *server, gpointer data);

/* A watch running @action for each @signo (stats.c); @destroy frees
 * @data with the watch (also when this fails). */
SsOpsSignal *ss__ops_signal_new (SsServer *server, int signo, SsOpsAction action, gpointer data,
                                 GDestroyNotify destroy, GError **error);

/* notify.c: the service manager's NOTIFY_SOCKET as a restart hands it on
 * (SS_MANAGER_NOTIFY_SOCKET in a restarted process, else NOTIFY_SOCKET;
 * NULL or "" when there is none). */
#define SS_MANAGER_NOTIFY_SOCKET "SS_MANAGER_NOTIFY_SOCKET"
const char *ss__notify_manager_socket (void);

/* From now on ss_notify sends nothing: the successor a restart started
 * speaks for the service. */
void ss__notify_hand_over (void);
