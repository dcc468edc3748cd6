/**
 * SECTION:combinations
 * @title: combinations.h
 * @short_description: Python's ready-made server classes as constructors
 * @include: socketserver/socketserver.h
 *
 * ThreadingTCPServer(addr, Handler) is ss_threading_tcp_server_new (addr,
 * &handler_class, &error), and so on for every strategy and transport.
 * The ThreadPooling ones use the post's defaults (5, 100, 5); change them
 * with ss_server_init_thread_pool() before serving. The PreForking ones use
 * Net::Server's (5, 50, 2); change them with
 * ss_preforking_strategy_set_limits (server->strategy, ...) before serving.
 * All return: (transfer full) (nullable): a bound (and, for stream
 * transports, listening) server to free with ss_server_free(), or %NULL
 * with the error of ss_server_new() or of the strategy's constructor.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

/**
 * SS_DECLARE_COMBINATION:
 * @prefix: the strategy's part of the names (threading, forking, ...)
 *
 * Declares the four constructors of one strategy, one per transport:
 * `ss_PREFIX_tcp_server_new`, `ss_PREFIX_udp_server_new`,
 * `ss_PREFIX_unix_stream_server_new` and
 * `ss_PREFIX_unix_datagram_server_new`. Used by this header only.
 */
#define SS_DECLARE_COMBINATION(prefix) \
  SS_API SsServer *ss_##prefix##_tcp_server_new (const char *address, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_udp_server_new (const char *address, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_unix_stream_server_new (const char *path, const SsHandlerClass *handler_class, GError **error); \
  SS_API SsServer *ss_##prefix##_unix_datagram_server_new (const char *path, const SsHandlerClass *handler_class, GError **error);

/**
 * ss_threading_tcp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ThreadingTCPServer. The TCPServer transport with ThreadingMixIn: a thread per request (ss_threading_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_threading_udp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ThreadingUDPServer. The UDPServer transport with ThreadingMixIn: a thread per request (ss_threading_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_threading_unix_stream_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ThreadingUnixStreamServer. The UnixStreamServer transport with ThreadingMixIn: a thread per request (ss_threading_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_threading_unix_datagram_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ThreadingUnixDatagramServer. The UnixDatagramServer transport with ThreadingMixIn: a thread per request (ss_threading_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_forking_tcp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ForkingTCPServer. The TCPServer transport with ForkingMixIn: a process per request (ss_forking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_forking_udp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ForkingUDPServer. The UDPServer transport with ForkingMixIn: a process per request (ss_forking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_forking_unix_stream_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ForkingUnixStreamServer. The UnixStreamServer transport with ForkingMixIn: a process per request (ss_forking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_forking_unix_datagram_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ForkingUnixDatagramServer. The UnixDatagramServer transport with ForkingMixIn: a process per request (ss_forking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_thread_pooling_tcp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * The 2008 post's ThreadPoolingTCPServer (not in Python's standard library). The TCPServer transport with the dynamic thread pool of the 2008 ThreadPoolingMixIn, with its defaults (5, 100, 5; ss_thread_pool_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_thread_pooling_udp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * The 2008 post's ThreadPoolingUDPServer (not in Python's standard library). The UDPServer transport with the dynamic thread pool of the 2008 ThreadPoolingMixIn, with its defaults (5, 100, 5; ss_thread_pool_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_thread_pooling_unix_stream_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * The 2008 post's ThreadPoolingUnixStreamServer (not in Python's standard library). The UnixStreamServer transport with the dynamic thread pool of the 2008 ThreadPoolingMixIn, with its defaults (5, 100, 5; ss_thread_pool_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_thread_pooling_unix_datagram_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * The 2008 post's ThreadPoolingUnixDatagramServer (not in Python's standard library). The UnixDatagramServer transport with the dynamic thread pool of the 2008 ThreadPoolingMixIn, with its defaults (5, 100, 5; ss_thread_pool_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_preforking_tcp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * PreForkingTCPServer: no Python counterpart (Apache's prefork MPM). The TCPServer transport with a pool of processes forked ahead of time, with Net::Server::PreFork's defaults (5, 50, 2; ss_preforking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_preforking_udp_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * PreForkingUDPServer: no Python counterpart (Apache's prefork MPM). The UDPServer transport with a pool of processes forked ahead of time, with Net::Server::PreFork's defaults (5, 50, 2; ss_preforking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_preforking_unix_stream_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * PreForkingUnixStreamServer: no Python counterpart (Apache's prefork MPM). The UnixStreamServer transport with a pool of processes forked ahead of time, with Net::Server::PreFork's defaults (5, 50, 2; ss_preforking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
/**
 * ss_preforking_unix_datagram_server_new:
 * @path: the socket file's path
 * @handler_class: the request handler class
 * @error: return location for a #GError, or %NULL
 *
 * PreForkingUnixDatagramServer: no Python counterpart (Apache's prefork MPM). The UnixDatagramServer transport with a pool of processes forked ahead of time, with Net::Server::PreFork's defaults (5, 50, 2; ss_preforking_strategy_new()).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */

SS_DECLARE_COMBINATION (threading)      /* ThreadingTCPServer, ThreadingUDPServer, ... */
SS_DECLARE_COMBINATION (forking)        /* ForkingTCPServer, ForkingUDPServer, ... */
SS_DECLARE_COMBINATION (thread_pooling) /* ThreadPoolingTCPServer, ... */
SS_DECLARE_COMBINATION (preforking)     /* PreForkingTCPServer, ... (5, 50, 2) */

/**
 * ss_server_class_by_transport_name:
 * @transport: "tcp", "udp", "unix" or "unix-dgram"
 * @error: return location for a #GError, or %NULL
 *
 * The transport class by name, for ss_server_new() with any strategy: the
 * general form the programs use (ss-echo --transport).
 *
 * Returns: (transfer none) (nullable): a static class, or %NULL with
 *   @error set (%SS_ERROR_INVALID_ARGUMENT)
 */
SS_API const SsServerClass *ss_server_class_by_transport_name (const char *transport, GError **error);

G_END_DECLS
