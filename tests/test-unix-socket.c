/* test-unix-socket.c: a Unix socket file's mode and lifetime (issue 13,
 * items 5 and 6).
 *
 * The moment that matters is between bind(2), which creates the file, and
 * whatever the library does next, so this program interposes bind and
 * unlink: it defines them (the library's calls resolve to the executable's
 * definitions first) and passes each call on to the next definition
 * (libc's, or a sanitizer's interceptor). Armed, the bind hook looks at the
 * new file at once: its mode, and whether a process without the right to
 * write to it can still send it a datagram that the server would later
 * process. The unlink hook checks that the server's socket is still open
 * when its file is removed.
 */
#include "config.h"
#include "helpers.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* ------------------------------------------------------------ interposed calls */

typedef void (*BindHook) (const char *path);

static BindHook after_bind;            /* armed by a test */
static const char *unlink_watch_path;  /* unlink of this path is checked */
static int unlink_watch_fd = -1;       /*   against this fd being open */
static int unlink_saw_fd_open = -1;    /* 1 open, 0 closed, -1 not seen */

int
bind (int fd, const struct sockaddr *addr, socklen_t len)
{
  static int (*real_bind) (int, const struct sockaddr *, socklen_t);
  int r;

  if (real_bind == NULL)
    real_bind = (int (*) (int, const struct sockaddr *, socklen_t)) dlsym (RTLD_NEXT, "bind");
  r = real_bind (fd, addr, len);
  if (r == 0 && after_bind != NULL && addr->sa_family == AF_UNIX)
    {
      BindHook hook = after_bind;

      after_bind = NULL;   /* once, and not for the hook's own sockets */
      hook (((const struct sockaddr_un *) addr)->sun_path);
    }
  return r;
}

int
unlink (const char *path)
{
  static int (*real_unlink) (const char *);

  if (real_unlink == NULL)
    real_unlink = (int (*) (const char *)) dlsym (RTLD_NEXT, "unlink");
  if (unlink_watch_path != NULL && strcmp (path, unlink_watch_path) == 0)
    unlink_saw_fd_open = fcntl (unlink_watch_fd, F_GETFD) >= 0;
  return real_unlink (path);
}

/* ------------------------------------------------------------ what the hook sees */

static mode_t mode_at_bind;        /* the file's permission bits right after bind */
static int stranger_send_errno;    /* 0: the datagram went in; else the errno */

/* A process that may not write to the socket file: without root's
 * permission bypass, and (as root) not its owner's rights either, since
 * the tests ask for mode 0400. Returns 0 when its datagram was accepted. */
static int
stranger_sends (const char *path)
{
  pid_t pid = fork ();
  int status = 0;

  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      struct sockaddr_un sun = { .sun_family = AF_UNIX };
      int fd;

      if (test_drop_permission_bypass () != 0)
        _exit (100);
      fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
      if (sendto (fd, "stranger", 8, 0, (struct sockaddr *) &sun, sizeof sun) == 8)
        _exit (0);
      _exit (errno == EACCES ? 1 : 101);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  ck_assert (WIFEXITED (status));
  ck_assert_msg (WEXITSTATUS (status) < 100, "the stranger process failed (%d)", WEXITSTATUS (status));
  return WEXITSTATUS (status) == 0 ? 0 : EACCES;
}

static void
record_mode (const char *path)
{
  struct stat st;

  ck_assert_int_eq (lstat (path, &st), 0);
  mode_at_bind = st.st_mode & 07777;
}

static void
look_right_after_bind (const char *path)
{
  record_mode (path);
  stranger_send_errno = stranger_sends (path);
}

/* ------------------------------------------------------------ handlers */

static int datagrams_handled;

static gboolean
count_handle (SsRequestHandler *handler, GError **error)
{
  datagrams_handled++;
  return TRUE;
}

SS_DEFINE_HANDLER_CLASS (SsDatagramRequestHandler, count_handler_class,
                         ss_datagram_request_handler_class,
                         .handle = count_handle);

/* ------------------------------------------------------------ mode */

static SsServer *
unbound_server (const SsServerClass *klass, const char *path, guint mode)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (klass, path, &count_handler_class, NULL, FALSE, &error);

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  server->unix_socket_mode = mode;
  return server;
}

/* With umask 0 bind alone would make the file 0777: whoever may reach the
 * folder could send datagrams that the server processes once it serves.
 * The file must have the wanted mode from its first moment. */
