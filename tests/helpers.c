/* helpers.c: a background server, loopback clients and /proc counters for the tests.
 *
 * Kept deliberately plain (blocking sockets with timeouts) so that a test
 * failure points at the library, not at the harness.
 */
#include "config.h"
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

const char *const test_transports[4] = { "tcp", "udp", "unix", "unix-dgram" };
const char *const test_strategies[4] = { "sync", "threading", "threadpooling", "forking" };

static char *tmp_dir;
static int tmp_counter;

static gpointer
serve_thread (gpointer data)
{
  TestServer *ts = data;
  GError *error = NULL;

  ts->ok = ss_server_serve_forever (ts->server, 0.05, &error);
  if (error != NULL)
    g_printerr ("serve_forever: %s\n", error->message);
  g_clear_error (&error);
  return NULL;
}

TestServer *
test_server_start (SsServer *server)
{
  TestServer *ts = g_new0 (TestServer, 1);

  ck_assert_ptr_nonnull (server);
  ts->server = server;
  ts->thread = g_thread_new ("test-serve", serve_thread, ts);
  return ts;
}

void
test_server_stop (TestServer *ts)
{
  ss_server_shutdown (ts->server);
  g_thread_join (ts->thread);
  ck_assert_msg (ts->ok, "serve_forever failed");
  ss_server_free (ts->server);
  g_free (ts);
}

static void
test_tmp_cleanup (void)
{
  if (tmp_dir != NULL)
    {
      GDir *dir = g_dir_open (tmp_dir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          char *path = g_build_filename (tmp_dir, name, NULL);
          g_unlink (path);
          g_free (path);
        }
      if (dir != NULL)
        g_dir_close (dir);
      g_rmdir (tmp_dir);
      g_clear_pointer (&tmp_dir, g_free);
    }
}

char *
test_tmp_path (const char *name)
{
  if (tmp_dir == NULL)
    {
      /* Short base so that paths stay well inside sun_path (108 bytes). */
      tmp_dir = g_strdup ("/tmp/ss-test-XXXXXX");
      ck_assert_ptr_nonnull (g_mkdtemp (tmp_dir));
      atexit (test_tmp_cleanup);
    }
  return g_strdup_printf ("%s/%s-%d-%d", tmp_dir, name, (int) getpid (), ++tmp_counter);
}

char *
test_address_for (const char *transport)
{
  if (g_str_has_prefix (transport, "unix"))
    return test_tmp_path ("sock");
  return g_strdup ("127.0.0.1:0");
}

