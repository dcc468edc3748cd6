/* test-preforking.c: the process pool (preforking.h).
 *
 * /preforking/policy tests Apache's maintenance rules on numbers alone
 * (preforking/policy.c is built into this test). The other cases run real
 * pools: echo over every transport; the pool growing under 30 held
 * connections and shrinking back; the spawn rate doubling pass after pass;
 * max_workers reached and logged once; children recycled after
 * max_requests; a crashed child reported and replaced; a child the program
 * forked itself never reaped; every server hook and both child hooks
 * running in the children; server_close waiting for a busy child.
 *
 * Children fork from the test process, so they inherit copies of the
 * test's client sockets: connections are ended with shutdown(), which the
 * server sees whatever copies exist. The maintenance interval is shortened
 * (INTERVAL) so that passes come quickly.
 */
#include "config.h"
#include "helpers.h"

#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define INTERVAL 0.1

/* Valgrind makes every process, and each child's exit, far slower. */
static double
scale (void)
{
  return g_getenv ("SS_VALGRIND") != NULL ? 10.0 : 1.0;
}

/* ------------------------------------------------------------ policy */

static const SsPreforkLimits limits_2_40_2_4 = { .min_workers = 2, .max_workers = 40, .min_spare = 2, .max_spare = 4 };

START_TEST (test_policy_spawn_rate_doubles)
{
  SsPreforkPolicy policy = { .spawn_rate = 1 };
  SsPreforkDecision d;
  guint expect[] = { 1, 2, 4, 8, 16, 32, 32 };
  guint workers = 4;

  /* Short of spares pass after pass: 1, 2, 4 ... up to 32 a pass. */
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      SsPreforkLimits big = limits_2_40_2_4;

      big.max_workers = 1000;
      ss__prefork_decide (&big, workers, 0, workers, &policy, &d);
      ck_assert_uint_eq (d.spawn, expect[i]);
      ck_assert (!d.retire);
      ck_assert (d.log_busy == (expect[i] >= 8));
      workers += d.spawn;
    }
  /* Enough spares again: the rate falls back to 1. */
  ss__prefork_decide (&limits_2_40_2_4, 10, 3, 10, &policy, &d);
  ck_assert_uint_eq (d.spawn, 0);
  ck_assert_uint_eq (policy.spawn_rate, 1);
  ss__prefork_decide (&limits_2_40_2_4, 10, 1, 10, &policy, &d);
  ck_assert_uint_eq (d.spawn, 1);
}
END_TEST

START_TEST (test_policy_retire_one_per_pass)
{
  SsPreforkPolicy policy = { .spawn_rate = 8 };
  SsPreforkDecision d;

  ss__prefork_decide (&limits_2_40_2_4, 30, 30, 30, &policy, &d);
  ck_assert (d.retire);
  ck_assert_uint_eq (d.spawn, 0);
  ck_assert_uint_eq (policy.spawn_rate, 1);
  /* At max_spare idle: nothing to do. */
  ss__prefork_decide (&limits_2_40_2_4, 10, 4, 10, &policy, &d);
  ck_assert (!d.retire);
  ck_assert_uint_eq (d.spawn, 0);
  /* Never below min_workers, however many are idle. */
  {
    SsPreforkLimits l = { .min_workers = 6, .max_workers = 40, .min_spare = 1, .max_spare = 2 };

    ss__prefork_decide (&l, 6, 6, 6, &policy, &d);
    ck_assert (!d.retire);
    ss__prefork_decide (&l, 7, 7, 7, &policy, &d);
    ck_assert (d.retire);
  }
}
END_TEST

