/* test-pool-overload.c: the hand-off queue's bound and the overload policy.
 *
 * max_queue with REJECT closes the excess at once (hand-off and accept
 * mode), counts it and logs at most a line a second, and service resumes;
 * with BLOCK the thread handing requests over waits, and during
 * serve_forever the kernel's listen backlog holds the excess; a datagram
 * server driven by handle_request with one busy worker queues no more than
 * SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE datagrams (issue 13 item 4:
 * thousands before). Workers are held busy at a gate, never by timing.
 */
#include "config.h"
#include "pool-helpers.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static guint overload_lines;   /* atomic: "overloaded" log lines */

static void
count_overload_line (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (strstr (message, "overloaded") != NULL)
    __atomic_fetch_add (&overload_lines, 1, __ATOMIC_SEQ_CST);
}

/* A pool of one worker (1, 1, 0) answering lines at the gate. */
static SsServer *
one_worker_server (guint max_queue, SsOverloadPolicy policy)
{
  SsServer *server = pool_test_server_new (&ss_tcp_server_class, "tcp",
                                           &pool_gated_line_handler_class, 1, 1, 0);

  ss_thread_pool_strategy_set_max_queue (server->strategy, max_queue);
  ss_thread_pool_strategy_set_overload_policy (server->strategy, policy);
  server->timeout = 10;
  return server;
}

static int
connect_and_send (SsServer *server, int i)
{
  g_autofree char *msg = g_strdup_printf ("client %d\n", i);
  int fd = test_connect (server);

  test_send_all (fd, msg, strlen (msg));
  return fd;
}

static void
expect_line (int fd, int i)
{
  g_autofree char *expect = g_strdup_printf ("client %d\n", i);
  g_autofree char *line = test_recv_line (fd);

  ck_assert_msg (line != NULL, "client %d not served", i);
  ck_assert_str_eq (line, expect);
}

/* Closed at once, unprocessed: EOF with no reply (the gate is still shut,
 * so nothing else could have answered). */
static void
expect_rejected (int fd)
{
  GString *got = test_recv_all (fd, 1024);

  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
}

/* Nothing arrives (no reply, no EOF) within @ms. */
static void
expect_waiting (int fd, int ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  ck_assert_int_eq (poll (&pfd, 1, ms), 0);
}

typedef struct {
  SsServer *server;
  guint queued;
} QueuedAtLeast;

static gboolean
queued_at_least (gpointer data)
{
  QueuedAtLeast *q = data;

  return pool_test_stats (q->server).queued >= q->queued;
}

/* ------------------------------------------------------------ REJECT */

START_TEST (test_reject_handoff)
{
  SsServer *server = one_worker_server (1, SS_OVERLOAD_REJECT);
  GError *error = NULL;
  gint64 start;
  int fds[24];
  int i;

  overload_lines = 0;
  g_log_set_handler ("socketserver", G_LOG_LEVEL_MESSAGE, count_overload_line, NULL);
  pool_gate_close ();
  /* The first runs (held at the gate), the second waits in the queue. */
  for (i = 0; i < 2; i++)
    {
      fds[i] = connect_and_send (server, i);
      ck_assert (ss_server_handle_request (server, &error));
      ck_assert (pool_gate_wait_for (1, 10));
    }
  /* The queue is full: each further one is closed at once. */
  start = g_get_monotonic_time ();
  for (i = 2; i < 24; i++)
    {
      fds[i] = connect_and_send (server, i);
      ck_assert (ss_server_handle_request (server, &error));
      expect_rejected (fds[i]);
    }
  ck_assert_uint_eq (pool_test_stats (server).rejected, 22);
  ck_assert_uint_eq (pool_test_stats (server).queued, 1);
  /* 22 rejections, one line (a second line only if that took > 1 s). */
  ck_assert_uint_ge (__atomic_load_n (&overload_lines, __ATOMIC_SEQ_CST), 1);
  if (g_get_monotonic_time () - start < G_USEC_PER_SEC)
    ck_assert_uint_eq (__atomic_load_n (&overload_lines, __ATOMIC_SEQ_CST), 1);

  /* Service resumes. */
  pool_gate_open ();
  expect_line (fds[0], 0);
  expect_line (fds[1], 1);
  fds[2] = connect_and_send (server, 2);
  ck_assert (ss_server_handle_request (server, &error));
  expect_line (fds[2], 2);
  for (i = 0; i < 24; i++)
    close (fds[i]);
  ss_thread_pool_strategy_join (server->strategy);
  ck_assert_uint_eq (pool_test_stats (server).served, 3);
  ss_server_free (server);
}
END_TEST

