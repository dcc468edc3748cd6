/* transport-private.h: what the transports in lib/transports may use of
 * the core besides the public API (the core implements it), and the slot
 * functions the transport classes name in one another's tables.
 *
 * Every slot of every exported server class is filled: where a class
 * inherits a behaviour its table names the parent's function, as Redis's
 * unix connection type names the TCP type's. The functions are internal
 * (ss__, not exported); users reach them through the exported classes,
 * e.g. ss_tcp_server_class.verify_request.
 */
#pragma once

#include "io/fd.h"

/* Per-server state of the transport class: @size zeroed bytes, allocated
 * at the first call and freed with the server; the same pointer after
 * that. Only the server's own transport class uses it. */
gpointer ss__server_transport_state (SsServer *server, gsize size);

/* A request of this server for @fd from @client (transfer full), with room
 * for the server's handler instance in the same allocation. A datagram
 * request keeps the server's socket open until ss_request_free, whatever
 * server_close does meanwhile. */
SsRequest *ss__server_new_stream_request (SsServer *server, int fd, const SsAddress *client);
SsRequest *ss__server_new_datagram_request (SsServer *server, const SsAddress *client,
                                            const void *data, gsize len, gboolean truncated);

/* A layer every stream request of @server is given when it is made
 * (request->io: TLS, lib/tls): @wrap runs in the accepting thread and
 * must do no I/O; whatever may block belongs in io->start, which runs
 * where the request runs. Set it before serving; @destroy frees @data
 * with the server (or when replaced). */
typedef void (*SsStreamWrapFunc) (SsServer *server, SsRequest *request, gpointer data);
void ss__server_set_stream_wrap (SsServer *server, SsStreamWrapFunc wrap, gpointer data,
                                 GDestroyNotify destroy);
SsStreamWrapFunc ss__server_stream_wrap (SsServer *server);
gpointer ss__server_stream_wrap_data (SsServer *server);

/* A stream connection's @fd is about to be closed (close_request): the
 * core stops counting it among the running requests a drain forces
 * (running.c), before the number can go to another connection. */
void ss__server_running_closes (SsServer *server, int fd);

/* Closes the server socket (socket_fd becomes -1); while datagram requests
 * still hold it, the fd itself stays open until the last is freed. */
void ss__server_close_socket (SsServer *server);

/* The server's class with every slot and attribute resolved through its
 * parent chain (transfer none): the server's family and socket type. */
const SsServerClass *ss__server_resolved_class (SsServer *server);

/* BaseServer's slots (lib/core/base-server.c). */
gboolean ss__base_server_server_bind (SsServer *self, GError **error);
gboolean ss__base_server_server_activate (SsServer *self, GError **error);
SsRequest *ss__base_server_get_request (SsServer *self, GError **error);
void ss__base_server_shutdown_request (SsServer *self, SsRequest *request);
void ss__base_server_close_request (SsServer *self, SsRequest *request);
void ss__base_server_server_close (SsServer *self);
int ss__base_server_fileno (SsServer *self);
gboolean ss__base_server_verify_request (SsServer *self, SsRequest *request);
void ss__base_server_process_request (SsServer *self, SsRequest *request);
gboolean ss__base_server_finish_request (SsServer *self, SsRequest *request, GError **error);
void ss__base_server_handle_error (SsServer *self, SsRequest *request, const GError *error);
void ss__base_server_handle_timeout (SsServer *self);
void ss__base_server_service_actions (SsServer *self);

/* TCPServer's (tcp.c), which UDPServer and UnixStreamServer inherit. */
gboolean ss__tcp_server_server_bind (SsServer *self, GError **error);
gboolean ss__tcp_server_server_activate (SsServer *self, GError **error);
SsRequest *ss__tcp_server_get_request (SsServer *self, GError **error);
void ss__tcp_server_shutdown_request (SsServer *self, SsRequest *request);
void ss__tcp_server_close_request (SsServer *self, SsRequest *request);
void ss__tcp_server_server_close (SsServer *self);
int ss__tcp_server_fileno (SsServer *self);

/* UDPServer's (udp.c), which UnixDatagramServer inherits. */
gboolean ss__udp_server_server_activate (SsServer *self, GError **error);
SsRequest *ss__udp_server_get_request (SsServer *self, GError **error);
void ss__udp_server_shutdown_request (SsServer *self, SsRequest *request);
void ss__udp_server_close_request (SsServer *self, SsRequest *request);

/* The behaviour slots every transport inherits from BaseServer, for the
 * end of a class table. */
#define SS__BASE_SERVER_BEHAVIOUR_SLOTS                      \
  .verify_request = ss__base_server_verify_request,          \
  .process_request = ss__base_server_process_request,        \
  .finish_request = ss__base_server_finish_request,          \
  .handle_error = ss__base_server_handle_error,              \
  .handle_timeout = ss__base_server_handle_timeout,          \
  .service_actions = ss__base_server_service_actions
