/* test-http-conn.c: what SimpleHTTPRequestHandler adds beyond Python --
 * byte ranges -- and the connection: keep-alive, pipelining, the
 * keep-alive timeout, HTTP/1.0's one request per connection, large
 * bodies through sendfile, over each strategy.
 */
#include "config.h"
#include "http-client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *root;
static GString *digits;   /* "0123456789" * 3: the file `digits` */
static SsHTTPHandlerClass http11_class;
static SsHTTPHandlerClass http10_class;
static SsHTTPHandlerClass idle_class;
static TestServer *ts;
static guint16 port;

static void
init_class (SsHTTPHandlerClass *klass, const char *name, const char *protocol)
{
  http_simple_class_init (klass, name, root, protocol);
}

static void
setup (void)
{
  GString *big = g_string_sized_new (1 << 20);

  root = http_make_tree ();
  digits = g_string_new (NULL);
  for (int i = 0; i < 30; i++)
    g_string_append_c (digits, (char) ('0' + i % 10));
  http_write_file (root, "digits", digits->str, (gssize) digits->len);
  http_write_file (root, "empty", "", 0);
  for (guint i = 0; big->len < (1 << 20) + 3; i++)
    g_string_append_printf (big, "%08x", i * 2654435761u);
  http_write_file (root, "big", big->str, (gssize) big->len);
  g_string_free (big, TRUE);
  init_class (&http11_class, "Http11", "HTTP/1.1");
  init_class (&http10_class, "Http10", "HTTP/1.0");
  init_class (&idle_class, "Idle", "HTTP/1.1");
  idle_class.keepalive_timeout = 0.3;
  ts = http_serve (&http11_class, "threading");
  port = http_port (ts);
}

static void
teardown (void)
{
  test_server_stop (ts);
  http_remove_tree (root);
  g_free (root);
  g_string_free (digits, TRUE);
}

static HttpResponse *
get_range (const char *path, const char *range)
{
  g_autofree char *headers = g_strdup_printf ("Range: %s\r\n", range);

  return http_get (port, path, headers);
}

/* ------------------------------------------------------------ /ranges */

typedef struct {
  const char *range;
  int status;
  const char *content_range;  /* NULL: none */
  int first, last;            /* the body: digits[first..last] */
} RangeCase;

static const RangeCase range_cases[] = {
  { "bytes=0-4", 206, "bytes 0-4/30", 0, 4 },
  { "bytes=5-", 206, "bytes 5-29/30", 5, 29 },
  { "bytes=-5", 206, "bytes 25-29/30", 25, 29 },
  { "bytes=28-100", 206, "bytes 28-29/30", 28, 29 },
  { "bytes=-100", 206, "bytes 0-29/30", 0, 29 },
  { "bytes=29-29", 206, "bytes 29-29/30", 29, 29 },
  { "BYTES = 1-2 ", 206, "bytes 1-2/30", 1, 2 },
  { "bytes=30-", 416, "bytes */30", 0, -1 },
  { "bytes=100-200", 416, "bytes */30", 0, -1 },
  { "bytes=-0", 416, "bytes */30", 0, -1 },
  /* Invalid or several ranges: the whole file, 200. */
  { "bytes=5-2", 200, NULL, 0, 29 },
  { "bytes=0-1,3-4", 200, NULL, 0, 29 },
  { "bytes=abc", 200, NULL, 0, 29 },
  { "bytes=-", 200, NULL, 0, 29 },
  { "lines=0-1", 200, NULL, 0, 29 },
  { "bytes=99999999999999999999-", 200, NULL, 0, 29 },
};

START_TEST (test_range)
{
  const RangeCase *c = &range_cases[_i];
  g_autoptr (HttpResponse) r = get_range ("/digits", c->range);
  const char *content_range = ss_http_headers_get (r->headers, "Content-Range");

  ck_assert_msg (r->status == c->status, "%s: %s", c->range, r->status_line);
  if (c->content_range == NULL)
    ck_assert_ptr_null (content_range);
  else
    ck_assert_str_eq (content_range, c->content_range);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Accept-Ranges"), "bytes");
  ck_assert_uint_eq (r->body->len, (gsize) (c->last - c->first + 1));
  ck_assert_mem_eq (r->body->str, digits->str + c->first, r->body->len);
  ck_assert_uint_eq (strtoul (ss_http_headers_get (r->headers, "Content-Length"), NULL, 10), r->body->len);
}
END_TEST

START_TEST (test_range_empty_file)
{
  g_autoptr (HttpResponse) r = get_range ("/empty", "bytes=-5");
  g_autoptr (HttpResponse) whole = http_get (port, "/empty", "");

  ck_assert_int_eq (r->status, 416);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Content-Range"), "bytes */0");
  ck_assert_int_eq (whole->status, 200);
  ck_assert_uint_eq (whole->body->len, 0);
}
END_TEST

