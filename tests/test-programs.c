/* test-programs.c: the programs in servers/, run as a user runs them.
 *
 * Each test spawns the built program ($SS_BUILDDIR/servers/NAME) as a
 * child process, learns its address from the banner on its first stdout
 * line, talks to it over loopback or a Unix socket in a temporary folder,
 * and checks its exit status and its stderr. ss-echo's command line, banner
 * and exit statuses are a contract that tests outside this repository rely
 * on, so they are checked exactly here.
 *
 * The children get PR_SET_PDEATHSIG, so a test that fails or times out (and
 * so never reaches its teardown) still takes its server down with it.
 * Timeouts are scaled up when the suite runs under valgrind (SS_VALGRIND).
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  GPid pid;
  gboolean reaped;
  int status;        /* waitpid status, valid once reaped */
  int out_fd;        /* the child's stdout */
  int err_fd;        /* the child's stderr */
  GString *err;      /* what stderr said so far */
  char *banner;      /* the first stdout line, without '\n' */
  char *host;        /* INET: the host in the banner */
  guint16 port;
  char *path;        /* Unix: the socket path in the banner */
} Program;

static GPtrArray *programs; /* every Program of the running test, for teardown */

static double
scale (void)
{
  return g_getenv ("SS_VALGRIND") != NULL ? 10.0 : 1.0;
}

/* ------------------------------------------------------------ processes */

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * A server outliving a crashed test would hold ports and the harness' pipes;
 * a caller that ignores SIGINT (a background job of a script) must not hand
 * that on to the server under test. */
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

static char *
program_path (const char *name)
{
  const char *builddir = g_getenv ("SS_BUILDDIR");

  return g_build_filename (builddir != NULL ? builddir : ".", "servers", name, NULL);
}

/* Starts servers/NAME with the NULL-terminated @args. Does not wait for the
 * banner (program_read_banner does). */
static Program *
program_spawn (const char *name, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  Program *p = g_new0 (Program, 1);
  gboolean ok;

  g_ptr_array_add (argv, program_path (name));
  for (; args != NULL && *args != NULL; args++)
    g_ptr_array_add (argv, g_strdup (*args));
  g_ptr_array_add (argv, NULL);

  ok = g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                 child_setup, NULL, &p->pid, NULL, &p->out_fd, &p->err_fd, &error);
  ck_assert_msg (ok, "spawn %s: %s", (char *) argv->pdata[0], error ? error->message : "?");
  g_ptr_array_free (argv, TRUE);
  p->err = g_string_new (NULL);
  g_ptr_array_add (programs, p);
  return p;
}

/* Reads what is available on @fd into @into, waiting up to @timeout_s for
 * the first byte. Returns FALSE at EOF. */
static gboolean
drain_fd (int fd, GString *into, double timeout_s)
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

/* Under valgrind the children's stderr also carries valgrind's own notes
 * ("--PID-- WARNING: unhandled syscall 434" for pidfd_open, which the
 * forking strategy then does without). They are not the program's output;
 * valgrind's error reports ("==PID== ...") are, and stay. */
static void
strip_valgrind_notes (GString *err)
{
  GString *kept;
  char **lines;

  if (g_getenv ("SS_VALGRIND") == NULL || err->len == 0)
    return;
  kept = g_string_new (NULL);
  lines = g_strsplit (err->str, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      if (**l == '\0' || g_regex_match_simple ("^--[0-9]+-- ", *l, 0, 0))
        continue;
      g_string_append (kept, *l);
      g_string_append_c (kept, '\n');
    }
  g_strfreev (lines);
  g_string_assign (err, kept->str);
  g_string_free (kept, TRUE);
}

/* Waits up to @timeout_s for the child to exit; returns whether it did. */
static gboolean
program_wait (Program *p, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * scale () * G_USEC_PER_SEC);

  while (!p->reaped)
    {
      pid_t r = waitpid (p->pid, &p->status, WNOHANG);

      if (r == p->pid)
        p->reaped = TRUE;
      else if (g_get_monotonic_time () > end)
        return FALSE;
      else
        drain_fd (p->err_fd, p->err, 0.01); /* a chatty child must not block on a full pipe */
    }
  /* Collect the rest of stderr; a forked grandchild may still hold it, so
   * give up after a short while instead of waiting for EOF. */
  while (drain_fd (p->err_fd, p->err, 0.2))
    if (g_get_monotonic_time () > end + G_USEC_PER_SEC)
      break;
  strip_valgrind_notes (p->err);
  return TRUE;
}

static void
program_kill (Program *p)
{
  if (!p->reaped)
    {
      kill (p->pid, SIGKILL);
      waitpid (p->pid, &p->status, 0);
      p->reaped = TRUE;
    }
}

static void
program_free (gpointer data)
{
  Program *p = data;

  program_kill (p);
  if (p->out_fd >= 0)
    close (p->out_fd);
  if (p->err_fd >= 0)
    close (p->err_fd);
  g_spawn_close_pid (p->pid);
  g_string_free (p->err, TRUE);
  g_free (p->banner);
  g_free (p->host);
  g_free (p->path);
  g_free (p);
}

/* Signals the child and asserts that it exits with status 0. */
static void
program_stop (Program *p, int sig)
{
  ck_assert_int_eq (kill (p->pid, sig), 0);
  ck_assert_msg (program_wait (p, 10), "%s: no exit within 10 s of signal %d", p->banner, sig);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "after signal %d: status 0x%x, stderr: %s", sig, p->status, p->err->str);
}

/* ------------------------------------------------------------ the banner */

/* "Serving on HOST port PORT ..." or "Serving on PATH ...". */
static void
parse_banner (Program *p)
{
  const char *rest = p->banner + strlen ("Serving on ");
  const char *port;

  ck_assert_msg (g_str_has_prefix (p->banner, "Serving on "), "banner: \"%s\"", p->banner);
  ck_assert_msg (g_str_has_suffix (p->banner, " ..."), "banner: \"%s\"", p->banner);
  if (rest[0] == '/')
    {
      p->path = g_strndup (rest, strlen (rest) - strlen (" ..."));
      return;
    }
  port = strstr (rest, " port ");
  ck_assert_msg (port != NULL, "banner: \"%s\"", p->banner);
  p->host = g_strndup (rest, port - rest);
  p->port = (guint16) g_ascii_strtoull (port + strlen (" port "), NULL, 10);
  ck_assert_msg (p->port != 0, "banner names no real port: \"%s\"", p->banner);
}

