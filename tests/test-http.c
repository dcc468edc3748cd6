/* test-http.c: BaseHTTPRequestHandler (handlers/http/), ported from
 * CPython's Lib/test/test_httpservers.py.
 *
 * Python's socketless tests hand the handler a BytesIO; here the handler
 * runs with ss_handler_run over a Unix socketpair whose other end the
 * test writes the request into (then shuts down) and reads the whole
 * answer from, which is the same thing with a real socket. The
 * log lines and Python's BaseHTTPServerTestCase are in test-http-base.c.
 */
#include "config.h"
#include "http-client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socketserver/http.h>

/* What the handler saw, copied out by the test handlers' do_ methods
 * before the instance goes away. */
static struct {
  gboolean get_called;
  char *requestline;
  char *command;
  char *path;
  char *request_version;
  GPtrArray *header_items; /* "Name: value" */
} seen;

static void
seen_reset (void)
{
  seen.get_called = FALSE;
  g_clear_pointer (&seen.requestline, g_free);
  g_clear_pointer (&seen.command, g_free);
  g_clear_pointer (&seen.path, g_free);
  g_clear_pointer (&seen.request_version, g_free);
  g_clear_pointer (&seen.header_items, g_ptr_array_unref);
}

static void
seen_record (SsBaseHTTPRequestHandler *self)
{
  seen_reset ();
  seen.requestline = g_strdup (self->requestline);
  seen.command = g_strdup (self->command);
  seen.path = g_strdup (self->path);
  seen.request_version = g_strdup (self->request_version);
  seen.header_items = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; self->headers != NULL && i < ss_http_headers_size (self->headers); i++)
    g_ptr_array_add (seen.header_items,
                     g_strdup_printf ("%s: %s", ss_http_headers_nth_name (self->headers, i),
                                      ss_http_headers_nth_value (self->headers, i)));
}

/* ------------------------------------------------------------ the socketless handler */

/* SocketlessRequestHandler(SimpleHTTPRequestHandler): protocol_version
 * HTTP/1.1, a do_GET that answers a small page, no log. */
typedef struct {
  SsSimpleHTTPRequestHandler base;
} Socketless;

static gboolean
socketless_do_GET (SsBaseHTTPRequestHandler *self, GError **error)
{
  seen_record (self);
  seen.get_called = TRUE;
  ss_http_send_response (self, 200, NULL);
  ss_http_send_header (self, "Content-Type", "text/html");
  return ss_http_end_headers (self, error)
         && ss_wfile_write_string (self->wfile, "<html><body>Data</body></html>\r\n", error);
}

static void
quiet_log_message (SsBaseHTTPRequestHandler *self, const char *message)
{
}

/* Records what parse_request left, for the cases where do_GET never runs. */
static gboolean
recording_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  gboolean ok = ss_base_http_request_handler_class.parse_request (self, proceed, error); /* super() */

  seen_record (self);
  return ok;
}

SS_DEFINE_HTTP_HANDLER_CLASS (Socketless, socketless_class, ss_simple_http_request_handler_class,
                              .do_GET = socketless_do_GET, .log_message = quiet_log_message,
                              .parse_request = recording_parse_request,
                              .protocol_version = "HTTP/1.1");

static gboolean
rejecting_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  *proceed = FALSE;
  return ss_http_send_error (self, 417, NULL, NULL, error);
}

/* RejectingSocketlessRequestHandler */
SS_DEFINE_HTTP_HANDLER_CLASS (Socketless, rejecting_class, socketless_class,
                              .handle_expect_100 = rejecting_expect_100);

static gboolean
is_200 (const char *status_line)
{
  return g_regex_match_simple ("^HTTP/1.[0-9]+ 200 OK", status_line, 0, 0);
}

