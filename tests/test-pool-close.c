/* test-pool-close.c: the thread pool at the edges of a server's life.
 *
 * server_close and ss_server_free called from inside a pool handler (the
 * use-after-free of issue 13), a handler that ends its thread with
 * pthread_exit(), server_close draining the queue with block_on_close,
 * the ready-made pool servers' defaults (5, 100, 5), and no fd leaked when
 * the pool's eventfds cannot be made. Each was seen failing before its fix
 * (or under the mutation it is named after): see /work/notes/pool-report.md.
 */
#include "config.h"
#include "pool-helpers.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static gpointer
nothing (gpointer data)
{
  return data;
}

static gboolean
threads_at_most (gpointer data)
{
  return test_count_threads () <= GPOINTER_TO_INT (data);
}

/* ------------------------------------------------------------ close from inside a handler */

/* A handler that calls server_close and shutdown on its own server, as a
 * Python handler may call shutdown(), then goes on using its connection
 * for a while: the program frees the server as soon as serve_forever has
 * returned, which is while this handler still runs. */
static gboolean
close_from_handler_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  ss_server_server_close (handler->server);
  ss_server_shutdown (handler->server);
  if (!ss_wfile_write_string (self->wfile, "closed\n", error) || !ss_wfile_flush (self->wfile, error))
    return FALSE;
  g_usleep (200 * 1000);
  return ss_wfile_write_string (self->wfile, "still here\n", error);
}
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, close_from_handler_class,
                         ss_stream_request_handler_class, .handle = close_from_handler_handle);

START_TEST (test_server_close_from_handler)
{
  SsServer *server;
  TestServer *ts;
  GString *rest;
  char *line;
  int baseline, fd;

  g_thread_join (g_thread_new ("warm-up", nothing, NULL));
  baseline = test_count_threads ();
  server = pool_test_server_new (&ss_tcp_server_class, "tcp", &close_from_handler_class, 2, 10, 2);
  ts = test_server_start (server);
  fd = test_connect (server);
  line = test_recv_line (fd);
  ck_assert_str_eq (line, "closed\n");
  g_free (line);
  /* serve_forever returns at once; the handler is still running. */
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  g_free (ts);
  /* Freeing waits for the handler's worker: the request is finished and
   * shut down (its last line, then EOF) before the memory goes. */
  ss_server_free (server);
  rest = test_recv_all (fd, 1024);
  ck_assert_str_eq (rest->str, "still here\n");
  g_string_free (rest, TRUE);
  close (fd);
  ck_assert (test_wait_until (threads_at_most, GINT_TO_POINTER (baseline), 5));
}
END_TEST

/* The same on a UDP server: the reply, sent by finish after server_close,
 * goes out on the server's own socket, which the request keeps open. */
static gboolean
close_from_datagram_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  ss_server_server_close (handler->server);
  ss_server_shutdown (handler->server);
  g_usleep (200 * 1000);
  return ss_wfile_write (self->wfile, self->packet, self->packet_len, error);
}
SS_DEFINE_HANDLER_CLASS (SsDatagramRequestHandler, close_from_datagram_handler_class,
                         ss_datagram_request_handler_class, .handle = close_from_datagram_handle);

START_TEST (test_server_close_from_datagram_handler)
{
  SsServer *server = pool_test_server_new (&ss_udp_server_class, "udp",
                                           &close_from_datagram_handler_class, 2, 10, 2);
  TestServer *ts = test_server_start (server);
  int fd = test_connect (server);
  char reply[64];
  ssize_t n;

  test_send_all (fd, "ping", 4);
  g_thread_join (ts->thread);
  ck_assert (ts->ok);
  g_free (ts);
  ss_server_free (server);
  do
    n = recv (fd, reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  ck_assert_int_eq (n, 4);
  ck_assert (memcmp (reply, "ping", 4) == 0);
  close (fd);
}
END_TEST

/* ss_server_free from inside a handler cannot be made safe (the handler's
 * thread goes on using the server after its handle returns): it is
 * refused with a critical, and nothing is freed. */
static guint free_refusals;   /* atomic */

static void
count_free_refusal (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (strstr (message, "ss_server_free") != NULL)
    __atomic_fetch_add (&free_refusals, 1, __ATOMIC_SEQ_CST);
}

static gboolean
free_from_handler_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  ss_server_free (handler->server);
  return ss_wfile_write_string (self->wfile, "not freed\n", error);
}
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, free_from_handler_class,
                         ss_stream_request_handler_class, .handle = free_from_handler_handle);

