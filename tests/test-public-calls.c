/* test-public-calls: the public functions no other test called.
 *
 * Issue 13's audit found public functions that no test ever called, so a
 * broken one would ship: ss_unix_datagram_server_new, the errno helpers of
 * error.h, and the handler dispatchers ss_request_handler_setup / handle /
 * finish. Each is called here as a user calls it and its result checked.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ error.h */

START_TEST (test_error_code_from_errno)
{
  static const struct { int errsv; SsErrorCode code; } map[] = {
    { EADDRINUSE, SS_ERROR_ADDRESS_IN_USE },
    { EACCES, SS_ERROR_PERMISSION },
    { EPERM, SS_ERROR_PERMISSION },
    { ENOENT, SS_ERROR_NOT_FOUND },
    { ENOTDIR, SS_ERROR_NOT_FOUND },
    { EPIPE, SS_ERROR_CLOSED },
    { ECONNRESET, SS_ERROR_CLOSED },
    { ENOTCONN, SS_ERROR_CLOSED },
    { ETIMEDOUT, SS_ERROR_TIMED_OUT },
    { EAGAIN, SS_ERROR_WOULD_BLOCK },
    { EWOULDBLOCK, SS_ERROR_WOULD_BLOCK },
    { EMFILE, SS_ERROR_NO_RESOURCES },
    { ENFILE, SS_ERROR_NO_RESOURCES },
    { ENOMEM, SS_ERROR_NO_RESOURCES },
    { ESHUTDOWN, SS_ERROR_CLOSED },
    { ENOBUFS, SS_ERROR_NO_RESOURCES },
    { EINVAL, SS_ERROR_INVALID_ADDRESS },
    { ENAMETOOLONG, SS_ERROR_INVALID_ADDRESS },
    { EAFNOSUPPORT, SS_ERROR_INVALID_ADDRESS },
    { EADDRNOTAVAIL, SS_ERROR_INVALID_ADDRESS },
    { EXDEV, SS_ERROR_FAILED },       /* anything unlisted */
    { 0, SS_ERROR_FAILED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    ck_assert_msg (ss_error_code_from_errno (map[i].errsv) == map[i].code,
                   "errno %d (%s): code %d, expected %d", map[i].errsv, g_strerror (map[i].errsv),
                   ss_error_code_from_errno (map[i].errsv), map[i].code);
}
END_TEST

START_TEST (test_set_error_from_errno)
{
  GError *error = NULL;
  g_autofree char *expected = NULL;

  ss_set_error_from_errno (&error, EADDRINUSE, "Cannot bind to 127.0.0.1:8000",
                           "Stop the other server or choose another port.");
  ck_assert_ptr_nonnull (error);
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_ADDRESS_IN_USE));
  /* What failed (with the address), the system's text, what to do. */
  ck_assert_msg (g_str_has_prefix (error->message, "Cannot bind to 127.0.0.1:8000"), "%s", error->message);
  ck_assert_msg (strstr (error->message, g_strerror (EADDRINUSE)) != NULL, "%s", error->message);
  ck_assert_msg (g_str_has_suffix (error->message, "Stop the other server or choose another port."),
                 "%s", error->message);
  g_clear_error (&error);

  /* No hint: the message ends with the system's text. */
  ss_set_error_from_errno (&error, ENOENT, "Cannot open /nonexistent", NULL);
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (error->message, g_strerror (ENOENT)) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "(null)") == NULL, "%s", error->message);
  g_clear_error (&error);

  /* A NULL GError** is allowed, as everywhere in GLib. */
  ss_set_error_from_errno (NULL, EPIPE, "Cannot send", NULL);
}
END_TEST

/* ------------------------------------------------------------ unix.h */