/* Waits for the first stdout line; fails with the child's stderr when it
 * exits (or stays silent) instead. */
static void
program_read_banner (Program *p)
{
  gint64 end = g_get_monotonic_time () + (gint64) (10 * scale () * G_USEC_PER_SEC);
  GString *out = g_string_new (NULL);
  char c;

  while (out->len == 0 || out->str[out->len - 1] != '\n')
    {
      struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
      ssize_t n;

      ck_assert_msg (g_get_monotonic_time () < end, "no banner within 10 s");
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (p->out_fd, &c, 1); /* byte by byte: nothing past the line is taken */
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          program_wait (p, 5);
          ck_abort_msg ("exited before the banner (status 0x%x), stderr: %s", p->status, p->err->str);
        }
      g_string_append_c (out, c);
    }
  g_string_truncate (out, out->len - 1);
  p->banner = g_string_free (out, FALSE);
  parse_banner (p);
}

static Program *
program_start (const char *name, const char *const *args)
{
  Program *p = program_spawn (name, args);

  program_read_banner (p);
  return p;
}

/* ss-echo with --transport, --strategy, a fresh address, and @extra flags. */
static Program *
echo_start (const char *transport, const char *strategy, const char *const *extra)
{
  g_autofree char *address = test_address_for (transport);
  g_autofree char *t = g_strdup_printf ("--transport=%s", transport);
  g_autofree char *s = g_strdup_printf ("--strategy=%s", strategy);
  g_autofree char *a = g_strdup_printf ("--address=%s", address);
  const char *args[16] = { t, s, a };
  int n = 3;

  for (; extra != NULL && *extra != NULL && n < 15; extra++)
    args[n++] = *extra;
  return program_start ("ss-echo", args);
}

/* ------------------------------------------------------------ clients */

static void
set_timeouts (int fd, double seconds)
{
  struct timeval tv = { .tv_sec = (time_t) (seconds * scale ()), .tv_usec = 0 };

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A client of @p's socket: stream (connected) or datagram (connected, and
 * for Unix datagrams bound to a path of its own so replies come back). */
