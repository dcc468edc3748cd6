/* test-service.c: ss-echo as a service -- the example systemd units run
 * as systemd runs them, and several processes sharing one port.
 *
 * /units reads servers/systemd/ss-echo.socket and ss-echo.service and
 * plays systemd's part with their settings: it makes the socket (on
 * 127.0.0.1 port 0, not the unit's address), starts ExecStart with the
 * socket at fd 3 and LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES and
 * NOTIFY_SOCKET set, and reads every notice with its sender's pid, holding
 * the service to NotifyAccess=main as systemd does: a notice from any other
 * process is one systemd would drop, and fails the case. Under continuous
 * client load it runs ExecReload (its $MAINPID filled in) and expects the
 * old process to name its successor (MAINPID=) before it exits, no client
 * to see a failure, and KillSignal to the new main process to end the
 * service with STOPPING=1 and status 0 within TimeoutStopSec. The socket,
 * still systemd's, must go on listening: a connection made while the
 * service is stopped is served by its next start.
 *
 * /reuse-port starts two ss-echo --reuse-port on one port, checks that
 * both serve (their SIGUSR1 stats), that a third without the flag is told
 * the address is in use, and that the survivor serves alone after one
 * stops.
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
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawned[4];   /* killed by teardown if a case fails */

static void
remember (pid_t pid)
{
  for (guint i = 0; i < G_N_ELEMENTS (spawned); i++)
    if (spawned[i] <= 0)
      {
        spawned[i] = pid;
        return;
      }
  ck_abort_msg ("more than %u processes to remember", (guint) G_N_ELEMENTS (spawned));
}

static void
forget (pid_t pid)
{
  for (guint i = 0; i < G_N_ELEMENTS (spawned); i++)
    if (spawned[i] == pid)
      spawned[i] = 0;
}

/* waitpid for @pid, at most @timeout_s; its status, or -1 when it did not end. */
static int
wait_exit (pid_t pid, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  int status;

  while (g_get_monotonic_time () < end)
    {
      pid_t got = waitpid (pid, &status, WNOHANG);

      ck_assert_msg (got >= 0, "waitpid %d: %s", (int) pid, g_strerror (errno));
      if (got == pid)
        {
          forget (pid);
          return status;
        }
      g_usleep (10 * 1000);
    }
  return -1;
}

static void
assert_exits_zero (pid_t pid, double timeout_s, const char *what)
{
  int status = wait_exit (pid, timeout_s);

  ck_assert_msg (status != -1, "%s (pid %d) did not exit within %g s", what, (int) pid, timeout_s);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "%s (pid %d): status 0x%x", what,
                 (int) pid, status);
}

/* ------------------------------------------------------------ /units */

typedef struct {
  GKeyFile *socket;
  GKeyFile *service;
} Units;

static GKeyFile *
load_unit (const char *name)
{
  const char *srcdir = g_getenv ("SS_SRCDIR");
  g_autofree char *path = g_build_filename (srcdir != NULL ? srcdir : "..", "servers", "systemd", name,
                                            NULL);
  GKeyFile *unit = g_key_file_new ();
  g_autoptr (GError) error = NULL;

  ck_assert_msg (g_key_file_load_from_file (unit, path, G_KEY_FILE_NONE, &error), "%s: %s", path,
                 error->message);
  return unit;
}

/* A setting of the unit, @fallback when the unit leaves it to systemd's default. */
static char *
setting (GKeyFile *unit, const char *group, const char *key, const char *fallback)
{
  char *value = g_key_file_get_value (unit, group, key, NULL);

  return value != NULL ? value : g_strdup (fallback);
}

/* The unit's command line @key, $MAINPID replaced by @mainpid (> 0). */
static char **
command_line (GKeyFile *service, const char *key, pid_t mainpid)
{
  g_autofree char *line = setting (service, "Service", key, NULL);
  g_autoptr (GError) error = NULL;
  char **argv = NULL;

  ck_assert_msg (line != NULL, "ss-echo.service has no %s=", key);
  ck_assert_msg (g_shell_parse_argv (line, NULL, &argv, &error), "%s=%s: %s", key, line, error->message);
  for (char **a = argv; *a != NULL; a++)
    if (g_str_equal (*a, "$MAINPID"))
      {
        ck_assert_int_gt (mainpid, 0);
        g_free (*a);
        *a = g_strdup_printf ("%d", (int) mainpid);
      }
  return argv;
}

