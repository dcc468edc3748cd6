/* test-server.c: the server core's semantics (Python's BaseServer).
 *
 * verify_request, handle_request with its timeout, shutdown (before, during
 * and from inside serve_forever), server_close, handle_error, service_actions
 * and user classes that override a slot and chain to their parent.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ a recording server class */

typedef struct {
  SsServer base;          /* the parent instance, first member */
  gboolean refuse;        /* verify_request answer */
  int verified;
  int shutdowns;
  int timeouts;
  int errors;
  int actions;
  int processed;
  char *last_error;
} RecServer;

static gboolean
rec_verify_request (SsServer *server, SsRequest *request)
{
  RecServer *self = (RecServer *) server;

  __atomic_fetch_add (&self->verified, 1, __ATOMIC_SEQ_CST);
  return !self->refuse && ss_tcp_server_class.verify_request (server, request); /* super() */
}

static void
rec_shutdown_request (SsServer *server, SsRequest *request)
{
  RecServer *self = (RecServer *) server;

  __atomic_fetch_add (&self->shutdowns, 1, __ATOMIC_SEQ_CST);
  ss_tcp_server_class.shutdown_request (server, request); /* super() */
}

static void
rec_handle_timeout (SsServer *server)
{
  ((RecServer *) server)->timeouts++;
}

static void
rec_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  RecServer *self = (RecServer *) server;

  self->errors++;
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
}

static void
rec_service_actions (SsServer *server)
{
  __atomic_fetch_add (&((RecServer *) server)->actions, 1, __ATOMIC_SEQ_CST);
}

static void
rec_process_request (SsServer *server, SsRequest *request)
{
  ((RecServer *) server)->processed++;
  ss_tcp_server_class.process_request (server, request); /* super() */
}

static const SsServerClass rec_server_class = {
  .name = "RecordingServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (RecServer),
  .verify_request = rec_verify_request,
  .shutdown_request = rec_shutdown_request,
  .handle_timeout = rec_handle_timeout,
  .handle_error = rec_handle_error,
  .service_actions = rec_service_actions,
  .process_request = rec_process_request,
};

/* ------------------------------------------------------------ handlers */

static int handled;

static gboolean
count_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  __atomic_fetch_add (&handled, 1, __ATOMIC_SEQ_CST);
  return ss_wfile_write_string (self->wfile, "hi\n", error);
}
SS_DEFINE_HANDLER_CLASS_EXTERN (SsStreamRequestHandler, count_handler_class,
                                ss_stream_request_handler_class, .handle = count_handle);

static gboolean
failing_handle (SsRequestHandler *handler, GError **error)
{
  g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "the handler refused politely");
  return FALSE;
}
SS_DEFINE_HANDLER_CLASS_EXTERN (SsStreamRequestHandler, failing_handler_class,
                                ss_stream_request_handler_class, .handle = failing_handle);

static gboolean
shutdown_handle (SsRequestHandler *handler, GError **error)
{
  ss_server_shutdown (handler->server);
  return TRUE;
}
SS_DEFINE_HANDLER_CLASS_EXTERN (SsStreamRequestHandler, shutdown_handler_class,
                                ss_stream_request_handler_class, .handle = shutdown_handle);

static RecServer *
rec_server_new (const SsHandlerClass *handler)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&rec_server_class, "127.0.0.1:0", handler, NULL, TRUE, &error);

  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  return (RecServer *) server;
}

static void
rec_server_free (RecServer *self)
{
  g_free (self->last_error);
  ss_server_free (&self->base);
}

static char *
fetch (SsServer *server)
{
  int fd = test_connect (server);
  GString *got;

  shutdown (fd, SHUT_WR);
  got = test_recv_all (fd, 1 << 20);
  close (fd);
  return g_string_free (got, FALSE);
}

/* ------------------------------------------------------------ tests: requests */

