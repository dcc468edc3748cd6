/* test-classes.c: the class model (class.h, server.h, handler.h).
 *
 * super() is the parent's slot called by name, so every slot of every
 * exported class must be filled; a user's class deriving from another
 * user's class reaches its parent through SS_SERVER_CLASS_SLOT /
 * SS_HANDLER_CLASS_SLOT; handler class attributes inherit only through
 * SS_INHERIT, so 0, FALSE and "unbuffered" are values a subclass can set
 * under a parent that set otherwise. Each of those is checked here, the
 * attributes both as resolved values and by what a real connection does.
 */
#include "config.h"
#include "helpers.h"

#include <socketserver/http.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ every slot filled */

static const gsize server_slots[] = {
  G_STRUCT_OFFSET (SsServerClass, server_bind),
  G_STRUCT_OFFSET (SsServerClass, server_activate),
  G_STRUCT_OFFSET (SsServerClass, get_request),
  G_STRUCT_OFFSET (SsServerClass, shutdown_request),
  G_STRUCT_OFFSET (SsServerClass, close_request),
  G_STRUCT_OFFSET (SsServerClass, server_close),
  G_STRUCT_OFFSET (SsServerClass, fileno),
  G_STRUCT_OFFSET (SsServerClass, verify_request),
  G_STRUCT_OFFSET (SsServerClass, process_request),
  G_STRUCT_OFFSET (SsServerClass, finish_request),
  G_STRUCT_OFFSET (SsServerClass, handle_error),
  G_STRUCT_OFFSET (SsServerClass, handle_timeout),
  G_STRUCT_OFFSET (SsServerClass, service_actions),
};

static const SsServerClass *const exported_server_classes[] = {
  &ss_base_server_class, &ss_tcp_server_class, &ss_udp_server_class,
  &ss_unix_stream_server_class, &ss_unix_datagram_server_class, &ss_http_server_class,
};

START_TEST (test_server_slots_filled)
{
  const SsServerClass *klass = exported_server_classes[_i];
  gsize i;

  ck_assert_ptr_nonnull (klass->name);
  ck_assert_uint_ne (klass->instance_size, 0);
  ck_assert_int_ne (klass->address_family, 0);
  ck_assert_int_ne (klass->socket_type, 0);
  for (i = 0; i < G_N_ELEMENTS (server_slots); i++)
    ck_assert_msg (G_STRUCT_MEMBER (gconstpointer, klass, server_slots[i]) != NULL,
                   "%s has a NULL slot at offset %" G_GSIZE_FORMAT, klass->name, server_slots[i]);
}
END_TEST

static const gsize handler_slots[] = {
  G_STRUCT_OFFSET (SsHandlerClass, setup),
  G_STRUCT_OFFSET (SsHandlerClass, handle),
  G_STRUCT_OFFSET (SsHandlerClass, finish),
  G_STRUCT_OFFSET (SsHandlerClass, dispose),
};

static const SsHandlerClass *const exported_handler_classes[] = {
  &ss_base_request_handler_class, &ss_stream_request_handler_class,
  &ss_datagram_request_handler_class, &ss_stream_echo_handler_class,
  &ss_datagram_echo_handler_class, &ss_stream_echo_parking_handler_class,
  &ss_base_http_request_handler_class.parent_class, &ss_simple_http_request_handler_class.parent_class,
};

START_TEST (test_handler_slots_filled)
{
  const SsHandlerClass *klass = exported_handler_classes[_i];
  gsize i;

  ck_assert_ptr_nonnull (klass->name);
  ck_assert_uint_ne (klass->instance_size, 0);
  ck_assert_uint_eq (klass->magic, SS_HANDLER_CLASS_MAGIC);
  ck_assert_ptr_null (ss_handler_class_find_unmarked (klass));
  for (i = 0; i < G_N_ELEMENTS (handler_slots); i++)
    ck_assert_msg (G_STRUCT_MEMBER (gconstpointer, klass, handler_slots[i]) != NULL,
                   "%s has a NULL slot at offset %" G_GSIZE_FORMAT, klass->name, handler_slots[i]);
}
END_TEST