static int
client_connect (Program *p, int type)
{
  SsAddress addr;
  GError *error = NULL;
  gboolean ok;
  int fd;

  if (p->path != NULL)
    ok = ss_address_parse_unix (p->path, &addr, &error);
  else
    {
      g_autofree char *text = strchr (p->host, ':') != NULL
                                  ? g_strdup_printf ("[%s]:%u", p->host, p->port)
                                  : g_strdup_printf ("%s:%u", p->host, p->port);
      ok = ss_address_parse_inet (text, type, &addr, &error);
    }
  ck_assert_msg (ok, "address from banner \"%s\": %s", p->banner, error ? error->message : "?");

  fd = socket (ss_address_family (&addr), type | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (fd, 0);
  set_timeouts (fd, 10);
  if (p->path != NULL && type == SOCK_DGRAM)
    {
      SsAddress me;
      g_autofree char *path = test_tmp_path ("client");

      ck_assert (ss_address_parse_unix (path, &me, NULL));
      ck_assert_int_eq (bind (fd, (struct sockaddr *) &me.storage, me.len), 0);
    }
  ck_assert_msg (connect (fd, (struct sockaddr *) &addr.storage, addr.len) == 0,
                 "connect to %s: %s", p->banner, g_strerror (errno));
  return fd;
}

static int
socket_type_of (const char *transport)
{
  return g_strcmp0 (transport, "udp") == 0 || g_strcmp0 (transport, "unix-dgram") == 0
             ? SOCK_DGRAM : SOCK_STREAM;
}

/* Two lines over one connection, or one datagram, echoed back exactly. */
static void
echo_exchange (Program *p, const char *transport, int round)
{
  int type = socket_type_of (transport);
  int fd = client_connect (p, type);
  g_autofree char *msg = g_strdup_printf ("hello %s, round %d\n", transport, round);

  if (type == SOCK_DGRAM)
    {
      char buf[256];
      ssize_t n;

      test_send_all (fd, msg, strlen (msg));
      n = recv (fd, buf, sizeof buf, 0);
      ck_assert_msg (n >= 0, "recv from %s: %s", p->banner, g_strerror (errno));
      ck_assert_int_eq (n, strlen (msg));
      ck_assert_mem_eq (buf, msg, n);
    }
  else
    {
      for (int i = 0; i < 2; i++)
        {
          g_autofree char *line = NULL;

          test_send_all (fd, msg, strlen (msg));
          line = test_recv_line (fd);
          ck_assert_str_eq (line != NULL ? line : "(EOF)", msg);
        }
    }
  close (fd);
}

/* ------------------------------------------------------------ /echo */

/* Every transport with every strategy: three clients in a row, then
 * SIGTERM and exit status 0 with nothing on stderr. */
START_TEST (test_echo_combination)
{
  const char *transport = test_transports[_i % 4];
  const char *strategy = test_strategies[_i / 4];
  Program *p = echo_start (transport, strategy, NULL);

  if (p->path != NULL)
    ck_assert (g_str_has_prefix (transport, "unix"));
  else
    ck_assert_str_eq (p->host, "127.0.0.1");
  for (int round = 0; round < 3; round++)
    echo_exchange (p, transport, round);
  program_stop (p, SIGTERM);
  ck_assert_msg (p->err->len == 0, "%s/%s stderr: %s", transport, strategy, p->err->str);
}
END_TEST

static GArray *children_of (GPid parent);

/* The process pool over every transport: its children (min_workers 3) are
 * there before the first client, serve, and are all gone once SIGTERM has
 * made ss-echo exit 0. */
START_TEST (test_echo_preforking)
{
  const char *transport = test_transports[_i];
  const char *extra[] = { "--min-workers=3", "--max-workers=6", "--min-spare-workers=1", NULL };
  Program *p = echo_start (transport, "preforking", extra);
  gint64 end = g_get_monotonic_time () + (gint64) (10 * scale () * G_USEC_PER_SEC);
  GArray *children;

  for (int round = 0; round < 3; round++)
    echo_exchange (p, transport, round);
  /* The first child may serve before the parent has forked the third. */
  while ((children = children_of (p->pid))->len < 3 && g_get_monotonic_time () < end)
    {
      g_array_free (children, TRUE);
      g_usleep (10000);
    }
  ck_assert_uint_ge (children->len, 3);
  ck_assert_uint_le (children->len, 6);
  program_stop (p, SIGTERM);
  ck_assert_msg (p->err->len == 0, "%s/preforking stderr: %s", transport, p->err->str);
  for (guint i = 0; i < children->len; i++)
    ck_assert_msg (kill (g_array_index (children, int, i), 0) < 0 && errno == ESRCH,
                   "child %d outlived ss-echo", g_array_index (children, int, i));
  g_array_free (children, TRUE);
}
END_TEST

/* A 200 KiB line without a newline is longer than the readline limit: it
 * comes back in pieces, whole and in order, and the connection ends cleanly. */
START_TEST (test_echo_long_line)
{
  const char *transport = _i == 0 ? "tcp" : "unix";
  Program *p = echo_start (transport, _i == 2 ? "threadpooling" : "sync", NULL);
  gsize len = 200 * 1024;
  char *data = g_malloc (len);
  GString *got;
  int fd;

  for (gsize i = 0; i < len; i++)
    data[i] = (char) ('a' + (i * 7 + i / 26) % 26);
  fd = client_connect (p, SOCK_STREAM);
  test_send_all (fd, data, len);
  shutdown (fd, SHUT_WR);
  got = test_recv_all (fd, len + 1);
  ck_assert_uint_eq (got->len, len);
  ck_assert_msg (memcmp (got->str, data, len) == 0, "the long line came back changed");
  close (fd);
  g_string_free (got, TRUE);
  g_free (data);
  program_stop (p, SIGTERM);
}
END_TEST

/* ------------------------------------------------------------ /signals */

START_TEST (test_signal_exit)
{
  static const struct { const char *strategy; int sig; } cases[] = {
    { "sync", SIGTERM }, { "sync", SIGINT },
    { "threadpooling", SIGTERM }, { "threadpooling", SIGINT },
    { "threading", SIGINT }, { "forking", SIGTERM },
    { "preforking", SIGTERM }, { "preforking", SIGINT },
  };
  Program *p = echo_start ("tcp", cases[_i].strategy, NULL);

  echo_exchange (p, "tcp", 0);
  program_stop (p, cases[_i].sig);
}
END_TEST

/* A Unix server removes its socket file when it stops. */
START_TEST (test_signal_unix_cleanup)
{
  Program *p = echo_start ("unix", "sync", NULL);

  ck_assert (g_file_test (p->path, G_FILE_TEST_EXISTS));
  program_stop (p, SIGTERM);
  ck_assert_msg (!g_file_test (p->path, G_FILE_TEST_EXISTS), "%s left behind", p->path);
}
END_TEST

/* The pids whose parent is @parent (from /proc/PID/stat's fourth field). */
static GArray *
children_of (GPid parent)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));
  GDir *proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  ck_assert_ptr_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *stat = NULL;
      const char *after_comm;
      int ppid = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "PID (COMM) STATE PPID ...": COMM may hold spaces, so from the last ')'. */
      after_comm = strrchr (stat, ')');
      if (after_comm != NULL && sscanf (after_comm + 1, " %*c %d", &ppid) == 1 && ppid == (int) parent)
        {
          int pid = atoi (name);

          g_array_append_val (pids, pid);
        }
    }
  g_dir_close (proc);
  return pids;
}

/* The mask of signals @pid blocks, from /proc/PID/status ("SigBlk:"). */
static guint64
signals_blocked_by (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  ck_assert_msg (g_file_get_contents (path, &status, NULL, NULL), "no %s", path);
  line = strstr (status, "\nSigBlk:");
  ck_assert_ptr_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nSigBlk:"), NULL, 16);
}

#define SIGBIT(sig) (G_GUINT64_CONSTANT (1) << ((sig) - 1))

/* Issue 13: a forked child of ss-echo must not inherit SIGINT/SIGTERM
 * blocked (it has no watcher thread to take them): SIGTERM ends it, and
 * its client sees the connection close. The parent serves on. */
START_TEST (test_signal_forking_child)
{
  Program *p = echo_start ("tcp", "forking", NULL);
  int fd = client_connect (p, SOCK_STREAM);
  g_autofree char *line = NULL;
  g_autoptr (GArray) kids = NULL;
  int child;
  GString *got;

  test_send_all (fd, "held\n", 5);
  line = test_recv_line (fd);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "held\n");
  kids = children_of (p->pid);
  ck_assert_msg (kids->len == 1, "ss-echo has %u children, want the one serving us", kids->len);
  child = g_array_index (kids, int, 0);
  ck_assert_msg ((signals_blocked_by (child) & (SIGBIT (SIGINT) | SIGBIT (SIGTERM))) == 0,
                 "the forked child blocks SIGINT/SIGTERM: SigBlk %" G_GINT64_MODIFIER "x",
                 signals_blocked_by (child));

  ck_assert_int_eq (kill (child, SIGTERM), 0);
  got = test_recv_all (fd, 64);   /* EOF once the child is gone (10 s timeout otherwise) */
  ck_assert_uint_eq (got->len, 0);
  g_string_free (got, TRUE);
  close (fd);

  echo_exchange (p, "tcp", 1);   /* the parent is unharmed */
  program_stop (p, SIGTERM);
}
END_TEST

/* Issue 13: with a client holding its connection open, the first signal
 * only asks the server to shut down (it waits for that request); a second
 * SIGINT/SIGTERM ends the process at once with status 1 and a log line,
 * as pressing Ctrl-C twice does. */
