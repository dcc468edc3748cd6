/* test-drain.c: ss_server_drain and the stats line (operations.h).
 *
 * A drain must (1) refuse new connections at once, (2) keep serving the
 * connections it accepted, and end as soon as they end, and (3) force the
 * ones still open at its deadline: a connection served by a thread is
 * shut down under its handler (the client reads EOF), a worker process
 * gets SIGTERM. Each case holds a real connection on loopback and checks
 * those three from the client's side, and the count drain returns.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* "close and stay": the handler closes its own connection, puts a socket
 * of its own at that fd number (dup2, so the number is surely reused),
 * and stays until released; then it notes whether that socket was shut
 * down under it. */
static struct {
  gint closed;      /* (atomic) the handler closed its connection */
  gint release;     /* (atomic) */
  gint victim_hit;  /* (atomic) its socket at the old number was shut down */
} stay;

static void
close_and_stay (SsRequestHandler *handler)
{
  int number = handler->request->fd;
  int pair[2];
  struct pollfd pfd;

  ss_server_shutdown_request (handler->server, handler->request);
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  ck_assert_int_eq (dup2 (pair[0], number), number);
  g_atomic_int_set (&stay.closed, 1);
  for (int i = 0; i < 1000 && !g_atomic_int_get (&stay.release); i++)
    g_usleep (10 * 1000);
  pfd = (struct pollfd) { .fd = pair[1], .events = POLLIN };
  g_atomic_int_set (&stay.victim_hit, poll (&pfd, 1, 0) > 0);
  close (number);
  close (pair[0]);
  close (pair[1]);
}

static gboolean
stay_closed (gpointer data)
{
  return g_atomic_int_get (&stay.closed);
}

/* Echoes lines until EOF; a read error (a forced shutdown) ends it too;
 * "exit" ends the handler's thread (pthread_exit); "close and stay" as
 * above. */
static gboolean
echo_handle (SsRequestHandler *handler, GError **error)
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
      if (g_str_equal (line->str, "exit\n"))
        {
          g_string_free (g_steal_pointer (&line), TRUE); /* no g_autoptr cleanup on the way out */
          pthread_exit (NULL);
        }
      if (g_str_equal (line->str, "close and stay\n"))
        {
          close_and_stay (handler);
          return TRUE;
        }
      if (!ss_wfile_write (self->wfile, line->str, line->len, error)
          || !ss_wfile_flush (self->wfile, error))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, echo_handler_class,
                         ss_stream_request_handler_class, .handle = echo_handle);

/* Not sync: its one connection is served inside serve_forever, so nothing
 * is held once that returned. */
static const char *const drain_strategies[] = { "threading", "threadpooling", "forking",
                                                "preforking" };

static gboolean
is_process_strategy (const char *name)
{
  return g_str_equal (name, "forking") || g_str_equal (name, "preforking");
}

static SsServer *
new_server (const char *strategy_name)
{
  g_autoptr (GError) error = NULL;
  SsStrategy *strategy;
  SsServer *server;

  if (g_str_equal (strategy_name, "preforking"))
    strategy = ss_preforking_strategy_new (2, 4, 1, &error);
  else
    strategy = test_strategy (strategy_name);
  ck_assert_msg (strategy != NULL, "%s", error ? error->message : "?");
  server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &echo_handler_class, strategy,
                          TRUE, &error);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  return server;
}

static void
exchange (int fd, const char *msg)
{
  g_autofree char *line = NULL;

  test_send_all (fd, msg, strlen (msg));
  line = test_recv_line (fd);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", msg);
}

/* A connect to @address that is refused (the listening socket is gone). */
static gboolean
refused (const SsAddress *address)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc, errsv;

  ck_assert_int_ge (fd, 0);
  rc = connect (fd, (const struct sockaddr *) &address->storage, address->len);
  errsv = errno;
  close (fd);
  return rc < 0 && errsv == ECONNREFUSED;
}

typedef struct {
  SsServer *server;
  double timeout;
  guint forced;
  gint64 took_us;
  gint done;   /* (atomic) */
} DrainRun;

static gpointer
drain_thread (gpointer data)
{
  DrainRun *run = data;
  gint64 start = g_get_monotonic_time ();

  run->forced = ss_server_drain (run->server, run->timeout);
  run->took_us = g_get_monotonic_time () - start;
  g_atomic_int_set (&run->done, 1);
  return NULL;
}

static gboolean
drain_done (gpointer data)
{
  return g_atomic_int_get (&((DrainRun *) data)->done);
}

/* Serves one held connection, stops serve_forever, and starts the drain
 * on a thread. */