/* The HTTP handler classes (http.h): every HTTP slot and attribute too. */
static const gsize http_pointer_fields[] = {
  G_STRUCT_OFFSET (SsHTTPHandlerClass, do_GET), G_STRUCT_OFFSET (SsHTTPHandlerClass, do_HEAD),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, do_POST), G_STRUCT_OFFSET (SsHTTPHandlerClass, do_PUT),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, do_DELETE), G_STRUCT_OFFSET (SsHTTPHandlerClass, do_OPTIONS),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, do_PATCH), G_STRUCT_OFFSET (SsHTTPHandlerClass, do_TRACE),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, do_CONNECT), G_STRUCT_OFFSET (SsHTTPHandlerClass, methods),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, handle_one_request),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, parse_request),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, handle_expect_100),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, send_error), G_STRUCT_OFFSET (SsHTTPHandlerClass, send_response),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, send_response_only),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, send_header), G_STRUCT_OFFSET (SsHTTPHandlerClass, end_headers),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, log_request), G_STRUCT_OFFSET (SsHTTPHandlerClass, log_error),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, log_message),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, version_string),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, address_string), G_STRUCT_OFFSET (SsHTTPHandlerClass, send_head),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, list_directory),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, translate_path), G_STRUCT_OFFSET (SsHTTPHandlerClass, copyfile),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, guess_type), G_STRUCT_OFFSET (SsHTTPHandlerClass, server_version),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, sys_version),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, protocol_version),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, default_request_version),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, error_message_format),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, error_content_type),
  G_STRUCT_OFFSET (SsHTTPHandlerClass, directory), G_STRUCT_OFFSET (SsHTTPHandlerClass, extensions_map),
};

static const SsHTTPHandlerClass *const exported_http_classes[] = {
  &ss_base_http_request_handler_class, &ss_simple_http_request_handler_class,
};

START_TEST (test_http_slots_filled)
{
  const SsHTTPHandlerClass *klass = exported_http_classes[_i];

  ck_assert_uint_eq (klass->http_magic, SS_HTTP_HANDLER_CLASS_MAGIC);
  for (gsize i = 0; i < G_N_ELEMENTS (http_pointer_fields); i++)
    ck_assert_msg (G_STRUCT_MEMBER (gconstpointer, klass, http_pointer_fields[i]) != NULL,
                   "%s has a NULL field at offset %" G_GSIZE_FORMAT, klass->parent_class.name,
                   http_pointer_fields[i]);
  ck_assert (klass->keepalive_timeout != SS_INHERIT);
  ck_assert (klass->ranges != SS_INHERIT);
  ck_assert (klass->park_idle != SS_INHERIT);
  ck_assert (klass->parent_class.rbufsize != SS_INHERIT && klass->parent_class.wbufsize != SS_INHERIT
             && klass->parent_class.timeout != SS_INHERIT
             && klass->parent_class.disable_nagle_algorithm != SS_INHERIT);
}
END_TEST

/* ------------------------------------------------------------ super() by name */

/* The case that used to segfault: a porter's verify_request override
 * calling TCPServer's, and a handler's finish calling StreamRequestHandler's,
 * and a UDP handle_error calling UDPServer's. */
static int super_calls;

static gboolean
super_verify_request (SsServer *server, SsRequest *request)
{
  super_calls++;
  return ss_tcp_server_class.verify_request (server, request);
}

static void
super_process_request (SsServer *server, SsRequest *request)
{
  super_calls++;
  ss_tcp_server_class.process_request (server, request);
}

static void
super_shutdown_request (SsServer *server, SsRequest *request)
{
  super_calls++;
  ss_tcp_server_class.shutdown_request (server, request);
}

static void
super_service_actions (SsServer *server)
{
  ss_tcp_server_class.service_actions (server);
}

static const SsServerClass super_server_class = {
  .name = "SuperServer",
  .parent = &ss_tcp_server_class,
  .verify_request = super_verify_request,
  .process_request = super_process_request,
  .shutdown_request = super_shutdown_request,
  .service_actions = super_service_actions,
};

