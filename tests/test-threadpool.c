/* test-threadpool.c: the dynamic thread pool's policy, watched through its counters.
 *
 * Growing to 100 held connections and shrinking back; the starvation case
 * of the 2008 post (requests waiting while every worker is busy) in accept
 * mode (serve_forever) and in hand-off mode (handle_request); never more
 * than max_workers, never fewer than min_workers; server_close joins every
 * worker; join(); block_on_close FALSE drops queued requests; the limits.
 */
#include "config.h"
#include "pool-helpers.h"

#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A line-echo server of @klass (a TCP server class) with a thread pool. */
static SsServer *
new_pool_server_of_class (const SsServerClass *klass, guint min, guint max, guint spare)
{
  return pool_test_server_new (klass, "tcp", &ss_stream_echo_handler_class, min, max, spare);
}

static SsServer *
new_pool_server (guint min, guint max, guint spare)
{
  return new_pool_server_of_class (&ss_tcp_server_class, min, max, spare);
}

static SsServerStats
stats_of (SsServer *server)
{
  return pool_test_stats (server);
}

/* Connects @n clients and sends a line on each. */
static int *
open_and_send (SsServer *server, int n)
{
  int *fds = g_new (int, n);
  int i;

  for (i = 0; i < n; i++)
    {
      g_autofree char *msg = g_strdup_printf ("client %d\n", i);

      fds[i] = test_connect (server);
      test_send_all (fds[i], msg, strlen (msg));
    }
  return fds;
}

static void
expect_replies (int *fds, int n)
{
  int i;

  for (i = 0; i < n; i++)
    {
      g_autofree char *expect = g_strdup_printf ("client %d\n", i);
      g_autofree char *line = test_recv_line (fds[i]);

      ck_assert_msg (line != NULL, "client %d of %d not served", i, n);
      ck_assert_str_eq (line, expect);
    }
}

