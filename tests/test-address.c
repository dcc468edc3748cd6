/* test-address.c: parsing and printing of socket addresses.
 *
 * The strings come from command lines, so the bad ones matter as much as
 * the good: each must fail with the right code and a message that names
 * the text it was given.
 */
#include "config.h"
#include "helpers.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

/* Parses @text as INET and asserts it fails with @code and a message
 * containing the text itself. */
static void
assert_inet_fails (const char *text, SsErrorCode code)
{
  SsAddress addr;
  GError *error = NULL;

  memset (&addr, 0xAB, sizeof addr);
  ck_assert_msg (!ss_address_parse_inet (text, SOCK_STREAM, &addr, &error), "“%s” parsed", text);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SS_ERROR, code), "“%s”: code %d, message %s",
                 text, error->code, error->message);
  ck_assert_msg (strstr (error->message, text) != NULL, "message does not name “%s”: %s",
                 text, error->message);
  /* A failed parse leaves @out untouched. */
  ck_assert_uint_eq (((guint8 *) &addr)[0], 0xAB);
  g_error_free (error);
}

static void
assert_round_trip (const char *text, int family, guint16 port, const char *host)
{
  SsAddress addr;
  GError *error = NULL;
  char *s;

  ck_assert_msg (ss_address_parse (text, SOCK_STREAM, &addr, &error), "“%s”: %s",
                 text, error ? error->message : "?");
  ck_assert_int_eq (ss_address_family (&addr), family);
  ck_assert_uint_eq (ss_address_port (&addr), port);
  s = ss_address_to_string (&addr);
  ck_assert_str_eq (s, text);
  g_free (s);
  s = ss_address_host_string (&addr);
  ck_assert_str_eq (s, host);
  g_free (s);
}

/* ------------------------------------------------------------ good */

START_TEST (test_ipv4)
{
  SsAddress addr;
  const struct sockaddr_in *sin = (const struct sockaddr_in *) &addr.storage;

  ck_assert (ss_address_parse_inet ("127.0.0.1:8080", SOCK_STREAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_INET);
  ck_assert_uint_eq (addr.len, sizeof (struct sockaddr_in));
  ck_assert_uint_eq (ntohl (sin->sin_addr.s_addr), INADDR_LOOPBACK);
  ck_assert_uint_eq (ss_address_port (&addr), 8080);
  assert_round_trip ("127.0.0.1:8080", AF_INET, 8080, "127.0.0.1");
  assert_round_trip ("10.1.2.3:65535", AF_INET, 65535, "10.1.2.3");
  assert_round_trip ("0.0.0.0:0", AF_INET, 0, "0.0.0.0");
  assert_round_trip ("192.168.100.255:1", AF_INET, 1, "192.168.100.255");
  assert_round_trip ("1.20.0.99:2", AF_INET, 2, "1.20.0.99");
}
END_TEST

/* ss_address_host_string writes what getnameinfo (NI_NUMERICHOST) writes,
 * for IPv4 and IPv6 addresses across their ranges. */
START_TEST (test_host_string_is_getnameinfo)
{
  GRand *rand = g_rand_new_with_seed (8);

  for (int i = 0; i < 20000; i++)
    {
      SsAddress addr = { 0 };
      char expected[NI_MAXHOST];
      g_autofree char *host = NULL;

      if (i % 2 == 0)
        {
          struct sockaddr_in *sin = (struct sockaddr_in *) &addr.storage;

          sin->sin_family = AF_INET;
          sin->sin_addr.s_addr = i < 512 ? htonl ((guint32) i * 0x01010101u / 2) : g_rand_int (rand);
          addr.len = sizeof *sin;
        }
      else
        {
          struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &addr.storage;

          sin6->sin6_family = AF_INET6;
          for (int b = 0; b < 16; b++)
            sin6->sin6_addr.s6_addr[b] = (guint8) (g_rand_int (rand) % 4 == 0 ? g_rand_int (rand) : 0);
          if (i % 6 == 1)
            {
              memset (sin6->sin6_addr.s6_addr, 0, 10); /* ::ffff:a.b.c.d */
              sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
            }
          addr.len = sizeof *sin6;
        }
      ck_assert_int_eq (getnameinfo ((const struct sockaddr *) &addr.storage, addr.len, expected,
                                     sizeof expected, NULL, 0, NI_NUMERICHOST),
                        0);
      host = ss_address_host_string (&addr);
      ck_assert_str_eq (host, expected);
    }
  g_rand_free (rand);
}
END_TEST

START_TEST (test_ipv6)
{
  SsAddress addr;

  ck_assert (ss_address_parse_inet ("[::1]:0", SOCK_DGRAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_INET6);
  ck_assert_uint_eq (addr.len, sizeof (struct sockaddr_in6));
  ck_assert (IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) &addr.storage)->sin6_addr));
  assert_round_trip ("[::1]:0", AF_INET6, 0, "::1");
  assert_round_trip ("[::]:443", AF_INET6, 443, "::");
  assert_round_trip ("[fe80::1%lo]:9", AF_INET6, 9, "fe80::1%lo");
}
END_TEST

