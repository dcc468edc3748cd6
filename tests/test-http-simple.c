/* test-http-simple.c: SimpleHTTPRequestHandler over a real server,
 * ported from SimpleHTTPServerTestCase and SimpleHTTPRequestHandlerTestCase
 * of CPython's test_httpservers.py, plus translate_path against every
 * traversal form and the listing's escaping and order.
 *
 * Each case gets a fresh folder `root` holding `tempdir` (Python's
 * tempdir, served as /tempdir) with the file `test`, and an HTTPServer on
 * 127.0.0.1:0 serving `root` with a thread per connection.
 */
#include "config.h"
#include "http-client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

static const char data[] = "We are the knights who say Ni!";

static char *root;
static char *tempdir;
static SsHTTPHandlerClass simple_class;
static TestServer *ts;
static guint16 port;
static char last_modif_header[SS_HTTP_DATE_LEN];
static gint64 last_modif;

static void
quiet (SsBaseHTTPRequestHandler *self, const char *message)
{
}

static void
setup (void)
{
  g_autofree char *test = NULL;
  struct stat st;

  root = http_make_tree ();
  tempdir = g_build_filename (root, "tempdir", NULL);
  ck_assert_int_eq (g_mkdir (tempdir, 0755), 0);
  http_write_file (tempdir, "test", data, -1);
  test = g_build_filename (tempdir, "test", NULL);
  ck_assert_int_eq (stat (test, &st), 0);
  last_modif = st.st_mtim.tv_sec;
  ss_http_date_time_string (last_modif, last_modif_header);

  ss_http_handler_class_init (&simple_class, "NoLogSimple", &ss_simple_http_request_handler_class, 0);
  simple_class.directory = root;
  simple_class.log_message = quiet;
  ts = http_serve (&simple_class, "threading");
  port = http_port (ts);
}

static void
teardown (void)
{
  test_server_stop (ts);
  http_remove_tree (root);
  g_free (root);
  g_free (tempdir);
}

/* Python's check_status_and_reason: the status, HTTP/1.0, the connection
 * not kept, the body when given. */
static HttpResponse *
check (HttpResponse *r, int status, const char *body)
{
  const char *connection = ss_http_headers_get (r->headers, "Connection");

  ck_assert_msg (r->status == status, "%s: expected %d", r->status_line, status);
  ck_assert (g_str_has_prefix (r->status_line, "HTTP/1.0 "));
  ck_assert_str_eq (connection != NULL ? connection : "close", "close");
  if (body != NULL)
    ck_assert_str_eq (r->body->str, body);
  return r;
}

#define GET(path) http_get (port, (path), "")

START_TEST (test_get)
{
  g_autofree char *spam = g_build_filename (tempdir, "spam", "index.html", NULL);
  HttpResponse *r;

  http_response_free (check (GET ("/tempdir/test"), 200, data));
  /* check for trailing "/" which should return 404. See Issue17324 */
  http_response_free (check (GET ("/tempdir/test/"), 404, NULL));
  http_response_free (check (GET ("/tempdir/"), 200, NULL));
  r = check (GET ("/tempdir"), 301, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Content-Length"), "0");
  http_response_free (r);
  http_response_free (check (GET ("/tempdir/?hi=2"), 200, NULL));
  r = check (GET ("/tempdir?hi=1"), 301, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Location"), "/tempdir/?hi=1");
  http_response_free (r);
  http_response_free (check (GET ("/ThisDoesNotExist"), 404, NULL));
  http_response_free (check (GET ("/ThisDoesNotExist/"), 404, NULL));
  ck_assert_int_eq (g_mkdir_with_parents (spam, 0755), 0);
  http_response_free (check (GET ("/tempdir/spam/"), 200, NULL));
  http_write_file (tempdir, "index.html", "Dummy index file\r\n", -1);
  http_response_free (check (GET ("/tempdir/"), 200, "Dummy index file\r\n"));
}
END_TEST

/* Python skips this as root; here the permission bypass is dropped in
 * this forked case (helpers.h) before a second server starts, whose
 * threads inherit that (capabilities are per thread). */
START_TEST (test_get_unreadable_directory)
{
  TestServer *unprivileged;

  ck_assert_int_eq (test_drop_permission_bypass (), 0);
  unprivileged = http_serve (&simple_class, "threading");
  ck_assert_int_eq (chmod (tempdir, 0), 0);
  http_response_free (check (http_get (http_port (unprivileged), "/tempdir/", ""), 404, NULL));
  ck_assert_int_eq (chmod (tempdir, 0755), 0);
  test_server_stop (unprivileged);
}
END_TEST

START_TEST (test_head)
{
  g_autoptr (HttpResponse) r = http_request (port, "HEAD /tempdir/test HTTP/1.0\r\n\r\n");
  g_autofree char *length = g_strdup_printf ("%zu", strlen (data));

  check (r, 200, "");
  ck_assert_str_eq (ss_http_headers_get (r->headers, "content-length"), length);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "content-type"), "application/octet-stream");
}
END_TEST