START_TEST (test_http_1_1)
{
  g_autoptr (Exchange) x = exchange (&socketless_class, "GET / HTTP/1.1\r\n\r\n");

  ck_assert (is_200 (line (x, 0)));
  assert_expected_headers (x, 1);
  ck_assert (seen.get_called);
  ck_assert_str_eq (line (x, x->lines->len - 1), "<html><body>Data</body></html>\r\n");
  ck_assert_str_eq (seen.requestline, "GET / HTTP/1.1");
  ck_assert_str_eq (seen.command, "GET");
  ck_assert_str_eq (seen.path, "/");
  ck_assert_str_eq (seen.request_version, "HTTP/1.1");
  ck_assert_uint_eq (seen.header_items->len, 0);
}
END_TEST

START_TEST (test_http_1_0)
{
  g_autoptr (Exchange) x = exchange (&socketless_class, "GET / HTTP/1.0\r\n\r\n");

  ck_assert (is_200 (line (x, 0)));
  assert_expected_headers (x, 1);
  ck_assert (seen.get_called);
  ck_assert_str_eq (line (x, x->lines->len - 1), "<html><body>Data</body></html>\r\n");
  ck_assert_str_eq (seen.request_version, "HTTP/1.0");
}
END_TEST

START_TEST (test_http_0_9)
{
  g_autoptr (Exchange) x = exchange (&socketless_class, "GET / HTTP/0.9\r\n\r\n");

  /* No status line, no headers: the body alone. */
  ck_assert_uint_eq (x->lines->len, 1);
  ck_assert_str_eq (line (x, 0), "<html><body>Data</body></html>\r\n");
  ck_assert (seen.get_called);
}
END_TEST

START_TEST (test_http_0_9_two_words)
{
  /* Python 3.11 still takes "GET /path" as HTTP/0.9 (and reads headers). */
  g_autoptr (Exchange) x = exchange (&socketless_class, "GET /\r\n\r\n");

  ck_assert_uint_eq (x->lines->len, 1);
  ck_assert_str_eq (line (x, 0), "<html><body>Data</body></html>\r\n");
  ck_assert_str_eq (seen.request_version, "HTTP/0.9");
}
END_TEST

START_TEST (test_extra_space)
{
  g_autoptr (Exchange) x = exchange (&socketless_class,
                                     "GET /spaced out HTTP/1.1\r\nHost: dummy\r\n\r\n");

  ck_assert (g_str_has_prefix (line (x, 0), "HTTP/1.1 400 "));
  assert_expected_headers (x, 1);
  ck_assert (!seen.get_called);
}
END_TEST

START_TEST (test_with_continue_1_0)
{
  g_autoptr (Exchange) x = exchange (&socketless_class,
                                     "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");

  ck_assert (is_200 (line (x, 0)));
  assert_expected_headers (x, 1);
  ck_assert (seen.get_called);
  ck_assert_uint_eq (seen.header_items->len, 1);
  ck_assert_str_eq (seen.header_items->pdata[0], "Expect: 100-continue");
}
END_TEST

START_TEST (test_with_continue_1_1)
{
  g_autoptr (Exchange) x = exchange (&socketless_class,
                                     "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");

  ck_assert_str_eq (line (x, 0), "HTTP/1.1 100 Continue\r\n");
  ck_assert_str_eq (line (x, 1), "\r\n");
  ck_assert_str_eq (line (x, 2), "HTTP/1.1 200 OK\r\n");
  assert_expected_headers (x, 2);
  ck_assert (seen.get_called);
  ck_assert_str_eq (line (x, x->lines->len - 1), "<html><body>Data</body></html>\r\n");
}
END_TEST

/* The 100 Continue goes out before the handler reads the body: a client
 * that waits for it before sending must get it. */
static gboolean
put_reads_body (SsBaseHTTPRequestHandler *self, GError **error)
{
  char body[5] = { 0 };

  if (ss_rfile_read (self->rfile, body, 4, error) != 4)
    return FALSE;
  ss_http_send_response (self, 200, body);
  return ss_http_end_headers (self, error);
}

SS_DEFINE_HTTP_HANDLER_CLASS (Socketless, put_class, socketless_class, .do_PUT = put_reads_body);