START_TEST (test_range_head)
{
  g_autoptr (HttpResponse) r = http_request (port, "HEAD /digits HTTP/1.0\r\nRange: bytes=3-5\r\n\r\n");

  ck_assert_int_eq (r->status, 206);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Content-Range"), "bytes 3-5/30");
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Content-Length"), "3");
  ck_assert_uint_eq (r->body->len, 0);
}
END_TEST

START_TEST (test_range_if_range)
{
  g_autoptr (HttpResponse) plain = http_get (port, "/digits", "");
  const char *modified = ss_http_headers_get (plain->headers, "Last-Modified");
  g_autofree char *same = g_strdup_printf ("Range: bytes=0-0\r\nIf-Range: %s\r\n", modified);
  g_autoptr (HttpResponse) honoured = http_get (port, "/digits", same);
  g_autoptr (HttpResponse) stale = http_get (port, "/digits",
                                             "Range: bytes=0-0\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  g_autoptr (HttpResponse) etag = http_get (port, "/digits", "Range: bytes=0-0\r\nIf-Range: \"abc\"\r\n");

  ck_assert_int_eq (honoured->status, 206);
  ck_assert_int_eq (stale->status, 200);
  ck_assert_int_eq (etag->status, 200);
  ck_assert_uint_eq (etag->body->len, 30);
}
END_TEST

/* Ranges off: Python's behaviour (no Accept-Ranges, Range ignored). */
START_TEST (test_range_off)
{
  static SsHTTPHandlerClass pythonic;
  TestServer *plain;
  g_autoptr (HttpResponse) r = NULL;

  init_class (&pythonic, "Pythonic", "HTTP/1.0");
  pythonic.ranges = FALSE;
  plain = http_serve (&pythonic, "sync");
  r = http_get (http_port (plain), "/digits", "Range: bytes=0-4\r\n");
  ck_assert_int_eq (r->status, 200);
  ck_assert_ptr_null (ss_http_headers_get (r->headers, "Accept-Ranges"));
  ck_assert_uint_eq (r->body->len, 30);
  test_server_stop (plain);
}
END_TEST

/* An HTTP/0.9 answer has no status line to say 206: a Range is ignored
 * and the whole file sent, not a part the client cannot tell from it
 * (found by fuzz-http). */
START_TEST (test_range_http09)
{
  const char *request = "GET /digits HTTP/0.9\r\nRange: bytes=2-5\r\n\r\n";
  int fd = http_connect (port);
  GString *got;

  test_send_all (fd, request, strlen (request));
  got = test_recv_all (fd, 1 << 16);
  ck_assert_str_eq (got->str, digits->str);
  g_string_free (got, TRUE);
  close (fd);
}
END_TEST

