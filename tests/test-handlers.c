/* test-handlers.c: the handler classes and ss_handler_run (handlers/).
 *
 * The lifecycle cases drive ss_handler_run directly with a request over a
 * Unix socketpair and no server (the base classes never touch it), and
 * record each step in a string so that order and omissions show. The last
 * area runs the ready-made echo handlers behind real servers.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The steps a recording handler went through, e.g. "setup handle finish dispose". */
static GString *steps;

/* What the failing slots are told to do, set by each test. */
static gboolean setup_fails;
static gboolean handle_fails;
static gboolean finish_fails;
static gboolean handle_fails_silently;
static gboolean handle_exits_thread;  /* pthread_exit in handle: Python's SystemExit */

static void
step (const char *name)
{
  if (steps->len > 0)
    g_string_append_c (steps, ' ');
  g_string_append (steps, name);
}

static void
reset_steps (void)
{
  if (steps == NULL)
    steps = g_string_new (NULL);
  g_string_truncate (steps, 0);
  setup_fails = handle_fails = finish_fails = handle_fails_silently = FALSE;
  handle_exits_thread = FALSE;
}

/* A request over a socketpair: sv[0] belongs to the request, sv[1] is the
 * test's client end. The client address is an unnamed Unix peer. */
static SsRequest *
make_stream_request (int sv[2])
{
  SsAddress client = { 0 };

  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  client.storage.ss_family = AF_UNIX;
  client.len = sizeof (sa_family_t);
  return ss_request_new_stream (sv[0], &client);
}

static void
free_stream_request (SsRequest *request, int sv[2])
{
  ss_request_free (request);
  close (sv[0]);
  close (sv[1]);
}

/* ------------------------------------------------------------ recording class */

typedef struct {
  SsRequestHandler base; /* first member */
  int marker;
} Recorder;

static gboolean
rec_setup (SsRequestHandler *self, GError **error)
{
  step ("setup");
  if (setup_fails)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "setup broke");
      return FALSE;
    }
  return TRUE;
}

static gboolean
rec_handle (SsRequestHandler *self, GError **error)
{
  step ("handle");
  if (handle_exits_thread)
    pthread_exit (NULL);
  if (handle_fails_silently)
    return FALSE;
  if (handle_fails)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "handle broke");
      return FALSE;
    }
  return TRUE;
}

static gboolean
rec_finish (SsRequestHandler *self, GError **error)
{
  step ("finish");
  if (finish_fails)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "finish broke");
      return FALSE;
    }
  return TRUE;
}

static void
rec_dispose (SsRequestHandler *self)
{
  step ("dispose");
  ss_base_request_handler_class.dispose (self);
}

SS_DEFINE_HANDLER_CLASS (Recorder, recorder_class, ss_base_request_handler_class,
                         .setup = rec_setup, .handle = rec_handle,
                         .finish = rec_finish, .dispose = rec_dispose);

/* Runs @klass over a fresh socketpair request; returns the result and
 * hands back the error. */
static gboolean
run_over_pair (const SsHandlerClass *klass, GError **error)
{
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  gboolean ok = ss_handler_run (klass, NULL, request, error);

  free_stream_request (request, sv);
  return ok;
}

/* ------------------------------------------------------------ /lifecycle */

START_TEST (test_lifecycle_order)
{
  GError *error = NULL;

  reset_steps ();
  ck_assert (run_over_pair (&recorder_class, &error));
  ck_assert_ptr_null (error);
  ck_assert_str_eq (steps->str, "setup handle finish dispose");
}
END_TEST

START_TEST (test_lifecycle_finish_after_handle_fails)
{
  GError *error = NULL;

  reset_steps ();
  handle_fails = TRUE;
  ck_assert (!run_over_pair (&recorder_class, &error));
  ck_assert_str_eq (steps->str, "setup handle finish dispose");
  ck_assert_ptr_nonnull (error);
  ck_assert_str_eq (error->message, "handle broke");
  g_error_free (error);
}
END_TEST