typedef struct {
  int fd;
  gboolean got_continue;
} ContinueClient;

static gpointer
continue_client (gpointer data)
{
  ContinueClient *c = data;
  char *status = test_recv_line (c->fd);

  c->got_continue = status != NULL && strcmp (status, "HTTP/1.1 100 Continue\r\n") == 0;
  g_free (status);
  test_send_all (c->fd, "BODY", 4);
  shutdown (c->fd, SHUT_WR);
  return NULL;
}

START_TEST (test_continue_sent_before_body)
{
  static const char head[] = "PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  SsAddress client = { .len = sizeof (sa_family_t) };
  ContinueClient c;
  GThread *thread;
  SsRequest *req;
  GString *rest;
  int sv[2];

  client.storage.ss_family = AF_UNIX;
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  test_send_all (sv[1], head, sizeof head - 1);
  c.fd = sv[1];
  thread = g_thread_new ("continue-client", continue_client, &c);
  req = ss_request_new_stream (sv[0], &client);
  ck_assert (ss_handler_run (&put_class.parent_class, NULL, req, NULL));
  ss_request_free (req);
  close (sv[0]);
  g_thread_join (thread);
  ck_assert (c.got_continue);
  rest = test_recv_all (sv[1], 65536);
  ck_assert (g_str_has_prefix (rest->str, "\r\nHTTP/1.1 200 BODY\r\n"));
  g_string_free (rest, TRUE);
  close (sv[1]);
}
END_TEST