START_TEST (test_signal_twice)
{
  static const struct { const char *strategy; int sig; } cases[] = {
    { "sync", SIGINT }, { "threading", SIGINT }, { "threadpooling", SIGINT },
    { "forking", SIGINT }, { "sync", SIGTERM }, { "threading", SIGTERM },
  };
  Program *p = echo_start ("tcp", cases[_i].strategy, NULL);
  int fd = client_connect (p, SOCK_STREAM);
  g_autofree char *line = NULL;

  test_send_all (fd, "idle\n", 5);
  line = test_recv_line (fd);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "idle\n");

  ck_assert_int_eq (kill (p->pid, cases[_i].sig), 0);
  g_usleep ((gulong) (200 * 1000 * scale ()));   /* the first one has been taken */
  ck_assert_int_eq (kill (p->pid, cases[_i].sig), 0);
  ck_assert_msg (program_wait (p, 5), "%s: still running 5 s after a second signal %d",
                 cases[_i].strategy, cases[_i].sig);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 1,
                 "%s: after two signals %d: status 0x%x, stderr: %s", cases[_i].strategy,
                 cases[_i].sig, p->status, p->err->str);
  ck_assert_msg (strstr (p->err->str, "second") != NULL,
                 "%s: no log line about the second signal on stderr: \"%s\"",
                 cases[_i].strategy, p->err->str);
  close (fd);
}
END_TEST

/* The process pool's way out: SIGTERM to ss-echo alone, or SIGINT to it
 * and every child (what Ctrl-C does to the process group). New
 * connections are no longer taken, but the child serving a client goes on
 * until that client is done, and then ss-echo exits 0 with every child
 * gone. */
START_TEST (test_signal_preforking_finishes)
{
  int sig = _i == 0 ? SIGTERM : SIGINT;
  const char *extra[] = { "--min-workers=2", "--max-workers=4", "--min-spare-workers=1", NULL };
  Program *p = echo_start ("tcp", "preforking", extra);
  gint64 end = g_get_monotonic_time () + (gint64) (10 * scale () * G_USEC_PER_SEC);
  int fd = client_connect (p, SOCK_STREAM);
  g_autoptr (GArray) kids = NULL;
  g_autofree char *line = NULL;
  g_autofree char *again = NULL;

  test_send_all (fd, "held\n", 5);
  line = test_recv_line (fd);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "held\n");
  while ((kids = children_of (p->pid))->len < 2 && g_get_monotonic_time () < end)
    {
      g_clear_pointer (&kids, g_array_unref);
      g_usleep (10000);
    }
  ck_assert_uint_ge (kids->len, 2);

  ck_assert_int_eq (kill (p->pid, sig), 0);
  if (sig == SIGINT)
    for (guint i = 0; i < kids->len; i++)
      kill (g_array_index (kids, int, i), SIGINT);
  g_usleep ((gulong) (300 * 1000 * scale ()));
  ck_assert_msg (!program_wait (p, 0.1), "ss-echo exited under a request: status 0x%x", p->status);
  test_send_all (fd, "still here\n", 11);
  again = test_recv_line (fd);
  ck_assert_str_eq (again != NULL ? again : "(EOF)", "still here\n");

  shutdown (fd, SHUT_WR);
  close (fd);
  ck_assert_msg (program_wait (p, 10), "ss-echo still running 10 s after its last client left");
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "status 0x%x, stderr: %s", p->status, p->err->str);
  ck_assert_msg (p->err->len == 0, "stderr: %s", p->err->str);
  for (guint i = 0; i < kids->len; i++)
    ck_assert_msg (kill (g_array_index (kids, int, i), 0) < 0 && errno == ESRCH,
                   "child %d outlived ss-echo", g_array_index (kids, int, i));
}
END_TEST

/* ------------------------------------------------------------ /errors */

/* Runs ss-echo with @args, expects exit @status and exactly one stderr line
 * "ss-echo: ..." (containing @needle when given), nothing on stdout. */
static void
expect_failure (const char *const *args, int status, const char *needle)
{
  Program *p = program_spawn ("ss-echo", args);
  GString *out = g_string_new (NULL);
  const char *nl;

  ck_assert_msg (program_wait (p, 10), "%s: still running after 10 s", args[0]);
  while (drain_fd (p->out_fd, out, 0.05))
    ;
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == status,
                 "%s: status 0x%x, want exit %d; stderr: %s", args[0], p->status, status, p->err->str);
  ck_assert_msg (out->len == 0, "%s: stdout: %s", args[0], out->str);
  nl = strchr (p->err->str, '\n');
  ck_assert_msg (nl != NULL && nl[1] == '\0', "%s: want one stderr line, got: \"%s\"", args[0], p->err->str);
  ck_assert_msg (g_str_has_prefix (p->err->str, "ss-echo: "), "stderr: %s", p->err->str);
  if (needle != NULL)
    ck_assert_msg (strstr (p->err->str, needle) != NULL, "stderr lacks \"%s\": %s", needle, p->err->str);
  g_string_free (out, TRUE);
}

START_TEST (test_error_usage)
{
  static const struct { const char *args[5]; const char *needle; } cases[] = {
    { { "--bogus" }, "bogus" },
    { { "--transport=sctp" }, "sctp" },
    { { "--strategy=nope", "--address=127.0.0.1:0" }, "nope" },
    { { "--address=127.0.0.1:99999" }, "99999" },
    { { "--address=127.0.0.1:http-ish" }, "http-ish" },
    { { "--min-workers=2", "--address=127.0.0.1:0" }, "threadpooling" },
    { { "--strategy=threadpooling", "--min-workers=10", "--max-workers=2", "--address=127.0.0.1:0" }, NULL },
    { { "--strategy=forking", "--max-children=0", "--address=127.0.0.1:0" }, "max-children" },
    { { "--max-workers=abc" }, "abc" },
    { { "--address=127.0.0.1:0", "extra" }, "extra" },
    { { "--park-idle", "--address=127.0.0.1:0" }, "threadpooling" },
    { { "--strategy=threadpooling", "--park-idle", "--transport=udp", "--address=127.0.0.1:0" }, "stream" },
    { { "--max-requests=5", "--address=127.0.0.1:0" }, "preforking" },
    { { "--strategy=preforking", "--min-spare-workers=5", "--max-spare-workers=2",
        "--address=127.0.0.1:0" }, "max_spare_workers" },
    { { "--max-queue=4", "--address=127.0.0.1:0" }, "threadpooling" },
    { { "--strategy=threadpooling", "--overload=drop", "--address=127.0.0.1:0" }, "drop" },
    { { "--strategy=threadpooling", "--max-queue=-3", "--address=127.0.0.1:0" }, "max-queue" },
    { { "--drain-timeout=-5", "--address=127.0.0.1:0" }, "drain-timeout" },
  };

  expect_failure (cases[_i].args, 2, cases[_i].needle);
}
END_TEST