/* During serve_forever: while the one worker is busy, the overload thread
 * queues one connection (max_queue 1) and closes the rest at once. */
START_TEST (test_reject_accept_mode)
{
  SsServer *server = one_worker_server (1, SS_OVERLOAD_REJECT);
  TestServer *ts = test_server_start (server);
  QueuedAtLeast one = { server, 1 };
  int fds[5];
  int i;

  pool_gate_close ();
  fds[0] = connect_and_send (server, 0);
  ck_assert (pool_gate_wait_for (1, 10));
  fds[1] = connect_and_send (server, 1);
  ck_assert (test_wait_until (queued_at_least, &one, 10));
  for (i = 2; i < 5; i++)
    {
      fds[i] = connect_and_send (server, i);
      expect_rejected (fds[i]);
    }
  ck_assert_uint_eq (pool_test_stats (server).rejected, 3);
  ck_assert_uint_eq (pool_test_stats (server).queued, 1);

  pool_gate_open ();
  expect_line (fds[0], 0);
  expect_line (fds[1], 1);
  for (i = 0; i < 5; i++)
    close (fds[i]);
  /* Service resumes. */
  fds[0] = connect_and_send (server, 7);
  expect_line (fds[0], 7);
  close (fds[0]);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ BLOCK */

/* Connections completed by the kernel and waiting in the listen backlog
 * (Linux reports it as tcpi_unacked of a listening socket). */
static guint
backlog_length (SsServer *server)
{
  struct tcp_info info = { 0 };
  socklen_t len = sizeof info;

  ck_assert_int_eq (getsockopt (ss_server_fileno (server), IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  return info.tcpi_unacked;
}

typedef struct {
  SsServer *server;
  guint n;
} Backlog;

static gboolean
backlog_at_least (gpointer data)
{
  Backlog *b = data;

  return backlog_length (b->server) >= b->n;
}

START_TEST (test_block_accept_mode_keeps_backlog)
{
  SsServer *server = one_worker_server (1, SS_OVERLOAD_BLOCK);
  TestServer *ts = test_server_start (server);
  Backlog three = { server, 3 };
  int fds[4];
  int i;

  pool_gate_close ();
  fds[0] = connect_and_send (server, 0);
  ck_assert (pool_gate_wait_for (1, 10));
  for (i = 1; i < 4; i++)
    fds[i] = connect_and_send (server, i);
  /* Nobody accepts them: they wait in the kernel's backlog, neither
   * queued in the pool nor closed. */
  ck_assert (test_wait_until (backlog_at_least, &three, 10));
  expect_waiting (fds[1], 200);
  ck_assert_uint_eq (pool_test_stats (server).queued, 0);
  ck_assert_uint_eq (pool_test_stats (server).rejected, 0);

  pool_gate_open ();
  for (i = 0; i < 4; i++)
    {
      expect_line (fds[i], i);
      close (fds[i]);
    }
  ck_assert_uint_eq (backlog_length (server), 0);
  test_server_stop (ts);
}
END_TEST

typedef struct {
  SsServer *server;
  gboolean done;   /* atomic */
} Handing;

static gpointer
handle_one (gpointer data)
{
  Handing *h = data;
  GError *error = NULL;

  ck_assert (ss_server_handle_request (h->server, &error));
  __atomic_store_n (&h->done, TRUE, __ATOMIC_SEQ_CST);
  return NULL;
}

/* handle_request hands requests over; with the queue full it waits (so
 * the serving thread takes no more) until a worker frees a slot. */
START_TEST (test_block_handoff_waits)
{
  SsServer *server = one_worker_server (1, SS_OVERLOAD_BLOCK);
  Handing third = { server, FALSE };
  GError *error = NULL;
  GThread *thread;
  int fds[3];
  int i;

  pool_gate_close ();
  for (i = 0; i < 2; i++)
    {
      fds[i] = connect_and_send (server, i);
      ck_assert (ss_server_handle_request (server, &error));
      ck_assert (pool_gate_wait_for (1, 10));
    }
  fds[2] = connect_and_send (server, 2);
  thread = g_thread_new ("handle-third", handle_one, &third);
  expect_waiting (fds[2], 300);
  ck_assert (!__atomic_load_n (&third.done, __ATOMIC_SEQ_CST));
  ck_assert_uint_eq (pool_test_stats (server).queued, 1);

  pool_gate_open ();
  g_thread_join (thread);
  ck_assert (third.done);
  for (i = 0; i < 3; i++)
    {
      expect_line (fds[i], i);
      close (fds[i]);
    }
  ss_thread_pool_strategy_join (server->strategy);
  ck_assert_uint_eq (pool_test_stats (server).served, 3);
  ck_assert_uint_eq (pool_test_stats (server).rejected, 0);
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ datagrams */

typedef struct {
  SsServer *server;
  gboolean stop;   /* atomic */
} Looping;

static gpointer
handle_until_stopped (gpointer data)
{
  Looping *l = data;
  GError *error = NULL;

  while (!__atomic_load_n (&l->stop, __ATOMIC_SEQ_CST))
    ck_assert (ss_server_handle_request (l->server, &error));
  return NULL;
}

/* A UDP server driven by handle_request, one busy worker, 200 datagrams:
 * the queue stops at the datagram default and the kernel's receive buffer
 * holds (or drops) the rest. */
START_TEST (test_datagram_default_bound)
{
  SsServer *server = pool_test_server_new (&ss_udp_server_class, "udp",
                                           &pool_gated_datagram_handler_class, 1, 1, 0);
  QueuedAtLeast full = { server, SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE };
  Looping loop = { server, FALSE };
  guint most = 0;
  GThread *thread;
  int fd, i;

  pool_gate_close ();
  server->timeout = 0.05;
  thread = g_thread_new ("serve", handle_until_stopped, &loop);
  fd = test_connect (server);
  for (i = 0; i < 200; i++)
    {
      char msg[16];

      g_snprintf (msg, sizeof msg, "dgram %d", i);
      test_send_all (fd, msg, strlen (msg));
    }
  ck_assert (test_wait_until (queued_at_least, &full, 10));
  for (i = 0; i < 50; i++)
    {
      most = MAX (most, pool_test_stats (server).queued);
      g_usleep (5000);
    }
  ck_assert_uint_eq (most, SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE);
  ck_assert_uint_eq (pool_test_stats (server).rejected, 0);

  __atomic_store_n (&loop.stop, TRUE, __ATOMIC_SEQ_CST);
  pool_gate_open ();
  g_thread_join (thread);
  ss_thread_pool_strategy_join (server->strategy);
  ck_assert_uint_ge (pool_test_stats (server).served, SS_THREAD_POOL_DEFAULT_DATAGRAM_MAX_QUEUE + 1);
  close (fd);
  ss_server_free (server);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("pool-overload");
  TCase *tc;

  tc = tcase_create ("/pool-overload/reject");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_reject_handoff);
  tcase_add_test (tc, test_reject_accept_mode);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-overload/block");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_block_accept_mode_keeps_backlog);
  tcase_add_test (tc, test_block_handoff_waits);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-overload/datagram");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_datagram_default_bound);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
