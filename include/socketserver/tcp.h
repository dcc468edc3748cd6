/**
 * SECTION:tcp
 * @title: tcp.h
 * @short_description: TCPServer, a stream socket server over IPv4 or IPv6
 * @include: socketserver/socketserver.h
 *
 * The address family follows the address: "127.0.0.1:0" gives AF_INET,
 * "[::1]:0" AF_INET6. shutdown_request does shutdown(SHUT_WR) then close.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/**
 * ss_tcp_server_class:
 *
 * Python's TCPServer: every slot filled, so a subclass's override calls
 * `ss_tcp_server_class.verify_request (self, request)` for `super`.
 */
SS_API const SsServerClass ss_tcp_server_class;

/**
 * ss_tcp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL =
 *   synchronous
 * @error: return location for a #GError, or %NULL
 *
 * Python's TCPServer(server_address, RequestHandlerClass,
 * bind_and_activate=True) with a concurrency strategy: bound and
 * listening. Errors as ss_server_new().
 *
 * Returns: (transfer full) (nullable): the server (ss_server_free()), or
 *   %NULL with @error set
 */
SS_API SsServer *ss_tcp_server_new (const char *address, const SsHandlerClass *handler_class,
                             SsStrategy *strategy, GError **error);

G_END_DECLS
