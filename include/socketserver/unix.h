/**
 * SECTION:unix
 * @title: unix.h
 * @short_description: UnixStreamServer and UnixDatagramServer
 * @include: socketserver/socketserver.h
 *
 * The address is a filesystem path. server_bind refuses a path that exists
 * and is not a socket (it is never deleted); a stale socket file is left to
 * the caller as in Python (bind fails with "address already in use").
 * server_close removes the socket file this server created.
 * #SsServer.unix_socket_mode sets the file's mode from its first moment.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/**
 * ss_unix_stream_server_class:
 *
 * Python's UnixStreamServer: every slot filled.
 */
SS_API const SsServerClass ss_unix_stream_server_class;

/**
 * ss_unix_datagram_server_class:
 *
 * Python's UnixDatagramServer: every slot filled.
 */
SS_API const SsServerClass ss_unix_datagram_server_class;

/**
 * ss_unix_stream_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL =
 *   synchronous
 * @error: return location for a #GError, or %NULL
 *
 * Python's UnixStreamServer(path, RequestHandlerClass): bound and
 * listening. Errors: %SS_ERROR_INVALID_ADDRESS (empty or too long a
 * path), %SS_ERROR_ADDRESS_IN_USE (the path exists), %SS_ERROR_NOT_FOUND
 * (its directory does not), %SS_ERROR_PERMISSION.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_unix_stream_server_new (const char *path, const SsHandlerClass *handler_class,
                                     SsStrategy *strategy, GError **error);

/**
 * ss_unix_datagram_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class (a datagram one)
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL =
 *   synchronous
 * @error: return location for a #GError, or %NULL
 *
 * Python's UnixDatagramServer(path, RequestHandlerClass): bound. Errors
 * as ss_unix_stream_server_new().
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_unix_datagram_server_new (const char *path, const SsHandlerClass *handler_class,
                                       SsStrategy *strategy, GError **error);

G_END_DECLS
