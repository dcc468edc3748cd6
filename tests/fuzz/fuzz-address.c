/* fuzz-address.c: libFuzzer target for the address parser.
 *
 * Every input (NUL-terminated, so an embedded NUL ends it as it would in a
 * command line) goes through ss_address_parse, ss_address_parse_inet and
 * ss_address_parse_unix. Whatever parses must print with
 * ss_address_to_string and parse back to the same bytes: a round trip
 * that breaks means the printer and the parser disagree, which abort()s.
 *
 * Host names would send a DNS query per input (thousands a second, to
 * whatever resolver the machine has), so this file overrides getaddrinfo
 * to add AI_NUMERICHOST: names then fail with EAI_NONAME, which still
 * drives the library's "could not resolve" path, and numeric hosts (v4,
 * v6, scopes, inet_aton forms such as "1" or "0x7f.1") are parsed for real.
 * Only "localhost" is let through, since it comes from /etc/hosts.
 */
#include "config.h"

#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <socketserver/socketserver.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef int (*GetaddrinfoFn) (const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

int
getaddrinfo (const char *node, const char *service, const struct addrinfo *hints,
             struct addrinfo **res)
{
  static GetaddrinfoFn real;
  struct addrinfo numeric = { 0 };

  if (real == NULL)
    real = (GetaddrinfoFn) dlsym (RTLD_NEXT, "getaddrinfo");
  if (hints != NULL)
    numeric = *hints;
  if (node == NULL || strcmp (node, "localhost") != 0)
    numeric.ai_flags |= AI_NUMERICHOST;
  return real (node, service, &numeric, res);
}

static void
quiet_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  (void) domain;
  (void) level;
  (void) message;
  (void) data;
}

typedef gboolean (*ParseFn) (const char *text, int socktype, SsAddress *out, GError **error);

static gboolean
parse_unix (const char *text, int socktype, SsAddress *out, GError **error)
{
  (void) socktype;
  return ss_address_parse_unix (text, out, error);
}

/* Parses @text with @parse; on success checks print-then-parse gives the
 * same address with the parser that the address's family calls for. */
static void
check_round_trip (ParseFn parse, const char *text, int socktype)
{
  SsAddress first, second;
  GError *error = NULL;
  char *printed;
  int family;

  memset (&first, 0xa5, sizeof first);
  if (!parse (text, socktype, &first, &error))
    {
      /* A failure must say why, and leave a message that names something. */
      if (error == NULL || error->message == NULL || error->message[0] == '\0'
          || error->domain != SS_ERROR)
        abort ();
      g_error_free (error);
      return;
    }
  if (error != NULL)
    abort ();

  family = ss_address_family (&first);
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
    abort ();
  if (first.len == 0 || first.len > sizeof first.storage)
    abort ();
  printed = ss_address_to_string (&first);
  if (printed == NULL)
    abort ();
  g_free (ss_address_host_string (&first));
  (void) ss_address_port (&first);

  memset (&second, 0, sizeof second);
  if (family == AF_UNIX)
    {
      if (!ss_address_parse_unix (printed, &second, NULL))
        abort ();
    }
  else if (!ss_address_parse_inet (printed, socktype, &second, NULL))
    abort ();
  if (second.len != first.len || memcmp (&second.storage, &first.storage, first.len) != 0)
    abort ();
  g_free (printed);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean initialised;
  char *text;

  if (!initialised)
    {
      g_log_set_default_handler (quiet_log, NULL);
      initialised = TRUE;
    }

  text = g_malloc (size + 1);
  memcpy (text, data, size);
  text[size] = '\0';

  check_round_trip (ss_address_parse, text, SOCK_STREAM);
  check_round_trip (ss_address_parse, text, SOCK_DGRAM);
  check_round_trip (ss_address_parse_inet, text, SOCK_STREAM);
  check_round_trip (parse_unix, text, SOCK_STREAM);

  g_free (text);
  return 0;
}