START_TEST (test_verify_request_false)
{
  RecServer *rs = rec_server_new (&count_handler_class);
  TestServer *ts;
  char *got;

  handled = 0;
  rs->refuse = TRUE;
  ts = test_server_start (&rs->base);
  got = fetch (&rs->base);
  ck_assert_str_eq (got, "");
  g_free (got);
  ss_server_shutdown (&rs->base);
  g_thread_join (ts->thread);
  ck_assert_int_eq (handled, 0);
  ck_assert_int_eq (rs->verified, 1);
  ck_assert_int_eq (rs->shutdowns, 1); /* shut down once, not processed */
  ck_assert_int_eq (rs->processed, 0);
  g_free (ts);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_process_and_shutdown_once)
{
  RecServer *rs = rec_server_new (&count_handler_class);
  TestServer *ts = test_server_start (&rs->base);
  char *got;

  handled = 0;
  got = fetch (&rs->base);
  ck_assert_str_eq (got, "hi\n");
  g_free (got);
  ss_server_shutdown (&rs->base);
  g_thread_join (ts->thread);
  ck_assert_int_eq (handled, 1);
  ck_assert_int_eq (rs->processed, 1);
  ck_assert_int_eq (rs->shutdowns, 1);
  g_free (ts);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_handle_request_serves_one)
{
  RecServer *rs = rec_server_new (&count_handler_class);
  int fd = test_connect (&rs->base);
  GError *error = NULL;
  GString *got;

  rs->base.timeout = 5;
  ck_assert (ss_server_handle_request (&rs->base, &error));
  ck_assert_int_eq (rs->timeouts, 0);
  got = test_recv_all (fd, 100);
  ck_assert_str_eq (got->str, "hi\n");
  g_string_free (got, TRUE);
  close (fd);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_handle_request_timeout)
{
  RecServer *rs = rec_server_new (&count_handler_class);
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  double took;

  rs->base.timeout = 0.2;
  ck_assert (ss_server_handle_request (&rs->base, &error));
  took = (g_get_monotonic_time () - start) / 1e6;
  ck_assert_int_eq (rs->timeouts, 1);
  ck_assert_msg (took >= 0.19, "returned after %.3f s, before the timeout", took);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_handle_error_keeps_serving)
{
  RecServer *rs = rec_server_new (&failing_handler_class);
  TestServer *ts = test_server_start (&rs->base);
  char *got;
  SsServerStats stats;

  got = fetch (&rs->base);
  g_free (got);
  got = fetch (&rs->base);
  g_free (got);
  ss_server_shutdown (&rs->base);
  g_thread_join (ts->thread);
  ck_assert_int_eq (rs->errors, 2);
  ck_assert_str_eq (rs->last_error, "the handler refused politely");
  ss_server_get_stats (&rs->base, &stats);
  ck_assert_uint_eq (stats.errors, 2);
  ck_assert_uint_eq (stats.served, 0);
  g_free (ts);
  rec_server_free (rs);
}
END_TEST

static GString *captured_log;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_string_append_printf (captured_log, "%s\n", message);
}

START_TEST (test_handle_error_default_logs)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &failing_handler_class, NULL, &error);
  TestServer *ts;
  char *got;
  guint id;

  captured_log = g_string_new (NULL);
  id = g_log_set_handler ("socketserver", G_LOG_LEVEL_MASK, capture_log, NULL);
  ts = test_server_start (server);
  got = fetch (server);
  g_free (got);
  test_server_stop (ts);
  g_log_remove_handler ("socketserver", id);
  ck_assert_msg (strstr (captured_log->str, "Exception occurred during processing of request from 127.0.0.1:") != NULL,
                 "log was: %s", captured_log->str);
  ck_assert_ptr_nonnull (strstr (captured_log->str, "the handler refused politely"));
  g_string_free (captured_log, TRUE);
}
END_TEST

START_TEST (test_stats_count_served)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error);
  TestServer *ts = test_server_start (server);
  SsServerStats stats;
  int i;

  for (i = 0; i < 3; i++)
    g_free (fetch (server));
  ss_server_get_stats (server, &stats);
  ck_assert_uint_eq (stats.served, 3);
  ck_assert_uint_eq (stats.errors, 0);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ tests: serve_forever and shutdown */