static HttpResponse *
get_with (const char *path, const char *header, const char *value)
{
  g_autofree char *line = g_strdup_printf ("%s: %s\r\n", header, value);

  return http_get (port, path, line);
}

START_TEST (test_browser_cache)
{
  char later[SS_HTTP_DATE_LEN];

  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", last_modif_header), 304, ""));
  /* one hour after last modification : must return 304 */
  ss_http_date_time_string (last_modif + 3600, later);
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", later), 304, ""));
}
END_TEST

START_TEST (test_browser_cache_file_changed)
{
  char earlier[SS_HTTP_DATE_LEN];

  ss_http_date_time_string (last_modif - 365 * 86400, earlier);
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", earlier), 200, data));
}
END_TEST

START_TEST (test_browser_cache_with_If_None_Match_header)
{
  g_autofree char *headers = g_strdup_printf ("If-Modified-Since: %s\r\nIf-None-Match: *\r\n",
                                              last_modif_header);

  http_response_free (check (http_get (port, "/tempdir/test", headers), 200, data));
}
END_TEST

/* The other date forms Python reads, and the ones it ignores. */
START_TEST (test_browser_cache_date_forms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (last_modif);
  g_autofree char *rfc850 = g_date_time_format (t, "%A, %d-%b-%y %H:%M:%S GMT");
  g_autofree char *month_day = g_date_time_format (t, "%a %b");
  /* asctime's day is space-padded (GLib's %e pads with U+2007). */
  g_autofree char *asctime = g_strdup_printf ("%s %2d %02d:%02d:%02d %d", month_day,
                                              g_date_time_get_day_of_month (t), g_date_time_get_hour (t),
                                              g_date_time_get_minute (t), g_date_time_get_second (t),
                                              g_date_time_get_year (t));
  g_autofree char *minus0 = g_date_time_format (t, "%a, %d %b %Y %H:%M:%S -0000");
  g_autofree char *plus1 = g_date_time_format (t, "%a, %d %b %Y %H:%M:%S +0100");
  g_autoptr (GDateTime) before = g_date_time_add_seconds (t, -1);
  g_autofree char *second_before = g_date_time_format (before, "%a, %d %b %Y %H:%M:%S GMT");

  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", rfc850), 304, ""));
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", asctime), 304, ""));
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", minus0), 304, ""));
  /* Not UTC: Python does not compare. Ill-formed: ignored. */
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", plus1), 200, data));
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", "yesterday"), 200, data));
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", "Sun, 31 Feb 2021 00:00:00 GMT"),
                             200, data));
  http_response_free (check (get_with ("/tempdir/test", "If-Modified-Since", second_before), 200, data));
}
END_TEST

START_TEST (test_invalid_requests)
{
  http_response_free (check (http_request (port, "FOO / HTTP/1.0\r\n\r\n"), 501, NULL));
  /* requests must be case sensitive,so this should fail too */
  http_response_free (check (http_request (port, "custom / HTTP/1.0\r\n\r\n"), 501, NULL));
  http_response_free (check (http_request (port, "GETs / HTTP/1.0\r\n\r\n"), 501, NULL));
}
END_TEST