START_TEST (test_lifecycle_setup_fails)
{
  GError *error = NULL;

  reset_steps ();
  setup_fails = TRUE;
  ck_assert (!run_over_pair (&recorder_class, &error));
  /* No handle, no finish (Python: setup is outside the try), but dispose. */
  ck_assert_str_eq (steps->str, "setup dispose");
  ck_assert_str_eq (error->message, "setup broke");
  g_error_free (error);
}
END_TEST

START_TEST (test_lifecycle_finish_fails)
{
  GError *error = NULL;

  reset_steps ();
  finish_fails = TRUE;
  ck_assert (!run_over_pair (&recorder_class, &error));
  ck_assert_str_eq (steps->str, "setup handle finish dispose");
  ck_assert_str_eq (error->message, "finish broke");
  g_error_free (error);
}
END_TEST

static GString *logged;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  g_string_append_printf (logged, "[%s] %s\n", domain ? domain : "", message);
}

START_TEST (test_lifecycle_both_fail_second_logged)
{
  GError *error = NULL;
  guint id;

  reset_steps ();
  logged = g_string_new (NULL);
  id = g_log_set_handler ("socketserver", G_LOG_LEVEL_WARNING, capture_log, NULL);
  handle_fails = TRUE;
  finish_fails = TRUE;
  ck_assert (!run_over_pair (&recorder_class, &error));
  g_log_remove_handler ("socketserver", id);
  ck_assert_str_eq (steps->str, "setup handle finish dispose");
  /* The first error is returned, the second one is logged, naming the client. */
  ck_assert_str_eq (error->message, "handle broke");
  ck_assert_ptr_nonnull (strstr (logged->str, "finish broke"));
  ck_assert_ptr_nonnull (strstr (logged->str, "Recorder"));
  ck_assert_ptr_nonnull (strstr (logged->str, "from "));
  g_error_free (error);
  g_string_free (logged, TRUE);
}
END_TEST

START_TEST (test_lifecycle_false_without_error)
{
  GError *error = NULL;

  reset_steps ();
  handle_fails_silently = TRUE;
  ck_assert (!run_over_pair (&recorder_class, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_HANDLER));
  ck_assert_ptr_nonnull (strstr (error->message, "Recorder.handle"));
  g_error_free (error);
}
END_TEST

/* A large instance: heap-allocated at the declared size, zeroed, with the
 * base fields filled in. */
typedef struct {
  SsRequestHandler base;
  guint8 payload[4 * 1024 * 1024];
  guint64 tail;
} BigHandler;

static SsRequest *big_expected_request;

