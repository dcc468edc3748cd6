/* test-activation.c: socket activation and sd_notify (operations.h).
 *
 * systemd's protocol puts the sockets at fd 3, 4, ... of the process it
 * names in LISTEN_PID. fd 3 of the test process is check's or the
 * harness's, so each case that needs a socket there forks a child (the
 * test process has no other thread then), which moves the socket to fd 3,
 * sets the environment as systemd would and reports back through a pipe;
 * ss-echo is started the same way. Everything is on loopback or in a
 * temporary folder, and every wait is bounded.
 */
#include "config.h"
#include "helpers.h"
#include "ops-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>


static gboolean
echo_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);
  gssize got = ss_rfile_readline (self->rfile, line, 1024, error);

  if (got <= 0)
    return got == 0;
  return ss_wfile_write (self->wfile, line->str, line->len, error)
      && ss_wfile_flush (self->wfile, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, echo_handler_class,
                         ss_stream_request_handler_class, .handle = echo_handle);

/* Forks; the child runs @body with the socket at fd 3 and writes its
 * report (one line) to the pipe; returns what the child reported. */
static char *
run_activated (int fd, const char *listen_fds, void (*body) (int out, gpointer data), gpointer data)
{
  int pipe_fds[2];
  GString *report;
  pid_t pid;
  int status;

  ck_assert_int_eq (pipe (pipe_fds), 0);
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (pipe_fds[0]);
      if (pipe_fds[1] == SS_LISTEN_FDS_START)
        {
          int moved = dup (pipe_fds[1]);

          close (pipe_fds[1]);
          pipe_fds[1] = moved;
        }
      ops_become_activated (fd, listen_fds);
      body (pipe_fds[1], data);
      _exit (0);
    }
  close (pipe_fds[1]);
  close (fd);
  report = g_string_new (NULL); /* after the fork: the child, which _exits, holds none */
  for (;;)
    {
      struct pollfd pfd = { .fd = pipe_fds[0], .events = POLLIN };
      char buf[512];
      ssize_t n;

      ck_assert_msg (poll (&pfd, 1, (int) (20000 * ops_scale ())) == 1,
                     "the activated child said nothing in %g s", 20 * ops_scale ());
      n = read (pipe_fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (report, buf, n);
    }
  close (pipe_fds[0]);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status 0x%x", status);
  return g_string_free (report, FALSE);
}

static void
report (int out, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
report (int out, const char *format, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  (void) !write (out, text, strlen (text));
}

static SsServer *
unbound_server (const SsServerClass *klass, const char *address)
{
  g_autoptr (GError) error = NULL;
  SsServer *server = ss_server_new (klass, address, &echo_handler_class, NULL, FALSE, &error);

  if (server == NULL)
    {
      fprintf (stderr, "ss_server_new: %s\n", error->message);
      _exit (3);
    }
  return server;
}

/* ------------------------------------------------------------ adoption */

/* Adopts, says the port and whether the environment is gone, then serves
 * one request. */
static void
adopt_and_serve (int out, gpointer data)
{
  SsServer *server = unbound_server (&ss_tcp_server_class, "127.0.0.1:1");
  g_autoptr (GError) error = NULL;
  gboolean adopted = FALSE;

  (void) data;
  if (!ss_server_bind_or_adopt (server, &adopted, &error))
    {
      report (out, "error %s\n", error->message);
      return;
    }
  report (out, "adopted=%d fd=%d port=%u env=%s cloexec=%d\n", adopted, ss_server_fileno (server),
          ss_server_port (server), g_getenv ("LISTEN_FDS") != NULL ? "left" : "unset",
          (fcntl (ss_server_fileno (server), F_GETFD) & FD_CLOEXEC) != 0);
  close (out);
  server->timeout = 20;
  if (!ss_server_handle_request (server, &error))
    _exit (4);
  ss_server_free (server);
}

START_TEST (test_adopt_tcp)
{
  guint16 port;
  int fd = ops_listening_tcp (&port);
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  int pipe_fds[2];
  pid_t pid;
  int status;

  /* The child serves once: the test connects while it waits. */
  ck_assert_int_eq (pipe (pipe_fds), 0);
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      char line[64] = "";
      int c = socket (AF_INET, SOCK_STREAM, 0);
      ssize_t n;

      close (pipe_fds[0]);
      close (fd);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (connect (c, (struct sockaddr *) &sin, sizeof sin) < 0 || write (c, "hi\n", 3) != 3)
        _exit (10);
      n = read (c, line, sizeof line - 1);
      _exit (n == 3 && memcmp (line, "hi\n", 3) == 0 ? 0 : 11);
    }
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  got = run_activated (fd, "1", adopt_and_serve, NULL);
  want = g_strdup_printf ("adopted=1 fd=3 port=%u env=unset cloexec=1\n", port);
  ck_assert_str_eq (got, want);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "the client got no echo from the adopted socket: status 0x%x", status);
}
END_TEST