START_TEST (test_policy_limits)
{
  SsPreforkPolicy policy = { .spawn_rate = 16 };
  SsPreforkDecision d;

  /* Never above max_workers: 38 + 16 would be 54. */
  ss__prefork_decide (&limits_2_40_2_4, 38, 0, 38, &policy, &d);
  ck_assert_uint_eq (d.spawn, 2);
  /* At max_workers and short: logged the first time only. */
  ss__prefork_decide (&limits_2_40_2_4, 40, 0, 40, &policy, &d);
  ck_assert_uint_eq (d.spawn, 0);
  ck_assert (d.max_reached && d.log_max);
  ss__prefork_decide (&limits_2_40_2_4, 40, 1, 40, &policy, &d);
  ck_assert (d.max_reached && !d.log_max);
  /* Below min_workers: the missing ones at once, starting ones idle. */
  policy = (SsPreforkPolicy) { .spawn_rate = 1 };
  ss__prefork_decide (&limits_2_40_2_4, 0, 0, 0, &policy, &d);
  ck_assert_uint_eq (d.spawn, 2);
  ck_assert_uint_eq (policy.spawn_rate, 1);
  /* Children on their way out (recycled, retired) still hold their slots:
   * with 4 slots, 1 serving and 3 leaving, none can be forked yet. */
  {
    SsPreforkLimits l = { .min_workers = 2, .max_workers = 4, .min_spare = 1, .max_spare = 2 };

    policy = (SsPreforkPolicy) { .spawn_rate = 1 };
    ss__prefork_decide (&l, 1, 0, 4, &policy, &d);
    ck_assert_uint_eq (d.spawn, 0);
    ss__prefork_decide (&l, 1, 0, 3, &policy, &d);
    ck_assert_uint_eq (d.spawn, 1);
  }
}
END_TEST

/* ------------------------------------------------------------ servers */

/* The pool's cases fork children beside allocating test threads, which
 * deadlocks GCC 12's sanitizer allocators (helpers.h): SKIP there.
 * test-programs runs the pool in ss-echo, a process of its own, in those
 * builds too. */
#define SKIP_POOL_UNDER_SANITIZER()                                                  \
  do {                                                                               \
    if (test_fork_unsafe_sanitizer ())                                               \
      TEST_SKIP ("process pool case in a sanitizer build (fork beside allocating "   \
                 "threads, helpers.h)");                                             \
  } while (0)

typedef struct {
  SsStreamRequestHandler base;   /* the base, first member */
  gboolean failed;
} PoolHandler;

#define SPIN_S 2.0

/* Echoes lines; "fail" fails handle(), "crash" dies of SIGSEGV, "sleep"
 * sleeps 500 ms first, "spin" runs the CPU for SPIN_S first, "pid"
 * answers with the child's pid. */
static gboolean
pool_handle (SsRequestHandler *handler, GError **error)
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
          ((PoolHandler *) handler)->failed = TRUE;
          return FALSE;
        }
      if (g_str_equal (line->str, "crash\n"))
        {
          struct rlimit none = { 0, 0 };

          setrlimit (RLIMIT_CORE, &none);
          signal (SIGSEGV, SIG_DFL);
          raise (SIGSEGV);
        }
      if (g_str_equal (line->str, "sleep\n"))
        g_usleep (500 * 1000);
      if (g_str_equal (line->str, "spin\n"))
        {
          /* CPU-bound for SPIN_S: running, never asleep in the kernel.
           * Under valgrind 4 x, not 10 x: the client's receive timeout
           * (10 s, helpers.c) must outlast it. */
          gint64 end = g_get_monotonic_time () + (gint64) (SPIN_S * MIN (scale (), 4.0) * G_USEC_PER_SEC);

          while (g_get_monotonic_time () < end)
            ;
        }
      if (g_str_equal (line->str, "pid\n"))
        g_string_printf (line, "%d\n", (int) getpid ());
      if (!ss_wfile_write (self->wfile, line->str, line->len, error) ||
          !ss_wfile_flush (self->wfile, error))
        return FALSE;
    }
}

/* finish runs after a failed handle, in the child: it says so. */
static gboolean
pool_finish (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  if (((PoolHandler *) handler)->failed && !ss_wfile_write (self->wfile, "finish\n", 7, error))
    return FALSE;
  return ss_stream_request_handler_class.finish (handler, error);
}

SS_DEFINE_HANDLER_CLASS (PoolHandler, pool_handler_class,
                                ss_stream_request_handler_class,
                                .handle = pool_handle, .finish = pool_finish);

/* A server class whose hooks leave traces the client can see. */
static gboolean refuse_all;

static gboolean
hook_verify_request (SsServer *server, SsRequest *request)
{
  if (refuse_all)
    return FALSE;
  return ss_tcp_server_class.verify_request (server, request);   /* super() */
}

static void
hook_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  if (request != NULL && request->fd >= 0)
    {
      g_autofree char *line = g_strdup_printf ("handle_error: %s\n", error->message);

      (void) send (request->fd, line, strlen (line), MSG_NOSIGNAL);
    }
  ss_tcp_server_class.handle_error (server, request, error);   /* super() */
}

