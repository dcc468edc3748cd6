/* test-forking.c: what ForkingMixIn promises beyond echo (echo itself is in
 * test-strategies).
 *
 * max_children is respected (the server blocks while at the limit); a child
 * the program forked itself keeps its exit status (CPython issue 1540386);
 * a failed request makes its child exit 1; block_on_close waits for the
 * children; a child killed by a signal is reaped and logged and the server
 * keeps serving; the 300 s default timeout.
 *
 * The clients live in the same process as the server, so every child
 * inherits copies of the client sockets: the tests end connections with
 * shutdown(), which the peer sees whatever copies exist, not close() alone.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent's listening fd number, for "close" below. */
static int parent_listen_fd = -1;

/* "close": in the child, the listening socket's old number is taken by
 * another file (as any open() in a handler may take it), then the child
 * closes its copy of the server. Replies "kept" when that file survived. */
static gboolean
close_in_child (SsStreamRequestHandler *self, GError **error)
{
  int other = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  gboolean kept;

  ck_assert_int_ge (other, 0);
  if (other != parent_listen_fd)
    {
      ck_assert_int_eq (dup2 (other, parent_listen_fd), parent_listen_fd);
      close (other);
    }
  ss_server_server_close (self->parent.server);
  kept = fcntl (parent_listen_fd, F_GETFD) >= 0;
  close (parent_listen_fd);
  return ss_wfile_write_string (self->wfile, kept ? "kept\n" : "lost\n", error)
         && ss_wfile_flush (self->wfile, error);
}

/* Echoes lines; "fail" fails handle(), "crash" dies of SIGSEGV, "sleep"
 * sleeps 500 ms first, "close" closes the child's copy of the server,
 * "shutdown" shuts it down (then echoes). */
static gboolean
child_handle (SsRequestHandler *handler, GError **error)
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
      if (g_str_equal (line->str, "crash\n"))
        {
          struct rlimit none = { 0, 0 };

          setrlimit (RLIMIT_CORE, &none);   /* no core file from the test */
          signal (SIGSEGV, SIG_DFL);        /* past any sanitizer's handler */
          raise (SIGSEGV);
        }
      if (g_str_equal (line->str, "sleep\n"))
        g_usleep (500 * 1000);
      if (g_str_equal (line->str, "close\n"))
        return close_in_child (self, error);
      if (g_str_equal (line->str, "shutdown\n"))
        ss_server_shutdown (handler->server);   /* the child's copy: Python's shutdown() in a child */
      if (!ss_wfile_write (self->wfile, line->str, line->len, error) ||
          !ss_wfile_flush (self->wfile, error))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, child_handler_class,
                         ss_stream_request_handler_class,
                         .handle = child_handle);