typedef struct {
  const SsServerClass *klass;
  const char *address;
} Want;

static void
adopt_expect_error (int out, gpointer data)
{
  const Want *want = data;
  SsServer *server = unbound_server (want->klass, want->address);
  g_autoptr (GError) error = NULL;

  if (ss_server_bind_or_adopt (server, NULL, &error))
    report (out, "adopted\n");
  else
    report (out, "%s %d: %s\n", g_quark_to_string (error->domain), error->code, error->message);
  /* Refused: the fd is left open and alone. */
  report (out, "fd3=%s\n", fcntl (SS_LISTEN_FDS_START, F_GETFD) >= 0 ? "open" : "closed");
  ss_server_free (server);
}

/* A socket that does not fit the transport: a clear error, fd 3 left. */
START_TEST (test_adopt_wrong_kind)
{
  g_autofree char *got = NULL;
  g_autofree char *msg = NULL;
  Want want = { &ss_tcp_server_class, "127.0.0.1:0" };
  const char *needle;
  int fd;

  if (_i == 0)
    {
      /* A UDP socket for TCPServer. */
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };

      fd = socket (AF_INET, SOCK_DGRAM, 0);
      ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
      needle = "fd 3: it is a datagram socket of the IPv4 family, and TCPServer serves stream sockets of the IPv4/IPv6 family";
    }
  else if (_i == 1)
    {
      /* A Unix stream socket for TCPServer. */
      int pair[2];

      ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, pair), 0);
      close (pair[1]);
      fd = pair[0];
      needle = "fd 3: it is a stream socket of the Unix family, and TCPServer serves stream sockets of the IPv4/IPv6 family";
    }
  else if (_i == 2)
    {
      /* A TCP socket that was bound but does not listen. */
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };

      fd = socket (AF_INET, SOCK_STREAM, 0);
      ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
      needle = "fd 3: the IPv4 stream socket is not listening";
    }
  else
    {
      /* Not a socket at all. */
      fd = open ("/dev/null", O_RDONLY);
      needle = "fd 3: it is not a socket";
    }
  got = run_activated (fd, "1", adopt_expect_error, &want);
  msg = g_strdup_printf ("%s %d: ", g_quark_to_string (SS_ERROR), SS_ERROR_INVALID_ARGUMENT);
  ck_assert_msg (g_str_has_prefix (got, _i == 3 ? g_quark_to_string (SS_ERROR) : msg),
                 "got: %s", got);
  ck_assert_msg (strstr (got, needle) != NULL, "want \"%s\" in: %s", needle, got);
  ck_assert_msg (strstr (got, "fd3=open\n") != NULL, "got: %s", got);
}
END_TEST