static gboolean
big_handle (SsRequestHandler *handler, GError **error)
{
  BigHandler *self = (BigHandler *) handler;
  gsize nonzero = 0;
  gsize i;

  ck_assert_ptr_eq (handler->request, big_expected_request);
  ck_assert_ptr_eq (handler->client_address, &big_expected_request->client_address);
  ck_assert_ptr_null (handler->server);
  ck_assert_str_eq (handler->klass->name, "BigHandler");
  for (i = 0; i < sizeof self->payload; i++)
    nonzero += self->payload[i] != 0;
  ck_assert_uint_eq (nonzero, 0);
  ck_assert_uint_eq (self->tail, 0);
  memset (self->payload, 0xAB, sizeof self->payload); /* all of it is ours */
  self->tail = G_MAXUINT64;
  step ("big");
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (BigHandler, big_class, ss_base_request_handler_class,
                         .handle = big_handle);

/* The thread running the handler ends inside handle (pthread_exit,
 * Python's SystemExit): finish and dispose still run, as Python's `finally`
 * runs finish, and the instance is freed (valgrind checks). */
static gpointer
run_then_never_return (gpointer request)
{
  GError *error = NULL;

  ss_handler_run (&recorder_class, NULL, request, &error);
  g_assert_not_reached ();
  return NULL;
}

START_TEST (test_lifecycle_thread_exits_in_handle)
{
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  pthread_t thread;

  reset_steps ();
  handle_exits_thread = TRUE;
  /* A pthread, not a GThread: GLib's wrapper expects its function to return. */
  ck_assert_int_eq (pthread_create (&thread, NULL, run_then_never_return, request), 0);
  ck_assert_int_eq (pthread_join (thread, NULL), 0);
  ck_assert_str_eq (steps->str, "setup handle finish dispose");
  free_stream_request (request, sv);
}
END_TEST

START_TEST (test_lifecycle_instance_size)
{
  int sv[2];
  SsRequest *request;
  GError *error = NULL;

  reset_steps ();
  request = make_stream_request (sv);
  big_expected_request = request;
  ck_assert (ss_handler_run (&big_class, NULL, request, &error));
  ck_assert_str_eq (steps->str, "big");
  free_stream_request (request, sv);
}
END_TEST

/* ------------------------------------------------------------ /classes */

typedef struct {
  SsStreamRequestHandler base;
} TunedHandler;

SS_DEFINE_HANDLER_CLASS (TunedHandler, tuned_class, ss_stream_request_handler_class,
                         .rbufsize = 100, .wbufsize = 200, .timeout = 1.5,
                         .disable_nagle_algorithm = TRUE);

/* Derives from tuned_class and sets nothing: inherits everything. */
static const SsHandlerClass tuned_child_class = {
  .name = "TunedChild", .parent = &tuned_class, SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,
};

START_TEST (test_classes_attributes)
{
  ck_assert_int_eq (ss_handler_class_rbufsize (&ss_base_request_handler_class), -1);
  ck_assert_int_eq (ss_handler_class_wbufsize (&ss_base_request_handler_class), 0);
  ck_assert (ss_handler_class_timeout (&ss_base_request_handler_class) < 0);
  ck_assert (!ss_handler_class_disable_nagle (&ss_base_request_handler_class));
  ck_assert_uint_eq (ss_handler_class_instance_size (&ss_base_request_handler_class),
                     sizeof (SsRequestHandler));
  ck_assert_str_eq (ss_base_request_handler_class.name, "BaseRequestHandler");
  ck_assert_ptr_null (ss_base_request_handler_class.parent);

  ck_assert_int_eq (ss_handler_class_rbufsize (&ss_stream_request_handler_class), -1);
  ck_assert_int_eq (ss_handler_class_wbufsize (&ss_stream_request_handler_class), 0);
  ck_assert_uint_eq (ss_handler_class_instance_size (&ss_stream_request_handler_class),
                     sizeof (SsStreamRequestHandler));
  ck_assert_uint_eq (ss_handler_class_instance_size (&ss_datagram_request_handler_class),
                     sizeof (SsDatagramRequestHandler));

  ck_assert_int_eq (ss_handler_class_rbufsize (&tuned_child_class), 100);
  ck_assert_int_eq (ss_handler_class_wbufsize (&tuned_child_class), 200);
  ck_assert (ss_handler_class_timeout (&tuned_child_class) == 1.5);
  ck_assert (ss_handler_class_disable_nagle (&tuned_child_class));
  ck_assert_uint_eq (ss_handler_class_instance_size (&tuned_child_class), sizeof (TunedHandler));
}
END_TEST

/* A user class that overrides only handle, on StreamRequestHandler: setup
 * (rfile, wfile, connection) and finish come from the base. */
static gboolean
upper_line_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  ck_assert_ptr_nonnull (self->rfile);
  ck_assert_ptr_nonnull (self->wfile);
  ck_assert_int_eq (self->connection, handler->request->fd);
  if (ss_rfile_readline (self->rfile, line, 10000, error) < 0)
    return FALSE;
  g_string_ascii_up (line);
  return ss_wfile_write (self->wfile, line->str, line->len, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, upper_line_class,
                         ss_stream_request_handler_class,
                         .handle = upper_line_handle);

START_TEST (test_classes_inherit_setup_finish)
{
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  GError *error = NULL;
  char *line;

  test_send_all (sv[1], "hello there\nleft over\n", 22);
  ck_assert_msg (ss_handler_run (&upper_line_class, NULL, request, &error),
                 "run: %s", error ? error->message : "?");
  line = test_recv_line (sv[1]);
  ck_assert_str_eq (line, "HELLO THERE\n");
  g_free (line);
  free_stream_request (request, sv);
}
END_TEST

/* ------------------------------------------------------------ /stream */

/* wbufsize > 0: the handler's writes stay buffered until finish flushes. */
static int buffered_client_fd = -1;
static gboolean buffered_flushed_early;

static gboolean
buffered_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  char buf[16];

  if (!ss_wfile_write_string (self->wfile, "buffered reply", error))
    return FALSE;
  /* Nothing may have reached the client before finish. */
  if (buffered_client_fd >= 0)
    buffered_flushed_early = recv (buffered_client_fd, buf, sizeof buf, MSG_DONTWAIT) >= 0;
  return TRUE;
}