START_TEST (test_server_free_from_handler_refused)
{
  SsServer *server;
  TestServer *ts;
  GString *reply;
  int fd;

  g_log_set_handler ("socketserver", G_LOG_LEVEL_CRITICAL, count_free_refusal, NULL);
  server = pool_test_server_new (&ss_tcp_server_class, "tcp", &free_from_handler_class, 2, 10, 2);
  ts = test_server_start (server);
  fd = test_connect (server);
  reply = test_recv_all (fd, 1024);
  ck_assert_str_eq (reply->str, "not freed\n");
  g_string_free (reply, TRUE);
  close (fd);
  ck_assert_uint_eq (__atomic_load_n (&free_refusals, __ATOMIC_SEQ_CST), 1);
  /* The server still serves, and the program frees it as it should. */
  fd = test_connect (server);
  reply = test_recv_all (fd, 1024);
  ck_assert_str_eq (reply->str, "not freed\n");
  g_string_free (reply, TRUE);
  close (fd);
  ck_assert_uint_eq (pool_test_stats (server).served, 2);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ pthread_exit in a handler */

/* Counts handle_error calls: a thread ended by pthread_exit is not an
 * error to report (Python's SystemExit in a request thread is not). */
static guint exit_errors;   /* atomic */

static void
exit_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  __atomic_fetch_add (&exit_errors, 1, __ATOMIC_SEQ_CST);
  ss_tcp_server_class.handle_error (server, request, error); /* super() */
}

static const SsServerClass exit_server_class = {
  .name = "ExitServer",
  .parent = &ss_tcp_server_class,
  .handle_error = exit_handle_error,
};

/* "exit" ends the thread; anything else is echoed. */
static gboolean
exit_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  GString *line = g_string_new (NULL);
  gboolean ok;

  ok = ss_rfile_readline (self->rfile, line, 1024, error) >= 0;
  if (ok && g_str_equal (line->str, "exit\n"))
    {
      g_string_free (line, TRUE);
      pthread_exit (NULL);
    }
  ok = ok && ss_wfile_write (self->wfile, line->str, line->len, error);
  g_string_free (line, TRUE);
  return ok;
}
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, exit_handler_class,
                         ss_stream_request_handler_class, .handle = exit_handle);

typedef struct {
  SsServer *server;
  guint workers;
} WorkersAtLeast;

static gboolean
settled (gpointer data)
{
  WorkersAtLeast *w = data;
  SsServerStats st = pool_test_stats (w->server);

  return st.busy == 0 && st.workers >= w->workers && st.spawned - st.retired == st.workers;
}

/* The request of the thread that ended: shut down (EOF, no reply). */
static void
expect_eof (int fd)
{
  GString *got = test_recv_all (fd, 1024);

  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
}

/* Loop 0: accept mode (serve_forever); loop 1: hand-off (handle_request)
 * on a pool of one worker, which must be replaced (never below min). */
