/**
 * SECTION:udp
 * @title: udp.h
 * @short_description: UDPServer, a datagram server over IPv4 or IPv6
 * @include: socketserver/socketserver.h
 *
 * No `listen`; each request is one datagram of at most max_packet_size
 * (8192) bytes plus the server socket to reply on. A longer datagram is
 * truncated, as Python's recvfrom does, and flagged in request->truncated;
 * with the server's refuse_truncated set it is refused instead, through
 * handle_error with %SS_ERROR_TRUNCATED.
 *
 * Python parity: a datagram's source address is whatever the sender put
 * there; UDP has no handshake to prove it. A handler that replies -- the
 * ready-made ss_datagram_echo_handler_class answers every datagram, as
 * Python's echo examples do -- sends its reply to that address, so anyone
 * on the network can make the server send datagrams to a third party
 * (reflection; amplification when the reply is larger than the request).
 * Expose such a server only where the senders are trusted, or check
 * request->client_address in verify_request.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/**
 * SS_UDP_DEFAULT_MAX_PACKET_SIZE:
 *
 * The default of #SsServer.max_packet_size: Python's
 * UDPServer.max_packet_size, 8192.
 */
#define SS_UDP_DEFAULT_MAX_PACKET_SIZE 8192

/**
 * ss_udp_server_class:
 *
 * Python's UDPServer: every slot filled (server_activate does nothing,
 * shutdown_request and close_request close nothing: the socket is the
 * server's).
 */
SS_API const SsServerClass ss_udp_server_class;

/**
 * ss_udp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class (a datagram one)
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL =
 *   synchronous
 * @error: return location for a #GError, or %NULL
 *
 * Python's UDPServer(server_address, RequestHandlerClass) with a
 * concurrency strategy: bound. Errors as ss_server_new().
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_udp_server_new (const char *address, const SsHandlerClass *handler_class,
                             SsStrategy *strategy, GError **error);

G_END_DECLS