typedef struct {
  SsStreamRequestHandler base;
} BufferedHandler;

SS_DEFINE_HANDLER_CLASS (BufferedHandler, buffered_class, ss_stream_request_handler_class,
                         .wbufsize = 65536, .handle = buffered_handle);

START_TEST (test_stream_wbufsize_flushed_in_finish)
{
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  GError *error = NULL;
  GString *got;

  buffered_client_fd = sv[1];
  buffered_flushed_early = TRUE;
  ck_assert (ss_handler_run (&buffered_class, NULL, request, &error));
  ck_assert (!buffered_flushed_early);
  shutdown (sv[0], SHUT_WR);
  got = test_recv_all (sv[1], 100);
  ck_assert_str_eq (got->str, "buffered reply");
  g_string_free (got, TRUE);
  free_stream_request (request, sv);
}
END_TEST

/* Python swallows a socket error on finish's flush; so do we. The client
 * is gone, so only the flush in finish can fail, and the run succeeds. */
START_TEST (test_stream_finish_swallows_flush_error)
{
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  GError *error = NULL;

  buffered_client_fd = -1;
  close (sv[1]);
  ck_assert_msg (ss_handler_run (&buffered_class, NULL, request, &error),
                 "run: %s", error ? error->message : "?");
  /* The same write unbuffered fails: the flush really had an error to swallow. */
  ck_assert (!ss_sendall (sv[0], "x", 1, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_CLOSED));
  g_clear_error (&error);
  ss_request_free (request);
  close (sv[0]);
}
END_TEST

static gboolean
read_line_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  return ss_rfile_readline (self->rfile, line, -1, error) >= 0;
}

typedef struct {
  SsStreamRequestHandler base;
} TimeoutHandler;

SS_DEFINE_HANDLER_CLASS (TimeoutHandler, timeout_class, ss_stream_request_handler_class,
                         .timeout = 0.2, .handle = read_line_handle);

START_TEST (test_stream_timeout)
{
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();

  /* The client never sends: readline gives up after the class's timeout. */
  ck_assert (!run_over_pair (&timeout_class, &error));
  ck_assert_msg (g_error_matches (error, SS_ERROR, SS_ERROR_TIMED_OUT),
                 "got: %s", error ? error->message : "no error");
  ck_assert_ptr_nonnull (strstr (error->message, "0.2 s"));
  ck_assert_int_lt (g_get_monotonic_time () - start, 10 * G_USEC_PER_SEC);
  g_error_free (error);
}
END_TEST

static int nodelay_seen;

static gboolean
nodelay_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  socklen_t len = sizeof nodelay_seen;

  nodelay_seen = -1;
  if (getsockopt (self->connection, IPPROTO_TCP, TCP_NODELAY, &nodelay_seen, &len) != 0)
    nodelay_seen = -2; /* not a TCP socket */
  return TRUE;
}