static const SsServerClass hook_server_class = {
  .name = "HookServer",
  .parent = &ss_tcp_server_class,
  .verify_request = hook_verify_request,
  .handle_error = hook_handle_error,
};

static SsServer *
new_pool_server (const SsServerClass *klass, const char *transport, const SsHandlerClass *handler,
                 guint min, guint max, guint min_spare, guint max_spare)
{
  g_autofree char *address = test_address_for (transport);
  GError *error = NULL;
  SsStrategy *strategy = ss_preforking_strategy_new (min, max, min_spare, &error);
  SsServer *server;

  ck_assert_msg (strategy != NULL, "%s", error ? error->message : "?");
  ck_assert (ss_preforking_strategy_set_limits (strategy, min, max, min_spare, max_spare, &error));
  ss_preforking_strategy_set_maintenance_interval (strategy, INTERVAL);
  if (klass == NULL)
    klass = ss_server_class_by_transport_name (transport, &error);
  ck_assert_ptr_nonnull (klass);
  server = ss_server_new (klass, address, handler, strategy, TRUE, &error);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  return server;
}

static void
end_connection (int fd)
{
  shutdown (fd, SHUT_RDWR);
  close (fd);
}

static int
connect_and_echo (SsServer *server, const char *msg)
{
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  test_send_all (fd, msg, strlen (msg));
  line = test_recv_line (fd);
  ck_assert_msg (line != NULL, "no echo for %s", msg);
  ck_assert_str_eq (line, msg);
  return fd;
}

static SsServerStats
stats_of (SsServer *server)
{
  SsServerStats st;

  ss_server_get_stats (server, &st);
  return st;
}

typedef struct {
  SsServer *server;
  guint value;
} Want;

static gboolean
workers_at_least (gpointer data)
{
  Want *w = data;
  SsServerStats st = stats_of (w->server);

  return st.workers >= w->value && st.idle >= 1;
}

static gboolean
workers_at_most (gpointer data)
{
  Want *w = data;

  return stats_of (w->server).workers <= w->value;
}

static gboolean
served_at_least (gpointer data)
{
  Want *w = data;

  return stats_of (w->server).served >= w->value;
}

/* Log lines the library writes, for the cases that check them. */
static GPtrArray *log_lines;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_ptr_array_add (log_lines, g_strdup (message));
}

static guint
logged (const char *needle)
{
  guint n = 0;

  for (guint i = 0; i < log_lines->len; i++)
    n += strstr (log_lines->pdata[i], needle) != NULL;
  return n;
}

static void
log_setup (void)
{
  log_lines = g_ptr_array_new_with_free_func (g_free);
  g_log_set_default_handler (capture_log, NULL);
}

static void
log_teardown (void)
{
  g_log_set_default_handler (g_log_default_handler, NULL);
  g_clear_pointer (&log_lines, g_ptr_array_unref);
}

/* ------------------------------------------------------------ echo */

START_TEST (test_echo_every_transport)
{
  SKIP_POOL_UNDER_SANITIZER ();
  const char *transport = test_transports[_i];
  gboolean stream = !g_str_equal (transport, "udp") && !g_str_equal (transport, "unix-dgram");
  SsServer *server = new_pool_server (NULL, transport,
                                      stream ? &ss_stream_echo_handler_class
                                             : &ss_datagram_echo_handler_class, 2, 4, 1, 2);
  TestServer *ts = test_server_start (server);
  Want two = { server, 2 };
  SsServerStats st;

  ck_assert (test_wait_until (workers_at_least, &two, 10 * scale ()));
  for (int i = 0; i < 5; i++)
    test_echo_once (server, "over the pool\n");
  Want five = { server, 5 };
  /* Counted in the children, seen here through the shared counters. */
  ck_assert (test_wait_until (served_at_least, &five, 10 * scale ()));
  st = stats_of (server);
  ck_assert_uint_eq (st.served, 5);
  ck_assert_uint_eq (st.errors, 0);
  ck_assert_uint_le (st.workers, 4);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ growth */

/* 30 connections held open keep 30 children busy: the pool grows to hold
 * them plus min_spare idle ones, and shrinks back one child per pass once
 * they are gone. */
START_TEST (test_grow_and_shrink)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 2, 40, 2, 4);
  TestServer *ts = test_server_start (server);
  int fds[30];
  Want grown = { server, 32 };
  Want rest = { server, 4 };
  SsServerStats st;
  SsPreforkingInfo info;

  for (int i = 0; i < 30; i++)
    {
      g_autofree char *msg = g_strdup_printf ("held %d\n", i);

      fds[i] = connect_and_echo (server, msg);
    }
  ck_assert_msg (test_wait_until (workers_at_least, &grown, 20 * scale ()), "the pool did not grow: %u workers",
                 stats_of (server).workers);
  st = stats_of (server);
  ck_assert_uint_ge (st.busy, 30);
  ck_assert_uint_le (st.workers, 40);
  ck_assert_uint_ge (st.spawned, 32);

  for (int i = 0; i < 30; i++)
    end_connection (fds[i]);
  /* 32+ down to max_spare 4 at one child per 0.1 s pass. */
  ck_assert_msg (test_wait_until (workers_at_most, &rest, 30 * scale ()), "the pool did not shrink: %u workers",
                 stats_of (server).workers);
  st = stats_of (server);
  ck_assert_uint_ge (st.workers, 2);
  ck_assert_uint_eq (st.busy, 0);
  ck_assert_uint_eq (st.served, 30);
  ck_assert_uint_ge (st.retired, st.spawned - 4);
  ss_preforking_strategy_get_info (server->strategy, &info);
  ck_assert_uint_eq (info.crashed, 0);
  test_server_stop (ts);
}
END_TEST