START_TEST (test_with_continue_rejected)
{
  g_autoptr (Exchange) x = exchange (&rejecting_class,
                                     "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
  guint close_lines = 0;

  ck_assert_str_eq (line (x, 0), "HTTP/1.1 417 Expectation Failed\r\n");
  assert_expected_headers (x, 1);
  ck_assert (!seen.get_called);
  for (guint i = 1; i < x->lines->len; i++)
    close_lines += strcmp (line (x, i), "Connection: close\r\n") == 0;
  ck_assert_uint_eq (close_lines, 1);
}
END_TEST

START_TEST (test_request_length)
{
  g_autoptr (GString) request = g_string_new ("GET ");
  g_autoptr (Exchange) x = NULL;

  /* Issue #10714: huge request lines are discarded. */
  for (int i = 0; i < 65537; i++)
    g_string_append_c (request, 'x');
  x = exchange_len (&socketless_class, request->str, request->len);
  ck_assert_str_eq (line (x, 0), "HTTP/1.1 414 Request-URI Too Long\r\n");
  ck_assert (!seen.get_called);
}
END_TEST

START_TEST (test_request_length_limit_exact)
{
  /* 65536 bytes with the line end is still a request line. */
  g_autoptr (GString) request = g_string_new ("GET /");
  g_autoptr (Exchange) x = NULL;

  while (request->len < 65536 - strlen (" HTTP/1.1\r\n"))
    g_string_append_c (request, 'x');
  g_string_append (request, " HTTP/1.1\r\n\r\n");
  x = exchange_len (&socketless_class, request->str, request->len);
  ck_assert (is_200 (line (x, 0)));
  ck_assert (seen.get_called);
}
END_TEST

START_TEST (test_header_length)
{
  g_autoptr (GString) request = g_string_new ("GET / HTTP/1.1\r\nX-Foo: bar");
  g_autoptr (Exchange) x = NULL;

  /* Issue #6791: same for headers */
  for (int i = 0; i < 65537; i++)
    g_string_append_c (request, 'r');
  g_string_append (request, "\r\n\r\n");
  x = exchange_len (&socketless_class, request->str, request->len);
  ck_assert_str_eq (line (x, 0), "HTTP/1.1 431 Line too long\r\n");
  ck_assert (!seen.get_called);
  ck_assert_str_eq (seen.requestline, "GET / HTTP/1.1");
  ck_assert_ptr_nonnull (strstr (x->raw->str, "got more than 65536 bytes when reading header line"));
}
END_TEST

START_TEST (test_too_many_headers)
{
  g_autoptr (GString) request = g_string_new ("GET / HTTP/1.1\r\n");
  g_autoptr (Exchange) x = NULL;

  for (int i = 0; i < 101; i++)
    g_string_append (request, "X-Foo: bar\r\n");
  g_string_append (request, "\r\n");
  x = exchange_len (&socketless_class, request->str, request->len);
  ck_assert_str_eq (line (x, 0), "HTTP/1.1 431 Too many headers\r\n");
  ck_assert (!seen.get_called);
  ck_assert_str_eq (seen.requestline, "GET / HTTP/1.1");
  ck_assert_ptr_nonnull (strstr (x->raw->str, "got more than 100 headers"));
}
END_TEST

START_TEST (test_html_escape_on_error)
{
  g_autoptr (Exchange) x = exchange (&socketless_class, "<script>alert(\"hello\")</script> / HTTP/1.1");

  ck_assert_ptr_nonnull (strstr (x->raw->str, "&lt;script&gt;alert(\"hello\")&lt;/script&gt;"));
  ck_assert_ptr_null (strstr (body_of (x), "<script>"));
}
END_TEST

/* The whole 501 answer, byte for byte Python's (but for the Date and Server). */
START_TEST (test_error_page_bytes)
{
  g_autoptr (Exchange) x = exchange (&socketless_class, "BREW / HTTP/1.1\r\n\r\n");
  g_autofree char *length = header_value (x, "Content-Length");

  /* html.escape(quote=False) leaves the quotes alone. */
  ck_assert_str_eq (line (x, 0), "HTTP/1.1 501 Unsupported method ('BREW')\r\n");
  ck_assert_str_eq (line (x, 3), "Connection: close\r\n");
  ck_assert_str_eq (line (x, 4), "Content-Type: text/html;charset=utf-8\r\n");
  ck_assert_str_eq (body_of (x),
    "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n"
    "        <title>Error response</title>\n    </head>\n    <body>\n"
    "        <h1>Error response</h1>\n        <p>Error code: 501</p>\n"
    "        <p>Message: Unsupported method ('BREW').</p>\n"
    "        <p>Error code explanation: 501 - Server does not support this operation.</p>\n"
    "    </body>\n</html>\n");
  ck_assert_uint_eq (strtoul (length, NULL, 10), strlen (body_of (x)));
}
END_TEST

/* Python's handle(): handle_one_request until close_connection. */
static int close_values[4];
static int close_index;

static gboolean
scripted_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error)
{
  self->close_connection = close_values[close_index++];
  return TRUE;
}

SS_DEFINE_HTTP_HANDLER_CLASS (Socketless, scripted_class, socketless_class,
                              .handle_one_request = scripted_handle_one_request,
                              .keepalive_timeout = SS_TIMEOUT_NONE);

START_TEST (test_close_connection)
{
  g_autoptr (Exchange) once = NULL;
  g_autoptr (Exchange) thrice = NULL;

  close_values[0] = TRUE;
  close_index = 0;
  once = exchange (&scripted_class, "");
  ck_assert_int_eq (close_index, 1);

  close_values[0] = FALSE;
  close_values[1] = FALSE;
  close_values[2] = TRUE;
  close_index = 0;
  thrice = exchange (&scripted_class, "");
  ck_assert_int_eq (close_index, 3);
}
END_TEST

