/* http-programs.c: child processes for the http tests (http-programs.h). */
#include "config.h"
#include "http-programs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

double
proc_scale (void)
{
  return g_getenv ("SS_VALGRIND") != NULL ? 10.0 : 1.0;
}

/* Between fork and exec: async-signal-safe calls only. */
static void
child_setup (gpointer data)
{
  sigset_t none;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

char *
proc_ss_http_server (void)
{
  const char *builddir = g_getenv ("SS_BUILDDIR");

  return g_build_filename (builddir != NULL ? builddir : ".", "servers", "ss-http-server", NULL);
}

Proc *
proc_spawn (const char *const *argv, const char *cwd)
{
  Proc *p = g_new0 (Proc, 1);
  GError *error = NULL;
  gboolean ok;

  ok = g_spawn_async_with_pipes (cwd, (char **) argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, child_setup, NULL,
                                 &p->pid, NULL, &p->out_fd, &p->err_fd, &error);
  ck_assert_msg (ok, "spawn %s: %s", argv[0], error != NULL ? error->message : "?");
  p->out = g_string_new (NULL);
  p->err = g_string_new (NULL);
  return p;
}

/* Appends what is readable on @fd (waiting up to @timeout_s for the first
 * byte); FALSE at EOF. */
static gboolean
drain (int fd, GString *into, double timeout_s)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char buf[4096];
  ssize_t n;

  if (fd < 0)
    return FALSE;
  if (poll (&pfd, 1, (int) (timeout_s * 1000)) <= 0)
    return TRUE;
  n = read (fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return TRUE;
  if (n <= 0)
    return FALSE;
  g_string_append_len (into, buf, n);
  return TRUE;
}

void
proc_drain_err (Proc *p, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  do
    if (!drain (p->err_fd, p->err, 0.05))
      break;
  while (g_get_monotonic_time () < end);
}

gboolean
proc_wait (Proc *p, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * proc_scale () * G_USEC_PER_SEC);

  while (!p->reaped)
    {
      if (waitpid (p->pid, &p->status, WNOHANG) == p->pid)
        p->reaped = TRUE;
      else if (g_get_monotonic_time () > end)
        return FALSE;
      else
        {
          /* A chatty child must not block on a full pipe. */
          drain (p->out_fd, p->out, 0.005);
          drain (p->err_fd, p->err, 0.005);
        }
    }
  while (drain (p->out_fd, p->out, 0.1))
    if (g_get_monotonic_time () > end + G_USEC_PER_SEC)
      break;
  while (drain (p->err_fd, p->err, 0.1))
    if (g_get_monotonic_time () > end + 2 * G_USEC_PER_SEC)
      break;
  return TRUE;
}

void
proc_read_banner (Proc *p)
{
  gint64 end = g_get_monotonic_time () + (gint64) (20 * proc_scale () * G_USEC_PER_SEC);
  GString *line = g_string_new (NULL);
  const char *port;
  char c;

  while (line->len == 0 || line->str[line->len - 1] != '\n')
    {
      struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
      ssize_t n;

      ck_assert_msg (g_get_monotonic_time () < end, "no banner within 20 s");
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (p->out_fd, &c, 1); /* byte by byte: nothing past the line is taken */
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          proc_wait (p, 5);
          ck_abort_msg ("exited before the banner (status 0x%x), stderr: %s", p->status, p->err->str);
        }
      g_string_append_c (line, c);
    }
  g_string_truncate (line, line->len - 1);
  p->banner = g_string_free (line, FALSE);
  ck_assert_msg (g_str_has_prefix (p->banner, "Serving HTTP on "), "banner: \"%s\"", p->banner);
  port = strstr (p->banner, " port ");
  ck_assert_msg (port != NULL, "banner: \"%s\"", p->banner);
  p->host = g_strndup (p->banner + strlen ("Serving HTTP on "), (gsize) (port - p->banner) - strlen ("Serving HTTP on "));
  p->port = (guint16) g_ascii_strtoull (port + strlen (" port "), NULL, 10);
  ck_assert_msg (p->port != 0, "banner names no real port: \"%s\"", p->banner);
}

Proc *
proc_start_server (const char *const *args, const char *cwd)
{
  g_autofree char *path = proc_ss_http_server ();
  const char *argv[32] = { path };
  Proc *p;
  int n = 1;

  for (; args != NULL && *args != NULL && n < 31; args++)
    argv[n++] = *args;
  p = proc_spawn (argv, cwd);
  proc_read_banner (p);
  return p;
}

void
proc_stop (Proc *p, int sig)
{
  ck_assert_int_eq (kill (p->pid, sig), 0);
  ck_assert_msg (proc_wait (p, 10), "%s: no exit within 10 s of signal %d", p->banner, sig);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "after signal %d: status 0x%x, stderr: %s", sig, p->status, p->err->str);
}

void
proc_free (Proc *p)
{
  if (p == NULL)
    return;
  if (!p->reaped)
    {
      kill (p->pid, SIGKILL);
      waitpid (p->pid, &p->status, 0);
    }
  if (p->out_fd >= 0)
    close (p->out_fd);
  if (p->err_fd >= 0)
    close (p->err_fd);
  g_spawn_close_pid (p->pid);
  g_string_free (p->out, TRUE);
  g_string_free (p->err, TRUE);
  g_free (p->banner);
  g_free (p->host);
  g_free (p);
}

int
proc_run (const char *const *argv, double timeout_s, GString *out, GString *err)
{
  g_autoptr (Proc) p = proc_spawn (argv, NULL);
  int status;

  if (!proc_wait (p, timeout_s))
    return -1;
  if (out != NULL)
    g_string_append_len (out, p->out->str, (gssize) p->out->len);
  if (err != NULL)
    g_string_append_len (err, p->err->str, (gssize) p->err->len);
  status = WIFEXITED (p->status) ? WEXITSTATUS (p->status) : 128 + WTERMSIG (p->status);
  return status;
}