/* While requests are short only one child per two CPUs holds a place on
 * the socket, and keeps it while it serves (child.c). Children that hold
 * one and run a CPU-bound request (never asleep in the kernel) must not
 * make the backlog wait for them: the parent's sentinel lends their places
 * to standby children (sentinel.c), so a client that comes while they
 * spin is served before any of them is done. The held connections of
 * test_grow_and_shrink are the blocked (asleep) case. */
START_TEST (test_spinning_holders_lend_places)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 4, 12, 4, 8);
  TestServer *ts = test_server_start (server);
  guint holders = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN) / 2);
  Want ready = { server, 4 };
  int spinners[8], fd;
  g_autofree char *line = NULL;
  guint n = MIN (holders, G_N_ELEMENTS (spinners));

  SsPreforkingStrategy *pool = (SsPreforkingStrategy *) server->strategy;
  Want twenty = { server, 20 };
  gboolean capped;
  guint64 loans_before, loans;

  ck_assert (test_wait_until (workers_at_least, &ready, 10 * scale ()));
  /* Short requests first, so that the cap holds. */
  for (int i = 0; i < 20; i++)
    test_echo_once (server, "short\n");
  ck_assert (test_wait_until (served_at_least, &twenty, 10 * scale ()));
  /* Where requests are slow (valgrind: each takes more than the 0.5 ms
   * that lifts the cap) every idle child waits on the socket and no
   * place needs lending; the client must be served all the same. */
  capped = ss__prefork_capped (pool->shared)
           && __atomic_load_n (&pool->shared->on_socket, __ATOMIC_SEQ_CST) <= pool->shared->accept_cap;
  pthread_mutex_lock (&pool->lock);
  loans_before = pool->loans;
  pthread_mutex_unlock (&pool->lock);
  for (guint i = 0; i < n; i++)
    {
      spinners[i] = test_connect (server);
      test_send_all (spinners[i], "spin\n", 5);
    }
  fd = connect_and_echo (server, "while they spin\n");
  /* Served while every spinner still runs: none has answered yet. */
  for (guint i = 0; i < n; i++)
    {
      struct pollfd pfd = { .fd = spinners[i], .events = POLLIN };

      ck_assert_int_eq (poll (&pfd, 1, 0), 0);
    }
  /* And, with the cap holding, it was the sentinel's loan that served it. */
  pthread_mutex_lock (&pool->lock);
  loans = pool->loans;
  pthread_mutex_unlock (&pool->lock);
  if (capped)
    ck_assert_uint_gt (loans, loans_before);
  end_connection (fd);
  for (guint i = 0; i < n; i++)
    {
      line = test_recv_line (spinners[i]);
      ck_assert_str_eq (line, "spin\n");
      g_clear_pointer (&line, g_free);
      end_connection (spinners[i]);
    }
  test_server_stop (ts);
}
END_TEST

/* Requests that turn long lift the cap: every idle child then belongs on
 * the socket, and the standby ones are rung there, each of them (a
 * doorbell write wakes one waiter: a single write of three tokens left
 * two children asleep beside their tokens, and the backlog waited behind
 * busy children while they slept). */