START_TEST (test_localhost)
{
  SsAddress addr;
  GError *error = NULL;
  char *host;

  ck_assert_msg (ss_address_parse_inet ("localhost:0", SOCK_STREAM, &addr, &error),
                 "%s", error ? error->message : "?");
  ck_assert (ss_address_family (&addr) == AF_INET || ss_address_family (&addr) == AF_INET6);
  ck_assert_uint_eq (ss_address_port (&addr), 0);
  host = ss_address_host_string (&addr);
  ck_assert_msg (g_str_equal (host, "127.0.0.1") || g_str_equal (host, "::1"), "%s", host);
  g_free (host);
}
END_TEST

START_TEST (test_empty_host_is_any)
{
  SsAddress addr;
  char *s;

  /* Python's ("", port): every IPv4 address. */
  ck_assert (ss_address_parse_inet (":7", SOCK_STREAM, &addr, NULL));
  s = ss_address_to_string (&addr);
  ck_assert_str_eq (s, "0.0.0.0:7");
  g_free (s);
}
END_TEST

START_TEST (test_unix_path)
{
  SsAddress addr;
  char *s;

  assert_round_trip ("/tmp/server.sock", AF_UNIX, 0, "/tmp/server.sock");
  ck_assert (ss_address_parse_unix ("relative.sock", &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_UNIX);
  s = ss_address_to_string (&addr);
  ck_assert_str_eq (s, "relative.sock");
  g_free (s);
}
END_TEST

START_TEST (test_unix_longest_path)
{
  struct sockaddr_un sun;
  gsize max = sizeof sun.sun_path - 1;
  char *path = g_strnfill (max, 'a');
  SsAddress addr;
  char *s;

  path[0] = '/';
  ck_assert (ss_address_parse_unix (path, &addr, NULL));
  s = ss_address_to_string (&addr);
  ck_assert_str_eq (s, path);
  g_free (s);
  g_free (path);
}
END_TEST

START_TEST (test_parse_dispatch)
{
  SsAddress addr;

  /* '/' or no ':' at all: a path; "host:port" and "[..." INET. */
  ck_assert (ss_address_parse ("/run/x:1", SOCK_STREAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_UNIX);
  ck_assert (ss_address_parse ("server.sock", SOCK_STREAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_UNIX);
  ck_assert (ss_address_parse ("127.0.0.1:1", SOCK_STREAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_INET);
  ck_assert (ss_address_parse ("[::1]:1", SOCK_STREAM, &addr, NULL));
  ck_assert_int_eq (ss_address_family (&addr), AF_INET6);
}
END_TEST

START_TEST (test_unnamed_peer)
{
  SsAddress addr = { .len = sizeof (sa_family_t) };
  char *s;

  addr.storage.ss_family = AF_UNIX;
  s = ss_address_to_string (&addr);
  ck_assert_str_eq (s, "<unbound>");
  g_free (s);
  ck_assert_uint_eq (ss_address_port (&addr), 0);
}
END_TEST

/* ------------------------------------------------------------ bad */

START_TEST (test_bad_ports)
{
  assert_inet_fails ("127.0.0.1:99999", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1:65536", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1:000065536", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("abc:12x", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1:-1", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1:+80", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1: 80", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("127.0.0.1:", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("[::1]:http", SS_ERROR_INVALID_ADDRESS);
}
END_TEST

START_TEST (test_port_message)
{
  SsAddress addr;
  GError *error = NULL;

  ck_assert (!ss_address_parse_inet ("127.0.0.1:99999", SOCK_STREAM, &addr, &error));
  ck_assert_msg (strstr (error->message, "0 to 65535") != NULL, "%s", error->message);
  g_error_free (error);
}
END_TEST

START_TEST (test_missing_port)
{
  assert_inet_fails ("127.0.0.1", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("localhost", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("[::1]", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("[::1", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("", SS_ERROR_INVALID_ADDRESS);
}
END_TEST

START_TEST (test_bad_ipv6)
{
  assert_inet_fails ("::1:80", SS_ERROR_INVALID_ADDRESS);      /* needs brackets */
  assert_inet_fails ("[]:80", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("[127.0.0.1]:80", SS_ERROR_INVALID_ADDRESS);
  assert_inet_fails ("[no-such-host.invalid]:80", SS_ERROR_INVALID_ADDRESS);
}
END_TEST

START_TEST (test_unresolvable)
{
  assert_inet_fails ("no-such-host.invalid:80", SS_ERROR_RESOLVE);
}
END_TEST

START_TEST (test_unix_too_long)
{
  struct sockaddr_un sun;
  gsize len = sizeof sun.sun_path;
  char *path = g_strnfill (len, 'b');
  char *limit = g_strdup_printf ("%" G_GSIZE_FORMAT, len - 1);
  char *got = g_strdup_printf ("%" G_GSIZE_FORMAT, len);
  SsAddress addr;
  GError *error = NULL;

  ck_assert (!ss_address_parse_unix (path, &addr, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS));
  ck_assert_msg (strstr (error->message, path) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, limit) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, got) != NULL, "%s", error->message);
  g_error_free (error);
  g_free (path);
  g_free (limit);
  g_free (got);
}
END_TEST

START_TEST (test_unix_empty)
{
  SsAddress addr;
  GError *error = NULL;

  ck_assert (!ss_address_parse_unix ("", &addr, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS));
  g_clear_error (&error);
  ck_assert (!ss_address_parse ("", SOCK_STREAM, &addr, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS));
  g_error_free (error);
}
END_TEST

START_TEST (test_transport_names)
{
  GError *error = NULL;

  ck_assert_ptr_eq (ss_server_class_by_transport_name ("tcp", NULL), &ss_tcp_server_class);
  ck_assert_ptr_eq (ss_server_class_by_transport_name ("udp", NULL), &ss_udp_server_class);
  ck_assert_ptr_eq (ss_server_class_by_transport_name ("unix", NULL), &ss_unix_stream_server_class);
  ck_assert_ptr_eq (ss_server_class_by_transport_name ("unix-dgram", NULL), &ss_unix_datagram_server_class);
  ck_assert_ptr_null (ss_server_class_by_transport_name ("sctp", &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (strstr (error->message, "sctp") != NULL && strstr (error->message, "unix-dgram") != NULL,
                 "%s", error->message);
  g_error_free (error);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("address");
  TCase *good = tcase_create ("/address/good");
  TCase *bad = tcase_create ("/address/bad");

  tcase_add_test (good, test_ipv4);
  tcase_add_test (good, test_host_string_is_getnameinfo);
  tcase_add_test (good, test_ipv6);
  tcase_add_test (good, test_localhost);
  tcase_add_test (good, test_empty_host_is_any);
  tcase_add_test (good, test_unix_path);
  tcase_add_test (good, test_unix_longest_path);
  tcase_add_test (good, test_parse_dispatch);
  tcase_add_test (good, test_unnamed_peer);
  tcase_add_test (good, test_transport_names);
  suite_add_tcase (s, good);

  tcase_add_test (bad, test_bad_ports);
  tcase_add_test (bad, test_port_message);
  tcase_add_test (bad, test_missing_port);
  tcase_add_test (bad, test_bad_ipv6);
  tcase_add_test (bad, test_unresolvable);
  tcase_add_test (bad, test_unix_too_long);
  tcase_add_test (bad, test_unix_empty);
  /* Resolving a name may wait for DNS. */
  tcase_set_timeout (bad, 30);
  suite_add_tcase (s, bad);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