static gboolean
super_setup (SsRequestHandler *handler, GError **error)
{
  return ss_stream_echo_handler_class.setup (handler, error);
}

static gboolean
super_handle (SsRequestHandler *handler, GError **error)
{
  return ss_stream_echo_handler_class.handle (handler, error);
}

static gboolean
super_finish (SsRequestHandler *handler, GError **error)
{
  return ss_stream_echo_handler_class.finish (handler, error);
}

static void
super_dispose (SsRequestHandler *handler)
{
  ss_stream_echo_handler_class.dispose (handler);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, super_handler_class, ss_stream_echo_handler_class,
                         .setup = super_setup, .handle = super_handle, .finish = super_finish,
                         .dispose = super_dispose);

START_TEST (test_super_by_name)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&super_server_class, "127.0.0.1:0", &super_handler_class,
                                    NULL, TRUE, &error);
  TestServer *ts;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  super_calls = 0;
  ts = test_server_start (server);
  test_echo_once (server, "through every parent slot\n");
  test_server_stop (ts);
  /* verify, process and shutdown of the one request. */
  ck_assert_int_eq (super_calls, 3);
}
END_TEST

/* Every slot of the library's base server, called by name on a real
 * server, does what Python's BaseServer does. */
START_TEST (test_base_server_slots)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0",
                                    &ss_stream_echo_handler_class, NULL, FALSE, &error);

  ck_assert_ptr_nonnull (server);
  /* BaseServer has no server_bind or get_request: a clear error. */
  ck_assert (!ss_base_server_class.server_bind (server, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "derive it from a transport class"));
  g_clear_error (&error);
  ck_assert_ptr_null (ss_base_server_class.get_request (server, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* server_activate and server_close: Python's `pass`. */
  ck_assert (ss_base_server_class.server_activate (server, &error));
  ss_base_server_class.server_close (server);
  ck_assert (ss_base_server_class.verify_request (server, NULL));
  ck_assert_int_eq (ss_base_server_class.fileno (server), server->socket_fd);
  ss_server_free (server);
}
END_TEST

/* ------------------------------------------------------------ user class from user class */

static int grand_verified, parent_verified;

static gboolean
parent_verify_request (SsServer *server, SsRequest *request)
{
  parent_verified++;
  return ss_tcp_server_class.verify_request (server, request);
}

/* Overrides verify_request only; every other slot is NULL (inherited). */
static const SsServerClass user_parent_server_class = {
  .name = "UserParent",
  .parent = &ss_tcp_server_class,
  .verify_request = parent_verify_request,
};

static gboolean
grand_verify_request (SsServer *server, SsRequest *request)
{
  grand_verified++;
  return SS_SERVER_CLASS_SLOT (&user_parent_server_class, verify_request) (server, request);
}

static void
grand_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  /* user_parent_server_class leaves handle_error NULL: the lookup finds
   * TCPServer's (BaseServer's), never NULL. */
  SS_SERVER_CLASS_SLOT (&user_parent_server_class, handle_error) (server, request, error);
}

static const SsServerClass user_child_server_class = {
  .name = "UserChild",
  .parent = &user_parent_server_class,
  .verify_request = grand_verify_request,
  .handle_error = grand_handle_error,
};

static int parent_handled;

