/* test-park.c: parked connections (ss_server_park_request).
 *
 * With the thread pool during serve_forever, a handler that parks its
 * connection gives its worker back: many idle connections need a few
 * workers, each is run again when its client speaks, closed after its
 * timeout or when serving stops. Strategies without a poller refuse, and
 * the handler carries on inline as Python's do.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The parking echo with a timeout the test sets. */
static double park_timeout = -1;

static gboolean
timed_echo_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  for (;;)
    {
      gssize got;

      if (!ss_rfile_readable_now (self->rfile)
          && ss_server_park_request (handler->server, handler->request, park_timeout))
        return TRUE;
      g_string_truncate (line, 0);
      got = ss_rfile_readline (self->rfile, line, 4096, error);
      if (got <= 0)
        return got == 0;
      if (!ss_wfile_write (self->wfile, line->str, line->len, error))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, timed_echo_class, ss_stream_request_handler_class,
                         .handle = timed_echo_handle);

/* An echo that parks with ss_rfile_worth_parking(), records what it said
 * at the start of each run, and sleeps on a line "slow" (3 s) or "nap"
 * (0.3 s). */
#define RUNS_RECORDED 16
static gint worth_at_start[RUNS_RECORDED];
static gint resumed_at_start[RUNS_RECORDED];
static gint runs_started;

static gboolean
recording_echo_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);
  gboolean first = TRUE;

  for (;;)
    {
      gboolean worth = ss_rfile_worth_parking (self->rfile);
      gssize got;

      if (first)
        {
          gint run = g_atomic_int_add (&runs_started, 1);

          if (run < RUNS_RECORDED)
            {
              g_atomic_int_set (&worth_at_start[run], worth);
              g_atomic_int_set (&resumed_at_start[run], ss_request_resumed (handler->request));
            }
          first = FALSE;
        }
      if (worth && ss_server_park_request (handler->server, handler->request, -1))
        return TRUE;
      g_string_truncate (line, 0);
      got = ss_rfile_readline (self->rfile, line, 4096, error);
      if (got <= 0)
        return got == 0;
      if (g_str_equal (line->str, "slow\n"))
        g_usleep (3 * G_USEC_PER_SEC);
      else if (g_str_equal (line->str, "nap\n"))
        g_usleep (300 * 1000);
      if (!ss_wfile_write (self->wfile, line->str, line->len, error))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, recording_echo_class, ss_stream_request_handler_class,
                         .handle = recording_echo_handle);

/* The same with Python's timeout: half a second per read. */
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, recording_timed_echo_class, recording_echo_class,
                         .timeout = 0.5);

static SsServer *
new_pool_server (const char *transport, const SsHandlerClass *klass, guint max_workers)
{
  g_autofree char *address = test_address_for (transport);
  GError *error = NULL;
  SsStrategy *pool = ss_thread_pool_strategy_new (1, max_workers, 1, &error);
  SsServer *server;

  ck_assert_ptr_nonnull (pool);
  server = ss_server_new (g_str_equal (transport, "unix") ? &ss_unix_stream_server_class
                                                          : &ss_tcp_server_class,
                          address, klass, pool, TRUE, &error);
  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  return server;
}

static void
echo_line (int fd, const char *line)
{
  g_autofree char *got = NULL;

  test_send_all (fd, line, strlen (line));
  got = test_recv_line (fd);
  ck_assert_ptr_nonnull (got);
  ck_assert_str_eq (got, line);
}

/* Connects @n clients, each echoing @line once, and waits until all @n
 * are parked. */
static void
connect_parked (SsServer *server, int *fds, int n, const char *line)
{
  int i;

  for (i = 0; i < n; i++)
    {
      fds[i] = test_connect (server);
      echo_line (fds[i], line);
    }
  test_wait_parked (server, (guint) n);
}