START_TEST (test_date_time_string)
{
  char buf[SS_HTTP_DATE_LEN];

  /* time.gmtime and "%s, %02d %3s %4d %02d:%02d:%02d GMT" */
  ss_http_date_time_string (784111777, buf);
  ck_assert_str_eq (buf, "Sun, 06 Nov 1994 08:49:37 GMT");
  ss_http_date_time_string (0, buf);
  ck_assert_str_eq (buf, "Thu, 01 Jan 1970 00:00:00 GMT");
  ss_http_date_time_string (951782400, buf);
  ck_assert_str_eq (buf, "Tue, 29 Feb 2000 00:00:00 GMT");
  ss_http_date_time_string (-1, buf);
  ck_assert_uint_eq (strlen (buf), 29);
  /* A thread keeps the last time it formatted (a file's Last-Modified):
   * asked again, and after another, each is still its own. */
  ss_http_date_time_string (784111777, buf);
  ss_http_date_time_string (784111777, buf);
  ck_assert_str_eq (buf, "Sun, 06 Nov 1994 08:49:37 GMT");
  ss_http_date_time_string (784111778, buf);
  ck_assert_str_eq (buf, "Sun, 06 Nov 1994 08:49:38 GMT");
  ss_http_date_time_string (-1, buf);
  ck_assert_uint_eq (strlen (buf), 29);
  ss_http_date_time_string (784111778, buf);
  ck_assert_str_eq (buf, "Sun, 06 Nov 1994 08:49:38 GMT");
}
END_TEST

/* default_request_version HTTP/0.9: an answer to a line Python cannot
 * read has no status line at all, only the page. */
START_TEST (test_bad_line_http09_answer)
{
  g_autoptr (Exchange) x = NULL;
  g_autofree char *err = NULL;

  capture_stderr ();
  x = exchange (&ss_base_http_request_handler_class, "GET / FUBAR\r\n\r\n");
  err = captured_stderr ();
  ck_assert (g_str_has_suffix (err, "] \"GET / FUBAR\" 400 -\n"));

  ck_assert (g_str_has_prefix (x->raw->str, "<!DOCTYPE HTML>\n"));
  ck_assert_ptr_nonnull (strstr (x->raw->str, "<p>Message: Bad request version ('FUBAR').</p>"));
}
END_TEST

/* error_message_format is Python's %-format with a mapping: this one's
 * expected text is Python's for the same format. */
SS_DEFINE_HTTP_HANDLER_CLASS (Socketless, custom_format_class, socketless_class,
                              .error_message_format = "[%(code)4d|%(code)s|%(message)-30s|%(explain).3s|%%]");

START_TEST (test_error_message_format)
{
  g_autoptr (Exchange) x = exchange (&custom_format_class, "NOPE / HTTP/1.1\r\n\r\n");

  ck_assert_str_eq (body_of (x), "[ 501|501|Unsupported method ('NOPE')   |Ser|%]");
}
END_TEST

/* ------------------------------------------------------------ classes */

START_TEST (test_class_chain)
{
  ck_assert (ss_is_http_handler_class (&socketless_class.parent_class));
  ck_assert (ss_is_http_handler_class (&ss_simple_http_request_handler_class.parent_class));
  ck_assert (!ss_is_http_handler_class (&ss_stream_request_handler_class));
  /* super() for a class deriving from a user's class. */
  ck_assert_ptr_eq (SS_HTTP_HANDLER_CLASS_SLOT (&rejecting_class, do_GET), socketless_do_GET);
  ck_assert_ptr_eq (SS_HTTP_HANDLER_CLASS_SLOT (&rejecting_class, handle_expect_100), rejecting_expect_100);
  ck_assert_ptr_eq (SS_HTTP_HANDLER_CLASS_SLOT (&rejecting_class, send_error),
                    ss_base_http_request_handler_class.send_error);
  ck_assert_ptr_eq (SS_HTTP_HANDLER_CLASS_SLOT (&rejecting_class, server_version),
                    ss_simple_http_request_handler_class.server_version);
}
END_TEST

/* A class changed between two requests -- itself or a class above it, as
 * a Python program assigns a class attribute at run time -- is what the
 * next request sees: a handler's resolved class is not kept past a change
 * anywhere in its chain. */