static GThread *
start_drain (const char *strategy_name, double timeout, DrainRun *run, int *held,
             SsAddress *address)
{
  SsServer *server = new_server (strategy_name);
  TestServer *ts = test_server_start (server);

  *address = server->server_address;
  *held = test_connect (server);
  exchange (*held, "before the drain\n");
  /* test_server_stop would free the server: stop the loop only. */
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  g_free (ts);

  *run = (DrainRun) { .server = server, .timeout = timeout };
  return g_thread_new ("drain", drain_thread, run);
}

/* The held connection is served through the drain and ends it. */
START_TEST (test_drain_serves_held)
{
  const char *name = drain_strategies[_i];
  DrainRun run;
  SsAddress address;
  GThread *thread;
  int held;

  if (is_process_strategy (name) && test_fork_unsafe_sanitizer ())
    TEST_SKIP ("%s in a sanitizer build (fork beside allocating threads, helpers.h)", name);
  thread = start_drain (name, 20.0, &run, &held, &address);

  ck_assert_msg (test_wait_until ((gboolean (*) (gpointer)) refused, &address, 5),
                 "%s: new connections still accepted during the drain", name);
  exchange (held, "during the drain\n");
  g_usleep (200 * 1000);
  exchange (held, "still during the drain\n");
  ck_assert_msg (!drain_done (&run), "%s: drain returned with a connection open", name);
  /* shutdown, not only close: a forking child forked in this process
   * holds a copy of the client's fd too. */
  shutdown (held, SHUT_WR);
  close (held);
  ck_assert_msg (test_wait_until (drain_done, &run, 10),
                 "%s: drain still running 10 s after its last client left", name);
  g_thread_join (thread);
  ck_assert_uint_eq (run.forced, 0);
  ck_assert_msg (run.took_us < 15 * G_USEC_PER_SEC, "%s: drain took %.1f s", name,
                 run.took_us / 1e6);
  ss_server_free (run.server);
}
END_TEST

/* A client that never leaves is cut off at the deadline. */
START_TEST (test_drain_forces_at_deadline)
{
  const char *name = drain_strategies[_i];
  g_autoptr (GString) rest = NULL;
  DrainRun run;
  SsAddress address;
  GThread *thread;
  int held;

  if (is_process_strategy (name) && test_fork_unsafe_sanitizer ())
    TEST_SKIP ("%s in a sanitizer build (fork beside allocating threads, helpers.h)", name);
  thread = start_drain (name, 0.5, &run, &held, &address);

  ck_assert_msg (test_wait_until (drain_done, &run, 0.3 + 0.5 + SS_DRAIN_KILL_GRACE + 5),
                 "%s: drain did not end after its deadline", name);
  g_thread_join (thread);
  ck_assert_msg (run.took_us >= 450 * 1000, "%s: forced after %.3f s, before the 0.5 s deadline",
                 name, run.took_us / 1e6);
  ck_assert_uint_ge (run.forced, 1);
  /* The client sees its connection end (EOF or a reset), not silence. */
  rest = test_recv_all (held, 4096);
  ck_assert_uint_eq (rest->len, 0);
  ck_assert (refused (&address));
  close (held);
  ss_server_free (run.server);
}
END_TEST

/* Handlers that ended their threads (pthread_exit) leave nothing behind
 * in the list a forcing drain walks: it forces the one held connection,
 * and only it. (Before, each left its stack node linked: the drain read
 * dead threads' stacks, counted them, or looped where a new thread's node
 * sat at the same address.) */
static const char *const thread_strategies[] = { "threading", "threadpooling" };

START_TEST (test_drain_after_handlers_exit_their_threads)
{
  const char *name = thread_strategies[_i];
  SsServer *server = new_server (name);
  TestServer *ts = test_server_start (server);
  g_autoptr (GString) rest = NULL;
  GThread *thread;
  DrainRun run;
  int held;

  for (int i = 0; i < 3; i++)
    {
      int quitter = test_connect (server);
      GString *gone;

      test_send_all (quitter, "exit\n", 5);
      gone = test_recv_all (quitter, 64);
      ck_assert_uint_eq (gone->len, 0);
      g_string_free (gone, TRUE);
      close (quitter);
    }
  held = test_connect (server);
  exchange (held, "after the exits\n");
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  g_free (ts);

  run = (DrainRun) { .server = server, .timeout = 0.3 };
  thread = g_thread_new ("drain", drain_thread, &run);
  ck_assert_msg (test_wait_until (drain_done, &run, 10), "%s: drain did not end in 10 s", name);
  g_thread_join (thread);
  ck_assert_uint_eq (run.forced, 1);
  rest = test_recv_all (held, 64);
  ck_assert_uint_eq (rest->len, 0);
  close (held);
  ss_server_free (server);
}
END_TEST

/* A handler that closed its connection itself and still runs: the fd
 * number it had may belong to anything by the deadline, and a forcing
 * drain must not shut that down (it did, from the stale list entry). */
