/* unix.h: UnixStreamServer and UnixDatagramServer.
 *
 * The address is a filesystem path. server_bind refuses a path that exists
 * and is not a socket (it is never deleted); a stale socket file is left to
 * the caller as in Python (bind fails with "address already in use").
 * server_close removes the socket file this server created.
 */
#pragma once

#include "api.h"

#include "server.h"

G_BEGIN_DECLS

SS_API const SsServerClass ss_unix_stream_server_class;
SS_API const SsServerClass ss_unix_datagram_server_class;

/* Returns: (transfer full) (nullable). */
SS_API SsServer *ss_unix_stream_server_new (const char *path, const SsHandlerClass *handler_class,
                                     SsStrategy *strategy, GError **error);
SS_API SsServer *ss_unix_datagram_server_new (const char *path, const SsHandlerClass *handler_class,
                                       SsStrategy *strategy, GError **error);

G_END_DECLS
