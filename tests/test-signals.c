/* test-signals.c: ss_server_shutdown_on_signals and what the processes
 * around a watched server inherit (issue 13, item 3).
 *
 * A watch must leave no trace outside the watching process: a child of
 * the forking strategy, and a program a handler spawns, get the signal mask
 * and dispositions the program had before the watch, so SIGTERM stops them
 * as it would have. Freeing a watch never stops the server, and a watch
 * created after the strategy's threads exist still takes the signal
 * (a process-directed signal may be delivered to any thread).
 *
 * The forking case runs handle_request in the test's own thread, so no
 * other thread of this process allocates while it forks (helpers.h says
 * why that matters under the sanitizers).
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What a process does with SIGINT and SIGTERM: blocked in the calling
 * thread, and whether the disposition is the default one. */
typedef struct {
  gboolean int_blocked, term_blocked;
  gboolean int_default, term_default;
} SignalState;

static SignalState
signal_state_now (void)
{
  SignalState st;
  struct sigaction sa;
  sigset_t mask;

  pthread_sigmask (SIG_SETMASK, NULL, &mask);
  st.int_blocked = sigismember (&mask, SIGINT) == 1;
  st.term_blocked = sigismember (&mask, SIGTERM) == 1;
  sigaction (SIGINT, NULL, &sa);
  st.int_default = sa.sa_handler == SIG_DFL;
  sigaction (SIGTERM, NULL, &sa);
  st.term_default = sa.sa_handler == SIG_DFL;
  return st;
}

/* ------------------------------------------------------------ children */

/* Writes the child's SignalState back to the client, raw. */
static gboolean
report_state_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  SignalState st = signal_state_now ();

  return ss_wfile_write (self->wfile, &st, sizeof st, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, report_state_handler_class,
                         ss_stream_request_handler_class,
                         .handle = report_state_handle);

static SignalState
read_state (int fd)
{
  SignalState st;
  GString *got = test_recv_all (fd, sizeof st + 1);

  ck_assert_uint_eq (got->len, sizeof st);
  memcpy (&st, got->str, sizeof st);
  g_string_free (got, TRUE);
  return st;
}

/* A forked request child has no watcher thread: it gets what the program
 * had before the watch (here: nothing blocked, default dispositions). */
START_TEST (test_forked_child_state)
{
  SignalState before = signal_state_now ();
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &report_state_handler_class,
                                        ss_forking_strategy_new (), &error);
  SsSignalWatch *watch;
  SignalState child;
  int fd;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  ck_assert (!before.int_blocked && !before.term_blocked);
  watch = ss_server_shutdown_on_signals (server, &error);
  ck_assert_msg (watch != NULL, "%s", error ? error->message : "?");

  fd = test_connect (server);
  server->timeout = 10;
  ck_assert (ss_server_handle_request (server, &error));   /* forks the child */
  child = read_state (fd);
  close (fd);
  ck_assert_msg (!child.int_blocked && !child.term_blocked,
                 "the forked child blocks SIGINT %d, SIGTERM %d", child.int_blocked, child.term_blocked);
  ck_assert_int_eq (child.int_default, before.int_default);
  ck_assert_int_eq (child.term_default, before.term_default);

  ss_forking_strategy_collect_children (server->strategy, server, TRUE);
  ss_signal_watch_free (watch);
  ss_server_free (server);
}
END_TEST

/* The "SigBlk:" mask in /proc/PID/status text. */
static guint64
sigblk_of (const char *status)
{
  const char *line = strstr (status, "SigBlk:");

  ck_assert_msg (line != NULL, "no SigBlk in: %s", status);
  return g_ascii_strtoull (line + strlen ("SigBlk:"), NULL, 16);
}

/* Spawns grep (posix_spawn, as system() and popen() do) with its output on
 * the connection: grep prints its own /proc/self/status signal lines. */
