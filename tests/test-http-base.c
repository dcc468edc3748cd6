/* test-http-base.c: BaseHTTPRequestHandler's log lines and its answers
 * to Python's BaseHTTPServerTestCase and RequestHandlerLoggingTestCase
 * (CPython's Lib/test/test_httpservers.py), with the handlers run as in
 * test-http.c (http-client.h: exchange).
 */
#include "config.h"
#include "http-client.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
quiet_log_message (SsBaseHTTPRequestHandler *self, const char *message)
{
}

/* ------------------------------------------------------------ logging */

/* Python's test_unprintable_not_logged, through the base log_message. */
typedef struct {
  SsBaseHTTPRequestHandler base;
} Logger;

static gboolean
logger_do_GET (SsBaseHTTPRequestHandler *self, GError **error)
{
  ss_base_http_request_handler_class.log_message (self, "/foo");
  ss_base_http_request_handler_class.log_message (self, "/\033bar\000\033");
  ss_http_log_message (self, "/spam %s.", "a");
  ss_http_log_message (self, "/spam %s.", "\033\177\302\237\302\240beans");
  ss_base_http_request_handler_class.log_message (self, "\"GET /foo\\b\"ar\007 HTTP/1.0\"");
  return TRUE;
}

SS_DEFINE_HTTP_HANDLER_CLASS (Logger, logger_class, ss_base_http_request_handler_class,
                              .do_GET = logger_do_GET, .protocol_version = "HTTP/1.1",
                              .default_request_version = "HTTP/1.1");

START_TEST (test_unprintable_not_logged)
{
  g_autoptr (Exchange) x = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;

  capture_stderr ();
  x = exchange (&logger_class, "GET / HTTP/1.1\r\n\r\n");
  err = captured_stderr ();
  ck_assert_ptr_null (strchr (err, '\033'));
  lines = g_strsplit (err, "\n", -1);
  ck_assert_uint_ge (g_strv_length (lines), 5);
  ck_assert (g_regex_match_simple ("^127\\.0\\.0\\.1 - - \\[\\d\\d/\\w\\w\\w/\\d{4} \\d\\d:\\d\\d:\\d\\d\\] /foo$",
                                   lines[0], 0, 0));
  /* The NUL ends the C string: what Python logs before it. */
  ck_assert_ptr_nonnull (strstr (lines[1], "/\\x1bbar"));
  ck_assert_ptr_nonnull (strstr (lines[2], "/spam a."));
  ck_assert_ptr_nonnull (strstr (lines[3], "/spam \\x1b\\x7f\\x9f\302\240beans."));
  ck_assert_ptr_nonnull (strstr (lines[4], "\"GET /foo\\\\b\"ar\\x07 HTTP/1.0\""));
}
END_TEST

/* RequestHandlerLoggingTestCase */
static gboolean
log_get (SsBaseHTTPRequestHandler *self, GError **error)
{
  ss_http_send_response (self, 200, NULL);
  return ss_http_end_headers (self, error);
}

static gboolean
log_error_method (SsBaseHTTPRequestHandler *self, GError **error)
{
  return ss_http_send_error (self, 404, "File not found", NULL, error);
}

static const SsHTTPMethodEntry log_methods[] = { { "ERROR", log_error_method }, { NULL, NULL } };

SS_DEFINE_HTTP_HANDLER_CLASS (Logger, log_class, ss_base_http_request_handler_class,
                              .do_GET = log_get, .methods = log_methods,
                              .protocol_version = "HTTP/1.1", .default_request_version = "HTTP/1.1");

START_TEST (test_log_get)
{
  g_autoptr (Exchange) x = NULL;
  g_autofree char *err = NULL;

  capture_stderr ();
  x = exchange (&log_class, "GET / HTTP/1.1\r\n\r\n");
  err = captured_stderr ();
  ck_assert (g_str_has_suffix (err, "\"GET / HTTP/1.1\" 200 -\n"));
}
END_TEST

START_TEST (test_log_err)
{
  g_autoptr (Exchange) x = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;

  capture_stderr ();
  x = exchange (&log_class, "ERROR / HTTP/1.1\r\n\r\n");
  err = captured_stderr ();
  lines = g_strsplit (err, "\n", -1);
  ck_assert (g_str_has_suffix (lines[0], "code 404, message File not found"));
  ck_assert (g_str_has_suffix (lines[1], "\"ERROR / HTTP/1.1\" 404 -"));
}
END_TEST

/* A request line with bytes above 0x7f: Python's str is Latin-1, logged
 * in UTF-8, and repr() escapes what does not print. The expected bytes
 * are Python 3.11's for the same requests. */