/* A TCP port that another server holds: exit 1, the address named. */
START_TEST (test_error_address_in_use)
{
  Program *first = echo_start ("tcp", "sync", NULL);
  g_autofree char *a = g_strdup_printf ("--address=127.0.0.1:%u", first->port);
  g_autofree char *port = g_strdup_printf ("%u", first->port);
  const char *args[] = { "--transport=tcp", a, NULL };

  expect_failure (args, 1, port);
  echo_exchange (first, "tcp", 0); /* the first one is unharmed */
  program_stop (first, SIGTERM);
}
END_TEST

/* A Unix path that exists and is not a socket is refused and kept. */
START_TEST (test_error_unix_not_socket)
{
  g_autofree char *path = test_tmp_path ("regular-file");
  g_autofree char *a = g_strdup_printf ("--address=%s", path);
  const char *args[] = { "--transport=unix", a, NULL };

  ck_assert (g_file_set_contents (path, "keep me", -1, NULL));
  expect_failure (args, 1, path);
  ck_assert (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}
END_TEST

/* A Unix path in a folder that does not exist. */
START_TEST (test_error_unix_no_dir)
{
  g_autofree char *dir = test_tmp_path ("missing");
  g_autofree char *a = g_strdup_printf ("--address=%s/sock", dir);
  const char *args[] = { "--transport=unix", a, NULL };

  expect_failure (args, 1, dir);
}
END_TEST

/* ------------------------------------------------------------ /bench */

/* ss-bench's command line is a contract too: server-only mode prints the
 * banner and serves exactly --packet-size bytes per connection until a
 * signal; with clients it ends with one summary line; bad options give one
 * line on stderr and exit 2. */
START_TEST (test_bench_server_only)
{
  static const char *const strategies[] = { "sync", "threading", "threadpooling", "forking",
                                            "preforking" };
  g_autofree char *server = g_strdup_printf ("--server=%s", strategies[_i]);
  /* preforking: a small pool, so that 20 sanitized children need not all
   * exit within the 10 s program_stop allows on a loaded machine. */
  gboolean pool = g_str_equal (strategies[_i], "preforking");
  const char *args[] = { server, "--port=0", "--packet-size=1000",
                         pool ? "--min-workers=2" : NULL, "--min-spare-workers=2", NULL };
  Program *p = program_start ("ss-bench", args);
  int round;

  ck_assert_str_eq (p->host, "127.0.0.1");
  for (round = 0; round < 3; round++)
    {
      int fd = client_connect (p, SOCK_STREAM);
      GString *got = test_recv_all (fd, 1 << 20);

      ck_assert_uint_eq (got->len, 1000);
      g_string_free (got, TRUE);
      close (fd);
    }
  program_stop (p, SIGTERM);
}
END_TEST

START_TEST (test_bench_with_clients)
{
  const char *name = _i == 0 ? "threadpooling" : "preforking";
  g_autofree char *server = g_strdup_printf ("--server=%s", name);
  g_autofree char *summary = g_strdup_printf ("summary: server=%s", name);
  g_autofree char *rest = g_strdup_printf ("rest: server=%s", name);
  /* Under valgrind a pre-forked child takes seconds to start serving: a
   * 1 s run can end before the first reply (ss-bench then exits 1). */
  const char *duration = g_getenv ("SS_VALGRIND") != NULL ? "--duration=8" : "--duration=1";
  const char *args[] = { server, "--port=0", "--n-clients=10", duration, NULL };
  Program *p = program_spawn ("ss-bench", args);
  GString *out = g_string_new (NULL);

  ck_assert_msg (program_wait (p, 60), "ss-bench with clients still running after 60 s");
  while (drain_fd (p->out_fd, out, 0.05))
    ;
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "status 0x%x, stderr: %s", p->status, p->err->str);
  ck_assert_msg (strstr (out->str, summary) != NULL, "stdout: %s", out->str);
  /* Both pools report how soon they were back at rest. */
  ck_assert_msg (strstr (out->str, rest) != NULL, "stdout: %s", out->str);
  ck_assert_msg (strstr (out->str, "replies/s=") != NULL, "stdout: %s", out->str);
  ck_assert_msg (strstr (out->str, " errors=0 ") != NULL, "stdout: %s", out->str);
  g_string_free (out, TRUE);
}
END_TEST

START_TEST (test_bench_bad_option)
{
  static const char *const bad[] = { "--server=greenthreads", "--port=70000", "--packet-size=0", "--bogus" };
  const char *args[] = { bad[_i], "--n-clients=1", NULL };
  Program *p = program_spawn ("ss-bench", args);
  const char *nl;

  ck_assert_msg (program_wait (p, 10), "%s: still running after 10 s", bad[_i]);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 2,
                 "%s: status 0x%x, stderr: %s", bad[_i], p->status, p->err->str);
  nl = strchr (p->err->str, '\n');
  ck_assert_msg (nl != NULL && nl[1] == '\0' && g_str_has_prefix (p->err->str, "ss-bench: "),
                 "%s: want one \"ss-bench: ...\" line, got: \"%s\"", bad[_i], p->err->str);
}
END_TEST

/* ------------------------------------------------------------ /pool */

