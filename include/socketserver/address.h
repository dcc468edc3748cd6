/**
 * SECTION:address
 * @title: address.h
 * @short_description: socket addresses parsed from and printed to strings
 * @include: socketserver/socketserver.h
 *
 * Accepted forms: "HOST:PORT" (HOST a name or an IPv4 address, PORT 0..65535,
 * 0 meaning "pick a free port"), "[IPV6]:PORT", and for Unix sockets a path.
 * Python's `("localhost", 9999)` becomes "localhost:9999"; Python's
 * server_address tuple is an #SsAddress.
 *
 * The functions work on the caller's memory only and are thread-safe
 * (parsing calls `getaddrinfo`, which may block while it resolves).
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>

G_BEGIN_DECLS

/**
 * SsAddress:
 * @storage: sockaddr_in, sockaddr_in6 or sockaddr_un
 * @len: meaningful bytes of @storage
 *
 * A socket address of any family, by value (no allocation, nothing to
 * free): Python's server_address and client_address.
 */
typedef struct {
  struct sockaddr_storage storage;
  socklen_t len;
} SsAddress;

/**
 * SS_ADDRESS_STRLEN:
 *
 * Large enough for an IPv6 address with its scope, in brackets, and a
 * port; Unix paths may be longer
 * (ss_address_to_string() allocates, so no caller needs it for that).
 */
#define SS_ADDRESS_STRLEN 128

/**
 * ss_address_parse_inet:
 * @text: "HOST:PORT" or "[V6]:PORT"
 * @socktype: SOCK_STREAM or SOCK_DGRAM
 * @out: (out caller-allocates): the address
 * @error: return location for a #GError, or %NULL
 *
 * Parses an INET address, resolving HOST with `getaddrinfo` (first result
 * wins) into @out.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 *   (%SS_ERROR_INVALID_ADDRESS or %SS_ERROR_RESOLVE, the message naming
 *   @text) on failure, @out untouched then.
 */
SS_API gboolean ss_address_parse_inet (const char *text, int socktype, SsAddress *out, GError **error);

/**
 * ss_address_parse_unix:
 * @path: a filesystem path
 * @out: (out caller-allocates): the address
 * @error: return location for a #GError, or %NULL
 *
 * Builds a Unix address from a filesystem path.
 *
 * Returns: %TRUE on success; %FALSE with %SS_ERROR_INVALID_ADDRESS when
 *   the path is empty or longer than sun_path.
 */
SS_API gboolean ss_address_parse_unix (const char *path, SsAddress *out, GError **error);

/**
 * ss_address_parse:
 * @text: an INET address or a Unix path
 * @socktype: SOCK_STREAM or SOCK_DGRAM (for an INET address)
 * @out: (out caller-allocates): the address
 * @error: return location for a #GError, or %NULL
 *
 * Either of ss_address_parse_inet() and ss_address_parse_unix(): text
 * that contains '/' or does not look like HOST:PORT is taken as a Unix
 * path.
 *
 * Returns: %TRUE on success; %FALSE with @error set as those do.
 */
SS_API gboolean ss_address_parse (const char *text, int socktype, SsAddress *out, GError **error);

/**
 * ss_address_family:
 * @address: an address
 *
 * The address family (Python's address_family of a server, the family of
 * a client address).
 *
 * Returns: AF_INET, AF_INET6 or AF_UNIX; AF_UNSPEC when @address holds
 *   no family.
 */
SS_API int ss_address_family (const SsAddress *address);

/**
 * ss_address_port:
 * @address: an address
 *
 * The port: Python's server_address[1] or client_address[1].
 *
 * Returns: the port of an INET address in host order, 0 for Unix
 *   addresses.
 */
SS_API guint16 ss_address_port (const SsAddress *address);

/**
 * ss_address_to_string:
 * @address: an address
 *
 * Formats an address as "127.0.0.1:8080", "[::1]:8080", "/tmp/sock"
 * ("@name" for an abstract Unix name), or "&lt;unbound&gt;" for an unnamed
 * Unix peer.
 *
 * Returns: (transfer full): a newly allocated string: g_free() it
 */
SS_API char *ss_address_to_string (const SsAddress *address);

/**
 * ss_address_host_string:
 * @address: an address
 *
 * The host part alone ("127.0.0.1", "::1") or the path: Python's
 * client_address[0].
 *
 * Returns: (transfer full): a newly allocated string: g_free() it
 */
SS_API char *ss_address_host_string (const SsAddress *address);

G_END_DECLS