START_TEST (test_last_modified)
{
  g_autoptr (HttpResponse) r = check (GET ("/tempdir/test"), 200, data);

  ck_assert_str_eq (ss_http_headers_get (r->headers, "Last-modified"), last_modif_header);
}
END_TEST

START_TEST (test_path_without_leading_slash)
{
  HttpResponse *r;

  http_response_free (check (GET ("tempdir/test"), 200, data));
  http_response_free (check (GET ("tempdir/test/"), 404, NULL));
  http_response_free (check (GET ("tempdir/"), 200, NULL));
  http_response_free (check (GET ("tempdir"), 301, NULL));
  http_response_free (check (GET ("tempdir/?hi=2"), 200, NULL));
  r = check (GET ("tempdir?hi=1"), 301, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Location"), "tempdir/?hi=1");
  http_response_free (r);
}
END_TEST

START_TEST (test_html_escape_filename)
{
  g_autoptr (HttpResponse) r = NULL;

  http_write_file (tempdir, "<test&>.txt", "", 0);
  r = check (GET ("/tempdir/"), 200, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Content-type"), "text/html; charset=utf-8");
  ck_assert_ptr_nonnull (strstr (r->body->str, ">&lt;test&amp;&gt;.txt<"));
  ck_assert_ptr_nonnull (strstr (r->body->str, "href=\"%3Ctest%26%3E.txt\""));
}
END_TEST

START_TEST (test_undecodable_filename)
{
  /* os_helper.TESTFN_UNDECODABLE's kind: bytes that are not UTF-8. */
  static const char name[] = "@test_\377\376.txt";
  HttpResponse *r;

  http_write_file (tempdir, name, "undecodable", -1);
  r = check (GET ("/tempdir/"), 200, NULL);
  /* quote(errors='surrogatepass'): 0xFF is U+DCFF, %ED%B3%BF. */
  ck_assert_ptr_nonnull (strstr (r->body->str, "href=\"%40test_%ED%B3%BF%ED%B3%BE.txt\""));
  ck_assert_ptr_nonnull (strstr (r->body->str, ">@test_\377\376.txt<"));
  http_response_free (r);
  http_response_free (check (GET ("/tempdir/%40test_%ED%B3%BF%ED%B3%BE.txt"), 200, "undecodable"));
}
END_TEST

START_TEST (test_undecodable_parameter)
{
  HttpResponse *r = check (GET ("/tempdir/?x=123"), 200, NULL);

  ck_assert_ptr_nonnull (strstr (r->body->str, "listing for /tempdir/?x=123"));
  http_response_free (r);
  r = check (GET ("/tempdir/?x=%bb"), 200, NULL);
  ck_assert_ptr_nonnull (strstr (r->body->str, "listing for /tempdir/?x=\357\277\275"));
  http_response_free (r);
}
END_TEST

/* gh-87389 (CVE-2021-28861): no Location that starts with "//". */
START_TEST (test_get_dir_redirect_location_domain_injection_bug)
{
  g_autofree char *existing = g_build_filename (tempdir, "existing_directory", NULL);
  const char *url = "/python.org/..%2f..%2f..%2f..%2f..%2f../%0a%0d/../tempdir/existing_directory";
  g_autofree char *expected = g_strdup_printf ("%s/", url);
  g_autofree char *attack = g_strdup_printf ("/%s", url);
  g_autofree char *attack3 = g_strdup_printf ("//%s", url);
  g_autofree char *with_scheme = g_strdup_printf ("https://pypi.org/%s", url);
  HttpResponse *r;

  ck_assert_int_eq (g_mkdir (existing, 0755), 0);
  r = check (GET (url), 301, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Location"), expected);
  http_response_free (r);
  r = check (GET (attack), 301, NULL);
  ck_assert (!g_str_has_prefix (ss_http_headers_get (r->headers, "Location"), "//"));
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Location"), expected);
  http_response_free (r);
  r = check (GET (attack3), 301, NULL);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Location"), expected);
  http_response_free (r);
  r = check (GET (with_scheme), 301, NULL);
  ck_assert (g_str_has_prefix (ss_http_headers_get (r->headers, "Location"), "https://pypi.org/"));
  http_response_free (r);
}
END_TEST

/* A listing: Python's order (str.lower, stable), '/' and '@' marks, and
 * the exact bytes of its page. */
START_TEST (test_listing_bytes)
{
  g_autofree char *sub = g_build_filename (tempdir, "Sub", NULL);
  g_autofree char *link = g_build_filename (tempdir, "link", NULL);
  g_autofree char *dirlink = g_build_filename (tempdir, "dirlink", NULL);
  g_autoptr (HttpResponse) r = NULL;

  ck_assert_int_eq (g_mkdir (sub, 0755), 0);
  ck_assert_int_eq (symlink ("test", link), 0);
  ck_assert_int_eq (symlink ("Sub", dirlink), 0);
  http_write_file (tempdir, "b b", "", 0);
  http_write_file (tempdir, "A&", "", 0);
  http_write_file (tempdir, "\303\251t\303\251", "", 0);
  http_write_file (tempdir, "Zed", "", 0);
  http_write_file (tempdir, "_under", "", 0);
  r = check (GET ("/tempdir/"), 200, NULL);
  ck_assert_str_eq (r->body->str,
    "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>Directory listing for /tempdir/</title>\n</head>\n<body>\n"
    "<h1>Directory listing for /tempdir/</h1>\n<hr>\n<ul>\n"
    "<li><a href=\"_under\">_under</a></li>\n"
    "<li><a href=\"A%26\">A&amp;</a></li>\n"
    "<li><a href=\"b%20b\">b b</a></li>\n"
    "<li><a href=\"dirlink/\">dirlink@</a></li>\n"
    "<li><a href=\"link\">link@</a></li>\n"
    "<li><a href=\"Sub/\">Sub/</a></li>\n"
    "<li><a href=\"test\">test</a></li>\n"
    "<li><a href=\"Zed\">Zed</a></li>\n"
    "<li><a href=\"%C3%A9t%C3%A9\">\303\251t\303\251</a></li>\n"
    "</ul>\n<hr>\n</body>\n</html>\n");
  ck_assert_uint_eq (strtoul (ss_http_headers_get (r->headers, "Content-Length"), NULL, 10), r->body->len);
}
END_TEST

/* ------------------------------------------------------------ translate_path */

START_TEST (test_query_arguments)
{
  static const char *const paths[] = {
    "/filename", "/filename?foo=bar", "/filename?a=b&spam=eggs#zot",
    "//filename", "//filename?foo=bar",   /* test_start_with_double_slash */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *p1 = ss_http_translate_path_in ("/srv/www", paths[i]);
      g_autofree char *p2 = ss_http_translate_path_in ("foo", paths[i]);

      ck_assert_str_eq (p1, "/srv/www/filename");
      ck_assert_str_eq (p2, "foo/filename");
    }
}
END_TEST

typedef struct {
  const char *path;
  const char *expected; /* under "/d"; NULL: cannot name a file */
} TranslateCase;

/* Every traversal form; the expected values are Python 3.11's
 * translate_path with directory '/d' (NULL where Python's open() raises). */
static const TranslateCase translate_cases[] = {
  { "/../../etc/passwd", "/d/etc/passwd" },
  { "/a/b/../../../../etc/passwd", "/d/etc/passwd" },
  { "/%2e%2e/%2e%2e/etc/passwd", "/d/etc/passwd" },
  { "/..%2f..%2fetc%2fpasswd", "/d/etc/passwd" },
  { "/..%2F..%2Fetc", "/d/etc" },
  { "/%2E%2E%2F%2E%2E%2Fetc", "/d/etc" },
  { "/..\\..\\etc\\passwd", "/d/..\\..\\etc\\passwd" },
  { "/%5c..%5c..%5cetc", "/d/\\..\\..\\etc" },
  { "../../etc/passwd", "/d/etc/passwd" },
  { "..", "/d" },
  { "/.", "/d" },
  { "/./a/./b/.", "/d/a/b" },
  { "/a/./../b", "/d/b" },
  { "//etc/passwd", "/d/etc/passwd" },
  { "///etc/passwd", "/d/etc/passwd" },
  { "/etc/passwd/", "/d/etc/passwd/" },
  { "/dir/ ", "/d/dir/ /" },
  { "http://evil.com/../../x", "/d/x" },
  { "/%ff", "/d/\357\277\275" },
  { "/%ED%B3%BF", "/d/\377" },
  { "/\303\251", "/d/\303\251" },
  { "/%C3%A9", "/d/\303\251" },
  { "/a%25b", "/d/a%b" },
  { "/%zz%4", "/d/%zz%4" },
  { "/%00", NULL },
  { "/a%00b/../c", "/d/c" },
  { "/%ED%A0%80/..", "/d" },
  { "/%ED%A0%80", NULL },
  { "/c:c:c:foo/filename", "/d/c:c:c:foo/filename" },
  { "/?../../etc/passwd", "/d/" },
  { "/#../../", "/d/" },
};

START_TEST (test_translate_traversal)
{
  const TranslateCase *c = &translate_cases[_i];
  g_autofree char *got = ss_http_translate_path_in ("/d", c->path);

  if (c->expected == NULL)
    {
      ck_assert_msg (got == NULL, "%s -> %s, expected NULL", c->path, got);
      return;
    }
  ck_assert_msg (got != NULL, "%s -> NULL", c->path);
  ck_assert_str_eq (got, c->expected);
  /* Whatever the input: under /d, no ".." component. */
  ck_assert (g_str_has_prefix (got, "/d"));
  ck_assert (got[2] == '\0' || got[2] == '/');
  ck_assert_ptr_null (strstr (got, "/../"));
  ck_assert (!g_str_has_suffix (got, "/.."));
}
END_TEST

/* Requests for each traversal form, with a secret next to the served
 * folder: it is never what comes back. */
START_TEST (test_traversal_requests)
{
  static const char *const attacks[] = {
    "/../secret", "/%2e%2e/secret", "/..%2fsecret", "/%2E%2E%2Fsecret", "/tempdir/../../secret",
    "/..\\secret", "/%5c..%5csecret", "..%2f..%2fsecret", "/%00/../secret", "//../secret",
  };
  g_autofree char *parent = g_path_get_dirname (root);
  g_autofree char *secret = g_build_filename (parent, "secret", NULL);
  gboolean made = g_file_set_contents (secret, "SECRET", -1, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (attacks); i++)
    {
      g_autoptr (HttpResponse) r = GET (attacks[i]);

      ck_assert_msg (strstr (r->body->str, "SECRET") == NULL, "%s leaked the secret", attacks[i]);
      ck_assert_int_eq (r->status, 404);
    }
  if (made)
    g_unlink (secret);
}
END_TEST

static Suite *
simple_suite (void)
{
  Suite *s = suite_create ("http-simple");
  TCase *tc;

  tc = tcase_create ("server");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_get);
  tcase_add_test (tc, test_get_unreadable_directory);
  tcase_add_test (tc, test_head);
  tcase_add_test (tc, test_browser_cache);
  tcase_add_test (tc, test_browser_cache_file_changed);
  tcase_add_test (tc, test_browser_cache_with_If_None_Match_header);
  tcase_add_test (tc, test_browser_cache_date_forms);
  tcase_add_test (tc, test_invalid_requests);
  tcase_add_test (tc, test_last_modified);
  tcase_add_test (tc, test_path_without_leading_slash);
  tcase_add_test (tc, test_html_escape_filename);
  tcase_add_test (tc, test_undecodable_filename);
  tcase_add_test (tc, test_undecodable_parameter);
  tcase_add_test (tc, test_get_dir_redirect_location_domain_injection_bug);
  tcase_add_test (tc, test_listing_bytes);
  tcase_add_test (tc, test_traversal_requests);
  suite_add_tcase (s, tc);

  tc = tcase_create ("translate-path");
  tcase_add_test (tc, test_query_arguments);
  tcase_add_loop_test (tc, test_translate_traversal, 0, G_N_ELEMENTS (translate_cases));
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (simple_suite ());
}