START_TEST (test_mode_from_the_start)
{
  g_autofree char *path = test_tmp_path ("mode");
  SsServer *server = unbound_server (&ss_unix_datagram_server_class, path, 0400);
  GError *error = NULL;
  struct stat st;

  umask (0);
  after_bind = look_right_after_bind;
  ck_assert_msg (ss_server_server_bind (server, &error), "%s", error ? error->message : "?");
  ck_assert_msg (after_bind == NULL, "bind was not called on the socket");

  /* Nothing a stranger sent right after bind gets processed. */
  ck_assert (ss_server_server_activate (server, &error));
  server->timeout = 0.2;
  datagrams_handled = 0;
  ck_assert (ss_server_handle_request (server, &error));   /* times out */
  ck_assert_msg (datagrams_handled == 0, "the server processed %d datagram(s) sent by a process "
                 "without write permission right after bind", datagrams_handled);
  ck_assert_msg (stranger_send_errno == EACCES, "the stranger's datagram was not refused");

  ck_assert_msg (mode_at_bind == 0400, "the socket file was %04o right after bind, not 0400",
                 (guint) mode_at_bind);
  ck_assert_int_eq (lstat (path, &st), 0);
  ck_assert_uint_eq (st.st_mode & 07777, 0400);
  ss_server_free (server);
}
END_TEST

/* A mode wider than the umask lets bind give is still reached (0666 under
 * umask 077), and the stream server gets its mode too. */
START_TEST (test_mode_wider_than_umask)
{
  const SsServerClass *klass = _i == 0 ? &ss_unix_stream_server_class : &ss_unix_datagram_server_class;
  g_autofree char *path = test_tmp_path ("wide");
  SsServer *server = unbound_server (klass, path, 0666);
  GError *error = NULL;
  struct stat st;

  umask (077);
  after_bind = record_mode;
  ck_assert_msg (ss_server_server_bind (server, &error), "%s", error ? error->message : "?");
  ck_assert_msg ((mode_at_bind & ~0666u) == 0, "the file was %04o after bind: wider than asked",
                 (guint) mode_at_bind);
  ck_assert_int_eq (lstat (path, &st), 0);
  ck_assert_uint_eq (st.st_mode & 07777, 0666);
  ss_server_free (server);
}
END_TEST

/* Someone who can write to the folder swaps the new socket file for a
 * symlink before the mode is set: the mode must not go to the link's
 * target. */
static char *victim;

static void
swap_for_symlink (const char *path)
{
  g_autofree char *link = g_strdup_printf ("%s.link", path);

  ck_assert_int_eq (symlink (victim, link), 0);
  ck_assert_int_eq (rename (link, path), 0);
}

START_TEST (test_mode_never_through_symlink)
{
  g_autofree char *path = test_tmp_path ("swapped");
  SsServer *server = unbound_server (&ss_unix_datagram_server_class, path, 0666);
  GError *error = NULL;
  struct stat st;

  victim = test_tmp_path ("victim");
  ck_assert (g_file_set_contents (victim, "keep my mode", -1, NULL));
  ck_assert_int_eq (chmod (victim, 0600), 0);
  umask (077);   /* 0666 needs a chmod after bind */
  after_bind = swap_for_symlink;
  if (!ss_server_server_bind (server, &error))
    {
      ck_assert_msg (strstr (error->message, path) != NULL, "error without the path: %s", error->message);
      g_clear_error (&error);
    }
  ck_assert_int_eq (stat (victim, &st), 0);
  ck_assert_msg ((st.st_mode & 07777) == 0600, "the symlink's target got mode %04o",
                 (guint) (st.st_mode & 07777));
  ss_server_free (server);
  g_unlink (path);
  g_clear_pointer (&victim, g_free);
}
END_TEST

/* ------------------------------------------------------------ close */

/* server_close removes the socket file while the socket is still open, so
 * that no other server can bind a new file (and inode) there in between
 * and have ours removed instead. */
START_TEST (test_unlink_before_close)
{
  const SsServerClass *klass = _i == 0 ? &ss_unix_stream_server_class : &ss_unix_datagram_server_class;
  g_autofree char *path = test_tmp_path ("unlink");
  GError *error = NULL;
  SsServer *server = ss_server_new (klass, path, &count_handler_class, NULL, TRUE, &error);

  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  unlink_watch_path = path;
  unlink_watch_fd = server->socket_fd;
  unlink_saw_fd_open = -1;
  ss_server_server_close (server);
  unlink_watch_path = NULL;
  ck_assert_msg (unlink_saw_fd_open != -1, "server_close did not remove %s", path);
  ck_assert_msg (unlink_saw_fd_open == 1, "server_close closed the socket before removing its file");
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));
  ss_server_free (server);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("unix-socket");
  TCase *tc;

  tc = tcase_create ("/unix/mode");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_mode_from_the_start);
  tcase_add_loop_test (tc, test_mode_wider_than_umask, 0, 2);
  tcase_add_test (tc, test_mode_never_through_symlink);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/unix/close");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_unlink_before_close, 0, 2);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
