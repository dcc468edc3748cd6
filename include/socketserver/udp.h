/* udp.h: UDPServer, a datagram server over IPv4 or IPv6.
 *
 * No listen(); each request is one datagram of at most max_packet_size
 * (8192) bytes plus the server socket to reply on. A longer datagram is
 * truncated, as Python's recvfrom does, and flagged in request->truncated.
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

#define SS_UDP_DEFAULT_MAX_PACKET_SIZE 8192

SS_API const SsServerClass ss_udp_server_class;

/* Returns: (transfer full) (nullable). */
SS_API SsServer *ss_udp_server_new (const char *address, const SsHandlerClass *handler_class,
                             SsStrategy *strategy, GError **error);

G_END_DECLS