static gboolean
none_standing_by (gpointer data)
{
  Want *w = data;
  SsPreforkingStrategy *pool = (SsPreforkingStrategy *) w->server->strategy;

  return !ss__prefork_capped (pool->shared)
         && __atomic_load_n (&pool->shared->standby, __ATOMIC_SEQ_CST) == 0
         && __atomic_load_n (&pool->shared->on_socket, __ATOMIC_SEQ_CST) == (gint) w->value;
}

START_TEST (test_long_requests_ring_every_standby_child)
{
  SKIP_POOL_UNDER_SANITIZER ();
  /* Three children more than the cap's places: three stand by while
   * requests are short, whatever the number of CPUs. */
  guint cap = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN) / 2);
  guint children = cap + 3;
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, children, children, 1,
                                      children);
  TestServer *ts = test_server_start (server);
  Want ready = { server, children };
  Want all_on_socket = { server, children };
  Want served = { server, 21 };
  int fd;

  ck_assert (test_wait_until (workers_at_least, &ready, 10 * scale ()));
  for (int i = 0; i < 20; i++)
    test_echo_once (server, "short\n");
  /* One request of 500 ms: the average crosses 0.5 ms. */
  fd = connect_and_echo (server, "sleep\n");
  end_connection (fd);
  ck_assert (test_wait_until (served_at_least, &served, 10 * scale ()));
  ck_assert_msg (test_wait_until (none_standing_by, &all_on_socket, 5 * scale ()),
                 "children still stand by with the cap lifted: %d standing by, %d on the socket",
                 ((SsPreforkingStrategy *) server->strategy)->shared->standby,
                 ((SsPreforkingStrategy *) server->strategy)->shared->on_socket);
  test_server_stop (ts);
}
END_TEST

/* Held connections keep the pool short of spares: each pass forks twice
 * what the last one did (1, 2, 4, 8), seen in last_spawned and in the
 * stats' spawned counter. */
START_TEST (test_spawn_rate_doubles)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 1, 64, 1, 1);
  SsStrategy *strategy = server->strategy;
  TestServer *ts;
  int fds[24];
  guint seen[8] = { 0 };
  guint64 spawned_at[8] = { 0 };
  guint n_seen = 0;
  guint64 last_pass = 0;
  gint64 deadline;

  /* Passes far enough apart for the new children to take connections. */
  ss_preforking_strategy_set_maintenance_interval (strategy, 0.4 * scale ());
  ts = test_server_start (server);
  for (int i = 0; i < 24; i++)
    {
      fds[i] = test_connect (server);
      test_send_all (fds[i], "sleep\n", 6);   /* keeps each child busy a while */
    }
  deadline = g_get_monotonic_time () + (gint64) (20 * scale () * G_USEC_PER_SEC);
  while (n_seen < 4 && g_get_monotonic_time () < deadline)
    {
      SsPreforkingInfo info;

      ss_preforking_strategy_get_info (strategy, &info);
      if (info.passes != last_pass)
        {
          last_pass = info.passes;
          spawned_at[n_seen] = stats_of (server).spawned;
          seen[n_seen++] = info.last_spawned;
        }
      g_usleep (5000);
    }
  ck_assert_uint_eq (n_seen, 4);
  ck_assert_uint_eq (seen[0], 1);
  ck_assert_uint_eq (seen[1], 2);
  ck_assert_uint_eq (seen[2], 4);
  ck_assert_uint_eq (seen[3], 8);
  /* One child at the start, then 1 + 2 + 4 + 8. */
  ck_assert_uint_eq (spawned_at[3], 1 + 1 + 2 + 4 + 8);
  for (int i = 0; i < 24; i++)
    end_connection (fds[i]);
  test_server_stop (ts);
}
END_TEST