START_TEST (test_shutdown_before_serve_forever)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error);
  gint64 start;

  ss_server_shutdown (server); /* returns at once: nothing is serving */
  start = g_get_monotonic_time ();
  ck_assert (ss_server_serve_forever (server, 10.0, &error));
  ck_assert_int_lt (g_get_monotonic_time () - start, 2 * G_USEC_PER_SEC);
  ss_server_free (server);
}
END_TEST

typedef struct {
  SsServer *server;
  double poll_interval;
  gboolean ok;
  GError *error;
} ServeArg;

static gpointer
serve_with_interval (gpointer data)
{
  ServeArg *arg = data;

  arg->ok = ss_server_serve_forever (arg->server, arg->poll_interval, &arg->error);
  return NULL;
}

START_TEST (test_shutdown_wakes_at_once)
{
  GError *error = NULL;
  ServeArg arg = { ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error), 30.0 };
  GThread *thread = g_thread_new ("serve", serve_with_interval, &arg);
  gint64 start;
  char *got;

  got = fetch (arg.server); /* it is serving */
  ck_assert_str_eq (got, "hi\n");
  g_free (got);
  start = g_get_monotonic_time ();
  ss_server_shutdown (arg.server); /* must not wait out the 30 s poll interval */
  ck_assert_int_lt (g_get_monotonic_time () - start, 2 * G_USEC_PER_SEC);
  g_thread_join (thread);
  ck_assert (arg.ok);
  ss_server_free (arg.server);
}
END_TEST

START_TEST (test_serve_forever_again_after_shutdown)
{
  GError *error = NULL;
  ServeArg arg = { ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error), 0.05 };
  int round;

  for (round = 0; round < 3; round++)
    {
      GThread *thread = g_thread_new ("serve", serve_with_interval, &arg);
      char *got = fetch (arg.server);

      ck_assert_str_eq (got, "hi\n");
      g_free (got);
      ss_server_shutdown (arg.server);
      g_thread_join (thread);
      ck_assert (arg.ok);
    }
  ss_server_free (arg.server);
}
END_TEST

START_TEST (test_shutdown_from_handler)
{
  GError *error = NULL;
  ServeArg arg = { ss_tcp_server_new ("127.0.0.1:0", &shutdown_handler_class, NULL, &error), 30.0 };
  GThread *thread = g_thread_new ("serve", serve_with_interval, &arg);

  g_free (fetch (arg.server)); /* the handler asks for shutdown: no deadlock */
  g_thread_join (thread);
  ck_assert (arg.ok);
  ss_server_free (arg.server);
}
END_TEST

/* Twenty servers of every strategy at once, each serving with a 300 s
 * poll interval: each stops when asked (the wake-up), not when its poll
 * times out. Only the shutdowns are timed, which take a wake-up and a loop
 * exit each however slow the machine (valgrind, load); without the
 * wake-up the first alone would take minutes. */
START_TEST (test_twenty_servers)
{
  ServeArg arg[20];
  GThread *thread[20];
  /* Forking only where fork() is safe beside this thread's mallocs (helpers.h). */
  int kinds = test_fork_unsafe_sanitizer () ? 3 : 4;
  gint64 start;
  int i;

  for (i = 0; i < 20; i++)
    {
      GError *error = NULL;

      arg[i] = (ServeArg) { ss_tcp_server_new ("127.0.0.1:0", &count_handler_class,
                                               test_strategy (test_strategies[i % kinds]), &error),
                            300.0 };
      ck_assert_msg (arg[i].server != NULL, "%s", error ? error->message : "");
      thread[i] = g_thread_new ("serve", serve_with_interval, &arg[i]);
    }
  for (i = 0; i < 20; i++)
    {
      char *got = fetch (arg[i].server);

      ck_assert_str_eq (got, "hi\n");
      g_free (got);
    }
  start = g_get_monotonic_time ();
  for (i = 0; i < 20; i++)
    ss_server_shutdown (arg[i].server);
  ck_assert_int_lt (g_get_monotonic_time () - start, 20 * G_USEC_PER_SEC);
  for (i = 0; i < 20; i++)
    {
      g_thread_join (thread[i]);
      ck_assert (arg[i].ok);
      ss_server_free (arg[i].server);
    }
}
END_TEST

