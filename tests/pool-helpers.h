/* pool-helpers.h: what the thread pool's test programs share.
 *
 * A pool server of any transport, its stats, and a gate: handlers that
 * wait at the gate until the test opens it, so that a test holds workers
 * busy deterministically instead of hoping that a request is slow enough.
 */
#pragma once

#include "helpers.h"

/* A server of @klass on a fresh address for @transport ("tcp", "udp",
 * ...) with a thread pool (@min, @max, @spare) and @handler. */
SsServer *pool_test_server_new (const SsServerClass *klass, const char *transport,
                                const SsHandlerClass *handler, guint min, guint max, guint spare);

SsServerStats pool_test_stats (SsServer *server);

/* The gate. pool_gate_close() before the server starts; handlers of the
 * classes below call pool_gate_pass(), which waits while the gate is
 * closed; pool_gate_open() lets every waiting and later handler through. */
void pool_gate_close (void);
void pool_gate_open (void);
/* Lets @n more handlers through the closed gate. */
void pool_gate_let_through (guint n);
void pool_gate_pass (void);
/* Handlers waiting at the gate now. */
guint pool_gate_waiting (void);
/* Waits up to @timeout_s for at least @n handlers at the gate. */
gboolean pool_gate_wait_for (guint n, double timeout_s);

/* Stream: reads one line, passes the gate, echoes the line, returns. */
extern const SsHandlerClass pool_gated_line_handler_class;
/* Datagram: passes the gate, echoes the packet. */
extern const SsHandlerClass pool_gated_datagram_handler_class;