static void
set_timeouts (int fd, double seconds)
{
  struct timeval tv = { .tv_sec = (time_t) seconds, .tv_usec = 0 };

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
test_connect (SsServer *server)
{
  const SsAddress *addr = &server->server_address;
  int family = ss_address_family (addr);
  int type = SOCK_STREAM;
  const SsServerClass *k;
  int fd;

  for (k = server->klass; k != NULL && k->socket_type == 0; k = k->parent)
    ;
  if (k != NULL)
    type = k->socket_type;

  fd = socket (family, type | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (fd, 0);
  set_timeouts (fd, 10);
  if (family == AF_UNIX && type == SOCK_DGRAM)
    {
      /* A Unix datagram client needs a name of its own to get replies. */
      struct sockaddr_un sun = { .sun_family = AF_UNIX };
      char *path = test_tmp_path ("client");

      g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
      ck_assert_int_eq (bind (fd, (struct sockaddr *) &sun, sizeof sun), 0);
      g_free (path);
    }
  ck_assert_msg (connect (fd, (const struct sockaddr *) &addr->storage, addr->len) == 0,
                 "connect: %s", g_strerror (errno));
  return fd;
}

void
test_send_all (int fd, const void *data, gsize len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      ck_assert_msg (n > 0, "send: %s", g_strerror (errno));
      p += n;
      len -= (gsize) n;
    }
}

GString *
test_recv_all (int fd, gsize max)
{
  GString *out = g_string_new (NULL);
  char buf[65536];

  while (out->len < max)
    {
      ssize_t n = recv (fd, buf, MIN (sizeof buf, max - out->len), 0);

      if (n < 0 && errno == EINTR)
        continue;
      ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
      if (n == 0)
        break;
      g_string_append_len (out, buf, n);
    }
  return out;
}

char *
test_recv_line (int fd)
{
  GString *line = g_string_new (NULL);
  char c;

  for (;;)
    {
      ssize_t n = recv (fd, &c, 1, 0);

      if (n < 0 && errno == EINTR)
        continue;
      ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
      if (n == 0)
        break;
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }
  if (line->len == 0)
    {
      g_string_free (line, TRUE);
      return NULL;
    }
  return g_string_free (line, FALSE);
}

void
test_echo_once (SsServer *server, const char *msg)
{
  int fd = test_connect (server);
  gsize len = strlen (msg);
  const SsServerClass *k;
  int type = SOCK_STREAM;

  for (k = server->klass; k != NULL && k->socket_type == 0; k = k->parent)
    ;
  if (k != NULL)
    type = k->socket_type;

  test_send_all (fd, msg, len);
  if (type == SOCK_DGRAM)
    {
      char buf[65536];
      ssize_t n;

      /* EINTR: seen under valgrind, which delivers SIGCHLD of the forking
       * server's children to this thread. */
      do
        n = recv (fd, buf, sizeof buf, 0);
      while (n < 0 && errno == EINTR);
      ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
      ck_assert_int_eq ((gsize) n, len);
      ck_assert_mem_eq (buf, msg, len);
    }
  else
    {
      GString *got;

      shutdown (fd, SHUT_WR);
      got = test_recv_all (fd, len + 1);
      ck_assert_uint_eq (got->len, len);
      ck_assert_mem_eq (got->str, msg, len);
      g_string_free (got, TRUE);
    }
  close (fd);
}

static int
count_dir_entries (const char *path)
{
  DIR *dir = opendir (path);
  struct dirent *e;
  int n = 0;

  ck_assert_ptr_nonnull (dir);
  while ((e = readdir (dir)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (dir);
  return n;
}

int
test_count_fds (void)
{
  return count_dir_entries ("/proc/self/fd") - 1; /* the DIR's own fd */
}

int
test_count_threads (void)
{
  return count_dir_entries ("/proc/self/task");
}

SsStrategy *
test_strategy (const char *name)
{
  GError *error = NULL;
  SsStrategy *s;

  if (g_strcmp0 (name, "threadpooling") == 0)
    s = ss_thread_pool_strategy_new (2, 50, 2, &error);
  else
    s = ss_strategy_new_by_name (name, &error);
  ck_assert_msg (s != NULL, "strategy %s: %s", name, error ? error->message : "?");
  return s;
}

gboolean
test_wait_until (gboolean (*cond) (gpointer), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return cond (data);
      g_usleep (10000);
    }
  return TRUE;
}

typedef struct {
  SsServer *server;
  guint want;
} ParkedWait;

static gboolean
parked_is (gpointer data)
{
  ParkedWait *w = data;
  SsServerStats stats;

  ss_server_get_stats (w->server, &stats);
  return stats.parked == w->want;
}

void
test_wait_parked (SsServer *server, guint want)
{
  ParkedWait w = { server, want };
  SsServerStats stats;

  if (!test_wait_until (parked_is, &w, 10))
    {
      ss_server_get_stats (server, &stats);
      ck_abort_msg ("expected %u parked connections, have %u", want, stats.parked);
    }
}

/* ------------------------------------------------------------ results as TAP
 *
 * automake's TAP driver reports every case, so a skipped case shows as
 * SKIP instead of hiding inside a passing program. check has no skip: a
 * skipping case fails with SKIP_MARK before its reason (test_skip_case),
 * which reaches the runner in order through check's own channel, whatever
 * the fork mode. The case names come from check's TAP file ("ok N - FILE:
 * TCASE:TEST: MSG"); results and messages from srunner_results. */

#define SKIP_MARK "[skip] "

void
test_skip_case (const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list ap;

  va_start (ap, format);
  reason = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_print ("skipped: %s\n", reason);
  ck_abort_msg ("%s%s", SKIP_MARK, reason);
}

int
test_skip_program (const char *reason)
{
  printf ("1..0 # SKIP %s\n", reason);
  fflush (stdout);
  return EXIT_SUCCESS;
}

/* "TCASE:TEST" of each result line of check's TAP file, in order. */
static GPtrArray *
case_names (const char *tap_path)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (tap_path, &text, NULL, NULL))
    return names;
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      const char *desc = strstr (*l, " - ");
      g_auto (GStrv) fields = NULL;

      /* Messages may hold newlines: only lines that start a result count. */
      if (desc == NULL || !(g_str_has_prefix (*l, "ok ") || g_str_has_prefix (*l, "not ok ")))
        continue;
      fields = g_strsplit (desc + 3, ":", 4);   /* FILE, TCASE, TEST, MSG */
      g_ptr_array_add (names, g_strv_length (fields) >= 3
                                  ? g_strdup_printf ("%s %s", fields[1], fields[2])
                                  : g_strdup (desc + 3));
    }
  return names;
}