static int
signal_named (const char *name)
{
  static const struct { const char *name; int signo; } known[] = {
    { "SIGTERM", SIGTERM }, { "SIGINT", SIGINT }, { "SIGQUIT", SIGQUIT }, { "SIGHUP", SIGHUP },
  };

  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (name, known[i].name))
      return known[i].signo;
  ck_abort_msg ("KillSignal=%s: not one this test knows", name);
  return 0;
}

/* systemd's start of ExecStart: fd 3 the socket (which systemd keeps
 * holding), the LISTEN_* variables, NOTIFY_SOCKET, a session of its own;
 * stdout and stderr (the journal) to pipes. Killed by teardown. */
static pid_t
start_service (char **argv, int listen_fd, const char *notify, int *out_fd, int *err_fd)
{
  pid_t pid = ops_spawn ((const char *const *) argv, listen_fd, notify, out_fd, err_fd);

  remember (pid);
  return pid;
}

/* The next notice, which must come from *@mainpid (NotifyAccess=main);
 * "MAINPID=N" moves *@mainpid to N, as systemd does. */
static char *
main_notice (int notify, pid_t *mainpid, int err_fd)
{
  pid_t sender = 0;
  char *notice = ops_recv_notice_from (notify, &sender);

  if (sender != *mainpid)
    {
      g_autoptr (GString) journal = g_string_new (NULL);

      ops_read_until (err_fd, journal, "\n\n", 0.2);
      ck_abort_msg ("notice \"%s\" from pid %d, not from the main process %d: systemd "
                    "(NotifyAccess=main) would drop it; stderr: %s", notice, (int) sender,
                    (int) *mainpid, journal->str);
    }
  if (g_str_has_prefix (notice, "MAINPID="))
    *mainpid = (pid_t) g_ascii_strtoll (notice + strlen ("MAINPID="), NULL, 10);
  return notice;
}