START_TEST (test_class_changed_at_run_time)
{
  static SsHTTPHandlerClass upper, lower;
  g_autoptr (Exchange) x = NULL;
  g_autoptr (Exchange) y = NULL;
  g_autoptr (Exchange) z = NULL;

  ss_http_handler_class_init (&upper, "Upper", &socketless_class, sizeof (Socketless));
  ss_http_handler_class_init (&lower, "Lower", &upper, sizeof (Socketless));
  upper.server_version = "One/1";
  x = exchange (&lower, "GET / HTTP/1.1\r\n\r\n");
  ck_assert_msg (strstr (x->raw->str, "\r\nServer: One/1 ") != NULL, "%s", x->raw->str);
  upper.server_version = "Two/2";
  y = exchange (&lower, "GET / HTTP/1.1\r\n\r\n");
  ck_assert_msg (strstr (y->raw->str, "\r\nServer: Two/2 ") != NULL, "%s", y->raw->str);
  lower.server_version = "Three/3";
  z = exchange (&lower, "GET / HTTP/1.1\r\n\r\n");
  ck_assert_msg (strstr (z->raw->str, "\r\nServer: Three/3 ") != NULL, "%s", z->raw->str);
}
END_TEST

/* An instance struct smaller than its parent's (a class deriving from
 * SimpleHTTPRequestHandler that embeds only SsBaseHTTPRequestHandler) is
 * refused at setup, before anything is written past its end. */
typedef struct {
  SsBaseHTTPRequestHandler base;
} TooSmall;

SS_DEFINE_HTTP_HANDLER_CLASS (TooSmall, too_small_class, ss_simple_http_request_handler_class,
                              .log_message = quiet_log_message);

START_TEST (test_instance_too_small_refused)
{
  g_autoptr (Exchange) x = exchange (&too_small_class, "");

  ck_assert (!x->ok);
  ck_assert_msg (strstr (x->error, "TooSmall's instance") != NULL, "%s", x->error);
}
END_TEST

/* A plain stream handler class with HTTP fields read as if... is refused
 * at setup with an error, not read past its end. */
START_TEST (test_not_http_class_refused)
{
  static SsHTTPHandlerClass fake;
  g_autoptr (Exchange) x = NULL;

  ss_http_handler_class_init (&fake, "Fake", &ss_base_http_request_handler_class, 0);
  fake.parent_class.parent = &ss_stream_request_handler_class; /* not an HTTP chain */
  fake.parent_class.setup = ss_base_http_request_handler_class.parent_class.setup;
  x = exchange (&fake, "");
  ck_assert (!x->ok);
  ck_assert_ptr_nonnull (strstr (x->error, "is not an HTTP handler class"));
}
END_TEST

static Suite *
http_suite (void)
{
  Suite *s = suite_create ("http");
  TCase *tc;

  tc = tcase_create ("socketless");
  tcase_add_test (tc, test_http_1_1);
  tcase_add_test (tc, test_http_1_0);
  tcase_add_test (tc, test_http_0_9);
  tcase_add_test (tc, test_http_0_9_two_words);
  tcase_add_test (tc, test_extra_space);
  tcase_add_test (tc, test_with_continue_1_0);
  tcase_add_test (tc, test_with_continue_1_1);
  tcase_add_test (tc, test_continue_sent_before_body);
  tcase_add_test (tc, test_with_continue_rejected);
  tcase_add_test (tc, test_request_length);
  tcase_add_test (tc, test_request_length_limit_exact);
  tcase_add_test (tc, test_header_length);
  tcase_add_test (tc, test_too_many_headers);
  tcase_add_test (tc, test_html_escape_on_error);
  tcase_add_test (tc, test_error_page_bytes);
  tcase_add_test (tc, test_close_connection);
  tcase_add_test (tc, test_date_time_string);
  tcase_add_test (tc, test_bad_line_http09_answer);
  tcase_add_test (tc, test_error_message_format);
  suite_add_tcase (s, tc);

  tc = tcase_create ("classes");
  tcase_add_test (tc, test_class_chain);
  tcase_add_test (tc, test_class_changed_at_run_time);
  tcase_add_test (tc, test_not_http_class_refused);
  tcase_add_test (tc, test_instance_too_small_refused);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (http_suite ());
}
