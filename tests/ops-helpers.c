/* ops-helpers.c: see ops-helpers.h. */
#include "config.h"
#include "ops-helpers.h"
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <socketserver/socketserver.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

double
ops_scale (void)
{
  return g_getenv ("SS_VALGRIND") != NULL ? 10.0 : 1.0;
}

int
ops_listening_tcp (guint16 *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (listen (fd, 16), 0);
  ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &sin, &len), 0);
  *port = ntohs (sin.sin_port);
  return fd;
}

void
ops_become_activated (int fd, const char *listen_fds)
{
  char pid[32];

  if (fd != SS_LISTEN_FDS_START)
    {
      dup2 (fd, SS_LISTEN_FDS_START);
      close (fd);
    }
  g_snprintf (pid, sizeof pid, "%d", (int) getpid ());
  g_setenv ("LISTEN_PID", pid, TRUE);
  g_setenv ("LISTEN_FDS", listen_fds, TRUE);
  g_setenv ("LISTEN_FDNAMES", "ss-echo.socket", TRUE);
}

void
ops_setup (void)
{
  signal (SIGTERM, SIG_DFL);
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("NOTIFY_SOCKET");
  g_unsetenv ("SS_MANAGER_NOTIFY_SOCKET");
}

char *
ops_ss_echo_path (void)
{
  const char *builddir = g_getenv ("SS_BUILDDIR");

  return g_build_filename (builddir != NULL ? builddir : ".", "servers", "ss-echo", NULL);
}

pid_t
ops_spawn (const char *const *argv, int listen_fd, const char *notify, int *out_fd, int *err_fd)
{
  int out[2], err[2] = { -1, -1 };
  pid_t pid;

  ck_assert_int_eq (pipe2 (out, O_CLOEXEC), 0);
  if (err_fd != NULL)
    ck_assert_int_eq (pipe2 (err, O_CLOEXEC), 0);
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      setsid ();
      signal (SIGTERM, SIG_DFL);
      dup2 (out[1], STDOUT_FILENO);
      if (err_fd != NULL)
        dup2 (err[1], STDERR_FILENO);
      if (listen_fd >= 0)
        {
          ops_become_activated (dup (listen_fd), "1");
          fcntl (SS_LISTEN_FDS_START, F_SETFD, 0);   /* inherited across exec */
        }
      if (notify != NULL)
        g_setenv ("NOTIFY_SOCKET", notify, TRUE);
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  close (out[1]);
  *out_fd = out[0];
  if (err_fd != NULL)
    {
      close (err[1]);
      *err_fd = err[0];
    }
  return pid;
}

int
ops_notify_socket (gboolean abstract, char **name)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  g_autofree char *path = test_tmp_path ("notify");
  socklen_t len;
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = (time_t) (10 * ops_scale ()) };
  int one = 1;

  ck_assert_int_ge (fd, 0);
  if (abstract)
    {
      *name = g_strdup_printf ("@ss-test-notify-%d-%d", (int) getpid (), g_random_int ());
      memcpy (sun.sun_path, *name, strlen (*name));
      sun.sun_path[0] = '\0';
      len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + strlen (*name));
    }
  else
    {
      *name = g_strdup (path);
      g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
      len = sizeof sun;
    }
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sun, len), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);   /* as systemd: who sent it */
  return fd;
}

char *
ops_recv_notice_from (int fd, pid_t *sender)
{
  char buf[256];
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE (sizeof (struct ucred))];
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                        .msg_controllen = sizeof control };
  ssize_t n = recvmsg (fd, &msg, 0);

  ck_assert_msg (n > 0, "no notification within %g s: %s", 10 * ops_scale (), g_strerror (errno));
  buf[n] = '\0';
  if (sender != NULL)
    {
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      struct ucred cred;

      ck_assert_msg (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS,
                     "notice \"%s\" came without its sender's credentials", buf);
      memcpy (&cred, CMSG_DATA (c), sizeof cred);
      *sender = cred.pid;
    }
  return g_strdup (buf);
}

char *
ops_recv_notice (int fd)
{
  return ops_recv_notice_from (fd, NULL);
}

char *
ops_read_line_fd (int fd)
{
  GString *s = g_string_new (NULL);
  char c;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };

      ck_assert_msg (poll (&pfd, 1, (int) (10000 * ops_scale ())) == 1, "no line within %g s (so far: \"%s\")",
                     10 * ops_scale (), s->str);
      if (read (fd, &c, 1) != 1 || c == '\n')
        break;
      g_string_append_c (s, c);
    }
  return g_string_free (s, FALSE);
}


gpointer
ops_load_thread (gpointer data)
{
  OpsLoad *load = data;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (load->port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = (time_t) (10 * ops_scale ()) };

  for (int i = 0; !g_atomic_int_get (&load->stop); i++)
    {
      char msg[32], buf[32];
      gsize len = (gsize) g_snprintf (msg, sizeof msg, "line %d\n", i);
      gsize got = 0;
      const char *what = NULL;
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      gboolean late = g_atomic_int_get (&load->late);

      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
        what = "connect";
      else if (send (fd, msg, len, MSG_NOSIGNAL) != (ssize_t) len)
        what = "send";
      else
        while (got < len)
          {
            ssize_t n = recv (fd, buf + got, sizeof buf - got, 0);

            if (n <= 0)
              {
                what = n == 0 ? "recv (EOF before the echo)" : "recv";
                break;
              }
            got += (gsize) n;
          }
      if (what == NULL && memcmp (buf, msg, len) != 0)
        what = "echo differs";
      if (what == NULL)
        {
          g_atomic_int_inc (&load->ok);
          if (late)
            g_atomic_int_inc (&load->ok_late);
        }
      else if (g_atomic_int_add (&load->failed, 1) == 0)
        g_snprintf (load->first_failure, sizeof load->first_failure, "%s: %s", what,
                    g_strerror (errno));
      close (fd);
    }
  return NULL;
}

guint16
ops_banner_port (const char *banner)
{
  const char *p = strstr (banner, " port ");

  ck_assert_msg (g_str_has_prefix (banner, "Serving on 127.0.0.1 port ") && p != NULL,
                 "banner: \"%s\"", banner);
  return (guint16) g_ascii_strtoull (p + strlen (" port "), NULL, 10);
}

void
ops_read_until (int fd, GString *into, const char *needle, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (strstr (into->str, needle) == NULL && g_get_monotonic_time () < end)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char buf[1024];
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n <= 0)
        break;
      g_string_append_len (into, buf, n);
    }
}