/* A large range out of a large file: sendfile from an offset. */
START_TEST (test_range_large)
{
  g_autofree char *path = g_build_filename (root, "big", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr (HttpResponse) r = get_range ("/big", "bytes=1000-900000");

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  ck_assert_int_eq (r->status, 206);
  ck_assert_uint_eq (r->body->len, 899001);
  ck_assert_mem_eq (r->body->str, contents + 1000, r->body->len);
}
END_TEST

/* ------------------------------------------------------------ /connection */

START_TEST (test_keep_alive)
{
  int fd = http_connect (port);
  g_autofree char *path = g_build_filename (root, "big", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  for (int i = 0; i < 3; i++)
    {
      static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
      static const char get_big[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
      g_autoptr (HttpResponse) a = NULL;
      g_autoptr (HttpResponse) b = NULL;

      test_send_all (fd, get, sizeof get - 1);
      a = http_read_response (fd, FALSE);
      ck_assert_ptr_nonnull (a);
      ck_assert_int_eq (a->status, 200);
      ck_assert_str_eq (a->body->str, digits->str);
      test_send_all (fd, get_big, sizeof get_big - 1);
      b = http_read_response (fd, FALSE);
      ck_assert_ptr_nonnull (b);
      ck_assert_uint_eq (b->body->len, len);
      ck_assert_mem_eq (b->body->str, contents, len);
    }
  close (fd);
}
END_TEST

START_TEST (test_pipelining)
{
  static const char requests[] =
    "GET /digits HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\n\r\n"
    "HEAD /digits HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = http_connect (port);
  HttpResponse *r;

  /* All four in one send: answered in order; the 404 closes. */
  test_send_all (fd, requests, sizeof requests - 1);
  r = http_read_response (fd, FALSE);
  ck_assert_int_eq (r->status, 206);
  ck_assert_str_eq (r->body->str, "0");
  http_response_free (r);
  r = http_read_response (fd, TRUE);
  ck_assert_int_eq (r->status, 200);
  ck_assert_uint_eq (r->body->len, 0);
  http_response_free (r);
  r = http_read_response (fd, FALSE);
  ck_assert_int_eq (r->status, 404);
  ck_assert_str_eq (ss_http_headers_get (r->headers, "Connection"), "close");
  http_response_free (r);
  ck_assert (http_closed_within (fd, 5));
  close (fd);
}
END_TEST

START_TEST (test_connection_close_header)
{
  int fd = http_connect (port);
  static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  g_autoptr (HttpResponse) r = NULL;

  test_send_all (fd, get, sizeof get - 1);
  r = http_read_response (fd, FALSE);
  ck_assert_int_eq (r->status, 200);
  ck_assert (http_closed_within (fd, 5));
  close (fd);
}
END_TEST

/* protocol_version HTTP/1.0 (Python's default): one request, then close,
 * even when the client asks to keep the connection. */
START_TEST (test_http10_closes)
{
  TestServer *one = http_serve (&http10_class, "threading");
  int fd = http_connect (http_port (one));
  static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  g_autoptr (HttpResponse) r = NULL;

  test_send_all (fd, get, sizeof get - 1);
  r = http_read_response (fd, FALSE);
  ck_assert_str_eq (r->status_line, "HTTP/1.0 200 OK");
  ck_assert (http_closed_within (fd, 5));
  close (fd);
  test_server_stop (one);
}
END_TEST

/* keepalive_timeout: an idle connection -- a kept one, or a new one that
 * never sends -- is closed without a word; a busy one is not. */
START_TEST (test_keepalive_timeout)
{
  TestServer *idle = http_serve (&idle_class, "threading");
  guint16 idle_port = http_port (idle);
  static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
  int kept = http_connect (idle_port);
  int silent = http_connect (idle_port);
  g_autoptr (HttpResponse) r = NULL;
  gint64 start;

  test_send_all (kept, get, sizeof get - 1);
  r = http_read_response (kept, FALSE);
  ck_assert_int_eq (r->status, 200);
  start = g_get_monotonic_time ();
  ck_assert (http_closed_within (kept, 5));
  ck_assert (http_closed_within (silent, 5));
  ck_assert_int_ge (g_get_monotonic_time () - start, 200 * 1000);
  close (kept);
  close (silent);
  test_server_stop (idle);
}
END_TEST

/* The same with a class timeout of its own: then the wait before each
 * request is a poll() with the keep-alive timeout, and the class timeout
 * governs the reads within a request. */
START_TEST (test_keepalive_timeout_with_class_timeout)
{
  static SsHTTPHandlerClass timed;
  TestServer *server;
  int fd;
  static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr (HttpResponse) r = NULL;

  init_class (&timed, "Timed", "HTTP/1.1");
  timed.parent_class.timeout = 30;
  timed.keepalive_timeout = 0.3;
  server = http_serve (&timed, "threading");
  fd = http_connect (http_port (server));
  test_send_all (fd, get, sizeof get - 1);
  r = http_read_response (fd, FALSE);
  ck_assert_int_eq (r->status, 200);
  ck_assert (http_closed_within (fd, 5));
  close (fd);
  test_server_stop (server);
}
END_TEST

/* With timeout None, the keep-alive timeout also bounds each read within
 * a request: a request line that stops coming is Python's timeout. */
START_TEST (test_stalled_request_times_out)
{
  static SsHTTPHandlerClass logged;
  TestServer *server;
  g_autofree char *err = NULL;
  int fd;

  init_class (&logged, "Logged", "HTTP/1.1");
  logged.log_message = ss_base_http_request_handler_class.log_message;
  logged.keepalive_timeout = 0.3;
  capture_stderr ();
  server = http_serve (&logged, "threading");
  fd = http_connect (http_port (server));
  test_send_all (fd, "GET /dig", 8);
  ck_assert (http_closed_within (fd, 5));
  close (fd);
  test_server_stop (server);
  err = captured_stderr ();
  ck_assert_msg (g_str_has_suffix (err, "] Request timed out: TimeoutError('timed out')\n"), "%s", err);
}
END_TEST

/* header_timeout: a client that trickles its request line and headers a
 * byte at a time, each byte well within the read timeout, is cut off once
 * header_timeout has passed since its first byte (slowloris holds a
 * worker no longer than that), in the thread pool that parks idle
 * connections as in a thread per connection; one whose headers take less
 * than that is served. */
static const char *const trickle_strategies[] = { "threadpooling", "threading" };

START_TEST (test_trickled_headers_time_out)
{
  static SsHTTPHandlerClass slow;
  static const char head[] = "GET /digits HTTP/1.1\r\nHost: x\r\nX-Trickle: ";
  /* Every time stretched fourfold under valgrind. */
  double k = g_getenv ("SS_VALGRIND") != NULL ? 4 : 1;
  g_autoptr (HttpResponse) r = NULL;
  g_autofree char *err = NULL;
  TestServer *server;
  gint64 start, cut = 0;
  int fd;

  init_class (&slow, "Slow", "HTTP/1.1");
  slow.log_message = ss_base_http_request_handler_class.log_message;
  slow.keepalive_timeout = 0.5 * k;  /* each read: at most 0.5 s */
  slow.header_timeout = 1.0 * k;
  capture_stderr ();
  server = http_serve (&slow, trickle_strategies[_i]);

  /* Headers in three pieces, 0.2 s apart: within the deadline, served. */
  fd = http_connect (http_port (server));
  test_send_all (fd, head, sizeof head - 1);
  g_usleep (200 * 1000);
  test_send_all (fd, "a\r\n", 3);
  g_usleep (200 * 1000);
  test_send_all (fd, "\r\n", 2);
  r = http_read_response (fd, FALSE);
  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  close (fd);

  /* One byte each 0.1 s, never done: cut off after about 1 s. */
  fd = http_connect (http_port (server));
  start = g_get_monotonic_time ();
  for (gsize i = 0; cut == 0 && g_get_monotonic_time () - start < (gint64) (6 * k * G_USEC_PER_SEC); i++)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char c = i < sizeof head - 1 ? head[i] : 'a';

      if (send (fd, &c, 1, MSG_NOSIGNAL) != 1 || poll (&pfd, 1, 100) > 0)
        cut = g_get_monotonic_time () - start;
    }
  close (fd);
  test_server_stop (server);
  err = captured_stderr ();
  ck_assert_msg (cut != 0, "%s: a client trickling its headers was still connected after %g s",
                 trickle_strategies[_i], 6 * k);
  ck_assert_msg (cut >= (gint64) (900 * 1000 * k) && cut < (gint64) (4 * k * G_USEC_PER_SEC),
                 "%s: cut off after %.2f s, not about %g s", trickle_strategies[_i], cut / 1e6, k);
  ck_assert_msg (strstr (err, "Request timed out") != NULL, "%s", err);
}
END_TEST

/* Every strategy serves keep-alive connections. The last request closes
 * the connection from the server's side: a forked child holds a copy of
 * this process's client socket too, so the client closing would not end
 * it. */
START_TEST (test_every_strategy)
{
  const char *strategy = test_strategies[_i];
  TestServer *server;
  int fd;

  TEST_SKIP_FORKING_UNDER_SANITIZER (strategy);
  server = http_serve (&http11_class, strategy);
  fd = http_connect (http_port (server));
  for (int i = 0; i < 3; i++)
    {
      const char *get = i < 2 ? "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n"
                              : "GET /digits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      g_autoptr (HttpResponse) r = NULL;

      test_send_all (fd, get, strlen (get));
      r = http_read_response (fd, FALSE);
      ck_assert_ptr_nonnull (r);
      ck_assert_str_eq (r->body->str, digits->str);
    }
  ck_assert (http_closed_within (fd, 5));
  close (fd);
  test_server_stop (server);
}
END_TEST

static Suite *
conn_suite (void)
{
  Suite *s = suite_create ("http-conn");
  TCase *tc;

  tc = tcase_create ("ranges");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_loop_test (tc, test_range, 0, G_N_ELEMENTS (range_cases));
  tcase_add_test (tc, test_range_empty_file);
  tcase_add_test (tc, test_range_head);
  tcase_add_test (tc, test_range_if_range);
  tcase_add_test (tc, test_range_off);
  tcase_add_test (tc, test_range_http09);
  tcase_add_test (tc, test_range_large);
  suite_add_tcase (s, tc);

  tc = tcase_create ("connection");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_keep_alive);
  tcase_add_test (tc, test_pipelining);
  tcase_add_test (tc, test_connection_close_header);
  tcase_add_test (tc, test_http10_closes);
  tcase_add_test (tc, test_keepalive_timeout);
  tcase_add_test (tc, test_keepalive_timeout_with_class_timeout);
  tcase_add_test (tc, test_stalled_request_times_out);
  tcase_add_loop_test (tc, test_trickled_headers_time_out, 0, G_N_ELEMENTS (trickle_strategies));
  tcase_add_loop_test (tc, test_every_strategy, 0, 4);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (conn_suite ());
}
