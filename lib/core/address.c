/* address.c: socket addresses from and to strings.
 *
 * Python writes an address as a tuple ("localhost", 9999) or a path; C
 * programs and command lines want one string, so we accept "HOST:PORT",
 * "[V6]:PORT" and Unix paths. The port is checked by hand (digits only,
 * 0..65535) before getaddrinfo sees it, because getaddrinfo's own answer
 * to "99999" or "12x" is a vague "Servname not supported"; the host is
 * resolved with getaddrinfo and the first result wins, as with Python's
 * socket.getaddrinfo()[0]. Every error names the text it was given and
 * says what to write instead, since the text usually comes straight from
 * a command line.
 */
#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#define PORT_HINT "ports are 0 to 65535, 0 picks a free port"

/* Splits @text into host and port. Sets *bracketed for "[V6]:PORT". */
static gboolean
split_host_port (const char *text, char **host, char **port, gboolean *bracketed, GError **error)
{
  const char *colon;

  *bracketed = text[0] == '[';
  if (*bracketed)
    {
      const char *close = strchr (text, ']');

      if (close == NULL)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                       "Invalid address “%s”: missing “]” after the IPv6 address "
                       "(write it as [::1]:PORT)", text);
          return FALSE;
        }
      if (close[1] != ':')
        {
          g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                       "Invalid address “%s”: missing port after “]” "
                       "(write it as [::1]:PORT; %s)", text, PORT_HINT);
          return FALSE;
        }
      *host = g_strndup (text + 1, (gsize) (close - text - 1));
      *port = g_strdup (close + 2);
      return TRUE;
    }

  colon = strrchr (text, ':');
  if (colon == NULL)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid address “%s”: missing port (write it as HOST:PORT, "
                   "e.g. 127.0.0.1:8080; %s)", text, PORT_HINT);
      return FALSE;
    }
  if (memchr (text, ':', (gsize) (colon - text)) != NULL)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid address “%s”: an IPv6 address needs brackets "
                   "(write it as [::1]:PORT)", text);
      return FALSE;
    }
  *host = g_strndup (text, (gsize) (colon - text));
  *port = g_strdup (colon + 1);
  return TRUE;
}

/* Digits only, at most 5 of them, value <= 65535. */
static gboolean
check_port (const char *text, const char *port, GError **error)
{
  gsize len = strlen (port);
  gsize i;

  if (len == 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid address “%s”: missing port after “:” (%s)", text, PORT_HINT);
      return FALSE;
    }
  for (i = 0; i < len; i++)
    if (!g_ascii_isdigit (port[i]))
      {
        g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                     "Invalid port in address “%s”: “%s” is not a number (%s)",
                     text, port, PORT_HINT);
        return FALSE;
      }
  if (len > 5 || g_ascii_strtoull (port, NULL, 10) > 65535)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid port in address “%s”: %s", text, PORT_HINT);
      return FALSE;
    }
  return TRUE;
}

static void
set_gai_error (GError **error, const char *text, const char *host, gboolean bracketed, int rc, int errsv)
{
  const char *reason = rc == EAI_SYSTEM ? g_strerror (errsv) : gai_strerror (rc);

  if (bracketed)
    g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                 "Invalid address “%s”: “%s” is not an IPv6 address (%s); "
                 "write a numeric one such as [::1]:PORT", text, host, reason);
  else if (rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL
#ifdef EAI_NODATA
           || rc == EAI_NODATA
#endif
#ifdef EAI_ADDRFAMILY
           || rc == EAI_ADDRFAMILY
#endif
           )
    g_set_error (error, SS_ERROR, SS_ERROR_RESOLVE,
                 "Could not resolve host “%s” in address “%s”: %s "
                 "(check the name, or use a numeric address such as 127.0.0.1)",
                 host, text, reason);
  else
    g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                 "Invalid address “%s”: %s", text, reason);
}

gboolean
ss_address_parse_inet (const char *text, int socktype, SsAddress *out, GError **error)
{
  struct addrinfo hints = { 0 };
  struct addrinfo *res = NULL;
  g_autofree char *host = NULL;
  g_autofree char *port = NULL;
  gboolean bracketed;
  int rc;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!split_host_port (text, &host, &port, &bracketed, error))
    return FALSE;
  if (!check_port (text, port, error))
    return FALSE;
  if (bracketed && host[0] == '\0')
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid address “%s”: empty IPv6 address between the brackets "
                   "(use [::]:PORT for every address, [::1]:PORT for loopback)", text);
      return FALSE;
    }

  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV;
  if (bracketed)
    {
      hints.ai_family = AF_INET6;
      hints.ai_flags |= AI_NUMERICHOST;
    }
  else if (host[0] == '\0')
    {
      /* Python's ("", port): every IPv4 address. */
      hints.ai_family = AF_INET;
      hints.ai_flags |= AI_PASSIVE;
    }
  else
    hints.ai_family = AF_UNSPEC;

  rc = getaddrinfo (host[0] != '\0' ? host : NULL, port, &hints, &res);
  if (rc != 0)
    {
      set_gai_error (error, text, host, bracketed, rc, errno);
      return FALSE;
    }
  if (res == NULL || res->ai_addrlen > sizeof out->storage)
    {
      if (res != NULL)
        freeaddrinfo (res);
      g_set_error (error, SS_ERROR, SS_ERROR_RESOLVE,
                   "Could not resolve host “%s” in address “%s”: no usable address",
                   host, text);
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  memcpy (&out->storage, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  freeaddrinfo (res);
  return TRUE;
}

gboolean
ss_address_parse_unix (const char *path, SsAddress *out, GError **error)
{
  struct sockaddr_un *sun;
  gsize len;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = strlen (path);
  if (len == 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid Unix socket path “”: the path is empty "
                   "(give a file name such as /tmp/server.sock)");
      return FALSE;
    }
  if (len > sizeof sun->sun_path - 1)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Invalid Unix socket path “%s”: it is %" G_GSIZE_FORMAT " bytes long "
                   "and the limit is %" G_GSIZE_FORMAT " (choose a shorter path, e.g. in /tmp "
                   "or $XDG_RUNTIME_DIR)", path, len, sizeof sun->sun_path - 1);
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  sun = (struct sockaddr_un *) &out->storage;
  sun->sun_family = AF_UNIX;
  memcpy (sun->sun_path, path, len + 1);
  out->len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len + 1);
  return TRUE;
}

