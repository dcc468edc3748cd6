/* combinations.h: Python's ready-made server classes as constructors.
 *
 * ThreadingTCPServer(addr, Handler) is ss_threading_tcp_server_new (addr,
 * &handler_class, &error), and so on for every strategy and transport.
 * The ThreadPooling ones use the post's defaults (5, 100, 5); change them
 * with ss_server_init_thread_pool() before serving. The PreForking ones use
 * Net::Server's (5, 50, 2); change them with
 * ss_preforking_strategy_set_limits (server->strategy, ...) before serving.
 * All return: (transfer full) (nullable).
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

#define SS_DECLARE_COMBINATION(prefix) \
  SS_API SsServer *ss_##prefix##_tcp_server_new (const char *address, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_udp_server_new (const char *address, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_unix_stream_server_new (const char *path, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_unix_datagram_server_new (const char *path, const SsHandlerClass *handler_class, GError **error);

SS_DECLARE_COMBINATION (threading)      /* ThreadingTCPServer, ThreadingUDPServer, ... */
SS_DECLARE_COMBINATION (forking)        /* ForkingTCPServer, ForkingUDPServer, ... */
SS_DECLARE_COMBINATION (thread_pooling) /* ThreadPoolingTCPServer, ... */
SS_DECLARE_COMBINATION (preforking)     /* PreForkingTCPServer, ... (5, 50, 2) */

/* The transport class by name ("tcp", "udp", "unix", "unix-dgram"), for
 * ss_server_new with any strategy: the general form the programs use.
 * Returns: (transfer none): a static class, or NULL with @error set. */
SS_API const SsServerClass *ss_server_class_by_transport_name (const char *transport, GError **error);

G_END_DECLS