static void
count_fds (int out, gpointer data)
{
  g_autoptr (GError) error = NULL;
  int n;

  if (g_strcmp0 (data, "no fd 4") == 0)
    {
      /* Whatever the harness left at fd 4 is not a promised socket. */
      if (out == 4)
        out = dup (out);
      close (4);
    }
  else if (data != NULL)
    g_setenv ("LISTEN_PID", data, TRUE);
  n = ss_listen_fds (FALSE, &error);
  report (out, "n=%d %s\n", n, error != NULL ? error->message : "");
}

/* LISTEN_PID of another process: nothing is ours; malformed: an error. */
START_TEST (test_listen_fds_environment)
{
  guint16 port;
  g_autofree char *other = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *mine = NULL;
  g_autofree char *two = NULL;

  other = run_activated (ops_listening_tcp (&port), "1", count_fds, (gpointer) "1");
  ck_assert_str_eq (other, "n=0 \n");
  bad = run_activated (ops_listening_tcp (&port), "one", count_fds, NULL);
  ck_assert_msg (g_str_has_prefix (bad, "n=-1 Socket activation: LISTEN_FDS=\"one\""), "%s", bad);
  mine = run_activated (ops_listening_tcp (&port), "1", count_fds, NULL);
  ck_assert_str_eq (mine, "n=1 \n");
  /* Two promised, one there. */
  two = run_activated (ops_listening_tcp (&port), "2", count_fds, (gpointer) "no fd 4");
  ck_assert_msg (strstr (two, "n=-1 ") == two && strstr (two, "fd 4 is not open") != NULL, "%s", two);
}
END_TEST

/* ------------------------------------------------------------ sd_notify */


START_TEST (test_notify)
{
  g_autofree char *name = NULL;
  g_autofree char *got = NULL;
  g_autoptr (GError) error = NULL;
  int fd = ops_notify_socket (_i == 1, &name);

  g_setenv ("NOTIFY_SOCKET", name, TRUE);
  ck_assert_msg (ss_notify ("READY=1\nSTATUS=serving", &error), "%s", error ? error->message : "");
  got = ops_recv_notice (fd);
  ck_assert_str_eq (got, "READY=1\nSTATUS=serving");
  g_unsetenv ("NOTIFY_SOCKET");
  ck_assert (ss_notify ("READY=1", &error));   /* no manager: nothing to do */
  close (fd);
}
END_TEST

START_TEST (test_notify_errors)
{
  g_autoptr (GError) error = NULL;

  g_setenv ("NOTIFY_SOCKET", "relative/path", TRUE);
  ck_assert (!ss_notify ("READY=1", &error));
  ck_assert_error (error, SS_ERROR_INVALID_ADDRESS);
  ck_assert_msg (strstr (error->message, "relative/path") != NULL, "%s", error->message);
  g_clear_error (&error);
  {
    g_autofree char *gone = test_tmp_path ("no-manager-here");

    g_setenv ("NOTIFY_SOCKET", gone, TRUE);
    ck_assert (!ss_notify ("READY=1", &error));
    ck_assert_msg (error != NULL && strstr (error->message, gone) != NULL, "%s",
                   error ? error->message : "no error");
  }
  g_unsetenv ("NOTIFY_SOCKET");
}
END_TEST

/* ------------------------------------------------------------ ss-echo */

/* ss-echo started as systemd would start it: fd 3 a socket, LISTEN_*
 * naming it, NOTIFY_SOCKET set. Returns its pid; its stdout in *@out_fd. */
static pid_t
spawn_activated_echo (int fd, const char *notify, const char *transport, int *out_fd)
{
  g_autofree char *path = ops_ss_echo_path ();
  g_autofree char *t = g_strdup_printf ("--transport=%s", transport);
  const char *const argv[] = { path, t, "--strategy=threading", "--address=127.0.0.1:1", NULL };
  pid_t pid = ops_spawn (argv, fd, notify, out_fd, NULL);

  close (fd);
  return pid;
}


