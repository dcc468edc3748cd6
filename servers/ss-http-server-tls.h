/* ss-http-server-tls.h: the HTTPS part of ss-http-server
 * (ss-http-server-tls.c). */
#pragma once

#include <socketserver/socketserver.h>

/* HTTPSServer.server_activate's context on @server: the certificate chain
 * @cert, its key @key (NULL: in @cert), the key's password from
 * @password_file (NULL: none), ALPN "http/1.1". */
gboolean ss_https_server_use_tls (SsServer *server, const char *cert, const char *key,
                                  const char *password_file, GError **error);

typedef struct _SsHttpsReloader SsHttpsReloader;

/* From now on SIGHUP reloads @server's TLS files (a line on stderr says
 * how it went) until ss_https_reloader_stop (NULL: nothing to stop). */
SsHttpsReloader *ss_https_reloader_start (SsServer *server);
void ss_https_reloader_stop (SsHttpsReloader *reloader);