START_TEST (test_max_workers_logged_once)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server;
  TestServer *ts;
  int fds[5];
  SsPreforkingInfo info;

  log_setup ();
  server = new_pool_server (NULL, "tcp", &pool_handler_class, 1, 3, 1, 1);
  ts = test_server_start (server);
  for (int i = 0; i < 3; i++)
    fds[i] = connect_and_echo (server, "hold\n");
  for (int i = 3; i < 5; i++)
    fds[i] = test_connect (server);   /* wait in the backlog */
  /* Ten passes at the limit. */
  g_usleep ((gulong) (10 * INTERVAL * G_USEC_PER_SEC));
  ss_preforking_strategy_get_info (server->strategy, &info);
  ck_assert (info.max_workers_reached);
  ck_assert_uint_le (stats_of (server).workers, 3);
  for (int i = 0; i < 5; i++)
    end_connection (fds[i]);
  test_server_stop (ts);
  ck_assert_uint_eq (logged ("reached max_workers"), 1);
  log_teardown ();
}
END_TEST

/* ------------------------------------------------------------ lifetime */

static char *
ask_pid (SsServer *server)
{
  int fd = test_connect (server);
  char *line;

  test_send_all (fd, "pid\n", 4);
  line = test_recv_line (fd);
  ck_assert_ptr_nonnull (line);
  end_connection (fd);
  return line;
}

static gboolean
two_recycled (gpointer data)
{
  SsPreforkingInfo info;

  ss_preforking_strategy_get_info (data, &info);
  return info.recycled >= 2;
}

START_TEST (test_recycle_after_max_requests)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 1, 1, 1, 1);
  g_autoptr (GHashTable) pids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  TestServer *ts;
  SsPreforkingInfo info;
  SsServerStats st;
  Want nine = { server, 9 };

  ss_preforking_strategy_set_max_requests (server->strategy, 3);
  ts = test_server_start (server);
  for (int i = 0; i < 9; i++)
    {
      char *pid = ask_pid (server);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (pids, pid));

      g_hash_table_replace (pids, pid, GUINT_TO_POINTER (n + 1));
    }
  /* One child at a time, each serving exactly three connections. */
  ck_assert_uint_eq (g_hash_table_size (pids), 3);
  {
    GHashTableIter iter;
    gpointer count;

    g_hash_table_iter_init (&iter, pids);
    while (g_hash_table_iter_next (&iter, NULL, &count))
      ck_assert_uint_eq (GPOINTER_TO_UINT (count), 3);
  }
  ck_assert (test_wait_until (served_at_least, &nine, 10 * scale ()));
  /* The first two left by themselves and were replaced (the third may
   * still be on its way out). */
  ck_assert (test_wait_until (two_recycled, server->strategy, 10 * scale ()));
  ss_preforking_strategy_get_info (server->strategy, &info);
  st = stats_of (server);
  ck_assert_uint_ge (info.recycled, 2);
  ck_assert_uint_ge (st.spawned, 3);
  ck_assert_uint_eq (info.crashed, 0);
  ck_assert_uint_eq (st.errors, 0);
  test_server_stop (ts);
}
END_TEST

static gboolean
crash_counted (gpointer data)
{
  SsPreforkingInfo info;

  ss_preforking_strategy_get_info (data, &info);
  return info.crashed == 1;
}

START_TEST (test_crashed_child_replaced)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server;
  TestServer *ts;
  Want two = { NULL, 2 };
  SsServerStats before, after;
  GString *got;
  int fd;

  log_setup ();
  server = new_pool_server (NULL, "tcp", &pool_handler_class, 2, 4, 1, 2);
  two.server = server;
  ts = test_server_start (server);
  ck_assert (test_wait_until (workers_at_least, &two, 10 * scale ()));
  before = stats_of (server);

  fd = test_connect (server);
  test_send_all (fd, "crash\n", 6);
  got = test_recv_all (fd, 64);
  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
  end_connection (fd);

  ck_assert (test_wait_until (crash_counted, server->strategy, 10 * scale ()));
  ck_assert (test_wait_until (workers_at_least, &two, 10 * scale ()));
  after = stats_of (server);
  ck_assert_uint_gt (after.spawned, before.spawned);
  ck_assert_uint_eq (after.errors, 1);
  test_echo_once (server, "still serving\n");
  test_server_stop (ts);

  ck_assert_uint_eq (logged ("killed by signal 11"), 1);
  ck_assert_uint_eq (logged ("while handling a request from 127.0.0.1:"), 1);
  log_teardown ();
}
END_TEST

