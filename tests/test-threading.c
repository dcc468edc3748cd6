/* test-threading.c: what ThreadingMixIn promises beyond echo (echo itself
 * is in test-strategies).
 *
 * server_close and shutdown called from inside a request thread (issue 13:
 * it deadlocked, waiting for the calling thread itself); a handler that
 * ends its thread with pthread_exit(), C's nearest thing to SystemExit in
 * a request thread (issue 8: the request stayed open and server_close
 * waited forever).
 *
 * Handlers here take orders from the client, one line each, and report
 * what they did on the connection: the tests read replies with a 5 s
 * deadline so a deadlock fails with a message, not at check's timeout.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A server class that counts what the strategy did with its requests. */
typedef struct {
  SsServer base;            /* the parent instance, first member */
  int shutdowns;            /* (atomic) shutdown_request calls */
  int errors;               /* (atomic) handle_error calls */
  int hold_fd;              /* "hold": the handler waits until this is readable */
} CountingServer;

static void
counting_shutdown_request (SsServer *server, SsRequest *request)
{
  __atomic_fetch_add (&((CountingServer *) server)->shutdowns, 1, __ATOMIC_SEQ_CST);
  ss_tcp_server_class.shutdown_request (server, request);   /* super() */
}

static void
counting_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  __atomic_fetch_add (&((CountingServer *) server)->errors, 1, __ATOMIC_SEQ_CST);
  ss_tcp_server_class.handle_error (server, request, error);
}

static const SsServerClass counting_class = {
  .name = "CountingTCPServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (CountingServer),
  .shutdown_request = counting_shutdown_request,
  .handle_error = counting_handle_error,
};

/* Reads one line from the raw connection (no rfile: nothing to leak when
 * the thread ends in the middle). */
static gboolean
read_order (int fd, char *buf, gsize size)
{
  gsize n = 0;

  while (n + 1 < size)
    {
      ssize_t got = recv (fd, buf + n, 1, 0);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return FALSE;
      if (buf[n++] == '\n')
        break;
    }
  buf[n] = '\0';
  return TRUE;
}

static void
reply (int fd, const char *text)
{
  test_send_all (fd, text, strlen (text));
}

/* Orders: "close" (server_close then shutdown, as the program),
 * "shutdown-close" (the other order), "hold" (wait for hold_fd),
 * "ping" (reply "pong"), "stack" (reply the thread's stack size),
 * "exit" (pthread_exit after replying). */
static gboolean
orders_handle (SsRequestHandler *handler, GError **error)
{
  CountingServer *server = (CountingServer *) handler->server;
  int fd = handler->request->fd;
  char order[64];

  if (!read_order (fd, order, sizeof order))
    return TRUE;
  if (g_str_equal (order, "close\n"))
    {
      ss_server_server_close (handler->server);
      ss_server_shutdown (handler->server);
      reply (fd, "closed\n");
    }
  else if (g_str_equal (order, "shutdown-close\n"))
    {
      ss_server_shutdown (handler->server);
      ss_server_server_close (handler->server);
      reply (fd, "closed\n");
    }
  else if (g_str_equal (order, "hold\n"))
    {
      struct pollfd pfd = { .fd = server->hold_fd, .events = POLLIN };

      reply (fd, "holding\n");
      while (poll (&pfd, 1, 10000) < 0 && errno == EINTR)
        ;
      reply (fd, "released\n");
    }
  else if (g_str_equal (order, "ping\n"))
    reply (fd, "pong\n");
  else if (g_str_equal (order, "stack\n"))
    {
      pthread_attr_t attr;
      size_t size = 0;
      g_autofree char *text = NULL;

      pthread_getattr_np (pthread_self (), &attr);
      pthread_attr_getstacksize (&attr, &size);
      pthread_attr_destroy (&attr);
      text = g_strdup_printf ("%zu\n", size);
      reply (fd, text);
    }
  else if (g_str_equal (order, "exit\n"))
    {
      reply (fd, "exiting\n");
      pthread_exit (NULL);
    }
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (SsRequestHandler, orders_handler_class,
                         ss_base_request_handler_class,
                         .handle = orders_handle);

static CountingServer *
new_counting_server (SsStrategy *strategy)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&counting_class, "127.0.0.1:0", &orders_handler_class,
                                    strategy, TRUE, &error);

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  ((CountingServer *) server)->hold_fd = -1;
  return (CountingServer *) server;
}

