/* restart.c: a restart that drops nothing (nginx's and Apache's binary
 * upgrade, for any server of this library).
 *
 * The listening socket is never closed: the new process inherits it
 * through the socket-activation path (fd 3, LISTEN_FDS=1, LISTEN_PID its
 * own pid: activation.c), so connections keep queuing in the same kernel
 * backlog while the two processes overlap, and nothing is refused. The
 * old process waits until the new one says READY=1 on a private notify
 * socket (notify.c's protocol, an abstract name only the two know); only
 * then does it stop taking connections and drain the ones it accepted
 * (ss_server_drain, leaving the socket listening for the new process).
 * If the new process fails first -- exits, or is not ready in time -- the
 * old one is told so in a GError and goes on serving as if nothing
 * happened: a restart with a broken binary or configuration costs no
 * downtime.
 *
 * A service manager (systemd, Type=notify) is told MAINPID=<new pid>
 * once the new process is ready, and this process says nothing more to it
 * (notify.c): the service goes on under the new process.
 *
 * The child is forked from a multi-threaded process, so between fork and
 * exec it makes only async-signal-safe calls: the argument vector and the
 * environment are built before the fork (LISTEN_PID's digits are written
 * into a prepared buffer in the child), and the signal mask is cleared.
 *
 * Unix stream servers are refused: the old process would remove the
 * socket file on its way out (unix.c), under the new one.
 */
#include "ops/ops-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define LISTEN_PID_DIGITS 24

extern char **environ;

/* The environment for the new process: ours without socket activation's
 * and the notify variables, then our own: the private NOTIFY_SOCKET for
 * its READY=1, and the service manager's socket for what it says after
 * (notify.c). @pid_slot gets the buffer whose digits the child fills in. */
static GPtrArray *
child_environment (const char *notify_name, char **pid_slot)
{
  GPtrArray *env = g_ptr_array_new_with_free_func (g_free);
  const char *manager = ss__notify_manager_socket ();

  for (char **e = environ; e != NULL && *e != NULL; e++)
    if (!g_str_has_prefix (*e, "LISTEN_PID=") && !g_str_has_prefix (*e, "LISTEN_FDS=")
        && !g_str_has_prefix (*e, "LISTEN_FDNAMES=") && !g_str_has_prefix (*e, "NOTIFY_SOCKET=")
        && !g_str_has_prefix (*e, SS_MANAGER_NOTIFY_SOCKET "="))
      g_ptr_array_add (env, g_strdup (*e));
  g_ptr_array_add (env, g_strdup ("LISTEN_FDS=1"));
  g_ptr_array_add (env, g_strdup_printf ("NOTIFY_SOCKET=%s", notify_name));
  g_ptr_array_add (env, g_strdup_printf (SS_MANAGER_NOTIFY_SOCKET "=%s", manager != NULL ? manager : ""));
  *pid_slot = g_malloc0 (strlen ("LISTEN_PID=") + LISTEN_PID_DIGITS);
  memcpy (*pid_slot, "LISTEN_PID=", strlen ("LISTEN_PID="));
  g_ptr_array_add (env, *pid_slot);
  g_ptr_array_add (env, NULL);
  return env;
}

/* Async-signal-safe: writes @value's digits at @out. */
static void
write_decimal (char *out, long value)
{
  char digits[LISTEN_PID_DIGITS];
  int n = 0;

  do
    digits[n++] = (char) ('0' + value % 10);
  while ((value /= 10) > 0 && n < LISTEN_PID_DIGITS - 1);
  while (n > 0)
    *out++ = digits[--n];
  *out = '\0';
}

/* The private notify socket: an abstract name, so nothing to remove. */
static int
open_notify_socket (char **name, GError **error)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  socklen_t len;
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0)
    {
      ss_set_error_from_errno (error, errno, "Restart: could not create the notify socket",
                               "Raise the limit on open files (ulimit -n).");
      return -1;
    }
  *name = g_strdup_printf ("@socketserver-restart-%d-%08x", (int) getpid (), g_random_int ());
  memcpy (sun.sun_path, *name, strlen (*name));
  sun.sun_path[0] = '\0';
  len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + strlen (*name));
  if (bind (fd, (struct sockaddr *) &sun, len) < 0)
    {
      ss_set_error_from_errno (error, errno, "Restart: could not bind the notify socket", NULL);
      close (fd);
      g_clear_pointer (name, g_free);
      return -1;
    }
  return fd;
}

/* Waits for the new process told to stop (SIGTERM) so that it leaves no
 * zombie: at most 2 s, then SIGKILL. */
static void
reap (pid_t pid)
{
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  int status;

  while (waitpid (pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > end)
        {
          kill (pid, SIGKILL);
          (void) waitpid (pid, &status, 0);
          return;
        }
      g_usleep (10 * 1000);
    }
}

/* Waits for READY=1 from @pid on @fd; FALSE with @error when it exits or
 * @timeout passes first. */
static gboolean
wait_ready (int fd, pid_t pid, double timeout, GError **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char buf[512];
      ssize_t n;
      int status;

      if (poll (&pfd, 1, 100) > 0)
        while ((n = recv (fd, buf, sizeof buf - 1, 0)) > 0)
          {
            g_auto (GStrv) lines = NULL;

            buf[n] = '\0';
            lines = g_strsplit (buf, "\n", -1);
            for (char **l = lines; *l != NULL; l++)
              if (g_str_equal (*l, "READY=1"))
                return TRUE;
          }
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_HANDLER,
                       "Restart: the new process %d %s before it was ready; this process goes on "
                       "serving", (int) pid,
                       WIFEXITED (status) ? "exited" : "was killed by a signal");
          return FALSE;
        }
      if (g_get_monotonic_time () > end)
        {
          kill (pid, SIGTERM);
          reap (pid);
          g_set_error (error, SS_ERROR, SS_ERROR_HANDLER,
                       "Restart: the new process %d was not ready (READY=1) within %.0f s and was "
                       "sent SIGTERM; this process goes on serving", (int) pid, timeout);
          return FALSE;
        }
    }
}