START_TEST (test_service_actions_every_pass)
{
  RecServer *rs = rec_server_new (&count_handler_class);
  ServeArg arg = { &rs->base, 0.01 };
  GThread *thread = g_thread_new ("serve", serve_with_interval, &arg);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (__atomic_load_n (&rs->actions, __ATOMIC_SEQ_CST) < 5 && g_get_monotonic_time () < end)
    g_usleep (10000);
  ss_server_shutdown (&rs->base);
  g_thread_join (thread);
  ck_assert_int_ge (rs->actions, 5);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_serve_forever_twice_at_once_fails)
{
  GError *error = NULL;
  ServeArg arg = { ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error), 0.05 };
  GThread *thread = g_thread_new ("serve", serve_with_interval, &arg);

  g_free (fetch (arg.server)); /* the first loop is running */
  ck_assert (!ss_server_serve_forever (arg.server, 0.05, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ss_server_shutdown (arg.server);
  g_thread_join (thread);
  ss_server_free (arg.server);
}
END_TEST

/* ------------------------------------------------------------ tests: lifecycle */

START_TEST (test_server_close_twice)
{
  GError *error = NULL;
  int before = test_count_fds ();
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error);

  ss_server_server_close (server);
  ck_assert_int_eq (server->socket_fd, -1);
  ss_server_server_close (server);
  ck_assert (!ss_server_serve_forever (server, 0.05, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ss_server_free (server);
  ck_assert_int_eq (test_count_fds (), before);
}
END_TEST

START_TEST (test_bind_and_activate_false)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &count_handler_class,
                                    NULL, FALSE, &error);
  TestServer *ts;
  int one = 0;
  socklen_t len = sizeof one;
  char *got;

  ck_assert_ptr_nonnull (server);
  ck_assert_int_eq (server->socket_fd, -1);
  server->allow_reuse_address = TRUE;
  server->request_queue_size = 8;
  ck_assert (ss_server_server_bind (server, &error));
  ck_assert (ss_server_server_activate (server, &error));
  ck_assert_int_ne (ss_server_port (server), 0);
  ck_assert_int_eq (getsockopt (server->socket_fd, SOL_SOCKET, SO_REUSEADDR, &one, &len), 0);
  ck_assert_int_ne (one, 0);
  ts = test_server_start (server);
  got = fetch (server);
  ck_assert_str_eq (got, "hi\n");
  g_free (got);
  test_server_stop (ts);
}
END_TEST

START_TEST (test_class_without_transport)
{
  static const SsServerClass bare = { .name = "Bare", .parent = &ss_base_server_class };
  GError *error = NULL;
  SsAddress addr;
  SsServer *server;

  ck_assert (ss_address_parse ("127.0.0.1:0", SOCK_STREAM, &addr, &error));
  server = ss_server_new_for_address (&bare, &addr, &count_handler_class, NULL, TRUE, &error);
  ck_assert_ptr_null (server);
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "Bare"));
  g_clear_error (&error);
}
END_TEST

START_TEST (test_user_instance_fields)
{
  RecServer *rs = rec_server_new (&count_handler_class);

  /* The core allocated the user's size, zeroed. */
  ck_assert_int_eq (rs->verified, 0);
  ck_assert_ptr_null (rs->last_error);
  ck_assert_ptr_eq (rs->base.klass, &rec_server_class);
  rec_server_free (rs);
}
END_TEST

START_TEST (test_banner)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error);
  char *banner = ss_server_banner (server);
  char *expected = g_strdup_printf ("Serving on 127.0.0.1 port %u ...", ss_server_port (server));

  ck_assert_str_eq (banner, expected);
  g_free (banner);
  g_free (expected);
  ss_server_free (server);
}
END_TEST