static int
count_threads (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task", (int) pid);
  GDir *dir = g_dir_open (path, 0, NULL);
  int n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

#define N_HELD 100

/* Issue 3: with the pool at 2/200/5, 100 clients holding their connections
 * open are all served at once (so at least 100 threads), and after they
 * close the process is back to a handful of threads. */
START_TEST (test_pool_grow_shrink)
{
  const char *extra[] = { "--min-workers=2", "--max-workers=200", "--min-spare-workers=5", NULL };
  Program *p = echo_start ("tcp", "threadpooling", extra);
  int fds[N_HELD];
  int peak, now = -1, at_rest = 2 + 5 + 4; /* min + spare + main, signal watcher, slack */
  gint64 closed_at, end;
  double settle_s = -1;

  for (int i = 0; i < N_HELD; i++)
    fds[i] = client_connect (p, SOCK_STREAM);
  /* Each client exchanges a line while every earlier one still holds its
   * connection: the last reply needs 100 requests in service at once. */
  for (int i = 0; i < N_HELD; i++)
    {
      g_autofree char *msg = g_strdup_printf ("client %d\n", i);
      g_autofree char *line = NULL;

      test_send_all (fds[i], msg, strlen (msg));
      line = test_recv_line (fds[i]);
      ck_assert_msg (line != NULL && strcmp (line, msg) == 0,
                     "client %d of %d held connections got no echo", i, N_HELD);
    }
  peak = count_threads (p->pid);
  ck_assert_msg (peak >= N_HELD, "%d connections served at once by only %d threads", N_HELD, peak);

  for (int i = 0; i < N_HELD; i++)
    close (fds[i]);
  closed_at = g_get_monotonic_time ();
  end = closed_at + (gint64) (3 * scale () * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    {
      now = count_threads (p->pid);
      if (now <= at_rest)
        {
          settle_s = (g_get_monotonic_time () - closed_at) / (double) G_USEC_PER_SEC;
          break;
        }
      g_usleep (10000);
    }
  fprintf (stderr, "pool: %d threads with %d connections held; %d threads %.3f s after they closed\n",
           peak, N_HELD, now, settle_s);
  ck_assert_msg (settle_s >= 0, "still %d threads %.0f s after the clients closed (want <= %d)",
                 now, 3 * scale (), at_rest);
  echo_exchange (p, "tcp", 1); /* and it still serves */
  program_stop (p, SIGTERM);
}
END_TEST

/* --park-idle: the same 100 held connections, each exchanging a line while
 * all earlier ones stay open, need a handful of workers, since an idle
 * connection waits in the pool's poller instead of holding a thread; each
 * is woken for its next line. */
START_TEST (test_pool_park_idle)
{
  const char *extra[] = { "--min-workers=2", "--max-workers=200", "--min-spare-workers=5",
                          "--park-idle", NULL };
  Program *p = echo_start ("tcp", "threadpooling", extra);
  int fds[N_HELD];
  int peak = 0;

  for (int i = 0; i < N_HELD; i++)
    fds[i] = client_connect (p, SOCK_STREAM);
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < N_HELD; i++)
      {
        g_autofree char *msg = g_strdup_printf ("client %d round %d\n", i, round);
        g_autofree char *line = NULL;

        test_send_all (fds[i], msg, strlen (msg));
        line = test_recv_line (fds[i]);
        ck_assert_msg (line != NULL && strcmp (line, msg) == 0,
                       "client %d of %d held connections got no echo", i, N_HELD);
        peak = MAX (peak, count_threads (p->pid));
      }
  fprintf (stderr, "--park-idle: at most %d threads with %d connections held\n", peak, N_HELD);
  /* min 2 + spare 5 + main and signal watcher + slack for the pool growing
   * on a momentary burst: far below one per connection. */
  ck_assert_msg (peak <= 20, "%d threads for %d parked connections", peak, N_HELD);
  for (int i = 0; i < N_HELD; i++)
    close (fds[i]);
  echo_exchange (p, "tcp", 1);
  program_stop (p, SIGTERM);
}
END_TEST


/* ------------------------------------------------------------ /ops */

/* Waits up to 10 s for a line of @p's stderr matching @pattern; returns it. */
static char *
wait_stderr_line (Program *p, const char *pattern)
{
  gint64 end = g_get_monotonic_time () + (gint64) (10 * scale () * G_USEC_PER_SEC);

  for (;;)
    {
      g_auto (GStrv) lines = g_strsplit (p->err->str, "\n", -1);

      for (char **l = lines; *l != NULL; l++)
        if (g_regex_match_simple (pattern, *l, 0, 0))
          return g_strdup (*l);
      ck_assert_msg (g_get_monotonic_time () < end, "no stderr line like /%s/ in: %s", pattern,
                     p->err->str);
      drain_fd (p->err_fd, p->err, 0.1);
    }
}

/* SIGUSR1: one stats line on stderr, counting what was served; the
 * server goes on serving. */
START_TEST (test_ops_stats_signal)
{
  const char *strategy = _i == 0 ? "threadpooling" : "preforking";
  const char *extra[] = { "--min-workers=2", "--max-workers=4", "--min-spare-workers=1", NULL };
  Program *p = echo_start ("tcp", strategy, extra);
  g_autofree char *line = NULL;

  echo_exchange (p, "tcp", 0);
  echo_exchange (p, "tcp", 1);
  g_usleep ((gulong) (200 * 1000 * scale ()));   /* served counts after finish */
  ck_assert_int_eq (kill (p->pid, SIGUSR1), 0);
  line = wait_stderr_line (p, "^workers=[1-9][0-9]* busy=[0-9]+ idle=[0-9]+ queued=[0-9]+ "
                              "served=2 rejected=0 spawned=[1-9][0-9]* retired=[0-9]+ errors=0$");
  echo_exchange (p, "tcp", 2);
  g_string_truncate (p->err, 0);
  program_stop (p, SIGTERM);
  ck_assert_msg (p->err->len == 0, "stderr: %s", p->err->str);
}
END_TEST

/* --overload=reject with one worker and --max-queue=1: while the worker
 * holds a client, one more waits in the queue and the next is closed at
 * once, counted in rejected=; the queued one is served once the worker
 * is free. */
START_TEST (test_ops_overload_reject)
{
  const char *extra[] = { "--min-workers=1", "--max-workers=1", "--min-spare-workers=0",
                          "--max-queue=1", "--overload=reject", NULL };
  Program *p = echo_start ("tcp", "threadpooling", extra);
  int busy = client_connect (p, SOCK_STREAM);
  int queued, rejected;
  g_autofree char *line = NULL;
  g_autofree char *stats = NULL;
  g_autoptr (GString) rest = NULL;

  test_send_all (busy, "busy\n", 5);
  line = test_recv_line (busy);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "busy\n");
  queued = client_connect (p, SOCK_STREAM);
  test_send_all (queued, "queued\n", 7);
  g_usleep ((gulong) (300 * 1000 * scale ()));   /* taken off the backlog into the queue */
  rejected = client_connect (p, SOCK_STREAM);
  rest = test_recv_all (rejected, 4096);          /* closed at once: EOF, no echo */
  ck_assert_uint_eq (rest->len, 0);
  close (rejected);

  ck_assert_int_eq (kill (p->pid, SIGUSR1), 0);
  stats = wait_stderr_line (p, "^workers=1 busy=1 idle=0 queued=1 served=0 rejected=1 ");

  close (busy);
  g_clear_pointer (&line, g_free);
  line = test_recv_line (queued);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "queued\n");
  close (queued);
  echo_exchange (p, "tcp", 0);
  program_stop (p, SIGTERM);
}
END_TEST