START_TEST (test_pthread_exit_in_handler)
{
  gboolean handoff = _i == 1;
  SsServer *server = pool_test_server_new (&exit_server_class, "tcp", &exit_handler_class,
                                           handoff ? 1 : 2, handoff ? 1 : 10, handoff ? 0 : 2);
  WorkersAtLeast min = { server, handoff ? 1 : 2 };
  TestServer *ts = NULL;
  GError *error = NULL;
  SsServerStats st;
  int round;

  exit_errors = 0;
  server->timeout = 10;
  if (!handoff)
    ts = test_server_start (server);
  for (round = 0; round < 3; round++)
    {
      int fd = test_connect (server);

      test_send_all (fd, "exit\n", 5);
      if (handoff)
        ck_assert (ss_server_handle_request (server, &error));
      expect_eof (fd);
      close (fd);
      /* The worker is counted out (and replaced), nothing stays busy. */
      ck_assert_msg (test_wait_until (settled, &min, 10), "workers %u busy %u spawned %u retired %u",
                     pool_test_stats (server).workers, pool_test_stats (server).busy,
                     (guint) pool_test_stats (server).spawned, (guint) pool_test_stats (server).retired);
      /* And the pool still serves. */
      fd = test_connect (server);
      test_send_all (fd, "after\n", 6);
      if (handoff)
        ck_assert (ss_server_handle_request (server, &error));
      {
        char *line = test_recv_line (fd);

        ck_assert_str_eq (line, "after\n");
        g_free (line);
      }
      close (fd);
    }
  st = pool_test_stats (server);
  ck_assert_uint_ge (st.retired, 3);
  ck_assert_uint_eq (st.errors, 0);
  ck_assert_uint_eq (__atomic_load_n (&exit_errors, __ATOMIC_SEQ_CST), 0);
  /* server_close returns: every worker, the replaced ones too, is joined. */
  if (ts != NULL)
    test_server_stop (ts);
  else
    ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ block_on_close */

static gpointer
close_thread (gpointer data)
{
  ss_server_server_close (data);
  return NULL;
}

static gboolean
connect_refused (gpointer data)
{
  const SsAddress *addr = data;
  int fd = socket (ss_address_family (addr), SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean refused = connect (fd, (const struct sockaddr *) &addr->storage, addr->len) != 0;

  close (fd);
  return refused;
}

/* server_close with block_on_close (the default) runs the queued requests
 * before it joins the workers: nothing is dropped. */
START_TEST (test_close_drains_queue_with_block_on_close)
{
  SsServer *server = pool_test_server_new (&ss_tcp_server_class, "tcp", &pool_gated_line_handler_class,
                                           1, 1, 0);
  SsAddress address = server->server_address;
  GError *error = NULL;
  struct pollfd pfd[2];
  GThread *closer;
  int fds[3];
  int i;

  pool_gate_close ();
  server->timeout = 10;
  for (i = 0; i < 3; i++)
    {
      g_autofree char *msg = g_strdup_printf ("client %d\n", i);

      fds[i] = test_connect (server);
      test_send_all (fds[i], msg, strlen (msg));
      ck_assert (ss_server_handle_request (server, &error));
    }
  /* One worker, held at the gate with the first; two queued. */
  ck_assert (pool_gate_wait_for (1, 10));
  ck_assert_uint_eq (pool_test_stats (server).queued, 2);

  closer = g_thread_new ("closer", close_thread, server);
  /* The listening socket closes first, then the pool's close begins: the
   * queued ones must stay queued (no EOF), not be dropped. */
  ck_assert (test_wait_until (connect_refused, &address, 10));
  for (i = 0; i < 2; i++)
    pfd[i] = (struct pollfd) { .fd = fds[i + 1], .events = POLLIN };
  ck_assert_int_eq (poll (pfd, 2, 500), 0);
  ck_assert_uint_eq (pool_test_stats (server).queued, 2);
  ck_assert_uint_eq (pool_test_stats (server).rejected, 0);

  pool_gate_open ();
  g_thread_join (closer);
  for (i = 0; i < 3; i++)
    {
      g_autofree char *expect = g_strdup_printf ("client %d\n", i);
      g_autofree char *line = test_recv_line (fds[i]);

      ck_assert_msg (line != NULL, "client %d dropped at close", i);
      ck_assert_str_eq (line, expect);
      close (fds[i]);
    }
  ck_assert_uint_eq (pool_test_stats (server).served, 3);
  ck_assert_uint_eq (pool_test_stats (server).rejected, 0);
  ck_assert_uint_eq (pool_test_stats (server).workers, 0);
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ defaults */

typedef SsServer *(*PoolMaker) (const char *, const SsHandlerClass *, GError **);

/* The ready-made ThreadPooling servers and the pool by name use the 2008
 * post's (5, 100, 5): the numbers themselves, not the macros, so that a
 * changed default is caught. */
START_TEST (test_pool_defaults)
{
  static const struct {
    PoolMaker make;
    const char *transport;
    const SsHandlerClass *handler;
  } makers[] = {
    { ss_thread_pooling_tcp_server_new, "tcp", &ss_stream_echo_handler_class },
    { ss_thread_pooling_udp_server_new, "udp", &ss_datagram_echo_handler_class },
    { ss_thread_pooling_unix_stream_server_new, "unix", &ss_stream_echo_handler_class },
    { ss_thread_pooling_unix_datagram_server_new, "unix-dgram", &ss_datagram_echo_handler_class },
  };
  GError *error = NULL;
  guint min, max, spare;
  SsStrategy *strategy;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (makers); i++)
    {
      g_autofree char *address = test_address_for (makers[i].transport);
      SsServer *server = makers[i].make (address, makers[i].handler, &error);

      ck_assert_msg (server != NULL, "%s: %s", makers[i].transport, error ? error->message : "?");
      ck_assert (ss_is_thread_pool_strategy (server->strategy));
      min = max = spare = 0;
      ss_thread_pool_strategy_get_limits (server->strategy, &min, &max, &spare);
      ck_assert_msg (min == 5 && max == 100 && spare == 5, "%s: (%u, %u, %u)",
                     makers[i].transport, min, max, spare);
      ss_server_free (server);
    }
  strategy = ss_strategy_new_by_name ("threadpooling", &error);
  ss_thread_pool_strategy_get_limits (strategy, &min, &max, &spare);
  ck_assert_uint_eq (min, 5);
  ck_assert_uint_eq (max, 100);
  ck_assert_uint_eq (spare, 5);
  /* init_thread_pool changes them, as Python's does. */
  ck_assert (ss_thread_pool_strategy_set_limits (strategy, 2, 7, 1, &error));
  ss_thread_pool_strategy_get_limits (strategy, &min, &max, NULL);
  ck_assert_uint_eq (min, 2);
  ck_assert_uint_eq (max, 7);
  ss_strategy_free (strategy);
}
END_TEST

/* ------------------------------------------------------------ out of fds */

/* Every fd number below the limit taken but one: the pool's first eventfd
 * gets it, the second fails. Nothing may be left open by the failure. */
START_TEST (test_new_out_of_fds_leaks_nothing)
{
  struct rlimit saved, low;
  GArray *fillers = g_array_new (FALSE, FALSE, sizeof (int));
  GError *error = NULL;
  SsStrategy *strategy;
  int fd, last;
  guint i;

  ck_assert_int_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
  low = saved;
  low.rlim_cur = (rlim_t) test_count_fds () + 16;
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &low), 0);
  while ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    g_array_append_val (fillers, fd);
  ck_assert_int_eq (errno, EMFILE);
  ck_assert_uint_gt (fillers->len, 0);
  last = g_array_index (fillers, int, fillers->len - 1);
  close (last);
  g_array_set_size (fillers, fillers->len - 1);

  strategy = ss_thread_pool_strategy_new (1, 2, 0, &error);
  ck_assert_ptr_null (strategy);
  ck_assert_msg (error != NULL && strstr (error->message, "eventfd") != NULL, "%s",
                 error != NULL ? error->message : "no error");
  g_clear_error (&error);
  /* The one free number is free again: it opens, and nothing after it. */
  fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  ck_assert_msg (fd >= 0, "the pool left an fd open: %s", g_strerror (errno));
  ck_assert_int_lt (open ("/dev/null", O_RDONLY | O_CLOEXEC), 0);
  close (fd);

  for (i = 0; i < fillers->len; i++)
    close (g_array_index (fillers, int, i));
  g_array_free (fillers, TRUE);
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &saved), 0);
}
END_TEST