typedef struct {
  SsStreamRequestHandler base;
} NoDelayHandler;

SS_DEFINE_HANDLER_CLASS (NoDelayHandler, nodelay_class, ss_stream_request_handler_class,
                         .disable_nagle_algorithm = TRUE, .handle = nodelay_handle);

START_TEST (test_stream_disable_nagle)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int cfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SsAddress client = { 0 };
  SsRequest *request;
  GError *error = NULL;
  int afd;

  ck_assert_int_eq (bind (lfd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (listen (lfd, 1), 0);
  ck_assert_int_eq (getsockname (lfd, (struct sockaddr *) &sin, &len), 0);
  ck_assert_int_eq (connect (cfd, (struct sockaddr *) &sin, len), 0);
  client.len = sizeof client.storage;
  afd = accept4 (lfd, (struct sockaddr *) &client.storage, &client.len, SOCK_CLOEXEC);
  ck_assert_int_ge (afd, 0);

  request = ss_request_new_stream (afd, &client);
  ck_assert (ss_handler_run (&nodelay_class, NULL, request, &error));
  ck_assert_int_eq (nodelay_seen, 1);
  ss_request_free (request);
  close (afd);

  /* On a Unix socket the option does not apply and setup still succeeds. */
  ck_assert (run_over_pair (&nodelay_class, &error));
  ck_assert_int_eq (nodelay_seen, -2);
  close (cfd);
  close (lfd);
}
END_TEST

/* ------------------------------------------------------------ /datagram */

/* Two UDP sockets on loopback: [0] plays the server socket, [1] the client. */
static void
make_udp_pair (int fds[2], SsAddress *client)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = 10 };

  for (int i = 0; i < 2; i++)
    {
      fds[i] = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ck_assert_int_ge (fds[i], 0);
      ck_assert_int_eq (bind (fds[i], (struct sockaddr *) &sin, sizeof sin), 0);
    }
  setsockopt (fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  client->len = sizeof client->storage;
  ck_assert_int_eq (getsockname (fds[1], (struct sockaddr *) &client->storage, &client->len), 0);
}

START_TEST (test_datagram_empty_reply)
{
  int fds[2];
  SsAddress client;
  SsRequest *request;
  GError *error = NULL;
  char buf[16];

  make_udp_pair (fds, &client);
  request = ss_request_new_datagram (fds[0], &client, "ping", 4, FALSE);
  /* DatagramRequestHandler itself: handle does nothing, finish still replies. */
  ck_assert_msg (ss_handler_run (&ss_datagram_request_handler_class, NULL, request, &error),
                 "run: %s", error ? error->message : "?");
  ck_assert_int_eq (recv (fds[1], buf, sizeof buf, 0), 0);
  ss_request_free (request);
  close (fds[0]);
  close (fds[1]);
}
END_TEST

static gboolean
dgram_rw_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  ck_assert_int_eq (self->socket, handler->request->fd);
  ck_assert_uint_eq (self->packet_len, 11);
  if (ss_rfile_readline (self->rfile, line, -1, error) < 0)
    return FALSE;
  ck_assert_str_eq (line->str, "first\n");
  return ss_wfile_printf (self->wfile, error, "got <%s>", g_strchomp (line->str))
         && ss_wfile_write_string (self->wfile, " and more", error);
}

typedef struct {
  SsDatagramRequestHandler base;
} DgramRw;

SS_DEFINE_HANDLER_CLASS (DgramRw, dgram_rw_class, ss_datagram_request_handler_class,
                         .handle = dgram_rw_handle);