START_TEST (test_log_latin1_request)
{
  g_autoptr (Exchange) x = NULL;
  g_autoptr (Exchange) y = NULL;
  g_autofree char *err = NULL;

  capture_stderr ();
  /* U+0085 and U+00A0 are whitespace to str.split(): three words here. */
  x = exchange (&log_class, "G\351T /\205\240 HTTP/1.1\r\n\r\n");
  y = exchange (&log_class, "G\351T /\205\240a b HTTP/1.1\r\n\r\n");
  err = captured_stderr ();
  ck_assert_str_eq (line (x, 0), "HTTP/1.1 501 Unsupported method ('G\351T')\r\n");
  ck_assert_msg (strstr (err, "] code 501, message Unsupported method ('G\303\251T')\n") != NULL, "%s", err);
  ck_assert_msg (strstr (err, "] \"G\303\251T /\\x85\302\240 HTTP/1.1\" 501 -\n") != NULL, "%s", err);
  ck_assert_str_eq (line (y, 0), "HTTP/1.1 400 Bad request syntax ('G\351T /\\x85\\xa0a b HTTP/1.1')\r\n");
  ck_assert_msg (strstr (err, "] code 400, message Bad request syntax ('G\303\251T /\\\\x85\\\\xa0a b HTTP/1.1')\n")
                 != NULL, "%s", err);
  ck_assert_msg (strstr (err, "] \"G\303\251T /\\x85\302\240a b HTTP/1.1\" 400 -\n") != NULL, "%s", err);
}
END_TEST

SS_DEFINE_HTTP_HANDLER_CLASS (Logger, log_timeout_class, ss_base_http_request_handler_class,
                              .do_GET = log_get, .parent_class.timeout = 0.2,
                              .protocol_version = "HTTP/1.1");

START_TEST (test_log_timeout)
{
  /* A read that times out mid-request: Python's log line, the
   * connection closed, nothing sent. */
  static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\n";
  SsAddress client = { .len = sizeof (struct sockaddr_in) };
  SsRequest *req;
  GString *rest;
  g_autofree char *err = NULL;
  int sv[2];

  ((struct sockaddr_in *) &client.storage)->sin_family = AF_INET;
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  test_send_all (sv[1], head, sizeof head - 1);
  capture_stderr ();
  req = ss_request_new_stream (sv[0], &client);
  ck_assert (ss_handler_run (&log_timeout_class.parent_class, NULL, req, NULL));
  ss_request_free (req);
  err = captured_stderr ();
  ck_assert_msg (g_str_has_suffix (err, "] Request timed out: TimeoutError('timed out')\n"), "%s", err);
  close (sv[0]);
  shutdown (sv[1], SHUT_WR);
  rest = test_recv_all (sv[1], 65536);
  ck_assert_uint_eq (rest->len, 0);
  g_string_free (rest, TRUE);
  close (sv[1]);
}
END_TEST

/* ------------------------------------------------------------ BaseHTTPServerTestCase */

/* Python's request_handler of BaseHTTPServerTestCase, methods and all. */
static gboolean
bs_TEST (SsBaseHTTPRequestHandler *self, GError **error)
{
  ss_http_send_response (self, 204, NULL);
  ss_http_send_header (self, "Content-Type", "text/html");
  ss_http_send_header (self, "Connection", "close");
  return ss_http_end_headers (self, error);
}

static gboolean
bs_KEEP (SsBaseHTTPRequestHandler *self, GError **error)
{
  ss_http_send_response (self, 204, NULL);
  ss_http_send_header (self, "Content-Type", "text/html");
  ss_http_send_header (self, "Connection", "keep-alive");
  return ss_http_end_headers (self, error);
}

static gboolean
bs_KEYERROR (SsBaseHTTPRequestHandler *self, GError **error)
{
  return ss_http_send_error (self, 999, NULL, NULL, error);
}

static gboolean
bs_NOTFOUND (SsBaseHTTPRequestHandler *self, GError **error)
{
  return ss_http_send_error (self, 404, NULL, NULL, error);
}

static gboolean
bs_EXPLAINERROR (SsBaseHTTPRequestHandler *self, GError **error)
{
  return ss_http_send_error (self, 999, "Short Message", "This is a long \n explanation", error);
}

static gboolean
bs_CUSTOM (SsBaseHTTPRequestHandler *self, GError **error)
{
  ss_http_send_response (self, 999, NULL);
  ss_http_send_header (self, "Content-Type", "text/html");
  ss_http_send_header (self, "Connection", "close");
  return ss_http_end_headers (self, error);
}