/* SIGTERM with a client that stays: served on for --drain-timeout, then
 * cut off; ss-echo exits 0 soon after the deadline, with a log line. */
START_TEST (test_ops_drain_timeout)
{
  static const char *const strategies[] = { "threading", "threadpooling", "forking", "preforking" };
  /* 1 s, stretched as the waits below are under valgrind (10 s). */
  g_autofree char *deadline = g_strdup_printf ("--drain-timeout=%g", 1 * scale ());
  const char *extra[] = { deadline, NULL };
  Program *p = echo_start ("tcp", strategies[_i], extra);
  int held = client_connect (p, SOCK_STREAM);
  g_autofree char *line = NULL;
  g_autofree char *again = NULL;
  g_autoptr (GString) rest = NULL;
  gint64 start;

  test_send_all (held, "held\n", 5);
  line = test_recv_line (held);
  ck_assert_str_eq (line != NULL ? line : "(EOF)", "held\n");
  start = g_get_monotonic_time ();
  ck_assert_int_eq (kill (p->pid, SIGTERM), 0);
  g_usleep ((gulong) (300 * 1000 * scale ()));
  test_send_all (held, "during\n", 7);
  again = test_recv_line (held);
  ck_assert_str_eq (again != NULL ? again : "(EOF)", "during\n");
  rest = test_recv_all (held, 4096);   /* until the drain cuts it off */
  ck_assert_uint_eq (rest->len, 0);
  ck_assert_msg (g_get_monotonic_time () - start >= (gint64) (900 * 1000 * scale ()),
                 "%s: cut off before the %g s deadline", strategies[_i], 1 * scale ());
  ck_assert_msg (program_wait (p, 10), "%s: ss-echo still running after its drain", strategies[_i]);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "status 0x%x, stderr: %s", p->status, p->err->str);
  ck_assert_msg (strstr (p->err->str, "Drain deadline") != NULL, "stderr: %s", p->err->str);
  close (held);
}
END_TEST

/* ------------------------------------------------------------ /examples */

START_TEST (test_example_tcp_upper)
{
  const char *args[] = { "127.0.0.1:0", NULL };
  Program *p = program_start ("tcp-upper-server", args);
  int fd = client_connect (p, SOCK_STREAM);
  GString *got;

  test_send_all (fd, "hello\n", 6);
  got = test_recv_all (fd, 5);
  ck_assert_str_eq (got->str, "HELLO");
  g_string_free (got, TRUE);
  close (fd);
  program_stop (p, SIGINT); /* ss_server_serve_until_signalled: exit 0 */
}
END_TEST

/* Runs a program that prints and exits by itself; returns its stdout
 * (transfer full) after checking it exited 0. */
static GString *
run_to_exit (const char *name, const char *const *args)
{
  Program *p = program_spawn (name, args);
  GString *out = g_string_new (NULL);
  gint64 end = g_get_monotonic_time () + (gint64) (20 * scale () * G_USEC_PER_SEC);

  while (drain_fd (p->out_fd, out, 0.1) && g_get_monotonic_time () < end)
    ;
  ck_assert_msg (program_wait (p, 20), "%s did not exit", name);
  ck_assert_msg (WIFEXITED (p->status) && WEXITSTATUS (p->status) == 0,
                 "%s: status 0x%x; stderr: %s", name, p->status, p->err->str);
  return out;
}

/* The Python documentation's ThreadingMixIn example: the same three
 * lines, each request in a thread of its own. */
START_TEST (test_example_threaded)
{
  const char *args[] = { "127.0.0.1:0", NULL };
  g_autoptr (GString) out = run_to_exit ("threaded-tcp-server", args);
  g_auto (GStrv) lines = g_strsplit (out->str, "\n", -1);
  g_autoptr (GHashTable) threads = g_hash_table_new (g_str_hash, g_str_equal);

  ck_assert_uint_eq (g_strv_length (lines), 5);  /* 4 lines and the empty tail */
  ck_assert_str_eq (lines[0], "Server loop running in thread: Thread-1");
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *tail = g_strdup_printf (": Hello World %d", i);
      char *colon;

      ck_assert_msg (g_str_has_prefix (lines[i], "Received: Thread-") && g_str_has_suffix (lines[i], tail),
                     "line %d: %s", i, lines[i]);
      colon = strchr (lines[i] + strlen ("Received: "), ':');
      *colon = '\0';
      ck_assert_str_ne (lines[i] + strlen ("Received: "), "Thread-1");
      g_hash_table_add (threads, lines[i] + strlen ("Received: "));
    }
  /* A thread per request: three names. */
  ck_assert_uint_eq (g_hash_table_size (threads), 3);
}
END_TEST