/* The next line on @fd within 5 s, or NULL. */
static char *
line_within_5s (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  if (poll (&pfd, 1, 5000) != 1)
    return NULL;
  return test_recv_line (fd);
}

static gboolean
no_active_threads (gpointer data)
{
  return ss_threading_strategy_active_threads (data) == 0;
}

static int
send_order (SsServer *server, const char *order, const char *want)
{
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  test_send_all (fd, order, strlen (order));
  line = line_within_5s (fd);
  ck_assert_msg (line != NULL, "no reply to \"%.*s\" within 5 s", (int) strlen (order) - 1, order);
  ck_assert_str_eq (line, want);
  return fd;
}

/* ------------------------------------------------------------ close from a handler */

/* The program: a handler calls server_close, then shutdown; main
 * frees the server after serve_forever returns. server_close from inside
 * must not wait for its own thread, yet still for the other non-daemon
 * request threads (block_on_close). */
START_TEST (test_close_from_handler)
{
  const char *order = _i % 2 == 0 ? "close\n" : "shutdown-close\n";
  gboolean daemon = _i >= 2;
  CountingServer *cs = new_counting_server (ss_threading_strategy_new ());
  SsServer *server = &cs->base;
  SsStrategy *strategy = server->strategy;
  int hold[2];
  TestServer *ts;
  int held, closer;
  g_autofree char *line = NULL;

  ss_threading_strategy_set_daemon_threads (strategy, daemon);
  ck_assert_int_eq (pipe (hold), 0);
  cs->hold_fd = hold[0];
  ts = test_server_start (server);

  held = send_order (server, "hold\n", "holding\n");
  closer = test_connect (server);
  test_send_all (closer, order, strlen (order));
  /* Non-daemon: server_close waits for the held request, not for itself. */
  if (!daemon)
    {
      struct pollfd pfd = { .fd = closer, .events = POLLIN };

      ck_assert_msg (poll (&pfd, 1, 300) == 0, "server_close did not wait for the other request");
    }
  ck_assert_int_eq (write (hold[1], "go", 2), 2);
  line = line_within_5s (closer);
  ck_assert_msg (line != NULL, "server_close from a handler did not return within 5 s");
  ck_assert_str_eq (line, "closed\n");
  g_free (test_recv_line (held));   /* "released" */

  g_thread_join (ts->thread);   /* shutdown from the handler ended it */
  ck_assert (ts->ok);
  ck_assert_int_eq (server->socket_fd, -1);
  close (closer);
  close (held);
  ck_assert (test_wait_until (no_active_threads, strategy, 5));
  ck_assert_int_eq (__atomic_load_n (&cs->errors, __ATOMIC_SEQ_CST), 0);
  ss_server_free (server);   /* the last one out */
  g_free (ts);
  close (hold[0]);
  close (hold[1]);
}
END_TEST

/* ------------------------------------------------------------ pthread_exit */

static gboolean
two_shutdowns (gpointer data)
{
  return __atomic_load_n (&((CountingServer *) data)->shutdowns, __ATOMIC_SEQ_CST) == 2;
}

/* Python's SystemExit in a request thread: the thread ends, the finally
 * still shuts the request down, handle_error is not called, and the
 * server goes on serving and closes without waiting for that thread. */
START_TEST (test_pthread_exit_in_handler)
{
  CountingServer *cs = new_counting_server (ss_threading_strategy_new ());
  SsServer *server = &cs->base;
  SsServerStats stats;
  TestServer *ts = test_server_start (server);
  int fd = send_order (server, "exit\n", "exiting\n");
  GString *rest;

  /* shutdown_request ran: the connection ends (EOF), within the deadline. */
  rest = test_recv_all (fd, 64);
  ck_assert_uint_eq (rest->len, 0);
  g_string_free (rest, TRUE);
  close (fd);
  ck_assert (test_wait_until (no_active_threads, server->strategy, 5));

  /* The server is unharmed: another request, counted as usual. */
  close (send_order (server, "ping\n", "pong\n"));
  ck_assert (test_wait_until (two_shutdowns, cs, 5));
  ck_assert_int_eq (__atomic_load_n (&cs->errors, __ATOMIC_SEQ_CST), 0);
  ss_server_get_stats (server, &stats);
  ck_assert_uint_eq (stats.errors, 0);

  test_server_stop (ts);   /* server_close waits for no thread that is gone */
}
END_TEST