START_TEST (test_drain_spares_a_connection_its_handler_closed)
{
  const char *name = thread_strategies[_i];
  SsServer *server = new_server (name);
  TestServer *ts = test_server_start (server);
  g_autoptr (GString) gone = NULL;
  GThread *thread;
  DrainRun run;
  gint64 started;
  int c;

  stay.closed = stay.release = stay.victim_hit = 0;
  c = test_connect (server);
  test_send_all (c, "close and stay\n", 15);
  gone = test_recv_all (c, 64);
  ck_assert_uint_eq (gone->len, 0);
  ck_assert (test_wait_until (stay_closed, NULL, 10));
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  g_free (ts);

  run = (DrainRun) { .server = server, .timeout = 0.2 };
  started = g_get_monotonic_time ();
  thread = g_thread_new ("drain", drain_thread, &run);
  /* Past the deadline (and the force it starts), then let the handler go. */
  while (g_get_monotonic_time () - started < 700 * 1000)
    g_usleep (10 * 1000);
  g_atomic_int_set (&stay.release, 1);
  ck_assert_msg (test_wait_until (drain_done, &run, 10), "%s: drain did not end in 10 s", name);
  g_thread_join (thread);
  ck_assert_msg (!g_atomic_int_get (&stay.victim_hit),
                 "%s: the drain shut down the socket that took the closed connection's fd number",
                 name);
  ck_assert_uint_eq (run.forced, 0);
  close (c);
  ss_server_free (server);
}
END_TEST

/* Nothing held: the drain returns at once, closes the socket. */
START_TEST (test_drain_idle)
{
  SsServer *server = new_server ("threadpooling");
  SsAddress address = server->server_address;
  gint64 start = g_get_monotonic_time ();

  ck_assert_uint_eq (ss_server_drain (server, 10.0), 0);
  ck_assert_msg (g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC, "idle drain took long");
  ck_assert_int_lt (ss_server_fileno (server), 0);
  ck_assert (refused (&address));
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ stats line */

START_TEST (test_stats_line)
{
  SsServer *server = new_server ("threadpooling");
  TestServer *ts = test_server_start (server);
  g_autofree char *line = NULL;
  int fd;

  fd = test_connect (server);
  exchange (fd, "one\n");
  close (fd);
  fd = test_connect (server);
  exchange (fd, "two\n");
  close (fd);
  /* served counts when finish_request returns, after the echo: wait. */
  for (int i = 0; i < 500; i++)
    {
      SsServerStats st;

      ss_server_get_stats (server, &st);
      if (st.served >= 2)
        break;
      g_usleep (10000);
    }
  line = ss_server_stats_line (server);
  ck_assert_msg (g_regex_match_simple ("^workers=[1-9][0-9]* busy=[0-9]+ idle=[0-9]+ queued=0 "
                                       "served=2 rejected=0 spawned=[1-9][0-9]* retired=[0-9]+ "
                                       "errors=0$", line, 0, 0),
                 "stats line: \"%s\"", line);
  test_server_stop (ts);
}
END_TEST

START_TEST (test_stats_signal_refused)
{
  SsServer *server = new_server ("sync");
  g_autoptr (GError) error = NULL;
  SsOpsSignal *watch = ss_server_print_stats_on_signal (server, SIGTERM, &error);
  SsOpsSignal *first;

  ck_assert (watch == NULL);
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  first = ss_server_print_stats_on_signal (server, SIGUSR2, &error);
  ck_assert_msg (first != NULL, "%s", error ? error->message : "?");
  watch = ss_server_print_stats_on_signal (server, SIGUSR2, &error);
  ck_assert (watch == NULL);
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  ss_ops_signal_free (first);
  ss_server_free (server);
}
END_TEST

/* check's runner handles SIGTERM by killing its whole process group, and
 * the test process inherits that handler, and so would the server's
 * worker processes that a drain sends SIGTERM: give them the default. */
static void
setup (void)
{
  signal (SIGTERM, SIG_DFL);
}

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("drain");
  TCase *tc;

  signal (SIGPIPE, SIG_IGN);
  tc = tcase_create ("/drain");
  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_drain_serves_held, 0, G_N_ELEMENTS (drain_strategies));
  tcase_add_loop_test (tc, test_drain_forces_at_deadline, 0, G_N_ELEMENTS (drain_strategies));
  tcase_add_test (tc, test_drain_idle);
  tcase_add_loop_test (tc, test_drain_after_handlers_exit_their_threads, 0, G_N_ELEMENTS (thread_strategies));
  tcase_add_loop_test (tc, test_drain_spares_a_connection_its_handler_closed, 0,
                       G_N_ELEMENTS (thread_strategies));
  suite_add_tcase (s, tc);

  tc = tcase_create ("/stats");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_stats_line);
  tcase_add_test (tc, test_stats_signal_refused);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
