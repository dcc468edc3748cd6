/* test-strategies.c: every strategy with every transport, and what the
 * concurrent strategies promise (Python's ThreadingMixIn/ForkingMixIn tests).
 *
 * Echo over the 16 combinations; 30 connections held open at once and all
 * served; a failing request goes to handle_error and the next is served;
 * server_close with nothing served; finished threads are not retained;
 * block_on_close and daemon_threads.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean
is_datagram (const char *transport)
{
  return g_str_equal (transport, "udp") || g_str_equal (transport, "unix-dgram");
}

static SsServer *
new_server (const SsServerClass *klass, const char *transport, const SsHandlerClass *handler,
            SsStrategy *strategy)
{
  g_autofree char *address = test_address_for (transport);
  GError *error = NULL;
  SsServer *server;

  if (klass == NULL)
    {
      klass = ss_server_class_by_transport_name (transport, &error);
      ck_assert_msg (klass != NULL, "%s", error ? error->message : "?");
    }
  server = ss_server_new (klass, address, handler, strategy, TRUE, &error);
  ck_assert_msg (server != NULL, "%s: %s", transport, error ? error->message : "?");
  return server;
}

static SsServer *
new_echo_server (const char *transport, const char *strategy)
{
  return new_server (NULL, transport,
                     is_datagram (transport) ? &ss_datagram_echo_handler_class
                                             : &ss_stream_echo_handler_class,
                     test_strategy (strategy));
}

/* ------------------------------------------------------------ 16 combinations */

