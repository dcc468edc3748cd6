/* test-http-park.c: http.server's connections parked between requests.
 *
 * In the thread pool (during serve_forever) SimpleHTTPRequestHandler
 * hands an idle connection -- kept alive after a request, or silent before
 * its first -- back to the pool (ss_server_park_request, keepalive_timeout
 * as the park timeout), so many idle connections need few workers and a
 * new client is served at once. A class with park_idle FALSE (as
 * BaseHTTPRequestHandler's default) keeps its worker, as Python's do. The
 * other strategies cannot park: test-http-conn.c's cases cover them.
 */
#include "config.h"
#include "http-client.h"

#include <sys/socket.h>
#include <unistd.h>

static char *root;
static GString *digits;
static SsHTTPHandlerClass patient_class;

static void
init_class (SsHTTPHandlerClass *klass, const char *name, const char *protocol)
{
  http_simple_class_init (klass, name, root, protocol);
}

static void
setup (void)
{
  root = http_make_tree ();
  digits = g_string_new ("0123456789abcdef");
  http_write_file (root, "digits", digits->str, (gssize) digits->len);
  init_class (&patient_class, "Patient", "HTTP/1.1");
  patient_class.keepalive_timeout = 30;
}

static void
teardown (void)
{
  http_remove_tree (root);
  g_free (root);
  g_string_free (digits, TRUE);
}

/* A pool far smaller than the connections held open, and a keep-alive
 * timeout far longer than the client's 10 s: where a connection held its
 * worker while idle, the newcomer would get no answer. */
#define PARK_WORKERS 3
#define PARK_IDLE 24

static TestServer *
serve_small_pool (const SsHTTPHandlerClass *klass)
{
  GError *error = NULL;
  SsStrategy *pool = ss_thread_pool_strategy_new (1, PARK_WORKERS, 1, &error);
  SsServer *server;

  ck_assert_msg (pool != NULL, "%s", error != NULL ? error->message : "?");
  server = ss_http_server_new ("127.0.0.1:0", klass, pool, &error);
  ck_assert_msg (server != NULL, "server: %s", error != NULL ? error->message : "?");
  return test_server_start (server);
}

static void
get_digits (int fd)
{
  static const char get[] = "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr (HttpResponse) r = NULL;

  test_send_all (fd, get, sizeof get - 1);
  r = http_read_response (fd, FALSE);
  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  ck_assert_str_eq (r->body->str, digits->str);
}

/* More idle keep-alive connections than workers: each is parked between
 * its requests, a new client is served at once, every kept connection is
 * served again when it speaks, and the threads stay few. */
START_TEST (test_park_idle_keepalive)
{
  int threads_before = test_count_threads ();
  TestServer *pool = serve_small_pool (&patient_class);
  guint16 pool_port = http_port (pool);
  int fds[PARK_IDLE];
  SsServerStats stats;
  g_autoptr (HttpResponse) r = NULL;

  for (int i = 0; i < PARK_IDLE; i++)
    {
      fds[i] = http_connect (pool_port);
      get_digits (fds[i]);
    }
  test_wait_parked (pool->server, PARK_IDLE);
  r = http_get (pool_port, "/digits", "");
  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  /* The serve thread, at most PARK_WORKERS workers, and slack of 2. */
  ck_assert_int_le (test_count_threads (), threads_before + 1 + PARK_WORKERS + 2);
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < PARK_IDLE; i++)
      get_digits (fds[i]);
  test_wait_parked (pool->server, PARK_IDLE);
  ss_server_get_stats (pool->server, &stats);
  ck_assert_uint_le (stats.workers, PARK_WORKERS);
  for (int i = 0; i < PARK_IDLE; i++)
    close (fds[i]);
  test_wait_parked (pool->server, 0);
  test_server_stop (pool);
}
END_TEST

/* Slowloris's first move against a small pool: many connections that
 * open and say nothing. Each is parked before its first request line, so
 * a real client is still served; the keep-alive timeout then closes them. */