gboolean
ss_server_restart (SsServer *server, const char *const *argv, double ready_timeout, int *new_pid,
                   GError **error)
{
  g_auto (GStrv) own_argv = NULL;
  g_autoptr (GPtrArray) env = NULL;
  g_autofree char *notify_name = NULL;
  g_autofree char *exe = NULL;
  const char *const *args = argv;
  char *pid_slot = NULL;
  sigset_t none;
  int listen_fd, notify_fd;
  pid_t pid;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  listen_fd = ss_server_fileno (server);
  if (listen_fd < 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Restart: the server has no socket to hand over (closed, or never bound)");
      return FALSE;
    }
  if (ss_address_family (&server->server_address) == AF_UNIX)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Restart: not supported for Unix socket servers yet (this process would "
                           "remove the socket file under the new one); restart TCP or UDP servers, "
                           "or let systemd hold the Unix socket (socket activation)");
      return FALSE;
    }
  if (args == NULL)
    {
      g_autofree char *cmdline = NULL;
      gsize len;

      /* This program again, with its own arguments. */
      if (!g_file_get_contents ("/proc/self/cmdline", &cmdline, &len, error))
        return FALSE;
      own_argv = g_new0 (char *, len + 1);
      for (gsize off = 0, i = 0; off < len; off += strlen (cmdline + off) + 1)
        own_argv[i++] = g_strdup (cmdline + off);
      args = (const char *const *) own_argv;
      exe = g_file_read_link ("/proc/self/exe", error);
      if (exe == NULL)
        return FALSE;
      /* A binary replaced on disk (an upgrade) reads "PATH (deleted)": the
       * new binary is at PATH, and that is what a restart runs. */
      if (g_str_has_suffix (exe, " (deleted)"))
        exe[strlen (exe) - strlen (" (deleted)")] = '\0';
    }
  else
    exe = g_strdup (args[0]);

  notify_fd = open_notify_socket (&notify_name, error);
  if (notify_fd < 0)
    return FALSE;
  env = child_environment (notify_name, &pid_slot);
  sigemptyset (&none);

  pid = fork ();
  if (pid == 0)
    {
      /* The child: async-signal-safe calls only. */
      if (listen_fd == SS_LISTEN_FDS_START)
        fcntl (listen_fd, F_SETFD, 0);
      else
        dup2 (listen_fd, SS_LISTEN_FDS_START);   /* dup2 clears FD_CLOEXEC */
      write_decimal (pid_slot + strlen ("LISTEN_PID="), (long) getpid ());
      sigprocmask (SIG_SETMASK, &none, NULL);
      execve (exe, (char *const *) args, (char *const *) env->pdata);
      _exit (127);
    }
  if (pid < 0)
    {
      ss_set_error_from_errno (error, errno, "Restart: could not fork the new process",
                               "Raise the limit on processes (ulimit -u) or lower the load");
      close (notify_fd);
      return FALSE;
    }
  if (!wait_ready (notify_fd, pid, ready_timeout, error))
    {
      close (notify_fd);
      return FALSE;
    }
  close (notify_fd);
  if (new_pid != NULL)
    *new_pid = (int) pid;
  /* The service manager follows the service to the new process; this one
   * says nothing more (notify.c). */
  {
    g_autofree char *mainpid = g_strdup_printf ("MAINPID=%d", (int) pid);
    g_autoptr (GError) notify_error = NULL;

    if (!ss_notify (mainpid, &notify_error))
      SS_WARNING ("Restart: %s; the service manager may take the new process %d for a stray one",
                  notify_error->message, (int) pid);
    ss__notify_hand_over ();
  }
  /* The socket is the new process's too now: stop taking from it, drain
   * what was taken, never shut it down (drain.c). */
  __atomic_store_n (&server->priv->handed_over, TRUE, __ATOMIC_RELEASE);
  ss__server_request_shutdown (server);
  return TRUE;
}

/* ------------------------------------------------------------ on a signal */

typedef struct {
  char **argv;        /* NULL: this program again */
  double ready_timeout;
} Restart;

static void
restart_free (gpointer data)
{
  Restart *r = data;

  g_strfreev (r->argv);
  g_free (r);
}

static void
restart_action (SsServer *server, gpointer data)
{
  Restart *r = data;
  g_autoptr (GError) error = NULL;
  int pid = 0;

  if (__atomic_load_n (&server->priv->handed_over, __ATOMIC_ACQUIRE))
    return;   /* one restart per process: the new one takes the next */
  if (ss_server_restart (server, (const char *const *) r->argv, r->ready_timeout, &pid, &error))
    SS_MESSAGE ("Restart: process %d serves now; this process (%d) drains its connections and "
                "exits", pid, (int) getpid ());
  else
    SS_WARNING ("%s", error->message);
}

SsOpsSignal *
ss_server_restart_on_signal (SsServer *server, int signo, const char *const *argv,
                             double ready_timeout, GError **error)
{
  Restart *r;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  r = g_new0 (Restart, 1);
  r->argv = g_strdupv ((char **) argv);
  r->ready_timeout = ready_timeout;
  return ss__ops_signal_new (server, signo, restart_action, r, restart_free, error);
}