static void
close_all (int *fds, int n)
{
  int i;

  for (i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
}

/* ------------------------------------------------------------ a sampler */

typedef struct {
  SsServer *server;
  gboolean stop;        /* atomic */
  guint max_workers;    /* atomic: largest workers seen */
  guint min_workers;    /* atomic: smallest workers seen */
  guint samples;        /* atomic */
} Sampler;

static gpointer
sampler_thread (gpointer data)
{
  Sampler *s = data;
  gboolean last = FALSE;

  /* One more sample after stop was asked for: on a loaded machine this
   * thread can miss a whole short exchange, and the pool is still serving
   * when the test stops the sampler. */
  while (!last)
    {
      SsServerStats st;

      last = __atomic_load_n (&s->stop, __ATOMIC_SEQ_CST);
      st = stats_of (s->server);

      if (st.workers > __atomic_load_n (&s->max_workers, __ATOMIC_SEQ_CST))
        __atomic_store_n (&s->max_workers, st.workers, __ATOMIC_SEQ_CST);
      if (st.workers < __atomic_load_n (&s->min_workers, __ATOMIC_SEQ_CST))
        __atomic_store_n (&s->min_workers, st.workers, __ATOMIC_SEQ_CST);
      ck_assert_uint_eq (st.idle, st.workers - st.busy);
      __atomic_fetch_add (&s->samples, 1, __ATOMIC_SEQ_CST);
      g_usleep (1000);
    }
  return NULL;
}

static GThread *
sampler_start (Sampler *s, SsServer *server)
{
  memset (s, 0, sizeof *s);
  s->server = server;
  s->min_workers = G_MAXUINT;
  return g_thread_new ("sampler", sampler_thread, s);
}

static void
sampler_stop (Sampler *s, GThread *thread)
{
  __atomic_store_n (&s->stop, TRUE, __ATOMIC_SEQ_CST);
  g_thread_join (thread);
  ck_assert_uint_gt (s->samples, 0);
}

typedef struct {
  SsServer *server;
  guint value;
} StatCond;

static gboolean
workers_at_most (gpointer data)
{
  StatCond *c = data;
  SsServerStats st = stats_of (c->server);

  return st.workers <= c->value && st.busy == 0;
}

static gboolean
workers_at_least (gpointer data)
{
  StatCond *c = data;

  return stats_of (c->server).workers >= c->value;
}

static gboolean
busy_at_least (gpointer data)
{
  StatCond *c = data;

  return stats_of (c->server).busy >= c->value;
}

/* ------------------------------------------------------------ grow and shrink */

START_TEST (test_grow_to_100_and_shrink)
{
  SsServer *server = new_pool_server (2, 200, 5);
  TestServer *ts = test_server_start (server);
  StatCond all_busy = { server, 100 };
  StatCond rest = { server, 2 + 5 };
  SsServerStats st;
  int *fds;

  fds = open_and_send (server, 100);
  expect_replies (fds, 100);
  /* 100 held connections: 100 busy workers, nothing waiting. */
  ck_assert (test_wait_until (busy_at_least, &all_busy, 10));
  st = stats_of (server);
  ck_assert_uint_ge (st.workers, 100);
  ck_assert_uint_le (st.workers, 200);
  ck_assert_uint_eq (st.busy, 100);
  ck_assert_uint_eq (st.queued, 0);
  ck_assert_int_ge (test_count_threads (), 100);

  close_all (fds, 100);
  /* Back to about min_workers + min_spare_workers. */
  ck_assert (test_wait_until (workers_at_most, &rest, 10));
  st = stats_of (server);
  ck_assert_uint_ge (st.workers, 2);
  ck_assert_uint_ge (st.retired, 90);
  ck_assert_uint_eq (st.spawned - st.retired, st.workers);

  test_echo_once (server, "after the burst\n");
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ starvation */

/* verify_request runs on the accepting worker, inside its accept turn. A
 * slow one on every accepting worker (accept_cap while requests are
 * short) must not keep the sleeping workers from serving the next
 * clients: the sentinel watches workers waiting in epoll_wait, not
 * workers inside the hooks. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  guint to_hold;       /* verify_request calls still to hold */
  guint held;          /* calls held now */
  gboolean release;
} slow_verify = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, FALSE };

static gboolean
slow_verify_request (SsServer *server, SsRequest *request)
{
  pthread_mutex_lock (&slow_verify.lock);
  if (slow_verify.to_hold > 0)
    {
      slow_verify.to_hold--;
      slow_verify.held++;
      while (!slow_verify.release)
        pthread_cond_wait (&slow_verify.cond, &slow_verify.lock);
      slow_verify.held--;
    }
  pthread_mutex_unlock (&slow_verify.lock);
  return ss_tcp_server_class.verify_request (server, request); /* super() */
}

static const SsServerClass slow_verify_server_class = {
  .name = "SlowVerifyServer",
  .parent = &ss_tcp_server_class,
  .verify_request = slow_verify_request,
};

static gboolean
verify_calls_held (gpointer data)
{
  guint want = GPOINTER_TO_UINT (data);
  guint held;

  pthread_mutex_lock (&slow_verify.lock);
  held = slow_verify.held;
  pthread_mutex_unlock (&slow_verify.lock);
  return held >= want;
}