static gboolean
parent_handle (SsRequestHandler *handler, GError **error)
{
  parent_handled++;
  return ss_stream_echo_handler_class.handle (handler, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, user_parent_handler_class,
                         ss_stream_echo_handler_class, .handle = parent_handle);

static gboolean
child_handle (SsRequestHandler *handler, GError **error)
{
  return SS_HANDLER_CLASS_SLOT (&user_parent_handler_class, handle) (handler, error);
}

static gboolean
child_finish (SsRequestHandler *handler, GError **error)
{
  /* user_parent_handler_class leaves finish NULL: StreamRequestHandler's. */
  ck_assert_ptr_eq (SS_HANDLER_CLASS_SLOT (&user_parent_handler_class, finish),
                    ss_stream_request_handler_class.finish);
  return SS_HANDLER_CLASS_SLOT (&user_parent_handler_class, finish) (handler, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, user_child_handler_class,
                         user_parent_handler_class, .handle = child_handle,
                         .finish = child_finish);

START_TEST (test_user_derives_from_user)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&user_child_server_class, "127.0.0.1:0",
                                    &user_child_handler_class, NULL, TRUE, &error);
  TestServer *ts;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  grand_verified = parent_verified = parent_handled = 0;
  ck_assert_ptr_eq (SS_SERVER_CLASS_SLOT (&user_parent_server_class, fileno),
                    ss_tcp_server_class.fileno);
  ts = test_server_start (server);
  test_echo_once (server, "grandchild\n");
  test_server_stop (ts);
  ck_assert_int_eq (grand_verified, 1);
  ck_assert_int_eq (parent_verified, 1);
  ck_assert_int_eq (parent_handled, 1);
}
END_TEST

/* ------------------------------------------------------------ classes that cannot be used */

static int criticals;

static void
count_criticals (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  criticals++;
}

START_TEST (test_unmarked_handler_class_refused)
{
  /* A plain initializer without SS_HANDLER_CLASS_ATTRIBUTES_INHERIT: its
   * timeout would silently be 0. */
  static const SsHandlerClass plain = {
    .name = "PlainInitializer", .parent = &ss_stream_echo_handler_class,
  };
  GError *error = NULL;
  guint id = g_log_set_handler ("socketserver", G_LOG_LEVEL_CRITICAL, count_criticals, NULL);
  SsServer *server;

  criticals = 0;
  ck_assert_ptr_eq (ss_handler_class_find_unmarked (&plain), &plain);
  server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &plain, NULL, TRUE, &error);
  g_log_remove_handler ("socketserver", id);
  ck_assert_ptr_null (server);
  ck_assert_int_eq (criticals, 1);
}
END_TEST

START_TEST (test_rootless_server_class_refused)
{
  static const SsServerClass orphan = { .name = "Orphan", .parent = NULL };
  GError *error = NULL;
  guint id = g_log_set_handler ("socketserver", G_LOG_LEVEL_CRITICAL, count_criticals, NULL);
  SsServer *server;

  criticals = 0;
  server = ss_server_new (&orphan, "127.0.0.1:0", &ss_stream_echo_handler_class, NULL, TRUE,
                          &error);
  g_log_remove_handler ("socketserver", id);
  ck_assert_ptr_null (server);
  ck_assert_int_eq (criticals, 1);
}
END_TEST

/* ------------------------------------------------------------ attributes: real values under a parent */

typedef struct {
  SsStreamRequestHandler base;
} AttrHandler;

/* The parent sets the opposite of what the children set. */
SS_DEFINE_HANDLER_CLASS (AttrHandler, attr_parent_class, ss_stream_request_handler_class,
                         .rbufsize = 4096, .wbufsize = 65536, .timeout = 5,
                         .disable_nagle_algorithm = TRUE);
SS_DEFINE_HANDLER_CLASS (AttrHandler, attr_zero_class, attr_parent_class,
                         .rbufsize = 0, .wbufsize = 0, .timeout = 0,
                         .disable_nagle_algorithm = FALSE);
SS_DEFINE_HANDLER_CLASS (AttrHandler, attr_none_class, attr_parent_class,
                         .rbufsize = -1, .timeout = SS_TIMEOUT_NONE);
/* Names nothing: inherits everything from attr_parent_class. */
SS_DEFINE_HANDLER_CLASS (AttrHandler, attr_inherit_class, attr_parent_class);