START_TEST (test_datagram_reply_one_datagram)
{
  int fds[2];
  SsAddress client;
  SsRequest *request;
  GError *error = NULL;
  char buf[64] = { 0 };

  make_udp_pair (fds, &client);
  request = ss_request_new_datagram (fds[0], &client, "first\nrest", 11, FALSE);
  ck_assert (ss_handler_run (&dgram_rw_class, NULL, request, &error));
  /* Everything written is one datagram, sent by finish. */
  ck_assert_int_eq (recv (fds[1], buf, sizeof buf - 1, 0), 20);
  ck_assert_str_eq (buf, "got <first> and more");
  ck_assert_int_eq (recv (fds[1], buf, sizeof buf, MSG_DONTWAIT), -1);
  ss_request_free (request);
  close (fds[0]);
  close (fds[1]);
}
END_TEST

START_TEST (test_datagram_echo_handler)
{
  int fds[2];
  SsAddress client;
  SsRequest *request;
  GError *error = NULL;
  guint8 packet[1000];
  guint8 buf[2000];

  for (gsize i = 0; i < sizeof packet; i++)
    packet[i] = (guint8) i;
  make_udp_pair (fds, &client);
  request = ss_request_new_datagram (fds[0], &client, packet, sizeof packet, FALSE);
  ck_assert (ss_handler_run (&ss_datagram_echo_handler_class, NULL, request, &error));
  ck_assert_int_eq (recv (fds[1], buf, sizeof buf, 0), (gssize) sizeof packet);
  ck_assert_mem_eq (buf, packet, sizeof packet);
  ss_request_free (request);
  close (fds[0]);
  close (fds[1]);
}
END_TEST

/* ------------------------------------------------------------ /echo */

typedef struct {
  int fd;
  const guint8 *data;
  gsize len;
} Feed;

static gpointer
feed_thread (gpointer p)
{
  Feed *f = p;

  test_send_all (f->fd, f->data, f->len);
  shutdown (f->fd, SHUT_WR);
  return NULL;
}

typedef struct {
  const SsHandlerClass *klass;
  SsRequest *request;
  gboolean ok;
} Run;

static gpointer
run_thread (gpointer p)
{
  Run *r = p;
  GError *error = NULL;

  r->ok = ss_handler_run (r->klass, NULL, r->request, &error);
  if (error != NULL)
    g_printerr ("handler: %s\n", error->message);
  g_clear_error (&error);
  /* End the reply stream as shutdown_request would. */
  shutdown (r->request->fd, SHUT_WR);
  return NULL;
}

START_TEST (test_echo_stream_long_line)
{
  /* A 1 MiB line without newline, then two short lines: all comes back. */
  const gsize long_len = 1024 * 1024;
  GString *input = g_string_new (NULL);
  int sv[2];
  SsRequest *request = make_stream_request (sv);
  Feed f;
  Run r = { &ss_stream_echo_handler_class, request, FALSE };
  GThread *feeder;
  GThread *runner;
  GString *got;
  struct timeval tv = { .tv_sec = 20 };

  for (gsize i = 0; i < long_len; i++)
    g_string_append_c (input, (char) ('a' + i % 26));
  g_string_append (input, "\nshort\nlast");
  setsockopt (sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  f = (Feed) { sv[1], (const guint8 *) input->str, input->len };
  runner = g_thread_new ("handler", run_thread, &r);
  feeder = g_thread_new ("feeder", feed_thread, &f);
  got = test_recv_all (sv[1], input->len + 1);
  g_thread_join (feeder);
  g_thread_join (runner);
  ck_assert (r.ok);
  ck_assert_uint_eq (got->len, input->len);
  ck_assert_mem_eq (got->str, input->str, input->len);
  g_string_free (got, TRUE);
  g_string_free (input, TRUE);
  free_stream_request (request, sv);
}
END_TEST

START_TEST (test_echo_tcp_server)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, NULL, &error);
  TestServer *ts;

  ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  ts = test_server_start (server);
  /* Three clients in a row, like CPython's test_socketserver. */
  test_echo_once (server, "hello\n");
  test_echo_once (server, "two lines\nand a partial");
  test_echo_once (server, "third\n");
  test_server_stop (ts);
}
END_TEST