static gboolean
bs_LATINONEHEADER (SsBaseHTTPRequestHandler *self, GError **error)
{
  const char *incoming = ss_http_headers_get (self->headers, "x-special-incoming");

  ss_http_send_response (self, 999, NULL);
  ss_http_send_header (self, "X-Special", "D\303\244ngerous Mind");
  ss_http_send_header (self, "Connection", "close");
  return ss_http_end_headers (self, error)
         && ss_wfile_write_string (self->wfile, incoming != NULL ? incoming : "(none)", error);
}

static gboolean
bs_SEND_ERROR (SsBaseHTTPRequestHandler *self, GError **error)
{
  return ss_http_send_error (self, atoi (self->path + 1), NULL, NULL, error);
}

static const SsHTTPMethodEntry bs_methods[] = {
  { "TEST", bs_TEST }, { "KEEP", bs_KEEP }, { "KEYERROR", bs_KEYERROR },
  { "NOTFOUND", bs_NOTFOUND }, { "EXPLAINERROR", bs_EXPLAINERROR }, { "CUSTOM", bs_CUSTOM },
  { "LATINONEHEADER", bs_LATINONEHEADER }, { "SEND_ERROR", bs_SEND_ERROR }, { NULL, NULL },
};

SS_DEFINE_HTTP_HANDLER_CLASS (Logger, bs_class, ss_base_http_request_handler_class,
                              .do_HEAD = bs_SEND_ERROR, .methods = bs_methods,
                              .log_message = quiet_log_message, .protocol_version = "HTTP/1.1",
                              .default_request_version = "HTTP/1.1");

static int
status_of (const Exchange *x)
{
  const char *status = line (x, 0);

  ck_assert_msg (g_str_has_prefix (status, "HTTP/1.1 "), "not a status line: %s", status);
  return atoi (status + 9);
}

typedef struct {
  const char *request;
  int status;
} StatusCase;

/* The cases of BaseHTTPServerTestCase that check only the status:
 * http.client's request lines with the version Python's test puts in. */