/* "[..." and "host:port" are INET; a '/' or no ':' at all means a path. */
static gboolean
looks_like_inet (const char *text)
{
  if (text[0] == '[')
    return TRUE;
  if (strchr (text, '/') != NULL)
    return FALSE;
  return strchr (text, ':') != NULL;
}

gboolean
ss_address_parse (const char *text, int socktype, SsAddress *out, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);

  if (looks_like_inet (text))
    return ss_address_parse_inet (text, socktype, out, error);
  return ss_address_parse_unix (text, out, error);
}

int
ss_address_family (const SsAddress *address)
{
  g_return_val_if_fail (address != NULL, AF_UNSPEC);

  if (address->len < sizeof (sa_family_t))
    return AF_UNSPEC;
  return address->storage.ss_family;
}

guint16
ss_address_port (const SsAddress *address)
{
  g_return_val_if_fail (address != NULL, 0);

  switch (ss_address_family (address))
    {
    case AF_INET:
      return g_ntohs (((const struct sockaddr_in *) &address->storage)->sin_port);
    case AF_INET6:
      return g_ntohs (((const struct sockaddr_in6 *) &address->storage)->sin6_port);
    default:
      return 0;
    }
}

/* The path of a Unix address, "@name" for an abstract one, NULL when unnamed. */
static char *
unix_path_string (const SsAddress *address)
{
  const struct sockaddr_un *sun = (const struct sockaddr_un *) &address->storage;
  gsize offset = offsetof (struct sockaddr_un, sun_path);
  gsize max;

  if (address->len <= offset)
    return NULL;
  max = MIN ((gsize) address->len - offset, sizeof sun->sun_path);
  if (sun->sun_path[0] == '\0')
    {
      /* Linux abstract namespace: the name is every byte after the NUL. */
      g_autofree char *name = g_strndup (sun->sun_path + 1, max - 1);

      return g_strdup_printf ("@%s", name);
    }
  return g_strndup (sun->sun_path, strnlen (sun->sun_path, max));
}

/* @addr as inet_ntop writes it: "a.b.c.d". */
static char *
ipv4_string (const struct in_addr *addr)
{
  const guint8 *b = (const guint8 *) &addr->s_addr;
  char text[INET_ADDRSTRLEN];
  char *p = text;

  for (int i = 0; i < 4; i++)
    {
      if (i > 0)
        *p++ = '.';
      if (b[i] >= 100)
        *p++ = (char) ('0' + b[i] / 100);
      if (b[i] >= 10)
        *p++ = (char) ('0' + b[i] / 10 % 10);
      *p++ = (char) ('0' + b[i] % 10);
    }
  *p = '\0';
  return g_strdup (text);
}

char *
ss_address_host_string (const SsAddress *address)
{
  char host[NI_MAXHOST];
  int family;

  g_return_val_if_fail (address != NULL, NULL);

  family = ss_address_family (address);
  if (family == AF_UNIX)
    {
      char *path = unix_path_string (address);

      return path != NULL ? path : g_strdup ("<unbound>");
    }
  if (family != AF_INET && family != AF_INET6)
    return g_strdup ("<unknown>");
  /* inet_ntop (and for IPv4 its dotted quad, here without its sprintf)
   * writes what getnameinfo (NI_NUMERICHOST) would, without its set-up,
   * when there is no IPv6 scope to add; getnameinfo keeps a scope ("%lo"). */
  if (family == AF_INET)
    return ipv4_string (&((const struct sockaddr_in *) &address->storage)->sin_addr);
  if (family == AF_INET6 && ((const struct sockaddr_in6 *) &address->storage)->sin6_scope_id == 0
      && inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) &address->storage)->sin6_addr, host,
                    sizeof host)
             != NULL)
    return g_strdup (host);
  if (getnameinfo ((const struct sockaddr *) &address->storage, address->len,
                   host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
    return g_strdup ("<unknown>");
  return g_strdup (host);
}

char *
ss_address_to_string (const SsAddress *address)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (address != NULL, NULL);

  host = ss_address_host_string (address);
  switch (ss_address_family (address))
    {
    case AF_INET:
      return g_strdup_printf ("%s:%u", host, ss_address_port (address));
    case AF_INET6:
      return g_strdup_printf ("[%s]:%u", host, ss_address_port (address));
    default:
      return g_steal_pointer (&host);
    }
}