START_TEST (test_echo_activated)
{
  guint16 port;
  int fd = ops_listening_tcp (&port);
  g_autofree char *name = NULL;
  int notify = ops_notify_socket (FALSE, &name);
  g_autofree char *banner = NULL;
  g_autofree char *want = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *stopping = NULL;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int out, c, status;
  char line[16] = "";
  pid_t pid;

  pid = spawn_activated_echo (fd, name, "tcp", &out);
  banner = ops_read_line_fd (out);
  want = g_strdup_printf ("Serving on 127.0.0.1 port %u ...", port);
  ck_assert_str_eq (banner, want);
  ready = ops_recv_notice (notify);
  ck_assert_str_eq (ready, "READY=1");

  c = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq (connect (c, (struct sockaddr *) &sin, sizeof sin), 0);
  test_send_all (c, "hi\n", 3);
  ck_assert_int_eq (read (c, line, sizeof line - 1), 3);
  ck_assert_str_eq (line, "hi\n");
  close (c);

  ck_assert_int_eq (kill (pid, SIGTERM), 0);
  stopping = ops_recv_notice (notify);
  ck_assert_str_eq (stopping, "STOPPING=1");
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "status 0x%x", status);
  close (out);
  close (notify);
}
END_TEST

/* A UDP socket handed to ss-echo --transport=tcp: usage error, exit 2. */
START_TEST (test_echo_activated_wrong)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_autofree char *name = NULL;
  int notify = ops_notify_socket (FALSE, &name);
  int out, status;
  pid_t pid;

  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
  pid = spawn_activated_echo (fd, name, "tcp", &out);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 2, "status 0x%x", status);
  close (out);
  close (notify);
}
END_TEST


/* ------------------------------------------------------------ restart */

static pid_t restarted_pid;   /* the new ss-echo, for teardown */


static pid_t
spawn_echo (const char *strategy, int *out_fd, int *err_fd)
{
  g_autofree char *path = ops_ss_echo_path ();
  g_autofree char *s = g_strdup_printf ("--strategy=%s", strategy);
  const char *const threading[] = { path, s, "--address=127.0.0.1:0", NULL };
  const char *const pool[] = { path, s, "--address=127.0.0.1:0", "--min-workers=2", "--max-workers=8",
                               "--min-spare-workers=2", NULL };

  return ops_spawn (g_str_equal (strategy, "threading") ? threading : pool, -1, NULL, out_fd, err_fd);
}


/* SIGHUP under continuous load: a new ss-echo takes the socket over, the
 * old one drains and exits 0, and no client sees a refused, reset or
 * unanswered connection; the ones after the old process left were served
 * by the new one. */
START_TEST (test_restart_under_load)
{
  static const char *const strategies[] = { "threadpooling", "threading", "preforking" };
  const char *strategy = strategies[_i];
  g_autoptr (GString) err = g_string_new (NULL);
  g_autofree char *banner = NULL;
  g_autofree char *second = NULL;
  GThread *threads[4];
  OpsLoad load = { 0 };
  const char *said;
  int out, err_fd, status;
  pid_t old;

  if (g_str_equal (strategy, "preforking") && test_fork_unsafe_sanitizer ())
    TEST_SKIP ("preforking beside this test's client threads in a sanitizer build (helpers.h)");
  /* The new process outlives the old one: made our child when it is
   * orphaned, so the test can wait for it. */
  ck_assert_int_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  old = spawn_echo (strategy, &out, &err_fd);
  banner = ops_read_line_fd (out);
  load.port = ops_banner_port (banner);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("load", ops_load_thread, &load);
  g_usleep ((gulong) (500 * 1000 * ops_scale ()));
  ck_assert_int_gt (g_atomic_int_get (&load.ok), 0);

  ck_assert_int_eq (kill (old, SIGHUP), 0);
  second = ops_read_line_fd (out);   /* the new process's banner, same stdout */
  ck_assert_uint_eq (ops_banner_port (second), load.port);
  ops_read_until (err_fd, err, "drains its connections", 30 * ops_scale ());
  said = strstr (err->str, "Restart: process ");
  ck_assert_msg (said != NULL, "old ss-echo's stderr: %s", err->str);
  restarted_pid = (pid_t) g_ascii_strtoll (said + strlen ("Restart: process "), NULL, 10);
  ck_assert_int_gt (restarted_pid, 0);
  ck_assert_int_ne (restarted_pid, old);

  ck_assert_int_eq (waitpid (old, &status, 0), old);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "old ss-echo: status 0x%x", status);
  g_atomic_int_set (&load.late, 1);
  g_usleep ((gulong) (500 * 1000 * ops_scale ()));
  g_atomic_int_set (&load.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  fprintf (stderr, "restart (%s): %d exchanges, %d after the old process exited, %d failed\n",
           strategy, load.ok, load.ok_late, load.failed);
  ck_assert_msg (load.failed == 0, "%s: %d of %d exchanges failed across the restart, first: %s",
                 strategy, load.failed, load.ok + load.failed, load.first_failure);
  ck_assert_int_gt (load.ok_late, 0);

  ck_assert_int_eq (kill (restarted_pid, SIGTERM), 0);
  ck_assert_int_eq (waitpid (restarted_pid, &status, 0), restarted_pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "new ss-echo: status 0x%x", status);
  restarted_pid = 0;
  close (out);
  close (err_fd);
}
END_TEST