static SsServer *
new_forking_server (const char *transport)
{
  g_autofree char *address = test_address_for (transport);
  GError *error = NULL;
  const SsServerClass *klass = ss_server_class_by_transport_name (transport, &error);
  SsServer *server;

  ck_assert_ptr_nonnull (klass);
  server = ss_server_new (klass, address, &child_handler_class, ss_forking_strategy_new (),
                          TRUE, &error);
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

static gboolean
readable_within (int fd, int ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  return poll (&pfd, 1, ms) == 1;
}

static gboolean
no_children (gpointer data)
{
  return ss_forking_strategy_active_children (data) == 0;
}

static gboolean
one_served (gpointer data)
{
  SsServerStats st;

  ss_server_get_stats (data, &st);
  return st.served == 1;
}

static gboolean
two_children (gpointer data)
{
  return ss_forking_strategy_active_children (data) == 2;
}

/* ------------------------------------------------------------ max_children */

START_TEST (test_max_children)
{
  SsServer *server = new_forking_server ("tcp");
  SsStrategy *strategy = server->strategy;
  TestServer *ts;
  int a, b, c;
  g_autofree char *line = NULL;

  ss_forking_strategy_set_max_children (strategy, 2);
  ts = test_server_start (server);
  a = connect_and_echo (server, "a\n");
  b = connect_and_echo (server, "b\n");
  /* A child may answer before fork() returned in the parent: wait. */
  ck_assert (test_wait_until (two_children, strategy, 10));

  /* A third connection waits: the server blocks until one child exits. */
  c = test_connect (server);
  test_send_all (c, "c\n", 2);
  ck_assert_msg (!readable_within (c, 500), "a third child ran with max_children 2");
  ck_assert_uint_le (ss_forking_strategy_active_children (strategy), 2);

  end_connection (a);
  line = test_recv_line (c);
  ck_assert_str_eq (line, "c\n");
  ck_assert_uint_le (ss_forking_strategy_active_children (strategy), 2);
  end_connection (b);
  end_connection (c);
  test_server_stop (ts);
}
END_TEST

#define PYTHON_MAX_CHILDREN 40

static gboolean
forty_children (gpointer data)
{
  return ss_forking_strategy_active_children (data) == PYTHON_MAX_CHILDREN;
}

/* Python's ForkingMixIn.max_children = 40, with nothing set: 40 held
 * connections are served at once, and the 41st waits for one to end. */
START_TEST (test_default_max_children)
{
  SsServer *server = new_forking_server ("tcp");
  SsStrategy *strategy = server->strategy;
  int fds[PYTHON_MAX_CHILDREN];
  g_autofree char *line = NULL;
  TestServer *ts;
  int extra;

  ck_assert_int_eq (SS_FORKING_DEFAULT_MAX_CHILDREN, PYTHON_MAX_CHILDREN);
  ts = test_server_start (server);
  for (int i = 0; i < PYTHON_MAX_CHILDREN; i++)
    {
      g_autofree char *echo = NULL;

      fds[i] = test_connect (server);
      test_send_all (fds[i], "held\n", 5);
      ck_assert_msg (readable_within (fds[i], 5000), "connection %d of %d held ones was not "
                     "served: max_children is below %d", i + 1, PYTHON_MAX_CHILDREN, PYTHON_MAX_CHILDREN);
      echo = test_recv_line (fds[i]);
      ck_assert_str_eq (echo != NULL ? echo : "(EOF)", "held\n");
    }
  ck_assert (test_wait_until (forty_children, strategy, 10));

  extra = test_connect (server);
  test_send_all (extra, "one too many\n", 13);
  ck_assert_msg (!readable_within (extra, 500), "a 41st child ran: max_children is not 40");
  end_connection (fds[0]);
  line = test_recv_line (extra);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "one too many\n");
  for (int i = 1; i < PYTHON_MAX_CHILDREN; i++)
    end_connection (fds[i]);
  end_connection (extra);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ foreign child */

START_TEST (test_foreign_child_not_reaped)
{
  pid_t foreign = fork ();
  SsServer *server;
  TestServer *ts;
  int status = 0;
  int i;

  if (foreign == 0)
    _exit (72);
  ck_assert_int_gt (foreign, 0);

  server = new_forking_server ("tcp");
  ts = test_server_start (server);
  for (i = 0; i < 3; i++)
    test_echo_once (server, "served\n");
  ck_assert (test_wait_until (no_children, server->strategy, 10));
  ss_forking_strategy_collect_children (server->strategy, server, TRUE);
  test_server_stop (ts);

  /* The server never waited for it: its status is still ours to collect. */
  ck_assert_int_eq (waitpid (foreign, &status, 0), foreign);
  ck_assert (WIFEXITED (status));
  ck_assert_int_eq (WEXITSTATUS (status), 72);
}
END_TEST

/* ------------------------------------------------------------ failures */

static gboolean
one_error (gpointer data)
{
  SsServerStats st;

  ss_server_get_stats (data, &st);
  return st.errors == 1;
}

START_TEST (test_child_failure_exit_status)
{
  SsServer *server = new_forking_server (_i == 0 ? "tcp" : "unix");
  TestServer *ts = test_server_start (server);
  SsServerStats st;
  int fd = test_connect (server);
  GString *got;

  test_send_all (fd, "fail\n", 5);
  got = test_recv_all (fd, 64);
  ck_assert_uint_eq (got->len, 0);   /* shut down after the failure */
  g_string_free (got, TRUE);
  end_connection (fd);

  /* The child's exit status 1 is how the parent learns of the failure. */
  ck_assert (test_wait_until (one_error, server, 10));
  test_echo_once (server, "next one\n");
  /* Not no_children: the child can finish before fork() has even returned
   * in the parent, so "no child tracked" may come before the child is. */
  ck_assert (test_wait_until (one_served, server, 10));
  ss_server_get_stats (server, &st);
  ck_assert_uint_eq (st.errors, 1);
  ck_assert_uint_eq (st.served, 1);
  test_server_stop (ts);
}
END_TEST

static char *logged;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (strstr (message, "signal") != NULL && logged == NULL)
    logged = g_strdup (message);
}

START_TEST (test_child_killed_by_signal)
{
  SsServer *server = new_forking_server ("tcp");
  TestServer *ts;
  int fd;
  GString *got;

  g_log_set_default_handler (capture_log, NULL);
  ts = test_server_start (server);
  fd = test_connect (server);
  test_send_all (fd, "crash\n", 6);
  got = test_recv_all (fd, 64);
  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
  end_connection (fd);

  ck_assert (test_wait_until (one_error, server, 10));
  test_echo_once (server, "survived\n");
  test_server_stop (ts);
  g_log_set_default_handler (g_log_default_handler, NULL);

  ck_assert_msg (logged != NULL, "the killed child was not logged");
  ck_assert_ptr_nonnull (strstr (logged, "signal 11"));
  g_clear_pointer (&logged, g_free);
}
END_TEST

/* ------------------------------------------------------------ close */

/* A child closing or shutting down its copy of the server (server_close or
 * shutdown in a handler) must not hurt the parent: not the fd that took the
 * listening socket's number in the child, not the parent's socket file,
 * not its serving (the two share the wake fd that shutdown writes). */