START_TEST (test_unix_datagram_server_new)
{
  g_autofree char *path = test_address_for ("unix-dgram");
  GError *error = NULL;
  SsServer *server = ss_unix_datagram_server_new (path, &ss_datagram_echo_handler_class, NULL, &error);
  TestServer *ts;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  ck_assert (g_file_test (path, G_FILE_TEST_EXISTS));
  ck_assert_str_eq (ss_strategy_name (server->strategy), "sync");
  ts = test_server_start (server);
  test_echo_once (server, "one datagram");
  test_echo_once (server, "and another");
  test_server_stop (ts);
  /* server_close removed the socket file it made. */
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));

  /* A path in a folder that does not exist: an error naming the path. */
  server = ss_unix_datagram_server_new ("/nonexistent-dir/x.sock", &ss_datagram_echo_handler_class,
                                         ss_threading_strategy_new (), &error);
  ck_assert_ptr_null (server);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (strstr (error->message, "/nonexistent-dir/x.sock") != NULL, "%s", error->message);
  g_clear_error (&error);
}
END_TEST

/* ------------------------------------------------------------ handler.h */

typedef struct {
  SsRequestHandler base;
  GString *steps;
  gboolean fail_handle_quietly;   /* handle returns FALSE with no error set */
  gboolean fail_finish;           /* finish returns FALSE with an error */
} Recording;

static gboolean
recording_setup (SsRequestHandler *handler, GError **error)
{
  (void) error;
  g_string_append (((Recording *) handler)->steps, "setup ");
  return TRUE;
}

static gboolean
recording_handle (SsRequestHandler *handler, GError **error)
{
  Recording *self = (Recording *) handler;

  (void) error;
  g_string_append (self->steps, "handle ");
  return !self->fail_handle_quietly;
}

static gboolean
recording_finish (SsRequestHandler *handler, GError **error)
{
  Recording *self = (Recording *) handler;

  g_string_append (self->steps, "finish ");
  if (self->fail_finish)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_CLOSED, "the client went away");
      return FALSE;
    }
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (Recording, recording_class, ss_base_request_handler_class,
                         .setup = recording_setup, .handle = recording_handle,
                         .finish = recording_finish);

/* A subclass that overrides nothing: the dispatchers find the parent's slots. */
SS_DEFINE_HANDLER_CLASS (Recording, recording_child_class, recording_class);

START_TEST (test_handler_dispatchers)
{
  Recording self = { .base = { .klass = &recording_child_class }, .steps = g_string_new (NULL) };
  GError *error = NULL;

  ck_assert (ss_request_handler_setup (&self.base, &error));
  ck_assert_ptr_null (error);
  ck_assert (ss_request_handler_handle (&self.base, &error));
  ck_assert (ss_request_handler_finish (&self.base, &error));
  ck_assert_str_eq (self.steps->str, "setup handle finish ");

  /* A slot that fails without saying why still yields an error, naming
   * the class and the step, for handle_error to report. */
  self.fail_handle_quietly = TRUE;
  ck_assert (!ss_request_handler_handle (&self.base, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_HANDLER));
  ck_assert_msg (strstr (error->message, "Recording") != NULL && strstr (error->message, "handle") != NULL,
                 "%s", error->message);
  g_clear_error (&error);

  /* A slot's own error comes through unchanged. */
  self.fail_finish = TRUE;
  ck_assert (!ss_request_handler_finish (&self.base, &error));
  ck_assert (g_error_matches (error, SS_ERROR, SS_ERROR_CLOSED));
  ck_assert_str_eq (error->message, "the client went away");
  g_clear_error (&error);

  /* The library's base class: every step succeeds and does nothing. */
  self.base.klass = &ss_base_request_handler_class;
  ck_assert (ss_request_handler_setup (&self.base, &error));
  ck_assert (ss_request_handler_handle (&self.base, &error));
  ck_assert (ss_request_handler_finish (&self.base, &error));
  ck_assert_ptr_null (error);
  ck_assert_str_eq (self.steps->str, "setup handle finish handle finish ");
  g_string_free (self.steps, TRUE);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("public-calls");
  TCase *tc;

  tc = tcase_create ("/public-calls/error");
  tcase_add_test (tc, test_error_code_from_errno);
  tcase_add_test (tc, test_set_error_from_errno);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/public-calls/unix");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_unix_datagram_server_new);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/public-calls/handler");
  tcase_add_test (tc, test_handler_dispatchers);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
