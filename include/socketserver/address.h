/* address.h: socket addresses parsed from and printed to strings.
 *
 * Accepted forms: "HOST:PORT" (HOST a name or an IPv4 address, PORT 0..65535,
 * 0 meaning "pick a free port"), "[IPV6]:PORT", and for Unix sockets a path.
 * Python's ("localhost", 9999) becomes "localhost:9999".
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>

G_BEGIN_DECLS

typedef struct {
  struct sockaddr_storage storage; /* sockaddr_in, sockaddr_in6 or sockaddr_un */
  socklen_t len;                   /* meaningful bytes of storage */
} SsAddress;

#define SS_ADDRESS_STRLEN 128 /* large enough for "[v6%scope]:port"; Unix paths may be longer */

/* Parses an INET address "HOST:PORT" or "[V6]:PORT" (resolving HOST with
 * getaddrinfo, first result wins) into @out. @socktype is SOCK_STREAM or
 * SOCK_DGRAM. Returns FALSE and sets @error (SS_ERROR_INVALID_ADDRESS or
 * SS_ERROR_RESOLVE, message naming @text) on failure; @out is untouched then. */
SS_API gboolean ss_address_parse_inet (const char *text, int socktype, SsAddress *out, GError **error);

/* Builds a Unix address from a filesystem path. Fails with
 * SS_ERROR_INVALID_ADDRESS when the path is empty or longer than sun_path. */
SS_API gboolean ss_address_parse_unix (const char *path, SsAddress *out, GError **error);

/* Either of the above: text that contains '/' or does not look like
 * HOST:PORT is taken as a Unix path. */
SS_API gboolean ss_address_parse (const char *text, int socktype, SsAddress *out, GError **error);

SS_API int ss_address_family (const SsAddress *address);

/* The port of an INET address in host order, 0 for Unix addresses. */
SS_API guint16 ss_address_port (const SsAddress *address);

/* "127.0.0.1:8080", "[::1]:8080", "/tmp/sock", or "<unbound>" for an unnamed
 * Unix peer. Returns a newly allocated string (transfer full): g_free it. */
SS_API char *ss_address_to_string (const SsAddress *address);

/* The host part alone ("127.0.0.1", "::1") or the path; transfer full. */
SS_API char *ss_address_host_string (const SsAddress *address);

G_END_DECLS