START_TEST (test_slow_verify_does_not_stall_the_pool)
{
  guint ncpu = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN));
  guint n = ncpu + 4;
  SsServer *server = new_pool_server_of_class (&slow_verify_server_class, n, n, 0);
  TestServer *ts = test_server_start (server);
  StatCond started = { server, n };
  int *held = g_new (int, ncpu);
  int *fds;
  guint i;

  ck_assert (test_wait_until (workers_at_least, &started, 10));

  pthread_mutex_lock (&slow_verify.lock);
  slow_verify.to_hold = ncpu;
  slow_verify.release = FALSE;
  pthread_mutex_unlock (&slow_verify.lock);
  for (i = 0; i < ncpu; i++)
    held[i] = test_connect (server);
  ck_assert (test_wait_until (verify_calls_held, GUINT_TO_POINTER (ncpu), 10));

  /* Every worker that waited on the socket is stuck in verify_request. */
  fds = open_and_send (server, 2);
  expect_replies (fds, 2);

  pthread_mutex_lock (&slow_verify.lock);
  slow_verify.release = TRUE;
  pthread_cond_broadcast (&slow_verify.cond);
  pthread_mutex_unlock (&slow_verify.lock);
  for (i = 0; i < ncpu; i++)
    close (held[i]);
  g_free (held);
  close_all (fds, 2);
  test_server_stop (ts);
}
END_TEST


/* The pool at its maximum from the start, so growth cannot help: only
 * accept_cap workers accept, and every further held
 * connection must reach a sleeping worker through the sentinel (which
 * accepts a backlog left waiting behind busy workers, and wakes the next
 * sleeping worker to watch in its place). */
START_TEST (test_sleeping_workers_take_a_stalled_backlog)
{
  enum { N = 12 };
  SsServer *server = new_pool_server (N, N, 0);
  TestServer *ts = test_server_start (server);
  StatCond started = { server, N };
  StatCond all_busy = { server, N };
  SsServerStats st;
  int *fds;

  ck_assert (test_wait_until (workers_at_least, &started, 10));
  fds = open_and_send (server, N);
  expect_replies (fds, N);
  ck_assert (test_wait_until (busy_at_least, &all_busy, 10));
  st = stats_of (server);
  ck_assert_uint_eq (st.workers, N);
  ck_assert_uint_eq (st.spawned, N);
  ck_assert_uint_eq (st.queued, 0);
  close_all (fds, N);
  test_server_stop (ts);
}
END_TEST


/* More held connections than min_workers + 3: under the post's rule the
 * last three would wait forever. */
#define STARVE (2 + 3 + 5)

START_TEST (test_starvation_accept_mode)
{
  SsServer *server = new_pool_server (2, 50, 2);
  TestServer *ts = test_server_start (server);
  int *fds = open_and_send (server, STARVE);

  expect_replies (fds, STARVE);
  ck_assert_uint_eq (stats_of (server).queued, 0);
  close_all (fds, STARVE);
  test_server_stop (ts);
}
END_TEST