START_TEST (test_forking_default_timeout)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class,
                                        ss_forking_strategy_new (), &error);

  ck_assert (server->timeout == SS_FORKING_DEFAULT_TIMEOUT);
  ss_server_free (server);
  server = ss_tcp_server_new ("127.0.0.1:0", &count_handler_class, NULL, &error);
  ck_assert (server->timeout < 0);
  ss_server_free (server);
}
END_TEST

START_TEST (test_strategy_by_name)
{
  GError *error = NULL;
  int i;

  for (i = 0; i < 4; i++)
    {
      SsStrategy *s = ss_strategy_new_by_name (test_strategies[i], &error);

      ck_assert_ptr_nonnull (s);
      ck_assert_str_eq (ss_strategy_name (s), test_strategies[i]);
      ss_strategy_free (s);
    }
  ck_assert_ptr_null (ss_strategy_new_by_name ("greenthreads", &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "greenthreads"));
  g_clear_error (&error);
}
END_TEST

/* ------------------------------------------------------------ public dispatch */

/* Each slot records that it ran, for which server and request, and calls
 * super(): the public ss_server_* wrappers must reach the class's slot. */
typedef struct {
  SsServer base;
  int calls[7];
  SsRequest *last_request;
  char *last_error;
} DispatchServer;

enum { D_VERIFY, D_PROCESS, D_FINISH, D_CLOSE, D_ERROR, D_TIMEOUT, D_ACTIONS };

static void
dispatched (SsServer *server, int slot, SsRequest *request)
{
  DispatchServer *self = (DispatchServer *) server;

  self->calls[slot]++;
  self->last_request = request;
}

static gboolean
d_verify_request (SsServer *server, SsRequest *request)
{
  dispatched (server, D_VERIFY, request);
  return FALSE;   /* not super()'s TRUE: the wrapper must return this */
}

static void
d_process_request (SsServer *server, SsRequest *request)
{
  dispatched (server, D_PROCESS, request);
  ss_tcp_server_class.process_request (server, request);
}

static gboolean
d_finish_request (SsServer *server, SsRequest *request, GError **error)
{
  dispatched (server, D_FINISH, request);
  return ss_tcp_server_class.finish_request (server, request, error);
}

static void
d_close_request (SsServer *server, SsRequest *request)
{
  dispatched (server, D_CLOSE, request);
  ss_tcp_server_class.close_request (server, request);
}

static void
d_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  DispatchServer *self = (DispatchServer *) server;

  dispatched (server, D_ERROR, request);
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
}

static void
d_handle_timeout (SsServer *server)
{
  dispatched (server, D_TIMEOUT, NULL);
}

static void
d_service_actions (SsServer *server)
{
  dispatched (server, D_ACTIONS, NULL);
}

static const SsServerClass dispatch_server_class = {
  .name = "DispatchServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (DispatchServer),
  .verify_request = d_verify_request,
  .process_request = d_process_request,
  .finish_request = d_finish_request,
  .close_request = d_close_request,
  .handle_error = d_handle_error,
  .handle_timeout = d_handle_timeout,
  .service_actions = d_service_actions,
};

/* A request from a client that connected and sent nothing yet. */
static SsRequest *
accept_one (SsServer *server, int *client)
{
  GError *error = NULL;
  SsRequest *request = NULL;

  *client = test_connect (server);
  for (int i = 0; i < 500 && request == NULL; i++)
    {
      request = ss_server_get_request (server, &error);
      if (request == NULL)
        {
          ck_assert_msg (g_error_matches (error, SS_ERROR, SS_ERROR_WOULD_BLOCK), "%s", error->message);
          g_clear_error (&error);
          g_usleep (10 * 1000);
        }
    }
  ck_assert_ptr_nonnull (request);
  return request;
}

/* Python's server methods are there to be called (and overridden): each
 * ss_server_* wrapper runs the class's slot with its arguments. */