/* A new process that fails leaves this server serving, told why; a Unix
 * socket server is refused. */
START_TEST (test_restart_fails_safely)
{
  const char *const argv[] = { "/bin/false", NULL };
  g_autoptr (GError) error = NULL;
  SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &echo_handler_class,
                                    ss_thread_pool_strategy_new (1, 4, 1, NULL), TRUE, &error);
  g_autofree char *unix_path = test_tmp_path ("restart.sock");
  SsServer *unix_server;
  TestServer *ts;
  int pid = 0;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  ts = test_server_start (server);
  test_echo_once (server, "before\n");
  ck_assert (!ss_server_restart (server, argv, 10, &pid, &error));
  ck_assert_error (error, SS_ERROR_HANDLER);
  ck_assert_msg (strstr (error->message, "exited before it was ready") != NULL
                 && strstr (error->message, "goes on serving") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_int_eq (pid, 0);
  test_echo_once (server, "after\n");
  test_server_stop (ts);

  unix_server = ss_server_new (&ss_unix_stream_server_class, unix_path, &echo_handler_class, NULL,
                               TRUE, &error);
  ck_assert_msg (unix_server != NULL, "%s", error ? error->message : "");
  ck_assert (!ss_server_restart (unix_server, NULL, 10, NULL, &error));
  ck_assert_error (error, SS_ERROR_INVALID_ARGUMENT);
  ck_assert_msg (strstr (error->message, "Unix") != NULL, "%s", error->message);
  ss_server_free (unix_server);
}
END_TEST

static void
restart_teardown (void)
{
  if (restarted_pid > 0)
    kill (restarted_pid, SIGKILL);
  restarted_pid = 0;
}

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("activation");
  TCase *tc;

  signal (SIGPIPE, SIG_IGN);
  tc = tcase_create ("/activation");
  tcase_add_checked_fixture (tc, ops_setup, NULL);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_adopt_tcp);
  tcase_add_loop_test (tc, test_adopt_wrong_kind, 0, 4);
  tcase_add_test (tc, test_listen_fds_environment);
  tcase_add_loop_test (tc, test_notify, 0, 2);
  tcase_add_test (tc, test_notify_errors);
  tcase_add_test (tc, test_echo_activated);
  tcase_add_test (tc, test_echo_activated_wrong);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/restart");
  tcase_add_checked_fixture (tc, ops_setup, restart_teardown);
  tcase_set_timeout (tc, 90);
  tcase_add_loop_test (tc, test_restart_under_load, 0, 3);
  tcase_add_test (tc, test_restart_fails_safely);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