START_TEST (test_attributes_resolved)
{
  ck_assert_int_eq (ss_handler_class_rbufsize (&attr_zero_class), 0);
  ck_assert_int_eq (ss_handler_class_wbufsize (&attr_zero_class), 0);
  ck_assert (ss_handler_class_timeout (&attr_zero_class) == 0);
  ck_assert (!ss_handler_class_disable_nagle (&attr_zero_class));

  ck_assert_int_eq (ss_handler_class_rbufsize (&attr_none_class), -1);
  ck_assert (ss_handler_class_timeout (&attr_none_class) < 0);
  ck_assert_int_eq (ss_handler_class_wbufsize (&attr_none_class), 65536);

  ck_assert_int_eq (ss_handler_class_rbufsize (&attr_inherit_class), 4096);
  ck_assert_int_eq (ss_handler_class_wbufsize (&attr_inherit_class), 65536);
  ck_assert (ss_handler_class_timeout (&attr_inherit_class) == 5);
  ck_assert (ss_handler_class_disable_nagle (&attr_inherit_class));
}
END_TEST

/* What a handler saw, for the behavioural checks below. */
static struct {
  int nodelay;             /* TCP_NODELAY on the connection */
  gboolean read_failed;    /* the read with nothing to read failed at once */
  int read_error_code;
  double read_seconds;
  char rest[64];           /* what was left in the socket after readline */
  gssize rest_len;
} seen;

/* timeout = 0 means "do not wait": reading with nothing sent fails at
 * once instead of after the parent's 5 s. Reads one line (the trigger),
 * then tries another, which the client never sends. */
static gboolean
probe_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);
  socklen_t len = sizeof seen.nodelay;
  GError *local = NULL;
  double start;

  getsockopt (self->connection, IPPROTO_TCP, TCP_NODELAY, &seen.nodelay, &len);
  /* Wait for the client's first line without the handler's timeout. */
  {
    struct pollfd pfd = { .fd = self->connection, .events = POLLIN };

    ck_assert_int_eq (poll (&pfd, 1, 10000), 1);
  }
  if (ss_rfile_readline (self->rfile, line, 1024, error) <= 0)
    return FALSE;
  /* rbufsize 0: the reader took the line and nothing after it. */
  seen.rest_len = recv (self->connection, seen.rest, sizeof seen.rest, MSG_DONTWAIT);
  g_string_truncate (line, 0);
  start = g_get_monotonic_time () / 1e6;
  seen.read_failed = ss_rfile_readline (self->rfile, line, 1024, &local) < 0;
  seen.read_seconds = g_get_monotonic_time () / 1e6 - start;
  seen.read_error_code = local != NULL ? local->code : -1;
  g_clear_error (&local);
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (AttrHandler, probe_zero_class, attr_zero_class, .handle = probe_handle);
SS_DEFINE_HANDLER_CLASS (AttrHandler, probe_inherit_class, attr_inherit_class,
                         .handle = probe_handle, .timeout = 0.2);

static void
run_probe (const SsHandlerClass *klass)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", klass, NULL, TRUE, &error);
  TestServer *ts;
  int fd;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  memset (&seen, 0, sizeof seen);
  ts = test_server_start (server);
  fd = test_connect (server);
  /* One send: the line and what follows it arrive together. */
  test_send_all (fd, "line\nrest", 9);
  g_string_free (test_recv_all (fd, 1024), TRUE);
  close (fd);
  test_server_stop (ts);
}

START_TEST (test_attributes_behave)
{
  /* rbufsize 0, timeout 0, disable_nagle_algorithm FALSE under a parent
   * with 4096, 5 s and TRUE. */
  run_probe (&probe_zero_class);
  ck_assert_int_eq (seen.nodelay, 0);
  ck_assert_int_eq (seen.rest_len, 4);
  ck_assert_int_eq (memcmp (seen.rest, "rest", 4), 0);
  ck_assert (seen.read_failed);
  ck_assert_int_eq (seen.read_error_code, SS_ERROR_TIMED_OUT);
  ck_assert_msg (seen.read_seconds < 0.15, "a timeout of 0 waited %.3f s", seen.read_seconds);

  /* The inheriting class: buffered reader (the rest was read into it),
   * TCP_NODELAY set. */
  run_probe (&probe_inherit_class);
  ck_assert_int_ne (seen.nodelay, 0);
  ck_assert_int_lt (seen.rest_len, 1);
}
END_TEST