START_TEST (test_foreign_child_not_reaped)
{
  SKIP_POOL_UNDER_SANITIZER ();
  pid_t foreign = fork ();
  SsServer *server;
  TestServer *ts;
  int status = 0;

  if (foreign == 0)
    _exit (72);
  ck_assert_int_gt (foreign, 0);

  server = new_pool_server (NULL, "tcp", &pool_handler_class, 1, 2, 1, 1);
  /* Every connection makes a child exit and be reaped. */
  ss_preforking_strategy_set_max_requests (server->strategy, 1);
  ts = test_server_start (server);
  for (int i = 0; i < 4; i++)
    g_free (ask_pid (server));
  test_server_stop (ts);

  /* The pool waited for its own children only. */
  ck_assert_int_eq (waitpid (foreign, &status, 0), foreign);
  ck_assert (WIFEXITED (status));
  ck_assert_int_eq (WEXITSTATUS (status), 72);
}
END_TEST

/* ------------------------------------------------------------ hooks */

static int hook_pipe[2];

/* In a child: no check assertion here. check's assertions take a lock of
 * check's own, which another thread of the test may have held when the
 * pool forked this child; a wrong value is written down for the test to
 * see instead. */
static void
write_hook (const char *what, gpointer data)
{
  g_autofree char *line = g_strdup_printf ("%s %d %s\n", what, (int) getpid (),
                                           g_strcmp0 (data, "hook data") == 0 ? "ok" : "bad-data");

  (void) !write (hook_pipe[1], line, strlen (line));
}

static void
on_child_init (SsServer *server, gpointer data)
{
  write_hook ("init", data);
}

static void
on_child_exit (SsServer *server, gpointer data)
{
  write_hook ("exit", data);
}

/* Into a buffer on the stack: a heap block that only this thread points
 * at (maybe from a register) looks lost to valgrind in a child that the
 * pool forks meanwhile from its own thread. Fails the test when no line
 * comes within 10 s. */
static void
read_hook_line (char line[64], const char *what)
{
  struct pollfd pfd = { .fd = hook_pipe[0], .events = POLLIN };
  gsize n = 0;
  char c;

  for (;;)
    {
      ck_assert_msg (poll (&pfd, 1, (int) (10000 * scale ())) == 1, "no %s line from a child hook", what);
      if (read (hook_pipe[0], &c, 1) != 1 || c == '\n' || n == 63)
        break;
      line[n++] = c;
    }
  line[n] = '\0';
}

START_TEST (test_hooks_in_child)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (&hook_server_class, "tcp", &pool_handler_class, 1, 1, 1, 1);
  TestServer *ts;
  GString *got;
  int fd;
  char init1[64], exit1[64], init2[64];

  ck_assert_int_eq (pipe (hook_pipe), 0);
  ss_preforking_strategy_set_child_hooks (server->strategy, on_child_init, on_child_exit,
                                          (gpointer) "hook data");
  ss_preforking_strategy_set_max_requests (server->strategy, 1);
  refuse_all = FALSE;
  ts = test_server_start (server);

  /* handle fails: finish still runs, then handle_error, in the child. */
  fd = test_connect (server);
  test_send_all (fd, "fail\n", 5);
  shutdown (fd, SHUT_WR);
  got = test_recv_all (fd, 256);
  ck_assert_str_eq (got->str, "finish\nhandle_error: asked to fail\n");
  g_string_free (got, TRUE);
  end_connection (fd);

  /* child_init before the first accept, child_exit when it leaves after
   * its max_requests, then its replacement's child_init. */
  read_hook_line (init1, "first child_init");
  read_hook_line (exit1, "child_exit");
  read_hook_line (init2, "second child_init");
  ck_assert (g_str_has_prefix (init1, "init ") && g_str_has_suffix (init1, " ok"));
  ck_assert (g_str_has_prefix (exit1, "exit ") && g_str_has_suffix (exit1, " ok"));
  ck_assert_int_eq (atoi (init1 + 5), atoi (exit1 + 5));
  ck_assert (g_str_has_prefix (init2, "init ") && g_str_has_suffix (init2, " ok"));
  ck_assert_int_ne (atoi (init2 + 5), atoi (init1 + 5));
  ck_assert_int_ne (atoi (init1 + 5), getpid ());
  ck_assert_uint_eq (stats_of (server).errors, 1);
  test_server_stop (ts);
  close (hook_pipe[0]);
  close (hook_pipe[1]);
}
END_TEST