static gboolean
spawn_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  char *argv[] = { (char *) "grep", (char *) "^Sig", (char *) "/proc/self/status", NULL };
  posix_spawn_file_actions_t actions;
  int status = 0, rc;
  pid_t pid;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, self->connection, STDOUT_FILENO);
  rc = posix_spawnp (&pid, "grep", &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  if (rc != 0)
    {
      ss_set_error_from_errno (error, rc, "posix_spawn grep", NULL);
      return FALSE;
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, spawn_handler_class,
                         ss_stream_request_handler_class,
                         .handle = spawn_handle);

/* A program a handler thread spawns gets the program's mask, not one with
 * SIGINT/SIGTERM blocked that only the watcher thread could take. */
START_TEST (test_spawned_program_mask)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &spawn_handler_class,
                                        test_strategy (_i == 0 ? "threading" : "sync"), &error);
  SsSignalWatch *watch;
  TestServer *ts;
  GString *got;
  guint64 blocked;
  int fd;

#if defined(__SANITIZE_THREAD__)
  /* TSan builds steer the signals by blocking them in the threads that
   * run handlers (signals.c), which a spawned program then inherits. */
  ss_server_free (server);
  TEST_SKIP ("in a TSan build (signals.c: the watch blocks the signals there)");
#endif
  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  watch = ss_server_shutdown_on_signals (server, &error);
  ck_assert_msg (watch != NULL, "%s", error ? error->message : "?");
  ts = test_server_start (server);
  fd = test_connect (server);
  shutdown (fd, SHUT_WR);
  got = test_recv_all (fd, 4096);
  close (fd);
  blocked = sigblk_of (got->str);
  ck_assert_msg ((blocked & ((1u << (SIGINT - 1)) | (1u << (SIGTERM - 1)))) == 0,
                 "the spawned program blocks SIGINT/SIGTERM: SigBlk %" G_GINT64_MODIFIER "x", blocked);
  g_string_free (got, TRUE);
  test_server_stop (ts);
  ss_signal_watch_free (watch);
}
END_TEST

/* ------------------------------------------------------------ the watch */

/* Connects, sends a line and waits up to 2 s for its echo. */
static gboolean
echoes_within_2s (SsServer *server)
{
  int fd = test_connect (server);
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char buf[16];
  gboolean ok;

  test_send_all (fd, "ping\n", 5);
  ok = poll (&pfd, 1, 2000) == 1 && recv (fd, buf, sizeof buf, 0) == 5;
  close (fd);
  return ok;
}

/* Freeing a watch that took no signal leaves the server alone: it serves
 * afterwards as if the watch had never been. */
START_TEST (test_free_does_not_stop)
{
  SignalState before = signal_state_now (), after;
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, NULL, &error);
  SsSignalWatch *watch;
  TestServer *ts;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  watch = ss_server_shutdown_on_signals (server, &error);
  ck_assert_msg (watch != NULL, "%s", error ? error->message : "?");
  ss_signal_watch_free (watch);
  after = signal_state_now ();
  ck_assert_mem_eq (&after, &before, sizeof before);   /* mask and dispositions as they were */

  ts = test_server_start (server);
  ck_assert_msg (echoes_within_2s (server), "the server stopped serving after its watch was freed");
  g_usleep (100 * 1000);
  ck_assert_msg (echoes_within_2s (server), "the server stopped serving after its watch was freed");
  test_server_stop (ts);
}
END_TEST

/* A watch created while the pool's workers already run: the kernel may
 * hand the process-directed signal to any thread, and it must still end
 * serve_forever rather than the process. */
START_TEST (test_watch_after_threads)
{
  int sig = _i == 0 ? SIGTERM : SIGINT;
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class,
                                        test_strategy ("threadpooling"), &error);
  SsSignalWatch *watch;
  TestServer *ts;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  ts = test_server_start (server);
  test_echo_once (server, "workers are running\n");
  watch = ss_server_shutdown_on_signals (server, &error);
  ck_assert_msg (watch != NULL, "%s", error ? error->message : "?");

  for (int i = 0; i < 3; i++)
    test_echo_once (server, "still serving\n");
  ck_assert_int_eq (kill (getpid (), sig), 0);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ck_assert_int_eq (ss_signal_watch_signal (watch), sig);
  ss_signal_watch_free (watch);
  ss_server_free (server);
  g_free (ts);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("signals");
  TCase *tc;

  tc = tcase_create ("/signals/children");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_forked_child_state);
  tcase_add_loop_test (tc, test_spawned_program_mask, 0, 2);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/signals/watch");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_free_does_not_stop);
  tcase_add_loop_test (tc, test_watch_after_threads, 0, 2);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