START_TEST (test_echo_combination)
{
  const char *transport = test_transports[_i / 4];
  const char *strategy = test_strategies[_i % 4];
  TestServer *ts;
  int round;

  TEST_SKIP_FORKING_UNDER_SANITIZER (strategy);
  ts = test_server_start (new_echo_server (transport, strategy));

  ck_assert_str_eq (ss_strategy_name (ts->server->strategy), strategy);
  for (round = 0; round < 3; round++)
    {
      g_autofree char *msg = g_strdup_printf ("%s over %s, round %d\n", strategy, transport, round);

      test_echo_once (ts->server, msg);
    }
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ held connections */

#define HELD 30

/* Opens @n connections, then sends a line on each and reads every reply
 * back while all stay open: only a concurrent strategy can answer. */
static void
exchange_while_held (SsServer *server, int n)
{
  int *fds = g_new (int, n);
  int i;

  for (i = 0; i < n; i++)
    fds[i] = test_connect (server);
  for (i = 0; i < n; i++)
    {
      g_autofree char *msg = g_strdup_printf ("held %d\n", i);

      test_send_all (fds[i], msg, strlen (msg));
    }
  for (i = 0; i < n; i++)
    {
      g_autofree char *expect = g_strdup_printf ("held %d\n", i);
      g_autofree char *line = test_recv_line (fds[i]);

      ck_assert_msg (line != NULL, "connection %d of %d was not served", i, n);
      ck_assert_str_eq (line, expect);
    }
  /* shutdown, not just close: with forking, the children forked from this
   * test process hold copies of these client fds, so close alone would
   * never give their handlers EOF. */
  for (i = 0; i < n; i++)
    {
      shutdown (fds[i], SHUT_RDWR);
      close (fds[i]);
    }
  g_free (fds);
}

static const char *const concurrent[3] = { "threading", "threadpooling", "forking" };

START_TEST (test_held_connections)
{
  const char *transport = (_i / 3) == 0 ? "tcp" : "unix";
  TestServer *ts;

  TEST_SKIP_FORKING_UNDER_SANITIZER (concurrent[_i % 3]);
  ts = test_server_start (new_echo_server (transport, concurrent[_i % 3]));

  exchange_while_held (ts->server, HELD);
  test_echo_once (ts->server, "after the held ones\n");
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ failures */

/* Echoes lines; "fail" makes handle() fail, "sleep" sleeps 1 s first. */
static gboolean
picky_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  for (;;)
    {
      gssize got;

      g_string_truncate (line, 0);
      got = ss_rfile_readline (self->rfile, line, 1024, error);
      if (got <= 0)
        return got == 0;
      if (g_str_equal (line->str, "fail\n"))
        {
          g_set_error_literal (error, SS_ERROR, SS_ERROR_HANDLER, "asked to fail");
          return FALSE;
        }
      if (g_str_equal (line->str, "sleep\n"))
        g_usleep (G_USEC_PER_SEC);
      if (!ss_wfile_write (self->wfile, line->str, line->len, error) ||
          !ss_wfile_flush (self->wfile, error))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, picky_handler_class,
                         ss_stream_request_handler_class,
                         .handle = picky_handle);

typedef struct {
  SsServer base;   /* the parent instance, first member */
  int errors;      /* handle_error calls in this process (atomic) */
  int error_pipe;  /* handle_error writes a byte here (seen from a child too) */
} CountingServer;

static void
counting_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  CountingServer *self = (CountingServer *) server;

  __atomic_fetch_add (&self->errors, 1, __ATOMIC_SEQ_CST);
  if (self->error_pipe >= 0)
    ck_assert_int_eq (write (self->error_pipe, "e", 1), 1);
}

static const SsServerClass counting_tcp_class = {
  .name = "CountingTCPServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (CountingServer),
  .handle_error = counting_handle_error,
};

static gboolean
one_error_counted (gpointer data)
{
  return __atomic_load_n (&((CountingServer *) data)->errors, __ATOMIC_SEQ_CST) == 1;
}

static gboolean
one_error_in_stats (gpointer data)
{
  SsServerStats stats;

  ss_server_get_stats (data, &stats);
  return stats.errors == 1;
}

static void
send_and_wait_close (SsServer *server, const char *msg)
{
  int fd = test_connect (server);
  GString *got;

  test_send_all (fd, msg, strlen (msg));
  got = test_recv_all (fd, 1024);  /* the failed request is shut down: EOF */
  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
  close (fd);
}

START_TEST (test_failing_request)
{
  const char *strategy = concurrent[_i];
  SsServer *server;
  CountingServer *cs;
  int pipefd[2];
  TestServer *ts;
  char byte;

  TEST_SKIP_FORKING_UNDER_SANITIZER (strategy);
  server = new_server (&counting_tcp_class, "tcp", &picky_handler_class, test_strategy (strategy));
  cs = (CountingServer *) server;
  ck_assert_int_eq (pipe (pipefd), 0);
  cs->error_pipe = pipefd[1];
  ts = test_server_start (server);

  send_and_wait_close (server, "fail\n");
  /* handle_error ran (in a thread, or in the child: the byte crossed the pipe). */
  ck_assert_int_eq (read (pipefd[0], &byte, 1), 1);
  ck_assert_int_eq (byte, 'e');
  if (g_str_equal (strategy, "forking"))
    {
      /* The child exited with status 1, which the parent counts when it
       * reaps it (service_actions). */
      ck_assert (test_wait_until (one_error_in_stats, server, 10));
    }
  else
    ck_assert (test_wait_until (one_error_counted, cs, 10));

  /* And the server keeps serving. */
  test_echo_once (server, "still here\n");
  test_server_stop (ts);
  close (pipefd[0]);
  close (pipefd[1]);
}
END_TEST

/* ------------------------------------------------------------ close */

/* CPython's test_close_immediately: server_close with nothing served. */
START_TEST (test_close_immediately)
{
  int fds_before = test_count_fds ();
  SsServer *server = new_echo_server ("tcp", test_strategies[_i]);

  ss_server_server_close (server);
  ck_assert_int_eq (server->socket_fd, -1);
  ss_server_free (server);
  ck_assert_int_eq (test_count_fds (), fds_before);
}
END_TEST

static gboolean
no_active_threads (gpointer data)
{
  return ss_threading_strategy_active_threads (data) == 0;
}

/* bpo-37193: finished threads are not retained. */
START_TEST (test_threads_not_retained)
{
  TestServer *ts = test_server_start (new_echo_server ("tcp", "threading"));
  SsStrategy *strategy = ts->server->strategy;
  int i;

  ck_assert (ss_is_threading_strategy (strategy));
  for (i = 0; i < 10; i++)
    test_echo_once (ts->server, "one of ten\n");
  ck_assert (test_wait_until (no_active_threads, strategy, 10));
  ck_assert_uint_lt (ss_threading_strategy_active_threads (strategy), 10);
  test_server_stop (ts);
}
END_TEST

/* Starts a request that takes 1 s and returns once it is running. */
static int
start_slow_request (SsServer *server)
{
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  test_send_all (fd, "hi\n", 3);
  line = test_recv_line (fd);
  ck_assert_str_eq (line, "hi\n");
  test_send_all (fd, "sleep\n", 6);
  g_usleep (50 * 1000);   /* let the handler read it and start sleeping */
  return fd;
}

START_TEST (test_threading_block_on_close)
{
  gboolean block = _i == 0;
  SsServer *server = new_server (NULL, "tcp", &picky_handler_class, test_strategy ("threading"));
  SsStrategy *strategy = server->strategy;
  TestServer *ts;
  int fd;

  ss_threading_strategy_set_block_on_close (strategy, block);
  ts = test_server_start (server);
  fd = start_slow_request (server);
  shutdown (fd, SHUT_WR);   /* the handler ends after its sleep */

  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ss_server_server_close (server);
  if (block)
    ck_assert_uint_eq (ss_threading_strategy_active_threads (strategy), 0);
  else
    ck_assert_uint_eq (ss_threading_strategy_active_threads (strategy), 1);
  ss_server_free (server);   /* waits for every thread, since they use the server */
  g_free (ts);
  close (fd);
}
END_TEST

START_TEST (test_threading_daemon_threads)
{
  SsServer *server = new_server (NULL, "tcp", &picky_handler_class, test_strategy ("threading"));
  SsStrategy *strategy = server->strategy;
  TestServer *ts;
  int fd;

  ss_threading_strategy_set_daemon_threads (strategy, TRUE);
  ts = test_server_start (server);
  fd = start_slow_request (server);
  shutdown (fd, SHUT_WR);
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ss_server_server_close (server);   /* does not wait for the daemon thread */
  ck_assert_uint_eq (ss_threading_strategy_active_threads (strategy), 1);
  ss_server_free (server);
  g_free (ts);
  close (fd);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("strategies");
  TCase *tc;

  tc = tcase_create ("/strategies/echo");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_echo_combination, 0, 16);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/strategies/held-30");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_held_connections, 0, 6);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/strategies/failing-request");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_failing_request, 0, 3);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/strategies/close");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_close_immediately, 0, 4);
  tcase_add_test (tc, test_threads_not_retained);
  tcase_add_loop_test (tc, test_threading_block_on_close, 0, 2);
  tcase_add_test (tc, test_threading_daemon_threads);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
