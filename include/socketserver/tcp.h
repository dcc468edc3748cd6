/* tcp.h: TCPServer, a stream socket server over IPv4 or IPv6.
 *
 * The address family follows the address: "127.0.0.1:0" gives AF_INET,
 * "[::1]:0" AF_INET6. shutdown_request does shutdown(SHUT_WR) then close.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

SS_API const SsServerClass ss_tcp_server_class;

/* Python's TCPServer(server_address, RequestHandlerClass, bind_and_activate=True)
 * with a concurrency strategy (transfer full; NULL = synchronous).
 * Returns: (transfer full) (nullable). */
SS_API SsServer *ss_tcp_server_new (const char *address, const SsHandlerClass *handler_class,
                             SsStrategy *strategy, GError **error);

G_END_DECLS