static const StatusCase status_cases[] = {
  { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 501 },         /* test_command */
  { "XYZBOGUS / HTTP/1.1\n\r\n\r\n", 501 },             /* test_request_line_trimming */
  { "GET / FUBAR\r\n\r\n", 400 },                       /* test_version_bogus */
  { "GET / HTTP/9.9.9\r\n\r\n", 400 },                  /* test_version_digits */
  { "GET / HTTP/-9_9_9.+9_9_9\r\n\r\n", 400 },          /* test_version_signs_and_underscores */
  { "GET / HTTP/909876543210.0\r\n\r\n", 400 },         /* test_major_version_number_too_long */
  { "GET / HTTP/1.909876543210\r\n\r\n", 400 },         /* test_minor_version_number_too_long */
  { "GET / \r\n\r\n", 501 },                            /* test_version_none_get */
  { "CUSTOM / \r\n\r\n", 400 },                         /* test_version_none */
  { "GET / HTTP/9.9\r\n\r\n", 505 },                    /* test_version_invalid */
  { " / \r\n\r\n", 400 },                               /* test_send_blank: putrequest('', '') */
  { "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 501 }, /* test_header_close */
  { "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 501 }, /* test_header_keep_alive */
  { "TEST / HTTP/1.1\r\n\r\n", 204 },                   /* test_handler */
  { "KEYERROR / HTTP/1.1\r\n\r\n", 999 },               /* test_internal_key_error */
  { "CUSTOM / HTTP/1.1\r\n\r\n", 999 },                 /* test_return_custom_status */
  { "EXPLAINERROR / HTTP/1.1\r\n\r\n", 999 },           /* test_return_explain_error */
};

START_TEST (test_status)
{
  const StatusCase *c = &status_cases[_i];
  g_autoptr (Exchange) x = exchange (&bs_class, c->request);

  ck_assert_int_eq (status_of (x), c->status);
}
END_TEST

/* A blank request line: closed without an answer (parse_request returns
 * False with nothing sent). */
START_TEST (test_blank_line_closes)
{
  g_autoptr (Exchange) x = exchange (&bs_class, "  \t\r\nGET / HTTP/1.1\r\n\r\n");

  ck_assert_uint_eq (x->raw->len, 0);
}
END_TEST

START_TEST (test_return_header_keep_alive)
{
  g_autoptr (Exchange) x = exchange (&bs_class, "KEEP / HTTP/1.1\r\n\r\nTEST / HTTP/1.1\r\n\r\n");
  g_autofree char *connection = header_value (x, "Connection");
  const char *second;

  ck_assert_str_eq (connection, "keep-alive");
  /* The connection stayed open for the second request. */
  second = strstr (x->raw->str + 1, "HTTP/1.1 204");
  ck_assert_ptr_nonnull (second);
}
END_TEST

START_TEST (test_explain_error_length)
{
  g_autoptr (Exchange) x = exchange (&bs_class, "EXPLAINERROR / HTTP/1.1\r\n\r\n");
  g_autofree char *length = header_value (x, "Content-Length");

  ck_assert_str_eq (line (x, 0), "HTTP/1.1 999 Short Message\r\n");
  ck_assert_int_gt (atoi (length), 0);
  ck_assert_ptr_nonnull (strstr (body_of (x), "<p>Error code explanation: 999 - This is a long \n explanation.</p>"));
}
END_TEST

START_TEST (test_latin1_header)
{
  g_autoptr (Exchange) x = exchange (&bs_class, "LATINONEHEADER / HTTP/1.1\r\n"
                                                "X-Special-Incoming: \304rger mit Unicode\r\n\r\n");
  g_autofree char *special = header_value (x, "X-Special");

  /* Sent as Latin-1, as Python's send_header encodes it; the header read
   * as Latin-1 and written back as the UTF-8 of that str. */
  ck_assert_str_eq (special, "D\344ngerous Mind");
  ck_assert_str_eq (body_of (x), "\303\204rger mit Unicode");
}
END_TEST

START_TEST (test_error_content_length)
{
  g_autoptr (Exchange) x = exchange (&bs_class, "NOTFOUND / HTTP/1.1\r\n\r\n");
  g_autofree char *length = header_value (x, "Content-Length");

  ck_assert_int_eq (status_of (x), 404);
  ck_assert_uint_eq (strtoul (length, NULL, 10), strlen (body_of (x)));
}
END_TEST

START_TEST (test_send_error_no_body)
{
  static const int codes[] = { 204, 304, 102, 205, 101 };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *request = g_strdup_printf ("SEND_ERROR /%d HTTP/1.1\r\n\r\n", codes[i]);
      g_autoptr (Exchange) x = exchange (&bs_class, request);
      g_autofree char *length = header_value (x, "Content-Length");
      g_autofree char *type = header_value (x, "Content-Type");

      ck_assert_int_eq (status_of (x), codes[i]);
      ck_assert_ptr_null (length);
      ck_assert_ptr_null (type);
      ck_assert_str_eq (body_of (x), "");
    }
}
END_TEST

START_TEST (test_head_via_send_error)
{
  static const int codes[] = { 200, 204, 304, 205, 101 };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *request = g_strdup_printf ("HEAD /%d HTTP/1.1\r\n\r\n", codes[i]);
      g_autoptr (Exchange) x = exchange (&bs_class, request);
      g_autofree char *length = header_value (x, "Content-Length");
      g_autofree char *type = header_value (x, "Content-Type");

      ck_assert_int_eq (status_of (x), codes[i]);
      if (codes[i] == 200)
        {
          ck_assert_int_gt (atoi (length), 0);
          ck_assert_ptr_nonnull (strstr (type, "text/html"));
        }
      else
        {
          ck_assert_ptr_null (length);
          ck_assert_ptr_null (type);
        }
      ck_assert_str_eq (body_of (x), ""); /* HEAD: never a body */
    }
}
END_TEST

static Suite *
http_base_suite (void)
{
  Suite *s = suite_create ("http-base");
  TCase *tc;

  tc = tcase_create ("logging");
  tcase_add_test (tc, test_unprintable_not_logged);
  tcase_add_test (tc, test_log_get);
  tcase_add_test (tc, test_log_err);
  tcase_add_test (tc, test_log_latin1_request);
  tcase_add_test (tc, test_log_timeout);
  suite_add_tcase (s, tc);

  tc = tcase_create ("base-server");
  tcase_add_loop_test (tc, test_status, 0, G_N_ELEMENTS (status_cases));
  tcase_add_test (tc, test_blank_line_closes);
  tcase_add_test (tc, test_return_header_keep_alive);
  tcase_add_test (tc, test_explain_error_length);
  tcase_add_test (tc, test_latin1_header);
  tcase_add_test (tc, test_error_content_length);
  tcase_add_test (tc, test_send_error_no_body);
  tcase_add_test (tc, test_head_via_send_error);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (http_base_suite ());
}