/* The same with ForkingMixIn: each request in a process of its own, none
 * of them the server's. */
START_TEST (test_example_forking)
{
  const char *args[] = { "127.0.0.1:0", NULL };
  g_autoptr (GString) out = run_to_exit ("forking-tcp-server", args);
  g_auto (GStrv) lines = g_strsplit (out->str, "\n", -1);
  g_autoptr (GHashTable) pids = g_hash_table_new (g_str_hash, g_str_equal);
  const char *server_pid;

  ck_assert_uint_eq (g_strv_length (lines), 5);
  ck_assert (g_str_has_prefix (lines[0], "Server loop running in process: "));
  server_pid = lines[0] + strlen ("Server loop running in process: ");
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *tail = g_strdup_printf (": Hello World %d", i);
      char *pid = lines[i] + strlen ("Received: ");

      ck_assert_msg (g_str_has_prefix (lines[i], "Received: ") && g_str_has_suffix (lines[i], tail),
                     "line %d: %s", i, lines[i]);
      *strchr (pid, ':') = '\0';
      ck_assert_str_ne (pid, server_pid);
      g_hash_table_add (pids, pid);
    }
  ck_assert_uint_eq (g_hash_table_size (pids), 3);
}
END_TEST

/* The key-value server: two clients at once see one store. */
START_TEST (test_example_kv)
{
  const char *args[] = { "127.0.0.1:0", NULL };
  Program *p = program_start ("kv-server", args);
  int a = client_connect (p, SOCK_STREAM);
  int b = client_connect (p, SOCK_STREAM);
  static const struct { int who; const char *send; const char *want; } script[] = {
    { 0, "SET colour blue sky\n", "OK\n" },
    { 1, "GET colour\n", "VALUE blue sky\n" },
    { 1, "set size 3\n", "OK\n" },
    { 0, "COUNT\n", "2\n" },
    { 0, "DEL colour\n", "DELETED\n" },
    { 1, "GET colour\n", "NOT_FOUND\n" },
    { 1, "DEL colour\n", "NOT_FOUND\n" },
    { 0, "\n", NULL },                 /* an empty line is skipped */
    { 0, "SET onlykey\n", "ERROR unknown command or wrong arguments\n" },
    { 1, "COUNT\n", "1\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (script); i++)
    {
      int fd = script[i].who == 0 ? a : b;
      g_autofree char *got = NULL;

      test_send_all (fd, script[i].send, strlen (script[i].send));
      if (script[i].want == NULL)
        continue;
      got = test_recv_line (fd);
      ck_assert_msg (got != NULL && strcmp (got, script[i].want) == 0, "step %" G_GSIZE_FORMAT
                     ": sent %s, got %s", i, script[i].send, got != NULL ? got : "EOF");
    }
  close (a);
  close (b);
  program_stop (p, SIGTERM);
}
END_TEST

START_TEST (test_example_udp_upper)
{
  const char *args[] = { "127.0.0.1:0", NULL };
  Program *p = program_start ("udp-upper-server", args);
  int fd = client_connect (p, SOCK_DGRAM);
  char buf[64] = { 0 };
  ssize_t n;

  test_send_all (fd, "hello\n", 6);
  n = recv (fd, buf, sizeof buf - 1, 0);
  ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
  ck_assert_str_eq (g_strstrip (buf), "HELLO");
  close (fd);
  program_stop (p, SIGTERM);
}
END_TEST

/* ------------------------------------------------------------ suite */

static void
setup (void)
{
  programs = g_ptr_array_new_with_free_func (program_free);
}

static void
teardown (void)
{
  g_clear_pointer (&programs, g_ptr_array_unref);
}

static TCase *
tcase (Suite *s, const char *name, int timeout)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, timeout);
  suite_add_tcase (s, tc);
  return tc;
}

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("programs");
  TCase *tc;

  /* The children write to the pipes we read; a closed pipe must give
   * EPIPE to this process, not kill it. */
  signal (SIGPIPE, SIG_IGN);

  tc = tcase (s, "/programs/echo", 30);
  tcase_add_loop_test (tc, test_echo_combination, 0, 16);
  tcase_add_loop_test (tc, test_echo_preforking, 0, 4);
  tcase_add_loop_test (tc, test_echo_long_line, 0, 3);

  tc = tcase (s, "/programs/signals", 30);
  tcase_add_loop_test (tc, test_signal_exit, 0, 8);
  tcase_add_test (tc, test_signal_unix_cleanup);
  tcase_add_test (tc, test_signal_forking_child);
  tcase_add_loop_test (tc, test_signal_twice, 0, 6);
  tcase_add_loop_test (tc, test_signal_preforking_finishes, 0, 2);

  tc = tcase (s, "/programs/errors", 30);
  tcase_add_loop_test (tc, test_error_usage, 0, 18);
  tcase_add_test (tc, test_error_address_in_use);
  tcase_add_test (tc, test_error_unix_not_socket);
  tcase_add_test (tc, test_error_unix_no_dir);

  tc = tcase (s, "/programs/pool", 90);
  tcase_add_test (tc, test_pool_grow_shrink);
  tcase_add_test (tc, test_pool_park_idle);

  tc = tcase (s, "/programs/ops", 60);
  tcase_add_loop_test (tc, test_ops_stats_signal, 0, 2);
  tcase_add_test (tc, test_ops_overload_reject);
  tcase_add_loop_test (tc, test_ops_drain_timeout, 0, 4);

  tc = tcase (s, "/programs/bench", 120);
  tcase_add_loop_test (tc, test_bench_server_only, 0, 5);
  tcase_add_loop_test (tc, test_bench_with_clients, 0, 2);
  tcase_add_loop_test (tc, test_bench_bad_option, 0, 4);

  tc = tcase (s, "/programs/examples", 30);
  tcase_add_test (tc, test_example_tcp_upper);
  tcase_add_test (tc, test_example_udp_upper);
  tcase_add_test (tc, test_example_threaded);
  tcase_add_test (tc, test_example_forking);
  tcase_add_test (tc, test_example_kv);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