START_TEST (test_child_server_close)
{
  gboolean close_it = _i < 2;
  SsServer *server = new_forking_server (_i % 2 == 0 ? "unix" : "tcp");
  TestServer *ts;
  SsServerStats st;
  int fd;
  g_autofree char *line = NULL;
  g_autofree char *path = _i % 2 == 0 ? ss_server_address_string (server) : NULL;

  parent_listen_fd = server->socket_fd;
  ts = test_server_start (server);
  fd = test_connect (server);
  test_send_all (fd, close_it ? "close\n" : "shutdown\n", close_it ? 6 : 9);
  line = test_recv_line (fd);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", close_it ? "kept\n" : "shutdown\n");
  end_connection (fd);
  ck_assert (test_wait_until (one_served, server, 10));   /* the child exited 0 */

  if (path != NULL)
    ck_assert_msg (g_file_test (path, G_FILE_TEST_EXISTS), "the child removed %s", path);
  test_echo_once (server, "the parent still serves\n");
  ss_server_get_stats (server, &st);
  ck_assert_uint_eq (st.errors, 0);
  test_server_stop (ts);
}
END_TEST

/* 0: block_on_close TRUE, 1: FALSE, 2: as the strategy comes (Python's
 * ForkingMixIn.block_on_close = True). */
START_TEST (test_block_on_close)
{
  gboolean block = _i != 1;
  SsServer *server = new_forking_server ("tcp");
  SsStrategy *strategy = server->strategy;
  TestServer *ts;
  int fd;

  if (_i < 2)
    ss_forking_strategy_set_block_on_close (strategy, block);
  ts = test_server_start (server);
  fd = connect_and_echo (server, "hello\n");
  test_send_all (fd, "sleep\n", 6);
  shutdown (fd, SHUT_WR);   /* the child ends after its sleep */

  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  ss_server_server_close (server);
  if (block)
    ck_assert_uint_eq (ss_forking_strategy_active_children (strategy), 0);
  else
    {
      ck_assert_uint_eq (ss_forking_strategy_active_children (strategy), 1);
      ss_forking_strategy_collect_children (strategy, server, TRUE);
      ck_assert_uint_eq (ss_forking_strategy_active_children (strategy), 0);
    }
  ss_server_free (server);
  g_free (ts);
  close (fd);
}
END_TEST

START_TEST (test_defaults)
{
  SsServer *server = new_forking_server ("tcp");
  SsServer *plain = ss_tcp_server_new ("127.0.0.1:0", &child_handler_class, NULL, NULL);

  /* Python's ForkingMixIn.timeout = 300; a plain server has none. */
  ck_assert (server->timeout == SS_FORKING_DEFAULT_TIMEOUT);
  ck_assert (plain->timeout < 0);
  ck_assert (ss_is_forking_strategy (server->strategy));
  ck_assert (!ss_is_forking_strategy (plain->strategy));
  ss_server_free (plain);
  ss_server_free (server);
}
END_TEST

/* handle_request with a forking server: the child is collected later by
 * handle_timeout / service_actions, never left a zombie forever. */
START_TEST (test_handle_request_then_timeout_collects)
{
  SsServer *server = new_forking_server ("tcp");
  GError *error = NULL;
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  test_send_all (fd, "once\n", 5);
  server->timeout = 5;
  ck_assert (ss_server_handle_request (server, &error));
  line = test_recv_line (fd);
  ck_assert_str_eq (line, "once\n");
  end_connection (fd);
  ck_assert_uint_eq (ss_forking_strategy_active_children (server->strategy), 1);
  /* Nothing but handle_timeout collects here; the child needs a moment
   * to see EOF and exit. */
  server->timeout = 0.05;
  for (int i = 0; i < 200 && ss_forking_strategy_active_children (server->strategy) > 0; i++)
    ck_assert (ss_server_handle_request (server, &error));   /* times out: collects */
  ck_assert_uint_eq (ss_forking_strategy_active_children (server->strategy), 0);
  ss_server_free (server);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("forking");
  TCase *tc;

  tc = tcase_create ("/forking/children");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_max_children);
  tcase_add_test (tc, test_default_max_children);
  tcase_add_test (tc, test_foreign_child_not_reaped);
  tcase_add_test (tc, test_handle_request_then_timeout_collects);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/forking/failures");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_child_failure_exit_status, 0, 2);
  tcase_add_test (tc, test_child_killed_by_signal);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/forking/close");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_block_on_close, 0, 3);
  tcase_add_loop_test (tc, test_child_server_close, 0, 4);
  tcase_add_test (tc, test_defaults);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  /* Every case here forks request children beside allocating client
   * threads, which deadlocks GCC 12's sanitizer allocators (helpers.h);
   * the harness reports the program as SKIP. The plain and valgrind builds
   * run them. */
  if (test_fork_unsafe_sanitizer ())
    return test_skip_program ("test-forking in a sanitizer build (fork beside malloc in other threads)");
  return test_run_suite (make_suite ());
}