START_TEST (test_public_dispatch)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&dispatch_server_class, "127.0.0.1:0", &count_handler_class,
                                    NULL, TRUE, &error);
  DispatchServer *self = (DispatchServer *) server;
  GError *fault = g_error_new_literal (SS_ERROR, SS_ERROR_HANDLER, "a fault to report");
  SsServerStats stats;
  SsRequest *request;
  GString *got;
  int client;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  handled = 0;
  ss_server_handle_timeout (server);
  ck_assert_int_eq (self->calls[D_TIMEOUT], 1);
  ss_server_service_actions (server);
  ck_assert_int_eq (self->calls[D_ACTIONS], 1);

  request = accept_one (server, &client);
  ck_assert (!ss_server_verify_request (server, request));
  ck_assert_int_eq (self->calls[D_VERIFY], 1);
  ck_assert_ptr_eq (self->last_request, request);

  ss_server_handle_error (server, request, fault);
  ck_assert_int_eq (self->calls[D_ERROR], 1);
  ck_assert_ptr_eq (self->last_request, request);
  ck_assert_str_eq (self->last_error, "a fault to report");
  ss_server_get_stats (server, &stats);
  ck_assert_uint_eq (stats.errors, 1);

  ck_assert (ss_server_finish_request (server, request, &error));
  ck_assert_int_eq (self->calls[D_FINISH], 1);
  ck_assert_int_eq (handled, 1);
  ss_server_close_request (server, request);
  ck_assert_int_eq (self->calls[D_CLOSE], 1);
  ck_assert_ptr_eq (self->last_request, request);
  ss_request_free (request);
  got = test_recv_all (client, 100);
  ck_assert_str_eq (got->str, "hi\n");   /* the handler's reply, then EOF */
  g_string_free (got, TRUE);
  close (client);

  /* process_request (sync) runs finish_request, then shutdown_request. */
  request = accept_one (server, &client);
  ss_server_process_request (server, request);
  ck_assert_int_eq (self->calls[D_PROCESS], 1);
  ck_assert_int_eq (self->calls[D_FINISH], 2);
  ck_assert_ptr_eq (self->last_request, request);   /* close_request, last */
  ck_assert_int_eq (self->calls[D_CLOSE], 2);
  ck_assert_int_eq (handled, 2);
  got = test_recv_all (client, 100);
  ck_assert_str_eq (got->str, "hi\n");
  g_string_free (got, TRUE);
  close (client);

  g_error_free (fault);
  g_free (self->last_error);
  ss_server_free (server);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("server");
  TCase *tc;

  tc = tcase_create ("requests");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_verify_request_false);
  tcase_add_test (tc, test_process_and_shutdown_once);
  tcase_add_test (tc, test_handle_request_serves_one);
  tcase_add_test (tc, test_handle_request_timeout);
  tcase_add_test (tc, test_handle_error_keeps_serving);
  tcase_add_test (tc, test_handle_error_default_logs);
  tcase_add_test (tc, test_stats_count_served);
  tcase_add_test (tc, test_public_dispatch);
  suite_add_tcase (s, tc);

  tc = tcase_create ("serve-forever");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_shutdown_before_serve_forever);
  tcase_add_test (tc, test_shutdown_wakes_at_once);
  tcase_add_test (tc, test_serve_forever_again_after_shutdown);
  tcase_add_test (tc, test_shutdown_from_handler);
  tcase_add_test (tc, test_twenty_servers);
  tcase_add_test (tc, test_service_actions_every_pass);
  tcase_add_test (tc, test_serve_forever_twice_at_once_fails);
  suite_add_tcase (s, tc);

  tc = tcase_create ("lifecycle");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_server_close_twice);
  tcase_add_test (tc, test_bind_and_activate_false);
  tcase_add_test (tc, test_class_without_transport);
  tcase_add_test (tc, test_user_instance_fields);
  tcase_add_test (tc, test_banner);
  tcase_add_test (tc, test_forking_default_timeout);
  tcase_add_test (tc, test_strategy_by_name);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