START_TEST (test_park_slowloris_silent)
{
  static SsHTTPHandlerClass brief;
  TestServer *pool;
  guint16 pool_port;
  int fds[PARK_IDLE];
  g_autoptr (HttpResponse) r = NULL;

  init_class (&brief, "Brief", "HTTP/1.1");
  brief.keepalive_timeout = 3;
  pool = serve_small_pool (&brief);
  pool_port = http_port (pool);
  for (int i = 0; i < PARK_IDLE; i++)
    fds[i] = http_connect (pool_port);
  test_wait_parked (pool->server, PARK_IDLE);
  r = http_get (pool_port, "/digits", "");
  ck_assert_ptr_nonnull (r);
  ck_assert_str_eq (r->body->str, digits->str);
  /* Answered before the silent ones were let go: none held a worker. */
  ck_assert (!http_closed_within (fds[0], 0));
  for (int i = 0; i < PARK_IDLE; i++)
    {
      ck_assert (http_closed_within (fds[i], 10));
      close (fds[i]);
    }
  test_wait_parked (pool->server, 0);
  test_server_stop (pool);
}
END_TEST

/* Pipelined requests in one send: after the first answer the rest are in
 * rfile's buffer, where the pool's poller cannot see them, so the handler
 * must not park until they are answered; then it parks, and a later
 * request on the connection is served. */
START_TEST (test_park_not_while_pipelined)
{
  static const char four[] = "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n";
  TestServer *pool = serve_small_pool (&patient_class);
  int fd = http_connect (http_port (pool));

  test_send_all (fd, four, sizeof four - 1);
  for (int i = 0; i < 4; i++)
    {
      g_autoptr (HttpResponse) r = http_read_response (fd, FALSE);

      ck_assert_msg (r != NULL, "answer %d of 4 missing", i + 1);
      ck_assert_int_eq (r->status, 200);
      ck_assert_str_eq (r->body->str, digits->str);
    }
  test_wait_parked (pool->server, 1);
  get_digits (fd);
  close (fd);
  test_wait_parked (pool->server, 0);
  test_server_stop (pool);
}
END_TEST

/* park_idle FALSE (BaseHTTPRequestHandler's default: a Python handler's
 * self lives as long as its connection): the connection keeps its worker
 * and its instance between requests, even in the pool. */
/* Two pipelined requests on a parked connection, the first exactly the
 * reader's buffer (8 KiB): the second is still in the socket when the
 * first is answered and the connection parks again; it must be answered
 * too. */
START_TEST (test_pipelined_past_the_buffer)
{
  TestServer *pool = serve_small_pool (&patient_class);
  int fd = http_connect (http_port (pool));
  GString *two = g_string_new ("GET /digits HTTP/1.1\r\nHost: x\r\nX-Pad: ");
  gsize pad = 8192 - two->len - 4;

  get_digits (fd);
  test_wait_parked (pool->server, 1);
  for (gsize i = 0; i < pad; i++)
    g_string_append_c (two, 'p');
  g_string_append (two, "\r\n\r\n");
  ck_assert_uint_eq (two->len, 8192);
  g_string_append (two, "GET /digits HTTP/1.1\r\nHost: x\r\n\r\n");
  test_send_all (fd, two->str, two->len);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (HttpResponse) r = http_read_response (fd, FALSE);

      ck_assert_msg (r != NULL, "answer %d of 2 missing", i + 1);
      ck_assert_int_eq (r->status, 200);
    }
  close (fd);
  test_server_stop (pool);
  g_string_free (two, TRUE);
}
END_TEST

START_TEST (test_park_idle_off)
{
  static SsHTTPHandlerClass unparked;
  TestServer *pool;
  int fd;
  SsServerStats stats;

  init_class (&unparked, "Unparked", "HTTP/1.1");
  unparked.park_idle = FALSE;
  pool = serve_small_pool (&unparked);
  fd = http_connect (http_port (pool));
  get_digits (fd);
  get_digits (fd);
  /* A parking class would be parked well within this. */
  g_usleep (500 * 1000);
  ss_server_get_stats (pool->server, &stats);
  ck_assert_uint_eq (stats.parked, 0);
  ck_assert_uint_ge (stats.busy, 1);
  close (fd);
  test_server_stop (pool);
}
END_TEST

static Suite *
park_suite (void)
{
  Suite *s = suite_create ("http-park");
  TCase *tc = tcase_create ("pool");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_park_idle_keepalive);
  tcase_add_test (tc, test_park_slowloris_silent);
  tcase_add_test (tc, test_park_not_while_pipelined);
  tcase_add_test (tc, test_park_idle_off);
  tcase_add_test (tc, test_pipelined_past_the_buffer);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (park_suite ());
}