START_TEST (test_echo_udp_server)
{
  GError *error = NULL;
  SsServer *server = ss_udp_server_new ("127.0.0.1:0", &ss_datagram_echo_handler_class, NULL, &error);
  TestServer *ts;

  ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  ts = test_server_start (server);
  test_echo_once (server, "a datagram");
  test_echo_once (server, "another one\n");
  test_server_stop (ts);
}
END_TEST

/* A handler failure behind a real server goes to handle_error, finish
 * still runs, and the server keeps serving. */
static gboolean
fail_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  if (ss_rfile_readline (self->rfile, line, 100, error) < 0)
    return FALSE;
  if (g_str_has_prefix (line->str, "fail"))
    {
      /* Buffered: only finish's flush delivers it. */
      if (!ss_wfile_write_string (self->wfile, "from-finish\n", error))
        return FALSE;
      g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "asked to fail");
      return FALSE;
    }
  return ss_wfile_write (self->wfile, line->str, line->len, error);
}

typedef struct {
  SsStreamRequestHandler base;
} FailHandler;

SS_DEFINE_HANDLER_CLASS (FailHandler, fail_class, ss_stream_request_handler_class,
                         .wbufsize = 4096, .handle = fail_handle);

static int handle_error_calls;

static void
counting_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  if (g_error_matches (error, SS_ERROR, SS_ERROR_HANDLER)
      && strcmp (error->message, "asked to fail") == 0)
    g_atomic_int_inc (&handle_error_calls);
}

static const SsServerClass counting_server_class = {
  .name = "CountingServer", .parent = &ss_tcp_server_class,
  .handle_error = counting_handle_error,
};

START_TEST (test_echo_failure_goes_to_handle_error)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&counting_server_class, "127.0.0.1:0", &fail_class,
                                    NULL, TRUE, &error);
  TestServer *ts;
  int fd;
  GString *got;

  ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  handle_error_calls = 0;
  ts = test_server_start (server);
  fd = test_connect (server);
  test_send_all (fd, "fail\n", 5);
  got = test_recv_all (fd, 100);
  ck_assert_str_eq (got->str, "from-finish\n");
  g_string_free (got, TRUE);
  close (fd);
  test_echo_once (server, "still serving\n");
  test_server_stop (ts);
  ck_assert_int_eq (handle_error_calls, 1);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("handlers");
  TCase *tc;

  tc = tcase_create ("lifecycle");
  tcase_add_test (tc, test_lifecycle_order);
  tcase_add_test (tc, test_lifecycle_finish_after_handle_fails);
  tcase_add_test (tc, test_lifecycle_setup_fails);
  tcase_add_test (tc, test_lifecycle_finish_fails);
  tcase_add_test (tc, test_lifecycle_both_fail_second_logged);
  tcase_add_test (tc, test_lifecycle_false_without_error);
  tcase_add_test (tc, test_lifecycle_instance_size);
  tcase_add_test (tc, test_lifecycle_thread_exits_in_handle);
  suite_add_tcase (s, tc);

  tc = tcase_create ("classes");
  tcase_add_test (tc, test_classes_attributes);
  tcase_add_test (tc, test_classes_inherit_setup_finish);
  suite_add_tcase (s, tc);

  tc = tcase_create ("stream");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_stream_wbufsize_flushed_in_finish);
  tcase_add_test (tc, test_stream_finish_swallows_flush_error);
  tcase_add_test (tc, test_stream_timeout);
  tcase_add_test (tc, test_stream_disable_nagle);
  suite_add_tcase (s, tc);

  tc = tcase_create ("datagram");
  tcase_add_test (tc, test_datagram_empty_reply);
  tcase_add_test (tc, test_datagram_reply_one_datagram);
  tcase_add_test (tc, test_datagram_echo_handler);
  suite_add_tcase (s, tc);

  tc = tcase_create ("echo");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_echo_stream_long_line);
  tcase_add_test (tc, test_echo_tcp_server);
  tcase_add_test (tc, test_echo_udp_server);
  tcase_add_test (tc, test_echo_failure_goes_to_handle_error);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