/* EOF on @fd within @seconds. */
static gboolean
eof_within (int fd, double seconds)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char c;

  if (poll (&pfd, 1, (int) (seconds * 1000)) != 1)
    return FALSE;
  return recv (fd, &c, 1, 0) == 0;
}

/* ------------------------------------------------------------ strategies that cannot park */

START_TEST (test_park_refused_without_poller)
{
  const char *name = test_strategies[_i];
  GError *error = NULL;
  SsServer *server;
  TestServer *ts;
  int fd;

  if (g_str_equal (name, "threadpooling"))
    return;  /* the pool parks: the other cases */
  TEST_SKIP_FORKING_UNDER_SANITIZER (name);
  server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &timed_echo_class,
                          test_strategy (name), TRUE, &error);
  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  ts = test_server_start (server);
  /* ss_server_park_request says FALSE: the handler keeps the connection
   * and echoes line after line itself. */
  fd = test_connect (server);
  echo_line (fd, "one\n");
  echo_line (fd, "two\n");
  /* shutdown, not only close: a forked child holds a copy of this fd. */
  shutdown (fd, SHUT_RDWR);
  close (fd);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ the pool */

#define IDLE_CLIENTS 40

/* Forty connections held open, each echoing a line now and then, on a
 * pool of at most 4 workers: every line is answered, a new client is
 * served at once, and the threads stay few. */