START_TEST (test_units_as_systemd)
{
  Units u = { load_unit ("ss-echo.socket"), load_unit ("ss-echo.service") };
  g_autofree char *type = setting (u.service, "Service", "Type", "simple");
  g_autofree char *access = setting (u.service, "Service", "NotifyAccess", "main");
  g_autofree char *accept = setting (u.socket, "Socket", "Accept", "no");
  g_autofree char *listen_stream = setting (u.socket, "Socket", "ListenStream", NULL);
  g_autofree char *backlog = setting (u.socket, "Socket", "Backlog", "4096");
  g_autofree char *kill_signal = setting (u.service, "Service", "KillSignal", "SIGTERM");
  g_autofree char *stop_timeout = setting (u.service, "Service", "TimeoutStopSec", "90");
  g_autofree char *notify_name = NULL;
  g_autofree char *banner = NULL;
  g_auto (GStrv) start = command_line (u.service, "ExecStart", 0);
  g_auto (GStrv) reload = NULL;
  g_autofree char *bin = ops_ss_echo_path ();
  g_autofree char *exec_base = g_path_get_basename (start[0]);
  GThread *threads[4];
  OpsLoad load = { 0 };
  int listen_fd, notify, out, err_fd, waiting, reload_status = -1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = (time_t) (10 * ops_scale ()) };
  g_autoptr (GError) error = NULL;
  pid_t mainpid, first;

  ck_assert_str_eq (type, "notify");
  ck_assert_str_eq (access, "main");
  ck_assert_msg (g_str_equal (accept, "no") || g_str_equal (accept, "false"), "Accept=%s", accept);
  ck_assert_msg (listen_stream != NULL && g_str_has_prefix (listen_stream, "127.0.0.1:"), "ListenStream=%s",
                 listen_stream);
  ck_assert_str_eq (exec_base, "ss-echo");
  g_free (start[0]);
  start[0] = g_strdup (bin);   /* the build's ss-echo, not the installed one */

  /* The socket unit's socket, on a free loopback port. */
  listen_fd = ops_listening_tcp (&load.port);
  sin.sin_port = htons (load.port);
  ck_assert_int_eq (listen (listen_fd, atoi (backlog)), 0);
  notify = ops_notify_socket (FALSE, &notify_name);
  /* The restarted process outlives its parent: made our child when it is
   * orphaned, as systemd is the services' reaper. */
  ck_assert_int_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);

  first = mainpid = start_service (start, listen_fd, notify_name, &out, &err_fd);
  {
    g_autofree char *ready = main_notice (notify, &mainpid, err_fd);

    ck_assert_str_eq (ready, "READY=1");
  }
  banner = ops_read_line_fd (out);
  ck_assert_uint_eq (ops_banner_port (banner), load.port);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("load", ops_load_thread, &load);
  g_usleep ((gulong) (300 * 1000 * ops_scale ()));
  ck_assert_int_gt (g_atomic_int_get (&load.ok), 0);

  /* systemctl reload: ExecReload, as systemd runs it. */
  reload = command_line (u.service, "ExecReload", mainpid);
  ck_assert_msg (g_spawn_sync (NULL, reload, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                               &reload_status, &error), "ExecReload: %s", error ? error->message : "");
  ck_assert_msg (g_spawn_check_wait_status (reload_status, &error), "ExecReload: %s", error->message);
  {
    g_autofree char *handed = main_notice (notify, &mainpid, err_fd);

    ck_assert_msg (g_str_has_prefix (handed, "MAINPID="), "after ExecReload, the main process said "
                   "\"%s\", not MAINPID= of its successor", handed);
  }
  ck_assert_int_gt (mainpid, 0);
  ck_assert_int_ne (mainpid, first);
  remember (mainpid);
  assert_exits_zero (first, 30 * ops_scale (), "the old main process");

  g_atomic_int_set (&load.late, 1);
  g_usleep ((gulong) (300 * 1000 * ops_scale ()));
  g_atomic_int_set (&load.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  fprintf (stderr, "units: %d exchanges across ExecReload, %d after the old process exited, %d failed\n",
           load.ok, load.ok_late, load.failed);
  ck_assert_msg (load.failed == 0, "%d of %d exchanges failed across ExecReload, first: %s", load.failed,
                 load.ok + load.failed, load.first_failure);
  ck_assert_int_gt (load.ok_late, 0);

  /* systemctl stop: KillSignal to the main process (KillMode=mixed). */
  ck_assert_int_eq (kill (mainpid, signal_named (kill_signal)), 0);
  {
    g_autofree char *stopping = main_notice (notify, &mainpid, err_fd);

    ck_assert_str_eq (stopping, "STOPPING=1");
  }
  assert_exits_zero (mainpid, g_ascii_strtod (stop_timeout, NULL) * ops_scale (), "the new main process");
  {
    struct pollfd pfd = { .fd = notify, .events = POLLIN };

    ck_assert_msg (poll (&pfd, 1, 0) == 0, "a notice after the service stopped");
  }
  close (out);
  close (err_fd);

  /* Stopped, the service leaves systemd's socket listening: a client's
   * connection waits in its backlog, and the next start serves it. */
  waiting = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (waiting, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ck_assert_msg (connect (waiting, (struct sockaddr *) &sin, sizeof sin) == 0,
                 "connect while the service is stopped: %s (the socket no longer listens)",
                 g_strerror (errno));
  test_send_all (waiting, "queued\n", 7);
  mainpid = start_service (start, listen_fd, notify_name, &out, &err_fd);
  {
    g_autofree char *ready = main_notice (notify, &mainpid, err_fd);
    g_autofree char *echo = test_recv_line (waiting);

    ck_assert_str_eq (ready, "READY=1");
    ck_assert_str_eq (echo, "queued\n");
  }
  close (waiting);
  ck_assert_int_eq (kill (mainpid, signal_named (kill_signal)), 0);
  {
    g_autofree char *stopping = main_notice (notify, &mainpid, err_fd);

    ck_assert_str_eq (stopping, "STOPPING=1");
  }
  assert_exits_zero (mainpid, g_ascii_strtod (stop_timeout, NULL) * ops_scale (), "the restarted service");
  close (listen_fd);
  close (notify);
  close (out);
  close (err_fd);
  g_key_file_free (u.socket);
  g_key_file_free (u.service);
}
END_TEST

/* ------------------------------------------------------------ /reuse-port */

/* ss-echo --reuse-port on @address; its banner's port, pid, stderr. */
static pid_t
spawn_reuse_port (const char *address, gboolean reuse, int *out_fd, int *err_fd)
{
  g_autofree char *bin = ops_ss_echo_path ();
  g_autofree char *a = g_strdup_printf ("--address=%s", address);
  const char *const argv[] = { bin, "--strategy=threadpooling", a, reuse ? "--reuse-port" : "--min-workers=2",
                               NULL };
  pid_t pid = ops_spawn (argv, -1, NULL, out_fd, err_fd);

  remember (pid);
  return pid;
}

/* served=N from @pid's next stats line (SIGUSR1) on @err_fd. */
static int
served (pid_t pid, int err_fd)
{
  g_autoptr (GString) text = g_string_new (NULL);
  const char *at;

  ck_assert_int_eq (kill (pid, SIGUSR1), 0);
  ops_read_until (err_fd, text, "errors=", 10 * ops_scale ());
  at = strstr (text->str, " served=");
  ck_assert_msg (at != NULL, "no stats line from %d: \"%s\"", (int) pid, text->str);
  return atoi (at + strlen (" served="));
}

/* @n exchanges from one thread: ops_load_thread's loop, stopped at @n. */
static void
exchanges (OpsLoad *load, int n)
{
  int before = g_atomic_int_get (&load->ok) + g_atomic_int_get (&load->failed);
  GThread *thread;

  g_atomic_int_set (&load->stop, 0);
  thread = g_thread_new ("load", ops_load_thread, load);
  while (g_atomic_int_get (&load->ok) + g_atomic_int_get (&load->failed) < before + n)
    g_usleep (1000);
  g_atomic_int_set (&load->stop, 1);
  g_thread_join (thread);
}

START_TEST (test_reuse_port_processes)
{
  g_autofree char *banner_a = NULL;
  g_autofree char *banner_b = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GString) refused = g_string_new (NULL);
  OpsLoad load = { 0 };
  int out_a, err_a, out_b, err_b, out_c, err_c, status, a_served, b_served, b_before, total;
  pid_t a, b, c;

  a = spawn_reuse_port ("127.0.0.1:0", TRUE, &out_a, &err_a);
  banner_a = ops_read_line_fd (out_a);
  load.port = ops_banner_port (banner_a);
  address = g_strdup_printf ("127.0.0.1:%u", load.port);
  b = spawn_reuse_port (address, TRUE, &out_b, &err_b);
  banner_b = ops_read_line_fd (out_b);
  ck_assert_uint_eq (ops_banner_port (banner_b), load.port);

  /* Without the flag the port is taken: a clear error, status 1. */
  c = spawn_reuse_port (address, FALSE, &out_c, &err_c);
  status = wait_exit (c, 10 * ops_scale ());
  ops_read_until (err_c, refused, "\n", 1);
  ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 1, "status 0x%x", status);
  ck_assert_msg (strstr (refused->str, address) != NULL && strstr (refused->str, "in use") != NULL,
                 "stderr: %s", refused->str);

  /* 64 connections, each from its own client port: the kernel's hash
   * gives both processes some (all on one: a chance of 2 in 2^64). */
  exchanges (&load, 64);
  ck_assert_msg (load.failed == 0, "%d failed, first: %s", load.failed, load.first_failure);
  /* A process counts a connection once it has closed it, just after the
   * client read its echo: asked again until the counts catch up. */
  for (gint64 end = g_get_monotonic_time () + (gint64) (5 * G_USEC_PER_SEC * ops_scale ());;)
    {
      a_served = served (a, err_a);
      b_served = served (b, err_b);
      if (a_served + b_served >= load.ok || g_get_monotonic_time () > end)
        break;
      g_usleep (20 * 1000);
    }
  fprintf (stderr, "reuse-port: %d and %d of %d connections\n", a_served, b_served, load.ok);
  ck_assert_int_eq (a_served + b_served, load.ok);
  ck_assert_int_gt (a_served, 0);
  ck_assert_int_gt (b_served, 0);

  /* One stops; the other serves every new connection. */
  ck_assert_int_eq (kill (a, SIGTERM), 0);
  assert_exits_zero (a, 15 * ops_scale (), "the first ss-echo");
  b_before = b_served;
  total = load.ok;
  exchanges (&load, 32);
  ck_assert_msg (load.failed == 0, "%d failed after one stopped, first: %s", load.failed,
                 load.first_failure);
  for (gint64 end = g_get_monotonic_time () + (gint64) (5 * G_USEC_PER_SEC * ops_scale ());;)
    {
      b_served = served (b, err_b);
      if (b_served >= b_before + (load.ok - total) || g_get_monotonic_time () > end)
        break;
      g_usleep (20 * 1000);
    }
  ck_assert_int_eq (b_served, b_before + (load.ok - total));
  ck_assert_int_eq (kill (b, SIGTERM), 0);
  assert_exits_zero (b, 15 * ops_scale (), "the second ss-echo");
  close (out_a);
  close (err_a);
  close (out_b);
  close (err_b);
  close (out_c);
  close (err_c);
}
END_TEST

static void
teardown (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (spawned); i++)
    if (spawned[i] > 0)
      {
        kill (spawned[i], SIGKILL);
        spawned[i] = 0;
      }
}

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("service");
  TCase *tc;

  signal (SIGPIPE, SIG_IGN);
  tc = tcase_create ("/units");
  tcase_add_checked_fixture (tc, ops_setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_units_as_systemd);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/reuse-port");
  tcase_add_checked_fixture (tc, ops_setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_reuse_port_processes);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