START_TEST (test_verify_request_in_child)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (&hook_server_class, "tcp", &pool_handler_class, 1, 2, 1, 1);
  TestServer *ts;
  GString *got;
  int fd;

  refuse_all = TRUE;   /* copied into every child forked from now on */
  ts = test_server_start (server);
  fd = test_connect (server);
  test_send_all (fd, "anyone?\n", 8);
  got = test_recv_all (fd, 64);
  ck_assert_uint_eq (got->len, 0);   /* refused: shut down unprocessed */
  g_string_free (got, TRUE);
  end_connection (fd);
  /* Counted in the child, which refused it before closing. */
  ck_assert_uint_eq (stats_of (server).rejected, 1);
  ck_assert_uint_eq (stats_of (server).served, 0);
  test_server_stop (ts);
  refuse_all = FALSE;
}
END_TEST

/* ------------------------------------------------------------ close */

START_TEST (test_close_waits_for_busy_child)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 2, 4, 1, 2);
  TestServer *ts = test_server_start (server);
  g_autofree char *line = NULL;
  SsServerStats st;
  int fd;

  fd = connect_and_echo (server, "hello\n");
  test_send_all (fd, "sleep\n", 6);
  shutdown (fd, SHUT_WR);   /* the child ends after its sleep */

  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ss_server_server_close (server);
  /* block_on_close: the child finished its request before close returned. */
  line = test_recv_line (fd);
  ck_assert_str_eq (line, "sleep\n");
  st = stats_of (server);
  ck_assert_uint_eq (st.workers, 0);
  ck_assert_uint_eq (st.retired, st.spawned);
  ck_assert_uint_eq (st.served, 1);
  ss_server_free (server);
  g_free (ts);
  close (fd);
}
END_TEST

START_TEST (test_handle_request_runs_inline)
{
  SKIP_POOL_UNDER_SANITIZER ();
  SsServer *server = new_pool_server (NULL, "tcp", &pool_handler_class, 2, 4, 1, 2);
  GError *error = NULL;
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  /* No pool outside serve_forever: the request runs in this process. */
  test_send_all (fd, "pid\n", 4);
  shutdown (fd, SHUT_WR);
  server->timeout = 5;
  ck_assert (ss_server_handle_request (server, &error));
  line = test_recv_line (fd);
  ck_assert_int_eq (atoi (line), getpid ());
  ck_assert_uint_eq (stats_of (server).workers, 0);
  ck_assert_uint_eq (stats_of (server).served, 1);
  close (fd);
  ss_server_free (server);
}
END_TEST

START_TEST (test_bad_limits)
{
  GError *error = NULL;
  SsStrategy *s;

  ck_assert_ptr_null (ss_preforking_strategy_new (5, 2, 1, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_ptr_null (ss_preforking_strategy_new (0, 0, 1, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  s = ss_preforking_strategy_new (1, 4, 2, &error);
  ck_assert_ptr_nonnull (s);
  ck_assert (!ss_preforking_strategy_set_limits (s, 1, 4, 3, 2, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (ss_preforking_strategy_set_limits (s, 1, 8, 2, SS_PREFORKING_MAX_SPARE_DEFAULT, &error));
  ck_assert_str_eq (ss_strategy_name (s), "preforking");
  ck_assert (ss_is_preforking_strategy (s));
  ss_strategy_free (s);
  s = ss_strategy_new_by_name ("preforking", &error);
  ck_assert_ptr_nonnull (s);
  ss_strategy_free (s);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("preforking");
  TCase *tc;

  tc = tcase_create ("/preforking/policy");
  tcase_add_test (tc, test_policy_spawn_rate_doubles);
  tcase_add_test (tc, test_policy_retire_one_per_pass);
  tcase_add_test (tc, test_policy_limits);
  tcase_add_test (tc, test_bad_limits);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/preforking/pool");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_echo_every_transport, 0, 4);
  tcase_add_test (tc, test_grow_and_shrink);
  tcase_add_test (tc, test_spinning_holders_lend_places);
  tcase_add_test (tc, test_long_requests_ring_every_standby_child);
  tcase_add_test (tc, test_spawn_rate_doubles);
  tcase_add_test (tc, test_max_workers_logged_once);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/preforking/children");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_recycle_after_max_requests);
  tcase_add_test (tc, test_crashed_child_replaced);
  tcase_add_test (tc, test_foreign_child_not_reaped);
  tcase_add_test (tc, test_hooks_in_child);
  tcase_add_test (tc, test_verify_request_in_child);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/preforking/close");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_close_waits_for_busy_child);
  tcase_add_test (tc, test_handle_request_runs_inline);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