/* Fault injection, SQLite-style: this program's own eventfd() and pipe2()
 * come first in symbol lookup, so the library's calls reach them. A wake
 * fd is opened with eventfd, falling back to pipe2; when @fail_open is N,
 * the Nth open (counted from 0) fails in both. */
static int fail_open = -1;
static int opens;
static gboolean failing;

int
eventfd (unsigned int initval, int flags)
{
  static int (*real) (unsigned int, int);

  if (real == NULL)
    real = (int (*) (unsigned int, int)) dlsym (RTLD_NEXT, "eventfd");
  if (fail_open >= 0 && opens++ == fail_open)
    {
      failing = TRUE;
      errno = EMFILE;
      return -1;
    }
  return real (initval, flags);
}

int
pipe2 (int fds[2], int flags)
{
  static int (*real) (int *, int);

  if (real == NULL)
    real = (int (*) (int *, int)) dlsym (RTLD_NEXT, "pipe2");
  if (failing)
    {
      failing = FALSE;
      errno = EMFILE;
      return -1;
    }
  return real (fds, flags);
}

/* The first of the pool's two wake fds fails (loop 0), or the second
 * (loop 1): the pool is not created, and no fd is left open. */
START_TEST (test_new_failing_wake_fd_leaks_nothing)
{
  GError *error = NULL;
  SsStrategy *strategy;
  int before = test_count_fds ();

  opens = 0;
  fail_open = _i;
  strategy = ss_thread_pool_strategy_new (1, 2, 0, &error);
  fail_open = -1;
  ck_assert_ptr_null (strategy);
  ck_assert_msg (error != NULL && strstr (error->message, "eventfd") != NULL, "%s",
                 error != NULL ? error->message : "no error");
  g_clear_error (&error);
  ck_assert_int_ge (opens, _i + 1);
  ck_assert_int_eq (test_count_fds (), before);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("pool-close");
  TCase *tc;

  tc = tcase_create ("/pool-close/from-handler");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_server_close_from_handler);
  tcase_add_test (tc, test_server_close_from_datagram_handler);
  tcase_add_test (tc, test_server_free_from_handler_refused);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-close/pthread-exit");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_pthread_exit_in_handler, 0, 2);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-close/block-on-close");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_close_drains_queue_with_block_on_close);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-close/defaults");
  tcase_add_test (tc, test_pool_defaults);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-close/out-of-fds");
  tcase_add_test (tc, test_new_out_of_fds_leaks_nothing);
  tcase_add_loop_test (tc, test_new_failing_wake_fd_leaks_nothing, 0, 2);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