/* wbufsize 0 under a buffered parent: each write is on the wire before
 * the next one starts, so the client reads the first piece while the
 * handler still waits for the go-ahead. */
static gboolean
unbuffered_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  if (!ss_wfile_write_string (self->wfile, "first\n", error))
    return FALSE;
  /* The client answers only once it has seen "first". */
  if (ss_rfile_readline (self->rfile, line, 1024, error) <= 0)
    return FALSE;
  return ss_wfile_write_string (self->wfile, "second\n", error);
}

SS_DEFINE_HANDLER_CLASS (AttrHandler, unbuffered_class, attr_parent_class,
                         .handle = unbuffered_handle, .wbufsize = 0, .timeout = 10);

START_TEST (test_wbufsize_zero_under_buffered_parent)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &unbuffered_class, NULL,
                                    TRUE, &error);
  TestServer *ts;
  char *got;
  int fd;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  ts = test_server_start (server);
  fd = test_connect (server);
  /* With the parent's 64 KiB buffer this would wait until finish. */
  got = test_recv_line (fd);
  ck_assert_str_eq (got, "first\n");
  g_free (got);
  test_send_all (fd, "go\n", 3);
  got = test_recv_line (fd);
  ck_assert_str_eq (got, "second\n");
  g_free (got);
  close (fd);
  test_server_stop (ts);
}
END_TEST

/* ------------------------------------------------------------ the one chain walk */

START_TEST (test_chain_find)
{
  static const int inherit = 0;
  const SsServerClass *found;

  /* The nearest class that sets the field wins. */
  ck_assert_ptr_eq (ss_class_chain_find (&ss_unix_datagram_server_class,
                                         G_STRUCT_OFFSET (SsServerClass, parent),
                                         G_STRUCT_OFFSET (SsServerClass, socket_type),
                                         sizeof (int), &inherit),
                    &ss_unix_datagram_server_class.socket_type);
  found = ss_server_class_lookup (&user_child_server_class,
                                  G_STRUCT_OFFSET (SsServerClass, get_request));
  ck_assert_ptr_eq (found, ss_tcp_server_class.get_request);
  /* Nothing in the chain sets it: NULL. */
  {
    static const SsServerClass empty = { .name = "Empty" };
    static const gconstpointer none = NULL;

    ck_assert_ptr_null (ss_class_chain_find (&empty, G_STRUCT_OFFSET (SsServerClass, parent),
                                             G_STRUCT_OFFSET (SsServerClass, fileno),
                                             sizeof (gconstpointer), &none));
  }
}
END_TEST

static Suite *
classes_suite (void)
{
  Suite *s = suite_create ("classes");
  TCase *filled = tcase_create ("filled");
  TCase *super = tcase_create ("super");
  TCase *refused = tcase_create ("refused");
  TCase *attributes = tcase_create ("attributes");

  tcase_add_loop_test (filled, test_server_slots_filled, 0, G_N_ELEMENTS (exported_server_classes));
  tcase_add_loop_test (filled, test_handler_slots_filled, 0, G_N_ELEMENTS (exported_handler_classes));
  tcase_add_loop_test (filled, test_http_slots_filled, 0, G_N_ELEMENTS (exported_http_classes));
  tcase_add_test (filled, test_chain_find);
  suite_add_tcase (s, filled);

  tcase_add_test (super, test_super_by_name);
  tcase_add_test (super, test_base_server_slots);
  tcase_add_test (super, test_user_derives_from_user);
  suite_add_tcase (s, super);

  tcase_add_test (refused, test_unmarked_handler_class_refused);
  tcase_add_test (refused, test_rootless_server_class_refused);
  suite_add_tcase (s, refused);

  tcase_add_test (attributes, test_attributes_resolved);
  tcase_add_test (attributes, test_attributes_behave);
  tcase_add_test (attributes, test_wbufsize_zero_under_buffered_parent);
  suite_add_tcase (s, attributes);
  return s;
}

int
main (void)
{
  return test_run_suite (classes_suite ());
}