int
test_run_suite (Suite *suite)
{
  SRunner *runner = srunner_create (suite);
  g_autofree char *tap_path = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GString *tap = g_string_new (NULL);
  TestResult **results;
  int n, checks = 0, failures = 0, errors = 0, skips = 0;
  int fd = g_file_open_tmp ("ss-tap-XXXXXX", &tap_path, NULL);

  if (fd < 0)
    g_error ("test_run_suite: no temporary file for check's TAP output");
  close (fd);
  srunner_set_tap (runner, tap_path);
  srunner_run_all (runner, CK_SILENT);
  names = case_names (tap_path);
  g_unlink (tap_path);

  n = srunner_ntests_run (runner);
  results = srunner_results (runner);
  g_string_append_printf (tap, "1..%d\n", n);
  for (int i = 0; i < n; i++)
    {
      TestResult *tr = results[i];
      const char *name = i < (int) names->len ? g_ptr_array_index (names, i) : tr_tcname (tr);
      guint iter = GPOINTER_TO_UINT (g_hash_table_lookup (seen, name));
      g_autofree char *msg = g_strdup (tr_msg (tr) != NULL ? tr_msg (tr) : "");

      g_hash_table_insert (seen, (gpointer) name, GUINT_TO_POINTER (iter + 1));
      g_strdelimit (msg, "\n", ' ');
      if (tr_rtype (tr) == CK_PASS)
        g_string_append_printf (tap, "ok %d - %s#%u\n", i + 1, name, iter);
      else if (tr_rtype (tr) == CK_FAILURE && g_str_has_prefix (msg, SKIP_MARK))
        {
          g_string_append_printf (tap, "ok %d - %s#%u # SKIP %s\n", i + 1, name, iter,
                                  msg + strlen (SKIP_MARK));
          skips++;
          continue;
        }
      else
        {
          g_string_append_printf (tap, "not ok %d - %s#%u: %s:%d: %s\n", i + 1, name, iter,
                                  tr_lfile (tr) != NULL ? tr_lfile (tr) : "?", tr_lno (tr), msg);
          if (tr_rtype (tr) == CK_FAILURE)
            failures++;
          else
            errors++;
        }
      checks++;
    }
  /* check's own summary line, skips left out: .ci/run sums these. */
  printf ("%d%%: Checks: %d, Failures: %d, Errors: %d (and %d skipped)\n",
          checks > 0 ? (checks - failures - errors) * 100 / checks : 100, checks, failures, errors, skips);
  fputs (tap->str, stdout);
  fflush (stdout);
  g_string_free (tap, TRUE);
  free (results);   /* the array is the caller's; the results are check's */
  srunner_free (runner);
  return failures + errors == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

gboolean
test_fork_unsafe_sanitizer (void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return TRUE;
#else
  return FALSE;
#endif
}

/* See helpers.h. */
int
test_drop_permission_bypass (void)
{
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  const int caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };

  if (geteuid () != 0)
    return 0;
  if (syscall (SYS_capget, &header, data) != 0)
    return 10;
  for (gsize i = 0; i < G_N_ELEMENTS (caps); i++)
    {
      if (prctl (PR_CAPBSET_DROP, caps[i], 0, 0, 0) != 0)
        return setgid (65534) == 0 && setuid (65534) == 0 ? 0 : 10;
      data[0].effective &= ~CAP_TO_MASK (caps[i]);
      data[0].permitted &= ~CAP_TO_MASK (caps[i]);
      data[0].inheritable &= ~CAP_TO_MASK (caps[i]);
    }
  return syscall (SYS_capset, &header, data) == 0 ? 0 : 10;
}