START_TEST (test_park_many_idle_on_few_workers)
{
  SsServer *server = new_pool_server (test_transports[_i], &timed_echo_class, 4);
  int threads_before = test_count_threads ();
  TestServer *ts;
  int fds[IDLE_CLIENTS];
  SsServerStats stats;
  int i, round;

  park_timeout = -1;
  ts = test_server_start (server);
  connect_parked (server, fds, IDLE_CLIENTS, "hello\n");
  /* serve thread + at most max_workers workers (+1 for slack). */
  ck_assert_int_le (test_count_threads (), threads_before + 1 + 4 + 1);

  /* Each held client speaks again, in turns: its request runs again. */
  for (round = 0; round < 3; round++)
    for (i = 0; i < IDLE_CLIENTS; i++)
      echo_line (fds[i], "again\n");
  test_echo_once (server, "a newcomer\n");
  test_wait_parked (server, IDLE_CLIENTS);
  ss_server_get_stats (server, &stats);
  ck_assert_uint_le (stats.workers, 4);
  /* Every run of a parked request counts as served. */
  ck_assert_uint_ge (stats.served, IDLE_CLIENTS * 4);

  /* A client closing its side while parked: its request runs, sees EOF
   * and is shut down. */
  close (fds[0]);
  test_wait_parked (server, IDLE_CLIENTS - 1);
  for (i = 1; i < IDLE_CLIENTS; i++)
    close (fds[i]);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

/* Two lines in one send: the second is already buffered after the first
 * is echoed, so the handler does not park in between (a parked request
 * with bytes in its reader would never be woken for them). */
START_TEST (test_park_not_while_buffered)
{
  SsServer *server = new_pool_server ("tcp", &timed_echo_class, 2);
  TestServer *ts = test_server_start (server);
  int fd = test_connect (server);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  park_timeout = -1;
  test_send_all (fd, "first\nsecond\n", 13);
  first = test_recv_line (fd);
  second = test_recv_line (fd);
  ck_assert_str_eq (first, "first\n");
  ck_assert_str_eq (second, "second\n");
  close (fd);
  test_server_stop (ts);
}
END_TEST

/* A parked connection whose client stays silent past the timeout is shut
 * down (the sweep runs every poll interval: 50 ms in these tests). */
START_TEST (test_park_timeout_closes)
{
  SsServer *server = new_pool_server ("tcp", &timed_echo_class, 2);
  TestServer *ts;
  int fd;

  park_timeout = 0.3;
  ts = test_server_start (server);
  fd = test_connect (server);
  echo_line (fd, "then silence\n");
  test_wait_parked (server, 1);
  ck_assert (eof_within (fd, 5.0));
  test_wait_parked (server, 0);
  close (fd);
  park_timeout = -1;
  test_server_stop (ts);
}
END_TEST

/* Serving stops with connections parked: each is shut down (its client
 * sees EOF) and no fd is left behind. */
START_TEST (test_park_closed_when_serving_stops)
{
  int fds_before = test_count_fds ();
  SsServer *server = new_pool_server ("tcp", &timed_echo_class, 2);
  TestServer *ts;
  int fds[8];
  int i;

  park_timeout = -1;
  ts = test_server_start (server);
  connect_parked (server, fds, 8, "park me\n");
  test_server_stop (ts);
  for (i = 0; i < 8; i++)
    {
      ck_assert (eof_within (fds[i], 5.0));
      close (fds[i]);
    }
  ck_assert_int_eq (test_count_fds (), fds_before);
}
END_TEST

/* The ready-made parking echo (ss-echo --park-idle) on the pool. */
START_TEST (test_parking_echo_handler)
{
  SsServer *server = new_pool_server ("tcp", &ss_stream_echo_parking_handler_class, 2);
  TestServer *ts = test_server_start (server);
  int fd = test_connect (server);

  echo_line (fd, "parked between lines\n");
  test_wait_parked (server, 1);
  echo_line (fd, "and woken\n");
  close (fd);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

/* A new connection is asked whether its client spoke (here: not yet, so
 * it parks at once); a run resumed because the client spoke reads at
 * once. A line sent right behind the first may find the connection
 * parked with it already waiting: it is run again at once. */
START_TEST (test_resumed_run_reads_at_once)
{
  SsServer *server = new_pool_server ("tcp", &recording_echo_class, 2);
  TestServer *ts = test_server_start (server);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  int fd;

  g_atomic_int_set (&runs_started, 0);
  fd = test_connect (server);
  test_wait_parked (server, 1);
  ck_assert_int_eq (g_atomic_int_get (&runs_started), 1);
  ck_assert (g_atomic_int_get (&worth_at_start[0]));
  ck_assert (!g_atomic_int_get (&resumed_at_start[0]));
  echo_line (fd, "hello\n");
  test_wait_parked (server, 1);
  ck_assert_int_eq (g_atomic_int_get (&runs_started), 2);
  ck_assert (!g_atomic_int_get (&worth_at_start[1]));
  ck_assert (g_atomic_int_get (&resumed_at_start[1]));

  /* Pipelined in two sends: both answered, whether the second line came
   * before the handler parked or after. */
  test_send_all (fd, "one\n", 4);
  test_send_all (fd, "two\n", 4);
  first = test_recv_line (fd);
  second = test_recv_line (fd);
  ck_assert_str_eq (first, "one\n");
  ck_assert_str_eq (second, "two\n");
  close (fd);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

/* A resumed run does not set the socket's options again: the class's
 * timeout, set by the first run, still bounds a read of the resumed run
 * (a line that never ends), and the connection is shut down after it. */
START_TEST (test_resumed_run_keeps_the_timeout)
{
  SsServer *server = new_pool_server ("tcp", &recording_timed_echo_class, 2);
  TestServer *ts = test_server_start (server);
  int fd = test_connect (server);
  gint64 start;

  echo_line (fd, "hello\n");
  test_wait_parked (server, 1);
  start = g_get_monotonic_time ();
  test_send_all (fd, "no newline", 10);
  ck_assert (eof_within (fd, 5.0));
  ck_assert_int_ge (g_get_monotonic_time () - start, 400 * 1000);
  close (fd);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

#define SPEAKERS 10

/* Parked clients that speak at once are claimed in batches: the claimer
 * runs one and keeps the rest for whoever is free. When the one it runs
 * blocks (3 s here), the others are not stranded behind it: another
 * worker answers them long before it wakes. */
START_TEST (test_claimed_batch_not_stranded)
{
  SsServer *server = new_pool_server ("tcp", &recording_echo_class, 8);
  TestServer *ts = test_server_start (server);
  int fds[SPEAKERS];
  gint64 start;
  int i;

  connect_parked (server, fds, SPEAKERS, "hello\n");
  start = g_get_monotonic_time ();
  test_send_all (fds[0], "slow\n", 5);
  for (i = 1; i < SPEAKERS; i++)
    test_send_all (fds[i], "quick\n", 6);
  for (i = 1; i < SPEAKERS; i++)
    {
      g_autofree char *got = test_recv_line (fds[i]);

      ck_assert_ptr_nonnull (got);
      ck_assert_str_eq (got, "quick\n");
    }
  ck_assert_msg (g_get_monotonic_time () - start < 2 * G_USEC_PER_SEC,
                 "the quick clients waited %.2f s behind the slow one",
                 (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  {
    g_autofree char *got = test_recv_line (fds[0]);

    ck_assert_ptr_nonnull (got);
    ck_assert_str_eq (got, "slow\n");
  }
  for (i = 0; i < SPEAKERS; i++)
    close (fds[i]);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

/* A client that speaks while its connection runs (its line comes during
 * a slow reply) may be seen by another worker, which finds the
 * connection taken: the poller's report is spent. Parking again must
 * look once more, or the line would wait forever. */
START_TEST (test_spoke_while_running_is_answered)
{
  GError *error = NULL;
  SsStrategy *pool = ss_thread_pool_strategy_new (3, 3, 1, &error);
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &recording_echo_class,
                                    pool, TRUE, &error);
  TestServer *ts;
  int fd, i;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  ts = test_server_start (server);
  fd = test_connect (server);
  echo_line (fd, "hello\n");
  for (i = 0; i < 3; i++)
    {
      g_autofree char *napped = NULL;
      g_autofree char *next = NULL;

      test_wait_parked (server, 1);
      test_send_all (fd, "nap\n", 4);
      g_usleep (100 * 1000);
      test_send_all (fd, "next\n", 5);
      napped = test_recv_line (fd);
      next = test_recv_line (fd);
      ck_assert_ptr_nonnull (napped);
      ck_assert_ptr_nonnull (next);
      ck_assert_str_eq (napped, "nap\n");
      ck_assert_str_eq (next, "next\n");
    }
  close (fd);
  test_wait_parked (server, 0);
  test_server_stop (ts);
}
END_TEST

/* Connections that parked and then ended free their place in the poller:
 * new connections, which get the same fd numbers, park and are woken as
 * the first were, and no fd is left behind. */
START_TEST (test_ended_connections_leave_the_poller)
{
  int fds_before = test_count_fds ();
  SsServer *server = new_pool_server ("tcp", &timed_echo_class, 2);
  TestServer *ts;
  int i;

  park_timeout = -1;
  ts = test_server_start (server);
  for (i = 0; i < 50; i++)
    {
      int fd = test_connect (server);

      echo_line (fd, "one\n");
      test_wait_parked (server, 1);
      echo_line (fd, "two\n");
      test_wait_parked (server, 1);
      close (fd);
      test_wait_parked (server, 0);
    }
  test_server_stop (ts);
  ck_assert_int_eq (test_count_fds (), fds_before);
}
END_TEST

/* The poller reports what arrives after a run's reads (edge-triggered):
 * bytes already in the socket when a resumed run parks again -- here more
 * than its reader's buffer took -- must be reported at once, not wait for
 * the client's next send, which never comes. */
START_TEST (test_unread_at_park_reported)
{
  SsServer *server = new_pool_server ("tcp", &recording_echo_class, 3);
  TestServer *ts;
  GString *batch = g_string_new (NULL);
  int fd, i;

  ts = test_server_start (server);
  fd = test_connect (server);
  echo_line (fd, "hello\n");
  test_wait_parked (server, 1);
  for (i = 0; i < 128; i++)
    g_string_append_printf (batch, "%063d\n", i);   /* 64 bytes a line: 8192 in all */
  g_string_append (batch, "tail\n");
  test_send_all (fd, batch->str, batch->len);
  for (i = 0; i < 129; i++)
    {
      g_autofree char *got = test_recv_line (fd);

      ck_assert_msg (got != NULL, "line %d never came back", i);
    }
  close (fd);
  test_server_stop (ts);
  g_string_free (batch, TRUE);
}
END_TEST
/* The same with an unbuffered reader (rbufsize 0): two lines in one
 * segment, the second still in the socket when the first is echoed. */
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, unbuffered_echo_class, recording_echo_class,
                         .rbufsize = 0);

START_TEST (test_unbuffered_two_lines_answered)
{
  SsServer *server = new_pool_server ("tcp", &unbuffered_echo_class, 3);
  TestServer *ts;
  int fd, i;

  ts = test_server_start (server);
  fd = test_connect (server);
  echo_line (fd, "hello\n");
  test_wait_parked (server, 1);
  test_send_all (fd, "a\nb\n", 4);
  for (i = 0; i < 2; i++)
    {
      g_autofree char *got = test_recv_line (fd);

      ck_assert_msg (got != NULL, "line %d never came back", i);
    }
  close (fd);
  test_server_stop (ts);
}
END_TEST
/* A client that sends its last line and half-closes at once: the EOF
 * comes with the line, a short read leaves it in the socket, and the
 * connection must still be shut down. */
START_TEST (test_half_close_after_last_line)
{
  SsServer *server = new_pool_server ("tcp", &recording_echo_class, 3);
  TestServer *ts;
  int fd, n;
  char buf[64];
  struct pollfd pfd;

  ts = test_server_start (server);
  fd = test_connect (server);
  echo_line (fd, "hello\n");
  test_wait_parked (server, 1);
  test_send_all (fd, "bye\n", 4);
  shutdown (fd, SHUT_WR);
  {
    g_autofree char *got = test_recv_line (fd);
    ck_assert_ptr_nonnull (got);
  }
  pfd.fd = fd;
  pfd.events = POLLIN;
  n = poll (&pfd, 1, 2000);
  ck_assert_msg (n == 1, "server never closed after the client's EOF");
  ck_assert_int_eq (recv (fd, buf, sizeof buf, 0), 0);
  close (fd);
  test_server_stop (ts);
}
END_TEST

static Suite *
park_suite (void)
{
  Suite *s = suite_create ("park");
  TCase *refused = tcase_create ("refused");
  TCase *pool = tcase_create ("pool");

  tcase_add_loop_test (refused, test_park_refused_without_poller, 0, 4);
  suite_add_tcase (s, refused);

  /* tcp and unix stream (indices 0 and 2 of test_transports). */
  tcase_add_loop_test (pool, test_park_many_idle_on_few_workers, 0, 1);
  tcase_add_loop_test (pool, test_park_many_idle_on_few_workers, 2, 3);
  tcase_add_test (pool, test_park_not_while_buffered);
  tcase_add_test (pool, test_park_timeout_closes);
  tcase_add_test (pool, test_park_closed_when_serving_stops);
  tcase_add_test (pool, test_parking_echo_handler);
  tcase_add_test (pool, test_resumed_run_reads_at_once);
  tcase_add_test (pool, test_resumed_run_keeps_the_timeout);
  tcase_add_test (pool, test_claimed_batch_not_stranded);
  tcase_add_test (pool, test_spoke_while_running_is_answered);
  tcase_add_test (pool, test_ended_connections_leave_the_poller);
  tcase_add_test (pool, test_unread_at_park_reported);
  tcase_add_test (pool, test_unbuffered_two_lines_answered);
  tcase_add_test (pool, test_half_close_after_last_line);
  suite_add_tcase (s, pool);
  return s;
}

int
main (void)
{
  return test_run_suite (park_suite ());
}