/* ------------------------------------------------------------ retention (bpo-37193) */

/* Mappings in /proc/self/maps of exactly @size bytes, read-write: thread
 * stacks of that size, the running ones and those glibc keeps to reuse. A
 * joinable thread that is never joined keeps its stack mapped for good. */
static int
count_stack_mappings (gsize size)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  int n = 0;

  ck_assert (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  lines = g_strsplit (maps, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      guint64 start, end;
      char perms[8];

      if (sscanf (*l, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %7s", &start, &end, perms) == 3
          && end - start == size && g_str_has_prefix (perms, "rw"))
        n++;
    }
  return n;
}

static gsize
request_stack_size (SsServer *server)
{
  int fd = test_connect (server);
  g_autofree char *line = NULL;

  test_send_all (fd, "stack\n", 6);
  line = line_within_5s (fd);
  ck_assert_ptr_nonnull (line);
  close (fd);
  return (gsize) g_ascii_strtoull (line, NULL, 10);
}

#define RETENTION_REQUESTS 120

/* Python's bpo-37193 kept every finished thread. Here nothing of a
 * finished request thread may stay: not a count (test-strategies checks
 * that), not its stack. */
START_TEST (test_finished_threads_not_retained)
{
  CountingServer *cs = new_counting_server (ss_threading_strategy_new ());
  SsServer *server = &cs->base;
  TestServer *ts = test_server_start (server);
  gsize stack;
  int before, after;

  stack = request_stack_size (server);
  ck_assert_uint_gt (stack, 0);
  for (int i = 0; i < 10; i++)   /* glibc's stack cache warms up */
    request_stack_size (server);
  ck_assert (test_wait_until (no_active_threads, server->strategy, 5));
  before = count_stack_mappings (stack);
  for (int i = 0; i < RETENTION_REQUESTS; i++)
    ck_assert_uint_eq (request_stack_size (server), stack);
  ck_assert (test_wait_until (no_active_threads, server->strategy, 5));
  g_usleep (50 * 1000);   /* the last threads' exits */
  after = count_stack_mappings (stack);
  ck_assert_msg (after - before <= 10, "%d more %zu-byte stacks mapped after %d finished requests "
                 "(from %d): finished threads are retained", after - before, stack,
                 RETENTION_REQUESTS, before);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ defaults */

static gint64 closed_at;   /* (atomic) when close_thread's server_close returned */

static gpointer
close_thread (gpointer data)
{
  ss_server_server_close (data);
  __atomic_store_n (&closed_at, g_get_monotonic_time (), __ATOMIC_SEQ_CST);
  return NULL;
}

/* Python: daemon_threads False, block_on_close True. Nothing set here:
 * server_close must wait for a request still running. */
START_TEST (test_default_block_on_close)
{
  CountingServer *cs = new_counting_server (ss_threading_strategy_new ());
  SsServer *server = &cs->base;
  int hold[2];
  TestServer *ts;
  GThread *closer;
  gint64 released_at;
  int held;

  ck_assert_int_eq (pipe (hold), 0);
  cs->hold_fd = hold[0];
  ts = test_server_start (server);
  held = send_order (server, "hold\n", "holding\n");
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);

  closed_at = 0;
  closer = g_thread_new ("closer", close_thread, server);
  g_usleep (300 * 1000);
  ck_assert_msg (ss_threading_strategy_active_threads (server->strategy) == 1,
                 "the held request ended early");
  released_at = g_get_monotonic_time ();
  ck_assert_int_eq (write (hold[1], "go", 2), 2);
  g_thread_join (closer);
  ck_assert_msg (__atomic_load_n (&closed_at, __ATOMIC_SEQ_CST) >= released_at,
                 "server_close returned %.3f s before the running request was let go "
                 "(block_on_close should be TRUE by default)",
                 (released_at - closed_at) / 1e6);
  ck_assert_uint_eq (ss_threading_strategy_active_threads (server->strategy), 0);
  g_free (test_recv_line (held));
  close (held);
  ss_server_free (server);
  g_free (ts);
  close (hold[0]);
  close (hold[1]);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("threading");
  TCase *tc;

  tc = tcase_create ("/threading/from-handler");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_close_from_handler, 0, 4);
  tcase_add_test (tc, test_pthread_exit_in_handler);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/threading/threads");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_finished_threads_not_retained);
  tcase_add_test (tc, test_default_block_on_close);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