START_TEST (test_starvation_handoff_mode)
{
  SsServer *server = new_pool_server (2, 50, 2);
  GError *error = NULL;
  int *fds = open_and_send (server, STARVE);
  StatCond drained = { server, 2 + 2 };
  int i;

  /* handle_request hands each request to the pool's queue. */
  server->timeout = 10;
  for (i = 0; i < STARVE; i++)
    ck_assert_msg (ss_server_handle_request (server, &error), "%s", error ? error->message : "");
  expect_replies (fds, STARVE);
  ck_assert_uint_eq (stats_of (server).queued, 0);
  ck_assert_uint_eq (stats_of (server).busy, STARVE);
  close_all (fds, STARVE);
  ss_thread_pool_strategy_join (server->strategy);
  ck_assert_msg (test_wait_until (workers_at_most, &drained, 10),
                 "workers %u busy %u queued %u", stats_of (server).workers,
                 stats_of (server).busy, stats_of (server).queued);
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ hooks in accept mode */

/* A server class that overrides process_request, as a Python subclass
 * would: in accept mode the worker that took the request calls the
 * override (once per request); super() hands the request to the pool. */
static struct {
  guint verified;    /* atomic */
  guint processed;   /* atomic */
  gboolean inline_run;
} hooks;

static gboolean
hooks_verify_request (SsServer *server, SsRequest *request)
{
  __atomic_fetch_add (&hooks.verified, 1, __ATOMIC_SEQ_CST);
  return ss_tcp_server_class.verify_request (server, request); /* super() */
}

static void
hooks_process_request (SsServer *server, SsRequest *request)
{
  __atomic_fetch_add (&hooks.processed, 1, __ATOMIC_SEQ_CST);
  if (hooks.inline_run)
    ss_server_run_request (server, request);   /* runs it here, no super() */
  else
    ss_tcp_server_class.process_request (server, request); /* super() */
}

static const SsServerClass hooks_server_class = {
  .name = "HooksServer",
  .parent = &ss_tcp_server_class,
  .verify_request = hooks_verify_request,
  .process_request = hooks_process_request,
};

START_TEST (test_process_request_override_in_accept_mode)
{
  enum { N = 20 };
  SsServer *server;
  TestServer *ts;
  int *fds;

  hooks.verified = hooks.processed = 0;
  hooks.inline_run = _i == 1;
  server = new_pool_server_of_class (&hooks_server_class, 2, 30, 2);
  ts = test_server_start (server);
  fds = open_and_send (server, N);
  expect_replies (fds, N);
  close_all (fds, N);
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ss_server_server_close (server);
  ck_assert_uint_eq (__atomic_load_n (&hooks.verified, __ATOMIC_SEQ_CST), N);
  ck_assert_uint_eq (__atomic_load_n (&hooks.processed, __ATOMIC_SEQ_CST), N);
  ck_assert_uint_eq (stats_of (server).served, N);
  ck_assert_uint_eq (stats_of (server).queued, 0);
  ss_server_free (server);
  g_free (ts);
}
END_TEST

/* ------------------------------------------------------------ bounds */

/* Reads a reply from whichever held connection is served, closes it, and
 * goes on until every one has been served. */
static void
serve_all_eventually (int *fds, int n)
{
  struct pollfd *pfd = g_new0 (struct pollfd, n);
  int left = n;
  int i;

  for (i = 0; i < n; i++)
    pfd[i] = (struct pollfd) { .fd = fds[i], .events = POLLIN };
  while (left > 0)
    {
      int r = poll (pfd, n, 20000);

      ck_assert_msg (r > 0, "%d of %d connections never served", left, n);
      for (i = 0; i < n; i++)
        if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
          {
            g_autofree char *expect = g_strdup_printf ("client %d\n", i);
            g_autofree char *line = test_recv_line (fds[i]);

            ck_assert_str_eq (line, expect);
            close (fds[i]);
            fds[i] = pfd[i].fd = -1;
            left--;
          }
    }
  g_free (pfd);
  g_free (fds);
}

START_TEST (test_never_above_max)
{
  SsServer *server = new_pool_server (1, 4, 1);
  TestServer *ts = test_server_start (server);
  Sampler sampler;
  GThread *thread = sampler_start (&sampler, server);

  /* 20 held connections, 4 workers: the rest wait for the first to close. */
  serve_all_eventually (open_and_send (server, 20), 20);
  sampler_stop (&sampler, thread);
  ck_assert_uint_le (sampler.max_workers, 4);
  ck_assert_uint_ge (sampler.max_workers, 1);
  ck_assert_uint_le (stats_of (server).workers, 4);
  ck_assert_uint_le (stats_of (server).spawned - stats_of (server).retired, 4);
  test_server_stop (ts);
}
END_TEST

START_TEST (test_never_below_min)
{
  SsServer *server = new_pool_server (3, 20, 0);
  TestServer *ts = test_server_start (server);
  StatCond min = { server, 3 };
  Sampler sampler;
  GThread *thread;
  int round;

  ck_assert (test_wait_until (workers_at_least, &min, 10));
  thread = sampler_start (&sampler, server);
  for (round = 0; round < 3; round++)
    {
      int *fds = open_and_send (server, 12);
      StatCond held = { server, 12 };

      expect_replies (fds, 12);
      ck_assert (test_wait_until (busy_at_least, &held, 10));
      ck_assert_uint_ge (stats_of (server).workers, 12);
      close_all (fds, 12);
      ck_assert (test_wait_until (workers_at_most, &min, 10));
    }
  sampler_stop (&sampler, thread);
  ck_assert_uint_ge (sampler.min_workers, 3);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ close and join */

static gboolean
threads_at_most (gpointer data)
{
  return test_count_threads () <= GPOINTER_TO_INT (data);
}

static gpointer
nothing (gpointer data)
{
  return data;
}

START_TEST (test_close_joins_every_worker)
{
  int baseline;
  SsServer *server;
  TestServer *ts;
  SsServerStats st;
  int *fds;

  /* A sanitizer starts a helper thread with the first thread: count after. */
  g_thread_join (g_thread_new ("warm-up", nothing, NULL));
  baseline = test_count_threads ();
  server = new_pool_server (4, 30, 2);
  ts = test_server_start (server);
  fds = open_and_send (server, 20);

  expect_replies (fds, 20);
  close_all (fds, 20);
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ss_server_server_close (server);
  st = stats_of (server);
  ck_assert_uint_eq (st.workers, 0);
  ck_assert_uint_eq (st.spawned, st.retired);
  /* Joined, not merely told to stop: the threads are gone from the process. */
  ck_assert_int_le (test_count_threads (), baseline);
  ss_server_free (server);
  g_free (ts);
  ck_assert (test_wait_until (threads_at_most, GINT_TO_POINTER (baseline), 5));
}
END_TEST

static gpointer
open_gate_later (gpointer data)
{
  g_usleep (G_USEC_PER_SEC);
  pool_gate_open ();
  return NULL;
}

/* join() must wait for running requests, not only for the queue. The
 * requests are held at a gate so that the queue empties while two of them
 * are still running: a join that ignored busy workers would return then,
 * a second before the gate opens, and find them busy. */
START_TEST (test_join_waits_for_queue)
{
  SsServer *server = pool_test_server_new (&ss_tcp_server_class, "tcp", &pool_gated_line_handler_class,
                                           1, 2, 0);
  GError *error = NULL;
  int *fds = open_and_send (server, 5);
  GThread *opener;
  SsServerStats st;
  int i;

  pool_gate_close ();
  server->timeout = 10;
  for (i = 0; i < 5; i++)
    {
      shutdown (fds[i], SHUT_WR);   /* each request ends after its line */
      ck_assert (ss_server_handle_request (server, &error));
    }
  /* Two workers hold a request each at the gate; three are queued. Three
   * pass: the queue empties while the last two wait at the gate. */
  ck_assert (pool_gate_wait_for (2, 10));
  pool_gate_let_through (3);
  opener = g_thread_new ("opener", open_gate_later, NULL);
  ss_thread_pool_strategy_join (server->strategy);
  st = stats_of (server);
  ck_assert_uint_eq (st.queued, 0);
  ck_assert_uint_eq (st.busy, 0);
  ck_assert_uint_eq (st.served, 5);
  ck_assert_uint_le (st.workers, 2);
  g_thread_join (opener);
  expect_replies (fds, 5);
  close_all (fds, 5);
  ss_server_free (server);
}
END_TEST

static gpointer
close_thread (gpointer data)
{
  ss_server_server_close (data);
  return NULL;
}

START_TEST (test_close_without_blocking_drops_queued)
{
  SsServer *server = new_pool_server (1, 1, 0);
  StatCond one_busy = { server, 1 };
  GError *error = NULL;
  int *fds = g_new (int, 3);
  GThread *closer;
  int i;

  ss_thread_pool_strategy_set_block_on_close (server->strategy, FALSE);
  server->timeout = 10;
  /* The first sends a line and stays open; the other two send nothing (so
   * that closing them unread gives a clean EOF, not a reset). */
  fds[0] = test_connect (server);
  test_send_all (fds[0], "client 0\n", 9);
  fds[1] = test_connect (server);
  fds[2] = test_connect (server);
  for (i = 0; i < 3; i++)
    ck_assert (ss_server_handle_request (server, &error));
  /* One worker, busy with the first connection; two queued. */
  ck_assert (test_wait_until (busy_at_least, &one_busy, 10));
  expect_replies (fds, 1);
  ck_assert_uint_eq (stats_of (server).queued, 2);

  closer = g_thread_new ("closer", close_thread, server);
  /* The queued ones are shut down unprocessed: EOF without an echo. */
  for (i = 1; i < 3; i++)
    {
      GString *got = test_recv_all (fds[i], 1024);

      ck_assert_uint_eq (got->len, 0);
      g_string_free (got, TRUE);
    }
  /* The running one still finishes before its worker is joined. */
  shutdown (fds[0], SHUT_WR);
  g_thread_join (closer);
  ck_assert_uint_eq (stats_of (server).rejected, 2);
  ck_assert_uint_eq (stats_of (server).workers, 0);
  close_all (fds, 3);
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ limits */

START_TEST (test_limits)
{
  GError *error = NULL;
  SsServer *server;
  SsStrategy *s;

  ck_assert_ptr_null (ss_thread_pool_strategy_new (5, 4, 1, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT));
  ck_assert_ptr_nonnull (strstr (error->message, "min_workers"));
  g_clear_error (&error);
  ck_assert_ptr_null (ss_thread_pool_strategy_new (0, 0, 0, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);

  s = ss_strategy_new_by_name ("threadpooling", &error);
  ck_assert (ss_is_thread_pool_strategy (s));
  ck_assert (!ss_is_threading_strategy (s));
  ss_strategy_free (s);

  /* init_thread_pool only for a pool server. */
  server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class,
                              ss_threading_strategy_new (), &error);
  ck_assert (!ss_server_init_thread_pool (server, 1, 2, 1, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  ss_server_free (server);

  server = ss_thread_pooling_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, &error);
  ck_assert_ptr_nonnull (server);
  ck_assert (!ss_server_init_thread_pool (server, 3, 2, 1, &error));
  g_clear_error (&error);
  ck_assert (ss_server_init_thread_pool (server, 2, 3, 1, &error));
  {
    TestServer *ts = test_server_start (server);
    StatCond two = { server, 2 };

    ck_assert (test_wait_until (workers_at_least, &two, 10));
    test_echo_once (server, "limits\n");
    ck_assert_uint_le (stats_of (server).workers, 3);
    test_server_stop (ts);
  }
}
END_TEST

/* Serving again after shutdown: accept mode stops and restarts cleanly. */
START_TEST (test_serve_twice)
{
  SsServer *server = new_pool_server (2, 10, 2);
  int round;

  for (round = 0; round < 2; round++)
    {
      TestServer *ts = test_server_start (server);
      int *fds;

      fds = open_and_send (server, 6);
      expect_replies (fds, 6);
      close_all (fds, 6);
      ss_server_shutdown (server);
      g_thread_join (ts->thread);
      ck_assert (ts->ok);
      g_free (ts);
    }
  ss_server_free (server);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("threadpool");
  TCase *tc;

  tc = tcase_create ("/threadpool/grow-shrink");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_grow_to_100_and_shrink);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threadpool/starvation");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_starvation_accept_mode);
  tcase_add_test (tc, test_sleeping_workers_take_a_stalled_backlog);
  tcase_add_test (tc, test_slow_verify_does_not_stall_the_pool);
  tcase_add_test (tc, test_starvation_handoff_mode);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threadpool/hooks");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_process_request_override_in_accept_mode, 0, 2);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threadpool/bounds");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_never_above_max);
  tcase_add_test (tc, test_never_below_min);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threadpool/close");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_close_joins_every_worker);
  tcase_add_test (tc, test_join_waits_for_queue);
  tcase_add_test (tc, test_close_without_blocking_drops_queued);
  tcase_add_test (tc, test_serve_twice);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threadpool/limits");
  tcase_add_test (tc, test_limits);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
