/* test-faults.c: the server keeps serving under faults, bad input and overload.
 *
 * One TCase per fault of issue 5: clients that reset mid-reply, running
 * out of fds, signals interrupting every system call, failing handlers and
 * crashing children, silent clients, shutdown under load, bad input. Each
 * test provokes the fault for real over loopback or Unix sockets and then
 * checks that a well-behaved client is still served.
 *
 * Counting handle_error and finish must work for every strategy, including
 * forking, where they run in a child process: so the test's server and
 * handler classes report by writing one byte to a pipe created before the
 * server starts (a pipe is shared across fork; write() on a pipe, never on
 * a socket), and the test reads the bytes back with a deadline.
 *
 * The process must die from SIGPIPE if the library ever raises it, so
 * nothing here ignores SIGPIPE; /faults/sigpipe-default checks that.
 */
#include "config.h"
#include "helpers.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <glib/gstdio.h>

/* Under valgrind (make check-valgrind sets SS_VALGRIND) everything runs
 * 10-50x slower: waits for the server stretch by this factor. */
static gboolean
under_valgrind (void)
{
  return g_getenv ("SS_VALGRIND") != NULL;
}

static double
slow (double seconds)
{
  return under_valgrind () ? seconds * 10 : seconds;
}

/* SS_FAULTS_VERBOSE=1 prints the figures the tests measure (for docs/reliability.md). */
static void
report (const char *format, ...) G_GNUC_PRINTF (1, 2);
static void
report (const char *format, ...)
{
  va_list ap;

  if (g_getenv ("SS_FAULTS_VERBOSE") == NULL)
    return;
  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

/* ------------------------------------------------------------------ pipes */

/* Marks written by servers and handlers in any process of the test. */
#define MARK_ERROR_CLOSED 'c'  /* handle_error with SS_ERROR_CLOSED */
#define MARK_ERROR_OTHER  'e'  /* handle_error with any other error */
#define MARK_FINISH       'f'  /* a handler's finish ran */

static int mark_pipe[2] = { -1, -1 };
static guint marks_seen[256];

static void
marks_open (void)
{
  ck_assert_int_eq (pipe2 (mark_pipe, O_CLOEXEC), 0);
  ck_assert_int_eq (fcntl (mark_pipe[0], F_SETFL, O_NONBLOCK), 0);
  memset (marks_seen, 0, sizeof marks_seen);
}

static void
mark (char c)
{
  while (write (mark_pipe[1], &c, 1) < 0 && errno == EINTR)
    ;
}

static void
marks_drain (void)
{
  char buf[256];
  ssize_t n;

  while ((n = read (mark_pipe[0], buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++)
      marks_seen[(guint8) buf[i]]++;
}

/* Waits until marks @a + @b (b may be 0) total at least @want; returns the total. */
static guint
marks_wait (char a, char b, guint want, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  for (;;)
    {
      guint total;
      struct pollfd pfd = { .fd = mark_pipe[0], .events = POLLIN };

      marks_drain ();
      total = marks_seen[(guint8) a] + (b != 0 ? marks_seen[(guint8) b] : 0);
      if (total >= want || g_get_monotonic_time () > end)
        return total;
      poll (&pfd, 1, 50);
    }
}

/* ------------------------------------------------------------------ logs */

/* Captures the library's log lines (domain "socketserver") so tests can
 * count them; warnings and worse are also printed, they mean misuse. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *log_lines;

static void
capture_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  pthread_mutex_lock (&log_lock);
  if (log_lines != NULL)
    g_ptr_array_add (log_lines, g_strdup (message));
  pthread_mutex_unlock (&log_lock);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    g_log_default_handler (domain, level, message, data);
}

static void
logs_capture (void)
{
  pthread_mutex_lock (&log_lock);
  if (log_lines == NULL)
    log_lines = g_ptr_array_new_with_free_func (g_free);
  pthread_mutex_unlock (&log_lock);
  g_log_set_handler ("socketserver", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                     capture_log, NULL);
}

/* Lines captured so far that contain any of the NULL-terminated @needles. */
static guint
logs_count (const char *const *needles)
{
  guint n = 0;

  pthread_mutex_lock (&log_lock);
  for (guint i = 0; log_lines != NULL && i < log_lines->len; i++)
    for (const char *const *p = needles; *p != NULL; p++)
      if (strstr (log_lines->pdata[i], *p) != NULL)
        {
          n++;
          break;
        }
  pthread_mutex_unlock (&log_lock);
  return n;
}

static gboolean
logs_wait (const char *const *needles, guint want, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (logs_count (needles) < want)
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (10000);
    }
  return TRUE;
}

/* ------------------------------------------------------------------ classes */

/* A TCP server whose handle_error reports to the mark pipe, then chains to
 * its parent's (Python: super().handle_error()). */
static void
marking_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  mark (g_error_matches (error, SS_ERROR, SS_ERROR_CLOSED) ? MARK_ERROR_CLOSED : MARK_ERROR_OTHER);
  ss_tcp_server_class.handle_error (server, request, error); /* super() */
}

static const SsServerClass marking_tcp_server_class = {
  .name = "MarkingTCPServer",
  .parent = &ss_tcp_server_class,
  .handle_error = marking_handle_error,
};

static SsServer *
marking_server_new (const SsHandlerClass *handler_class, SsStrategy *strategy)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (&marking_tcp_server_class, "127.0.0.1:0", handler_class,
                                    strategy, TRUE, &error);

  ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  return server;
}

/* Python: class BigReply(StreamRequestHandler): handle writes 4 MiB. */
#define BIG_REPLY_SIZE (4 * 1024 * 1024)
static guint8 *big_reply;

static gboolean
big_reply_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  int sndbuf = 64 * 1024;

  /* A fixed send buffer: with autotuning, loopback's send and receive
   * buffers together can swallow the whole 4 MiB before the client's
   * reset arrives, and the reply then "succeeds" (seen once in 200). */
  setsockopt (self->connection, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  return ss_wfile_write (self->wfile, big_reply, BIG_REPLY_SIZE, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, big_reply_handler_class,
                         ss_stream_request_handler_class,
                         .handle = big_reply_handle);

/* A stream handler driven by the client's first line: "fail" makes handle
 * return a GError, "abort" and "segv" crash the process (for forking
 * children), anything else is echoed. finish always reports to the pipe. */
static gboolean
scripted_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);

  if (ss_rfile_readline (self->rfile, line, 1024, error) < 0)
    return FALSE;
  if (g_str_has_prefix (line->str, "fail"))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_HANDLER, "the handler failed on purpose");
      return FALSE;
    }
  if (g_str_has_prefix (line->str, "abort") || g_str_has_prefix (line->str, "segv"))
    {
      struct rlimit no_core = { 0, 0 };

      setrlimit (RLIMIT_CORE, &no_core); /* no core files from a test */
      /* Default dispositions, so a sanitizer's handler does not turn the
       * signal into an exit status. */
      signal (SIGABRT, SIG_DFL);
      signal (SIGSEGV, SIG_DFL);
      if (line->str[0] == 'a')
        abort ();
      raise (SIGSEGV);
    }
  return ss_wfile_write (self->wfile, line->str, line->len, error);
}

static gboolean
scripted_finish (SsRequestHandler *handler, GError **error)
{
  mark (MARK_FINISH);
  return ss_stream_request_handler_class.finish (handler, error); /* super() */
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, scripted_handler_class,
                         ss_stream_request_handler_class,
                         .handle = scripted_handle,
                         .finish = scripted_finish);

/* Stream echo with a 0.5 s socket timeout (StreamRequestHandler.timeout). */
SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, timeout_echo_handler_class,
                         ss_stream_echo_handler_class,
                         .timeout = 0.5);

/* ------------------------------------------------------------------ clients */

/* A client socket to @server with @timeout_s receive/send timeouts. */
static int
client_connect (SsServer *server, double timeout_s)
{
  int fd = test_connect (server);
  struct timeval tv = { .tv_sec = (time_t) timeout_s,
                        .tv_usec = (suseconds_t) ((timeout_s - (time_t) timeout_s) * 1e6) };

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends a line and expects it back (stream echo). */
static void
client_echo_line (int fd, const char *line)
{
  char *got;

  test_send_all (fd, line, strlen (line));
  got = test_recv_line (fd);
  ck_assert_ptr_nonnull (got);
  ck_assert_str_eq (got, line);
  g_free (got);
}

/* A serve_forever thread that says when serve_forever returned. */
typedef struct {
  SsServer *server;
  GThread *thread;
  gboolean ok;
  int returned; /* (atomic) */
} Serving;

static gpointer
serving_thread (gpointer data)
{
  Serving *s = data;
  GError *error = NULL;

  s->ok = ss_server_serve_forever (s->server, 0.05, &error);
  if (error != NULL)
    g_printerr ("serve_forever: %s\n", error->message);
  g_clear_error (&error);
  __atomic_store_n (&s->returned, 1, __ATOMIC_RELEASE);
  return NULL;
}

static Serving *
serving_start (SsServer *server)
{
  Serving *s = g_new0 (Serving, 1);

  s->server = server;
  s->thread = g_thread_new ("faults-serve", serving_thread, s);
  return s;
}

static void
serving_stop (Serving *s)
{
  ck_assert_msg (!__atomic_load_n (&s->returned, __ATOMIC_ACQUIRE),
                 "serve_forever returned before shutdown was asked for");
  ss_server_shutdown (s->server);
  g_thread_join (s->thread);
  ck_assert_msg (s->ok, "serve_forever failed");
  ss_server_free (s->server);
  g_free (s);
}

/* ------------------------------------------------------------------ /faults/reset */

static const char *const concurrent_strategies[] = { "threading", "threadpooling", "forking" };

START_TEST (test_sigpipe_default)
{
  struct sigaction sa;

  /* The reset tests mean something only if SIGPIPE would kill us. */
  ck_assert_int_eq (sigaction (SIGPIPE, NULL, &sa), 0);
  ck_assert_msg (sa.sa_handler == SIG_DFL, "the test process must not ignore SIGPIPE");
}
END_TEST

#define RESET_CLIENTS 200

/* The resetting clients, in a process of their own: a forked server child
 * inherits every fd of the process it forks from, so a client socket of
 * this process would stay open in it and close() would send no reset.
 * Plain system calls only. Exit 0, or 2 + the client that failed. */
static void
reset_client_process (const SsAddress *addr, int listen_fd)
{
  close (listen_fd);
  for (int i = 0; i < RESET_CLIENTS; i++)
    {
      struct timeval tv = { .tv_sec = 10 };
      struct linger lg = { .l_onoff = 1, .l_linger = 0 };
      int fd = socket (ss_address_family (addr), SOCK_STREAM, 0);
      char buf[100];
      size_t have = 0;

      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (fd < 0 || connect (fd, (const struct sockaddr *) &addr->storage, addr->len) != 0)
        _exit (2 + i);
      while (have < sizeof buf)
        {
          ssize_t n = recv (fd, buf + have, sizeof buf - have, 0);

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            _exit (2 + i);
          have += (size_t) n;
        }
      /* SO_LINGER 0: close() sends a reset mid-reply. */
      if (setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
        _exit (2 + i);
      close (fd);
    }
  _exit (0);
}

START_TEST (test_reset_mid_reply)
{
  const char *strategy = concurrent_strategies[_i];
  SsServer *server;
  Serving *serving;
  GString *got;
  guint errors;
  pid_t child;
  int status;
  int fd;

  logs_capture ();
  marks_open ();
  big_reply = g_malloc (BIG_REPLY_SIZE);
  for (gsize i = 0; i < BIG_REPLY_SIZE; i++)
    big_reply[i] = (guint8) (i * 7 + 3);
  server = marking_server_new (&big_reply_handler_class, test_strategy (strategy));

  /* Forked before any thread exists in this process. */
  child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    reset_client_process (&server->server_address, server->socket_fd);
  serving = serving_start (server);
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "%s: resetting client %d was not served", strategy,
                 WIFEXITED (status) ? WEXITSTATUS (status) - 2 : -1);

  /* Every reset reached handle_error, as "the peer closed" (SS_ERROR_CLOSED). */
  errors = marks_wait (MARK_ERROR_CLOSED, MARK_ERROR_OTHER, RESET_CLIENTS, slow (30));
  ck_assert_msg (errors == RESET_CLIENTS, "%s: %u of %d resets reached handle_error",
                 strategy, errors, RESET_CLIENTS);
  ck_assert_uint_eq (marks_seen[MARK_ERROR_OTHER], 0);

  /* And a well-behaved client gets the whole reply. */
  fd = client_connect (server, 10);
  got = test_recv_all (fd, BIG_REPLY_SIZE + 1);
  ck_assert_uint_eq (got->len, BIG_REPLY_SIZE);
  ck_assert_int_eq (memcmp (got->str, big_reply, BIG_REPLY_SIZE), 0);
  g_string_free (got, TRUE);
  close (fd);

  serving_stop (serving);
  g_clear_pointer (&big_reply, g_free);
}
END_TEST

/* ------------------------------------------------------------------ /faults/emfile */

static const char *const fd_strategies[] = { "threading", "threadpooling" };

#define EMFILE_CLIENTS 40
#define EMFILE_HEADROOM 8

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The client process: EMFILE_CLIENTS connections held open until told to
 * close them. Plain system calls only: it is a fork of a threaded process.
 * Exit 0 when all connected, 3 otherwise. */
static void
emfile_client_process (const SsAddress *addr, int ready_fd, int release_fd)
{
  int fds[EMFILE_CLIENTS];
  char c = 'r';
  int status = 0;

  for (int i = 0; i < EMFILE_CLIENTS; i++)
    {
      fds[i] = socket (AF_INET, SOCK_STREAM, 0);
      if (fds[i] < 0 || connect (fds[i], (const struct sockaddr *) &addr->storage, addr->len) != 0)
        status = 3;
    }
  if (write (ready_fd, &c, 1) != 1)
    status = 3;
  while (read (release_fd, &c, 1) < 0 && errno == EINTR)
    ;
  for (int i = 0; i < EMFILE_CLIENTS; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  _exit (status);
}

/* Test process fds while out of fds: can a socket be made? */
static gboolean
can_make_socket (gpointer data)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

START_TEST (test_emfile)
{
  static const char *const emfile_lines[] = { "cannot accept", NULL };
  const char *strategy = fd_strategies[_i];
  SsServer *server;
  Serving *serving;
  struct rlimit old_limit, limit;
  int ready[2], release[2];
  double cpu0, cpu1, t0, t1;
  guint lines0, lines1;
  pid_t child;
  int status;
  char c;

  if (under_valgrind ())
    {
      /* valgrind keeps fds of its own above the limit and runs ~50x slower:
       * neither the limit nor the CPU figure would mean the same thing. */
      TEST_SKIP ("/faults/emfile under valgrind");
    }
  logs_capture ();
  server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class,
                              test_strategy (strategy), NULL);
  ck_assert_ptr_nonnull (server);
  ck_assert_int_eq (pipe2 (ready, O_CLOEXEC), 0);
  ck_assert_int_eq (pipe2 (release, O_CLOEXEC), 0);

  /* The clients live in another process, forked before any thread and
   * before the limit is lowered: only the server runs out of fds. */
  child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    emfile_client_process (&server->server_address, ready[1], release[0]);
  ck_assert_int_eq (read (ready[0], &c, 1), 1);

  /* Room for a few connections only. */
  ck_assert_int_eq (getrlimit (RLIMIT_NOFILE, &old_limit), 0);
  limit = old_limit;
  limit.rlim_cur = (rlim_t) (test_count_fds () + EMFILE_HEADROOM);
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &limit), 0);
  serving = serving_start (server);

  ck_assert_msg (logs_wait (emfile_lines, 1, 10), "%s: no \"cannot accept\" line within 10 s", strategy);
  /* Out of fds now: measure CPU and log lines over ~2 s. */
  lines0 = logs_count (emfile_lines);
  cpu0 = cpu_seconds ();
  t0 = g_get_monotonic_time () / 1e6;
  g_usleep (2 * G_USEC_PER_SEC);
  cpu1 = cpu_seconds ();
  t1 = g_get_monotonic_time () / 1e6;
  lines1 = logs_count (emfile_lines);
  ck_assert_msg (!can_make_socket (NULL), "%s: the server process was not out of fds", strategy);
  ck_assert_msg ((cpu1 - cpu0) / (t1 - t0) < 0.20,
                 "%s: %.0f%% of a core while out of fds (a busy loop)", strategy,
                 100 * (cpu1 - cpu0) / (t1 - t0));
  report ("emfile/%s: %.1f%% of a core, %u log lines in %.2f s while out of fds", strategy,
          100 * (cpu1 - cpu0) / (t1 - t0), lines1 - lines0, t1 - t0);
  ck_assert_msg (lines1 - lines0 <= 3, "%s: %u log lines in %.1f s (want at most one a second)",
                 strategy, lines1 - lines0, t1 - t0);

  /* The clients leave; the server recovers by itself. */
  c = 'x';
  ck_assert_int_eq (write (release[1], &c, 1), 1);
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "client process failed: %d", status);
  ck_assert_msg (test_wait_until (can_make_socket, NULL, 10), "%s: fds never came back", strategy);
  /* The limit goes back up before the test's own client connects: that
   * client shares this process's fds with the server, which is still
   * accepting the departed clients' connections left in its backlog (each
   * one an fd until its handler reads EOF), so a free fd seen a moment ago
   * may be gone when the client's socket() runs. What is tested is that
   * the server's accept path resumes by itself after EMFILE, not a race
   * between two users of one small limit. */
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &old_limit), 0);
  test_echo_once (server, "served after EMFILE\n");
  serving_stop (serving);
  close (ready[0]);
  close (ready[1]);
  close (release[0]);
  close (release[1]);
}
END_TEST

/* ------------------------------------------------------------------ /faults/eintr */

static const char *const all_strategies[] = { "sync", "threading", "threadpooling", "forking" };

static void
empty_handler (int sig)
{
  (void) sig;
}

/* What counts is not how many signals were sent but how many calls they
 * interrupted: this program interposes recv, send, sendmsg and poll and
 * counts the calls that failed with EINTR, in shared memory so that a
 * forking child's count reaches the test. Only the server's threads and children are
 * signalled, so every EINTR counted is one the library had to retry. A
 * send failing with EINTR is the case ss_sendall must retry with nothing
 * sent yet (a blocking send interrupted after a part returns that part). */
enum { EINTR_RECV, EINTR_SEND, EINTR_POLL, EINTR_KINDS };

static guint64 *eintr_counts;   /* (atomic) [EINTR_KINDS], MAP_SHARED; NULL: not counting */

static ssize_t (*real_recv) (int, void *, size_t, int);
static ssize_t (*real_send) (int, const void *, size_t, int);
static ssize_t (*real_sendmsg) (int, const struct msghdr *, int);
static int (*real_poll) (struct pollfd *, nfds_t, int);

/* Before main, so no thread ever sees them unset (nor races to set them)
 * and no forked child calls dlsym. */
__attribute__ ((constructor)) static void
resolve_real_calls (void)
{
  real_recv = (ssize_t (*) (int, void *, size_t, int)) dlsym (RTLD_NEXT, "recv");
  real_send = (ssize_t (*) (int, const void *, size_t, int)) dlsym (RTLD_NEXT, "send");
  real_sendmsg = (ssize_t (*) (int, const struct msghdr *, int)) dlsym (RTLD_NEXT, "sendmsg");
  real_poll = (int (*) (struct pollfd *, nfds_t, int)) dlsym (RTLD_NEXT, "poll");
  if (real_recv == NULL || real_send == NULL || real_sendmsg == NULL || real_poll == NULL)
    {
      fprintf (stderr, "test-faults: dlsym (RTLD_NEXT) found no recv, send, sendmsg or poll\n");
      abort ();
    }
}

static void
count_eintr (int kind, gssize r)
{
  guint64 *counts = __atomic_load_n (&eintr_counts, __ATOMIC_RELAXED);

  if (r < 0 && errno == EINTR && counts != NULL)
    __atomic_fetch_add (&counts[kind], 1, __ATOMIC_RELAXED);
}

/* count_eintr after @call, keeping its errno. */
#define COUNTED(kind, type, call)       \
  G_STMT_START {                        \
    type r_ = (call);                   \
    int errsv_ = errno;                 \
                                        \
    count_eintr ((kind), r_);           \
    errno = errsv_;                     \
    return r_;                          \
  } G_STMT_END

ssize_t
recv (int fd, void *buf, size_t len, int flags)
{
  COUNTED (EINTR_RECV, ssize_t, real_recv (fd, buf, len, flags));
}

ssize_t
send (int fd, const void *buf, size_t len, int flags)
{
  COUNTED (EINTR_SEND, ssize_t, real_send (fd, buf, len, flags));
}

ssize_t
sendmsg (int fd, const struct msghdr *msg, int flags)
{
  COUNTED (EINTR_SEND, ssize_t, real_sendmsg (fd, msg, flags));
}

int
poll (struct pollfd *fds, nfds_t nfds, int timeout)
{
  COUNTED (EINTR_POLL, int, real_poll (fds, nfds, timeout));
}

static guint64
eintr_count (int kind)
{
  return __atomic_load_n (&eintr_counts[kind], __ATOMIC_RELAXED);
}

typedef struct {
  int stop;             /* (atomic) */
  pid_t self_tid;       /* (atomic) the signaller's own thread id */
  GHashTable *spared;   /* thread ids that existed before the server: not signalled */
  guint64 sent;         /* (atomic) */
} Signaller;

/* A directory entry as getdents64 returns it. */
struct linux_dirent64_ {
  guint64 d_ino;
  gint64 d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* The parent pid in /proc/@pid/stat (after the last ')'), or -1. */
static pid_t
parent_of (pid_t pid)
{
  char path[64], buf[512];
  const char *p;
  int fd;
  ssize_t n;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  p = strrchr (buf, ')');
  if (p == NULL || strlen (p) < 5)
    return -1;
  return (pid_t) atoi (p + 4);   /* ") S PPID" */
}

/* Signals the children of task @tid (forking's request processes). Each
 * pid is pinned with a pidfd and checked to be our child before the
 * signal, so a pid reused after the server reaped it is never hit. */
static void
signal_children (Signaller *s, pid_t tid)
{
  char path[64], buf[1024];
  char *p;
  int fd;
  ssize_t n;

  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) tid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  for (p = buf; *p != '\0';)
    {
      pid_t child = (pid_t) strtol (p, &p, 10);
      int pidfd;

      while (*p == ' ')
        p++;
      if (child <= 0)
        break;
      pidfd = (int) syscall (SYS_pidfd_open, child, 0);
      if (pidfd < 0)
        continue;
      if (parent_of (child) == getpid ()
          && syscall (SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0) == 0)
        __atomic_fetch_add (&s->sent, 1, __ATOMIC_RELAXED);
      close (pidfd);
    }
}

/* Malloc-free on purpose (raw getdents64, no opendir): with the forking
 * strategy the serving thread forks while this thread runs, and a fork
 * taken while another thread holds the allocator's lock leaves the child
 * deadlocked in malloc under some sanitizer runtimes (GCC 12's ASan). */
static gpointer
signaller_thread (gpointer data)
{
  Signaller *s = data;
  pid_t pid = getpid ();

  __atomic_store_n (&s->self_tid, (pid_t) syscall (SYS_gettid), __ATOMIC_RELEASE);
  while (!__atomic_load_n (&s->stop, __ATOMIC_ACQUIRE))
    {
      int dir = open ("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      char buf[4096];
      long n;

      while (dir >= 0 && (n = syscall (SYS_getdents64, dir, buf, sizeof buf)) > 0)
        for (long off = 0; off < n;)
          {
            struct linux_dirent64_ *e = (struct linux_dirent64_ *) (buf + off);
            pid_t tid = (pid_t) atoi (e->d_name);

            off += e->d_reclen;
            if (tid <= 0 || tid == s->self_tid)
              continue;
            signal_children (s, tid);
            if (g_hash_table_contains (s->spared, GINT_TO_POINTER (tid)))
              continue;
            if (syscall (SYS_tgkill, pid, tid, SIGUSR1) == 0)
              __atomic_fetch_add (&s->sent, 1, __ATOMIC_RELAXED);
          }
      if (dir >= 0)
        close (dir);
      g_usleep (1000);
    }
  return NULL;
}

/* Receives exactly @len bytes into @buf (EINTR retried); FALSE on EOF or error.
 * No allocation, for the same reason as the signaller. */
static gboolean
recv_exact (int fd, char *buf, gsize len)
{
  gsize have = 0;

  while (have < len)
    {
      ssize_t n = recv (fd, buf + have, len - have, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      have += (gsize) n;
    }
  return TRUE;
}

static GHashTable *
current_threads (void)
{
  GHashTable *set = g_hash_table_new (NULL, NULL);
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *e;

  ck_assert_ptr_nonnull (dir);
  while ((e = readdir (dir)) != NULL)
    if (atoi (e->d_name) > 0)
      g_hash_table_add (set, GINT_TO_POINTER (atoi (e->d_name)));
  closedir (dir);
  return set;
}

#define EINTR_CLIENTS 60
#define EINTR_LINE (48 * 1024)
#define EINTR_LINES 8            /* long lines a client sends: more than the buffers hold */
#define EINTR_READ_CHUNK 8192
#define EINTR_SNDBUF (16 * 1024)     /* the server's, set on the listening socket */
#define EINTR_READ_PAUSE_US 100  /* the client reads slower than the server writes */
#define EINTR_PAUSE_US 3000      /* the server waits in recv meanwhile */
#define EINTR_WANTED 20          /* interrupted recvs and sends, each */
#define EINTR_GIVE_UP_S 90       /* clients stop being made after this */

/* Sends @lines copies of @line (@len bytes, from byte @sent of the first)
 * and reads the echo back at the same time, reading slowly so that the
 * server's send blocks on a full buffer; then expects EOF. FALSE with
 * errno on an error, with @mismatch set when the echo differed. */
static gboolean
pump_echo (int fd, const char *line, gsize len, int lines, gsize sent, char *got, gboolean *mismatch)
{
  gsize total = len * (gsize) lines, have = 0;
  int flags = fcntl (fd, F_GETFL);

  *mismatch = FALSE;
  fcntl (fd, F_SETFL, flags | O_NONBLOCK);
  while (have < total)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
      ssize_t n;

      if (poll (&pfd, 1, 10000) <= 0)
        {
          errno = ETIMEDOUT;
          return FALSE;
        }
      if (sent < total && (pfd.revents & POLLOUT))
        {
          n = send (fd, line + sent % len, MIN (len - sent % len, total - sent), MSG_NOSIGNAL);
          if (n < 0 && errno != EAGAIN)
            return FALSE;
          if (n > 0 && (sent += (gsize) n) == total)
            shutdown (fd, SHUT_WR);
        }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = recv (fd, got, MIN (EINTR_READ_CHUNK, len - have % len), 0);
          if (n == 0)
            errno = ENODATA;   /* EOF before the whole echo */
          if (n == 0 || (n < 0 && errno != EAGAIN))
            return FALSE;
          if (n > 0 && memcmp (got, line + have % len, (gsize) n) != 0)
            {
              *mismatch = TRUE;
              return FALSE;
            }
          if (n > 0)
            have += (gsize) n;
          g_usleep (EINTR_READ_PAUSE_US);
        }
    }
  fcntl (fd, F_SETFL, flags);
  return recv (fd, got, 1, 0) == 0;
}

START_TEST (test_eintr)
{
  const char *strategy = all_strategies[_i];
  struct sigaction sa = { 0 };
  Signaller sig = { 0 };
  GThread *signaller;
  SsServer *server;
  Serving *serving;
  gint64 give_up;
  char *big, *got;
  int clients = 0;
  int sndbuf = EINTR_SNDBUF;

  /* No SA_RESTART: accept, poll, recv and send all fail with EINTR. */
  sa.sa_handler = empty_handler;
  sa.sa_flags = 0;
  sigemptyset (&sa.sa_mask);
  ck_assert_int_eq (sigaction (SIGUSR1, &sa, NULL), 0);
  logs_capture ();
  eintr_counts = mmap (NULL, EINTR_KINDS * sizeof (guint64), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert (eintr_counts != MAP_FAILED);

  sig.spared = current_threads (); /* this thread makes the clients' calls */
  server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class,
                              test_strategy (strategy), NULL);
  ck_assert_ptr_nonnull (server);
  /* Accepted sockets inherit it: a small send buffer that autotuning
   * cannot grow past what the client reads (see pump_echo). */
  ck_assert_int_eq (setsockopt (ss_server_fileno (server), SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                sizeof sndbuf), 0);
  serving = serving_start (server);
  signaller = g_thread_new ("faults-signaller", signaller_thread, &sig);

  big = g_malloc (EINTR_LINE + 1);
  got = g_malloc (EINTR_LINE + 1);
  memset (big, 'i', EINTR_LINE - 1);
  big[EINTR_LINE - 1] = '\n';
  big[EINTR_LINE] = '\0';
  /* At least EINTR_CLIENTS clients, and on until the server's recv and
   * send have each been interrupted EINTR_WANTED times: a loaded machine
   * only takes longer (it used to fail a count of signals sent in 1.5 s).
   * The loop allocates nothing (see signaller_thread). */
  give_up = g_get_monotonic_time () + slow (EINTR_GIVE_UP_S) * G_USEC_PER_SEC;
  for (; clients < EINTR_CLIENTS
         || ((eintr_count (EINTR_RECV) < EINTR_WANTED || eintr_count (EINTR_SEND) < EINTR_WANTED)
             && g_get_monotonic_time () < give_up);
       clients++)
    {
      static const char short_line[] = "a short line\n";
      int fd = client_connect (server, 10);
      gboolean mismatch;

      test_send_all (fd, short_line, sizeof short_line - 1);
      ck_assert_msg (recv_exact (fd, got, sizeof short_line - 1), "%s: client %d: no short echo: %s",
                     strategy, clients, g_strerror (errno));
      ck_assert_int_eq (memcmp (got, short_line, sizeof short_line - 1), 0);
      /* The server's recv waits for the next line, then in the middle of
       * it; the long lines make its send block (see pump_echo). */
      g_usleep (EINTR_PAUSE_US);
      test_send_all (fd, big, EINTR_LINE / 2);
      g_usleep (EINTR_PAUSE_US);
      ck_assert_msg (pump_echo (fd, big, EINTR_LINE, EINTR_LINES, EINTR_LINE / 2, got, &mismatch),
                     "%s: client %d: long echo %s: %s", strategy, clients,
                     mismatch ? "differs" : "cut short", g_strerror (errno));
      close (fd);
      ck_assert_msg (!__atomic_load_n (&serving->returned, __ATOMIC_ACQUIRE),
                     "%s: serve_forever returned after a signal", strategy);
    }
  __atomic_store_n (&sig.stop, 1, __ATOMIC_RELEASE);
  g_thread_join (signaller);
  report ("eintr/%s: %d clients, %" G_GUINT64_FORMAT " signals sent; EINTR from recv %"
          G_GUINT64_FORMAT ", send %" G_GUINT64_FORMAT ", poll %" G_GUINT64_FORMAT, strategy,
          clients, (guint64) __atomic_load_n (&sig.sent, __ATOMIC_RELAXED),
          eintr_count (EINTR_RECV), eintr_count (EINTR_SEND), eintr_count (EINTR_POLL));
  /* Every echo above was whole; these say the retries were exercised. */
  ck_assert_msg (eintr_count (EINTR_RECV) >= EINTR_WANTED && eintr_count (EINTR_SEND) >= EINTR_WANTED,
                 "%s: in %d clients the signals interrupted only %" G_GUINT64_FORMAT " recv and %"
                 G_GUINT64_FORMAT " send calls (want %d each): the EINTR retries were not tested",
                 strategy, clients, eintr_count (EINTR_RECV), eintr_count (EINTR_SEND), EINTR_WANTED);

  serving_stop (serving);
  munmap (eintr_counts, EINTR_KINDS * sizeof (guint64));
  eintr_counts = NULL;
  g_hash_table_unref (sig.spared);
  g_free (big);
  g_free (got);
}
END_TEST

/* ------------------------------------------------------------------ /faults/handler */

static void
client_send_line_wait_close (SsServer *server, const char *line)
{
  int fd = client_connect (server, 10);
  GString *got;

  test_send_all (fd, line, strlen (line));
  got = test_recv_all (fd, 4096); /* to EOF: the server closed its side */
  g_string_free (got, TRUE);
  close (fd);
}

#define FAILING_REQUESTS 5

START_TEST (test_handler_fails)
{
  const char *strategy = all_strategies[_i];
  SsServer *server;
  Serving *serving;
  int fd;

  TEST_SKIP_FORKING_UNDER_SANITIZER (strategy);
  logs_capture ();
  marks_open ();
  server = marking_server_new (&scripted_handler_class, test_strategy (strategy));
  serving = serving_start (server);

  for (int i = 0; i < FAILING_REQUESTS; i++)
    client_send_line_wait_close (server, "fail\n");
  ck_assert_uint_eq (marks_wait (MARK_ERROR_OTHER, 0, FAILING_REQUESTS, slow (10)), FAILING_REQUESTS);
  /* Python's try/finally: finish ran for every failed handle. */
  ck_assert_uint_eq (marks_wait (MARK_FINISH, 0, FAILING_REQUESTS, slow (10)), FAILING_REQUESTS);

  fd = client_connect (server, 10);
  client_echo_line (fd, "still serving\n");
  close (fd);
  ck_assert_uint_eq (marks_wait (MARK_FINISH, 0, FAILING_REQUESTS + 1, slow (10)), FAILING_REQUESTS + 1);
  ck_assert_uint_eq (marks_seen[MARK_ERROR_OTHER], FAILING_REQUESTS);
  serving_stop (serving);
}
END_TEST

static const char *const crashes[] = { "abort", "segv" };

/* TRUE when no child of this process is a zombie (scans /proc, so the
 * server's own waitpid bookkeeping is not disturbed). */
static gboolean
no_zombie_children (gpointer data)
{
  GDir *proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  gboolean none = TRUE;

  ck_assert_ptr_nonnull (proc);
  while (none && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *close_paren;
      char state;
      int ppid;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_strdup_printf ("/proc/%s/stat", name);
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      close_paren = strrchr (stat, ')');
      if (close_paren != NULL && sscanf (close_paren + 1, " %c %d", &state, &ppid) == 2
          && state == 'Z' && ppid == (int) getpid ())
        none = FALSE;
    }
  g_dir_close (proc);
  return none;
}

START_TEST (test_child_crashes)
{
  /* Any of the ways a log line may name the signal. */
  static const char *const abort_names[] = { "SIGABRT", "Aborted", "signal 6", NULL };
  static const char *const segv_names[] = { "SIGSEGV", "Segmentation fault", "signal 11", NULL };
  const char *const *names = _i == 0 ? abort_names : segv_names;
  char *line = g_strdup_printf ("%s\n", crashes[_i]);
  SsServer *server;
  Serving *serving;
  int fd;

  /* This test's client runs in this process beside the forking server (see
   * helpers.h): a child forked while the client allocates hangs. */
  TEST_SKIP_FORKING_UNDER_SANITIZER ("forking");
  logs_capture ();
  marks_open ();
  server = marking_server_new (&scripted_handler_class, test_strategy ("forking"));
  serving = serving_start (server);

  for (int i = 0; i < 3; i++)
    client_send_line_wait_close (server, line);
  ck_assert_msg (logs_wait (names, 3, slow (10)), "no log line naming the signal for 3 %s children "
                 "(lines seen that name it: %u)", crashes[_i], logs_count (names));
  /* Reaped: no zombie child left behind. */
  ck_assert_msg (test_wait_until (no_zombie_children, NULL, slow (10)), "crashed children were not reaped");
  fd = client_connect (server, 10);
  client_echo_line (fd, "still serving\n");
  close (fd);
  serving_stop (serving);
  g_free (line);
}
END_TEST

/* Many threads' error lines at once, through GLib's default writer (its
 * timestamps come from localtime(), shared by the process): every line
 * comes out whole, once. In a ThreadSanitizer build this is where two
 * threads logging at once were reported (tzset_internal,
 * g_log_writer_format_fields) before the library's lines were serialized
 * (lib/core/log.c). In a child, so that no handler of this process
 * replaces the default writer and stderr can go to a file. */
#define LOG_THREADS 4
#define LOG_LINES 200

typedef struct {
  SsServer *server;
  guint me;
} LogThread;

static gpointer
log_errors (gpointer data)
{
  SsServer *server = ((LogThread *) data)->server;
  guint me = ((LogThread *) data)->me;

  for (int i = 0; i < LOG_LINES; i++)
    {
      GError *error = g_error_new (SS_ERROR, SS_ERROR_HANDLER, "line %04u-%03d", me, i);

      ss_server_handle_error (server, NULL, error);
      g_error_free (error);
    }
  return NULL;
}

START_TEST (test_error_lines_from_threads)
{
  g_autofree char *path = test_tmp_path ("log-lines");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint whole = 0;
  int status;
  pid_t child = fork ();

  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      SsServer *server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &ss_stream_echo_handler_class,
                                        NULL, FALSE, NULL);
      GThread *threads[LOG_THREADS];
      LogThread args[LOG_THREADS];

      if (fd < 0 || server == NULL || dup2 (fd, STDERR_FILENO) < 0)
        _exit (3);
      for (guint i = 0; i < LOG_THREADS; i++)
        {
          args[i] = (LogThread) { server, i };
          threads[i] = g_thread_new ("log", log_errors, &args[i]);
        }
      for (guint i = 0; i < LOG_THREADS; i++)
        g_thread_join (threads[i]);
      ss_server_free (server);
      _exit (0);
    }
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status 0x%x; its stderr ends: %s",
                 status, strlen (text) > 3000 ? text + strlen (text) - 3000 : text);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      const char *at = strstr (*l, "Error on server 127.0.0.1:0: line ");

      if (**l == '\0')
        continue;
      ck_assert_msg (at != NULL && strlen (at) == strlen ("Error on server 127.0.0.1:0: line 0000-000"),
                     "a broken line: \"%s\"", *l);
      ck_assert_msg (g_hash_table_add (seen, (gpointer) at), "a line twice: \"%s\"", *l);
      whole++;
    }
  ck_assert_uint_eq (whole, LOG_THREADS * LOG_LINES);
}
END_TEST

/* ------------------------------------------------------------------ /faults/slowloris */

#define SILENT_CLIENTS 200

START_TEST (test_slowloris)
{
  GError *error = NULL;
  SsStrategy *pool = ss_thread_pool_strategy_new (5, 50, 5, &error);
  SsServer *server;
  Serving *serving;
  int silent[SILENT_CLIENTS];
  int fd;
  gint64 t0;
  double waited;

  ck_assert_msg (pool != NULL, "pool: %s", error ? error->message : "?");
  logs_capture ();
  server = ss_tcp_server_new ("127.0.0.1:0", &timeout_echo_handler_class, pool, &error);
  ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  serving = serving_start (server);

  for (int i = 0; i < SILENT_CLIENTS; i++)
    silent[i] = client_connect (server, 10);
  t0 = g_get_monotonic_time ();
  /* Behind 200 silent clients and 50 workers: served once their 0.5 s
   * timeouts have passed (4 rounds, about 2 s); the bound is generous. */
  fd = client_connect (server, slow (20));
  client_echo_line (fd, "not a slowloris\n");
  waited = (g_get_monotonic_time () - t0) / 1e6;
  report ("slowloris: the well-behaved client was served after %.2f s", waited);
  ck_assert_msg (waited < slow (15), "served only after %.1f s", waited);
  close (fd);
  for (int i = 0; i < SILENT_CLIENTS; i++)
    close (silent[i]);
  serving_stop (serving);
}
END_TEST

/* ------------------------------------------------------------------ ss-echo as a process */

typedef struct {
  GPid pid;
  int out_fd;
  int err_fd;
  guint16 port;
  char *banner;
} EchoProc;

static char *
program_path (const char *name)
{
  const char *builddir = g_getenv ("SS_BUILDDIR");

  return g_build_filename (builddir != NULL ? builddir : ".", "servers", name, NULL);
}

/* Reads one line from @fd within @timeout_s (NULL at EOF or timeout). */
static char *
read_line_timeout (int fd, double timeout_s)
{
  GString *line = g_string_new (NULL);
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      char c;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0 || read (fd, &c, 1) != 1)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      if (c == '\n')
        return g_string_free (line, FALSE);
      g_string_append_c (line, c);
    }
}

static EchoProc *
echo_proc_start (const char *strategy)
{
  g_autofree char *path = program_path ("ss-echo");
  g_autofree char *strategy_arg = g_strdup_printf ("--strategy=%s", strategy);
  char *argv[] = { path, strategy_arg, (char *) "--address=127.0.0.1:0", NULL };
  EchoProc *p = g_new0 (EchoProc, 1);
  GError *error = NULL;
  const char *port;

  ck_assert_msg (g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           &p->pid, NULL, &p->out_fd, &p->err_fd, &error),
                 "spawn %s: %s", path, error ? error->message : "?");
  p->banner = read_line_timeout (p->out_fd, slow (10));
  ck_assert_msg (p->banner != NULL, "ss-echo printed no banner");
  ck_assert_msg (g_str_has_prefix (p->banner, "Serving on 127.0.0.1 port "), "banner: %s", p->banner);
  port = p->banner + strlen ("Serving on 127.0.0.1 port ");
  p->port = (guint16) atoi (port);
  ck_assert_uint_gt (p->port, 0);
  return p;
}

static int
echo_proc_connect (EchoProc *p)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (p->port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = 10 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ck_assert_msg (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0, "connect: %s", g_strerror (errno));
  return fd;
}

/* Waits up to @timeout_s for the process to exit; kills it after that.
 * Returns the wait status, or -1 if it had to be killed. */
static int
echo_proc_wait (EchoProc *p, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  int status = -1;

  for (;;)
    {
      pid_t r = waitpid (p->pid, &status, WNOHANG);

      if (r == p->pid)
        break;
      if (g_get_monotonic_time () > end)
        {
          kill (p->pid, SIGKILL);
          waitpid (p->pid, &status, 0);
          status = -1;
          break;
        }
      g_usleep (20000);
    }
  close (p->out_fd);
  close (p->err_fd);
  g_free (p->banner);
  g_free (p);
  return status;
}

/* A "Key:   N kB" field of /proc/PID/status, in kB. */
static long
proc_status_kb (GPid pid, const char *key)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *p;

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  p = strstr (text, key);
  ck_assert_ptr_nonnull (p);
  return atol (p + strlen (key) + 1);
}

/* ------------------------------------------------------------------ /faults/shutdown */

#define SHUTDOWN_CLIENTS 20

START_TEST (test_shutdown_under_load)
{
  EchoProc *p = echo_proc_start ("threadpooling");
  int fds[SHUTDOWN_CLIENTS];
  int status;
  GPid pid = p->pid;
  gboolean refused = FALSE;

  for (int i = 0; i < SHUTDOWN_CLIENTS; i++)
    {
      fds[i] = echo_proc_connect (p);
      client_echo_line (fds[i], "first line\n");
    }
  /* Mid-conversation: every client has a line in flight. */
  for (int i = 0; i < SHUTDOWN_CLIENTS; i++)
    {
      g_autofree char *line = g_strdup_printf ("in flight %d\n", i);

      test_send_all (fds[i], line, strlen (line));
    }
  ck_assert_int_eq (kill (pid, SIGTERM), 0);
  for (int i = 0; i < SHUTDOWN_CLIENTS; i++)
    {
      g_autofree char *want = g_strdup_printf ("in flight %d\n", i);
      g_autofree char *got = test_recv_line (fds[i]);

      ck_assert_msg (got != NULL && strcmp (got, want) == 0, "client %d: got %s", i, got ? got : "EOF");
    }
  /* Stopped accepting: new connections are refused once the socket closed. */
  for (int tries = 0; tries < 250 && !refused; tries++)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (p->port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

      refused = connect (fd, (struct sockaddr *) &sin, sizeof sin) != 0 && errno == ECONNREFUSED;
      close (fd);
      if (!refused)
        g_usleep (20000);
    }
  ck_assert_msg (refused, "ss-echo still accepted connections 5 s after SIGTERM");
  for (int i = 0; i < SHUTDOWN_CLIENTS; i++)
    close (fds[i]);
  status = echo_proc_wait (p, slow (15));
  ck_assert_msg (status != -1, "ss-echo did not exit within 15 s of SIGTERM");
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "ss-echo exit status %d", status);
}
END_TEST

/* ------------------------------------------------------------------ /faults/bad-input */

#define LONG_LINE_SIZE (10 * 1024 * 1024)
#define LONG_LINE_CHUNK 65536

typedef struct {
  int fd;
  gboolean ok;
} LongSender;

static gpointer
long_sender (gpointer data)
{
  LongSender *s = data;
  char chunk[LONG_LINE_CHUNK];
  gsize sent = 0;

  memset (chunk, 'L', sizeof chunk);
  s->ok = TRUE;
  while (sent < LONG_LINE_SIZE)
    {
      ssize_t n = send (s->fd, chunk, MIN (sizeof chunk, LONG_LINE_SIZE - sent), MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          s->ok = FALSE;
          break;
        }
      sent += (gsize) n;
    }
  shutdown (s->fd, SHUT_WR);
  return NULL;
}

START_TEST (test_long_line)
{
  EchoProc *p = echo_proc_start ("sync");
  LongSender sender = { 0 };
  GThread *thread;
  char buf[LONG_LINE_CHUNK];
  gsize received = 0;
  long rss0, hwm;
  int status;
  int fd;

  /* Baseline after one ordinary request, so lazily made things exist. */
  fd = echo_proc_connect (p);
  client_echo_line (fd, "warm up\n");
  close (fd);
  g_usleep (100000);
  rss0 = proc_status_kb (p->pid, "VmRSS:");

  fd = echo_proc_connect (p);
  sender.fd = fd;
  thread = g_thread_new ("long-sender", long_sender, &sender);
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, 0);

      if (n < 0 && errno == EINTR)
        continue;
      ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
      if (n == 0)
        break;
      /* One assertion per chunk: check marks every passing assertion over
       * a pipe, and ten million of them outlasted the timeout under load. */
      for (ssize_t i = 0; i < n; i++)
        if (buf[i] != 'L')
          ck_abort_msg ("byte %" G_GSIZE_FORMAT " of the echo is %d, not 'L'",
                        received + (gsize) i, buf[i]);
      received += (gsize) n;
    }
  g_thread_join (thread);
  ck_assert (sender.ok);
  ck_assert_uint_eq (received, LONG_LINE_SIZE); /* echoed back in pieces */
  close (fd);
  hwm = proc_status_kb (p->pid, "VmHWM:");
  report ("long line: ss-echo RSS %ld kB before, peak %ld kB after a 10 MiB line (+%ld kB)",
          rss0, hwm, hwm - rss0);
  /* Under valgrind the process is valgrind's, whose memory is not ours to bound. */
  ck_assert_msg (under_valgrind () || hwm - rss0 < 8 * 1024, "ss-echo grew by %ld kB (RSS %ld kB, peak %ld kB) "
                 "for a 10 MiB line", hwm - rss0, rss0, hwm);

  kill (p->pid, SIGTERM);
  status = echo_proc_wait (p, slow (10));
  ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "ss-echo exit status %d", status);
}
END_TEST

/* A datagram handler that echoes and records what the request said. */
static int last_truncated = -1;  /* (atomic) */
static gsize last_len;           /* (atomic) */

static gboolean
recording_datagram_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  __atomic_store_n (&last_len, handler->request->packet_len, __ATOMIC_RELAXED);
  __atomic_store_n (&last_truncated, handler->request->truncated ? 1 : 0, __ATOMIC_RELEASE);
  return ss_wfile_write (self->wfile, self->packet, self->packet_len, error);
}

SS_DEFINE_HANDLER_CLASS (SsDatagramRequestHandler, recording_datagram_handler_class,
                         ss_datagram_request_handler_class,
                         .handle = recording_datagram_handle);

static const char *const dgram_transports[] = { "udp", "unix-dgram" };

static SsServer *
datagram_server_new (const char *transport, const SsHandlerClass *handler_class, const char *strategy)
{
  GError *error = NULL;
  g_autofree char *address = test_address_for (transport);
  const SsServerClass *klass = ss_server_class_by_transport_name (transport, &error);
  SsServer *server;
  int big = 1 << 20;

  ck_assert_ptr_nonnull (klass);
  server = ss_server_new (klass, address, handler_class, test_strategy (strategy), TRUE, &error);
  ck_assert_msg (server != NULL, "server %s: %s", address, error ? error->message : "?");
  setsockopt (server->socket_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return server;
}

static int
datagram_client (SsServer *server)
{
  int fd = client_connect (server, 5);
  int big = 1 << 20;

  setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return fd;
}

START_TEST (test_datagram_truncated)
{
  const char *transport = dgram_transports[_i];
  SsServer *server;
  Serving *serving;
  guint8 out[10000], in[10000];
  ssize_t n;
  int fd;

  logs_capture ();
  server = datagram_server_new (transport, &recording_datagram_handler_class, "sync");
  ck_assert_uint_eq (server->max_packet_size, 8192);
  serving = serving_start (server);
  fd = datagram_client (server);
  for (gsize i = 0; i < sizeof out; i++)
    out[i] = (guint8) (i * 31);
  ck_assert_int_eq (send (fd, out, sizeof out, 0), (ssize_t) sizeof out);
  do
    n = recv (fd, in, sizeof in, 0);
  while (n < 0 && errno == EINTR);
  ck_assert_int_eq (n, 8192);
  ck_assert_int_eq (memcmp (in, out, 8192), 0);
  ck_assert_int_eq (__atomic_load_n (&last_truncated, __ATOMIC_ACQUIRE), 1);
  ck_assert_uint_eq (__atomic_load_n (&last_len, __ATOMIC_RELAXED), 8192);

  /* The next one fits and is not flagged. */
  ck_assert_int_eq (send (fd, out, 100, 0), 100);
  do
    n = recv (fd, in, sizeof in, 0);
  while (n < 0 && errno == EINTR);
  ck_assert_int_eq (n, 100);
  ck_assert_int_eq (__atomic_load_n (&last_truncated, __ATOMIC_ACQUIRE), 0);
  close (fd);
  serving_stop (serving);
}
END_TEST

/* refuse_truncated: the long datagram goes to handle_error as
 * SS_ERROR_TRUNCATED, with the server's address and what to do, and is
 * neither answered nor seen by the handler; the next one is served. */
START_TEST (test_datagram_refuse_truncated)
{
  const char *transport = dgram_transports[_i % 2];
  const char *strategy = _i < 2 ? "sync" : "threadpooling";
  static const char *const refused_lines[] = { "was longer than max_packet_size (8192 bytes) and was refused", NULL };
  SsServerStats stats;
  SsServer *server;
  Serving *serving;
  guint8 out[10000], in[10000];
  guint lines0;
  ssize_t n;
  int fd;

  logs_capture ();
  lines0 = logs_count (refused_lines);
  server = datagram_server_new (transport, &recording_datagram_handler_class, strategy);
  server->refuse_truncated = TRUE;
  __atomic_store_n (&last_truncated, -1, __ATOMIC_RELEASE);
  serving = serving_start (server);
  fd = datagram_client (server);
  memset (out, 'x', sizeof out);
  ck_assert_int_eq (send (fd, out, sizeof out, 0), (ssize_t) sizeof out);
  ck_assert_msg (logs_wait (refused_lines, lines0 + 1, 10), "%s/%s: no refusal logged in 10 s", transport, strategy);
  ss_server_get_stats (server, &stats);
  ck_assert_uint_eq (stats.errors, 1);
  ck_assert_uint_eq (stats.served, 0);
  ck_assert_int_eq (__atomic_load_n (&last_truncated, __ATOMIC_ACQUIRE), -1); /* the handler never ran */

  ck_assert_int_eq (send (fd, out, 100, 0), 100);
  do
    n = recv (fd, in, sizeof in, 0);
  while (n < 0 && errno == EINTR);
  ck_assert_int_eq (n, 100); /* the first got no reply */
  ck_assert_int_eq (__atomic_load_n (&last_truncated, __ATOMIC_ACQUIRE), 0);
  ck_assert_int_eq (recv (fd, in, sizeof in, MSG_DONTWAIT), -1);
  close (fd);
  serving_stop (serving);
}
END_TEST

#define RANDOM_SIZES 200
#define MAX_DATAGRAM 65507

START_TEST (test_datagram_random)
{
  const char *transport = dgram_transports[_i % 2];
  const char *strategy = _i < 2 ? "sync" : "threadpooling";
  static const gsize fixed[] = { 0, 1, 2, 8191, 8192, 8193, 16384, 65506, MAX_DATAGRAM };
  GRand *rand = g_rand_new_with_seed (20080 + _i);
  guint8 *out = g_malloc (MAX_DATAGRAM), *in = g_malloc (MAX_DATAGRAM + 1);
  SsServer *server;
  Serving *serving;
  gsize max_packet;
  int fd;

  logs_capture ();
  server = datagram_server_new (transport, &ss_datagram_echo_handler_class, strategy);
  max_packet = server->max_packet_size;
  serving = serving_start (server);
  fd = datagram_client (server);

  for (guint k = 0; k < RANDOM_SIZES; k++)
    {
      gsize len = k < G_N_ELEMENTS (fixed) ? fixed[k] : (gsize) g_rand_int_range (rand, 0, MAX_DATAGRAM + 1);
      ssize_t n;

      for (gsize i = 0; i < len; i++)
        out[i] = (guint8) g_rand_int (rand);
      do
        n = send (fd, out, len, 0);
      while (n < 0 && errno == EINTR);
      ck_assert_msg (n == (ssize_t) len, "send %zu: %s", len, g_strerror (errno));
      do
        n = recv (fd, in, MAX_DATAGRAM + 1, 0);
      while (n < 0 && errno == EINTR);
      ck_assert_msg (n >= 0, "%s/%s: no echo for a %zu-byte datagram: %s", transport, strategy,
                     len, g_strerror (errno));
      ck_assert_int_eq ((gsize) n, MIN (len, max_packet));
      ck_assert_int_eq (memcmp (in, out, (gsize) n), 0);
    }
  close (fd);
  test_echo_once (server, "still serving");
  serving_stop (serving);
  g_rand_free (rand);
  g_free (out);
  g_free (in);
}
END_TEST

/* Bad addresses: the library's GError, then ss-echo's one line and exit status. */
typedef struct {
  const char *transport;
  const char *address;     /* NULL: filled in by the test */
  SsErrorCode code;
  const char *reason;      /* a word the message must contain */
} BadAddress;

/* Runs ss-echo and checks: non-zero exit, exactly one stderr line naming @address. */
static void
check_ss_echo_refuses (const char *transport, const char *address)
{
  g_autofree char *path = program_path ("ss-echo");
  g_autofree char *t = g_strdup_printf ("--transport=%s", transport);
  g_autofree char *a = g_strdup_printf ("--address=%s", address);
  char *argv[] = { path, t, a, NULL };
  g_autofree char *out = NULL, *err = NULL;
  GError *error = NULL;
  int status;
  guint lines;

  ck_assert_msg (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error),
                 "spawn %s: %s", path, error ? error->message : "?");
  ck_assert_msg (!(WIFEXITED (status) && WEXITSTATUS (status) == 0),
                 "ss-echo accepted %s %s", transport, address);
  lines = 0;
  for (const char *c = err; *c; c++)
    lines += *c == '\n';
  ck_assert_msg (lines == 1, "ss-echo %s: %u stderr lines: %s", address, lines, err);
  ck_assert_msg (strstr (err, address) != NULL || strlen (address) > 100,
                 "ss-echo's message does not name %s: %s", address, err);
  ck_assert_msg (g_str_has_prefix (err, "ss-echo: "), "stderr: %s", err);
}

static void
check_bad_address (const char *transport, const char *address, SsErrorCode code, const char *reason)
{
  GError *error = NULL;
  const SsServerClass *klass = ss_server_class_by_transport_name (transport, NULL);
  SsServer *server = ss_server_new (klass, address, &ss_stream_echo_handler_class, NULL, TRUE, &error);

  ck_assert_msg (server == NULL, "%s %s was accepted", transport, address);
  ck_assert_msg (g_error_matches (error, SS_ERROR, code), "%s: code %d, want %d: %s", address,
                 error ? error->code : -1, code, error ? error->message : "?");
  ck_assert_msg (strstr (error->message, address) != NULL || strlen (address) > 100,
                 "message does not name the address: %s", error->message);
  ck_assert_msg (strstr (error->message, reason) != NULL, "message lacks \"%s\": %s", reason, error->message);
  g_error_free (error);
  check_ss_echo_refuses (transport, address);
}

START_TEST (test_bad_addresses)
{
  g_autofree char *long_path = NULL;
  g_autofree char *file_path = test_tmp_path ("regular-file");
  g_autofree char *contents = NULL;
  GString *lp = g_string_new ("/tmp/");

  check_bad_address ("tcp", "127.0.0.1:99999", SS_ERROR_INVALID_ADDRESS, "65535");
  check_bad_address ("tcp", "127.0.0.1:http", SS_ERROR_INVALID_ADDRESS, "not a number");
  check_bad_address ("udp", "127.0.0.1:-1", SS_ERROR_INVALID_ADDRESS, "port");
  check_bad_address ("tcp", "no-such-host.invalid:80", SS_ERROR_RESOLVE, "resolve");

  while (lp->len < 200)
    g_string_append (lp, "long-directory-name/");
  g_string_append (lp, "sock");
  long_path = g_string_free (lp, FALSE);
  check_bad_address ("unix", long_path, SS_ERROR_INVALID_ADDRESS, "limit");

  /* A regular file where the socket should go: refused, never deleted. */
  ck_assert (g_file_set_contents (file_path, "precious", -1, NULL));
  check_bad_address ("unix", file_path, SS_ERROR_ADDRESS_IN_USE, "not a socket");
  check_bad_address ("unix-dgram", file_path, SS_ERROR_ADDRESS_IN_USE, "not a socket");
  ck_assert (g_file_get_contents (file_path, &contents, NULL, NULL));
  ck_assert_str_eq (contents, "precious");
  g_unlink (file_path);
}
END_TEST

/* A directory without write permission; as root, checked in a child that
 * gave up the capabilities that bypass permissions. */
START_TEST (test_bad_address_permission)
{
  char dir_template[] = "/tmp/ss-perm-XXXXXX";
  char *dir = g_mkdtemp_full (dir_template, 0755);
  g_autofree char *locked = g_build_filename (dir, "locked", NULL);
  g_autofree char *sock = g_build_filename (locked, "sock", NULL);
  pid_t child;
  int status;

  ck_assert_ptr_nonnull (dir);
  ck_assert_int_eq (g_mkdir (locked, 0555), 0);
  chmod (locked, 0555);
  child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      GError *error = NULL;
      SsServer *server;
      char *path = program_path ("ss-echo");
      char *a = g_strdup_printf ("--address=%s", sock);
      char *argv[] = { path, (char *) "--transport=unix", a, NULL };
      char *err = NULL;
      int echo_status;
      int dropped = test_drop_permission_bypass ();

      if (dropped != 0)
        _exit (dropped);
      server = ss_unix_stream_server_new (sock, &ss_stream_echo_handler_class, NULL, &error);
      if (server != NULL)
        _exit (11);
      if (!g_error_matches (error, SS_ERROR, SS_ERROR_PERMISSION))
        _exit (12);
      if (strstr (error->message, sock) == NULL)
        _exit (13);
      if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                         NULL, &err, &echo_status, NULL))
        _exit (14);
      if (WIFEXITED (echo_status) && WEXITSTATUS (echo_status) == 0)
        _exit (15);
      if (strchr (err, '\n') == NULL || strchr (err, '\n')[1] != '\0' || strstr (err, sock) == NULL)
        _exit (16);
      _exit (0);
    }
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "permission check failed in the child (exit %d: 10 dropping privileges, 11 accepted, 12 code, "
                 "13 message, 14 spawn, 15 ss-echo accepted, 16 ss-echo's stderr)",
                 WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  g_rmdir (locked);
  g_rmdir (dir);
}
END_TEST

static const char *const unix_transports[] = { "unix", "unix-dgram" };

START_TEST (test_unix_socket_file)
{
  const char *transport = unix_transports[_i];
  g_autofree char *path = test_tmp_path ("mode-sock");
  const SsServerClass *klass = ss_server_class_by_transport_name (transport, NULL);
  const SsHandlerClass *handler = _i == 0 ? &ss_stream_echo_handler_class : &ss_datagram_echo_handler_class;
  GError *error = NULL;
  SsServer *server;
  Serving *serving;
  struct stat st;

  server = ss_server_new (klass, path, handler, NULL, FALSE, &error);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  server->unix_socket_mode = 0640;
  ck_assert (ss_server_server_bind (server, &error));
  ck_assert (ss_server_server_activate (server, &error));
  ck_assert_int_eq (lstat (path, &st), 0);
  ck_assert (S_ISSOCK (st.st_mode));
  ck_assert_int_eq (st.st_mode & 0777, 0640);
  serving = serving_start (server);
  test_echo_once (server, "mode\n");
  serving_stop (serving); /* server_close removes the file */
  ck_assert_int_eq (lstat (path, &st), -1);
  ck_assert_int_eq (errno, ENOENT);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc;

  tc = tcase_create ("reset");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_sigpipe_default);
  tcase_add_loop_test (tc, test_reset_mid_reply, 0, G_N_ELEMENTS (concurrent_strategies));
  suite_add_tcase (s, tc);

  tc = tcase_create ("emfile");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_emfile, 0, G_N_ELEMENTS (fd_strategies));
  suite_add_tcase (s, tc);

  tc = tcase_create ("eintr");
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_eintr, 0, G_N_ELEMENTS (all_strategies));
  suite_add_tcase (s, tc);

  tc = tcase_create ("handler");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_handler_fails, 0, G_N_ELEMENTS (all_strategies));
  tcase_add_loop_test (tc, test_child_crashes, 0, G_N_ELEMENTS (crashes));
  tcase_add_test (tc, test_error_lines_from_threads);
  suite_add_tcase (s, tc);

  tc = tcase_create ("slowloris");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_slowloris);
  suite_add_tcase (s, tc);

  tc = tcase_create ("shutdown");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_shutdown_under_load);
  suite_add_tcase (s, tc);

  tc = tcase_create ("bad-input");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_long_line);
  tcase_add_loop_test (tc, test_datagram_truncated, 0, G_N_ELEMENTS (dgram_transports));
  tcase_add_loop_test (tc, test_datagram_refuse_truncated, 0, 2 * G_N_ELEMENTS (dgram_transports));
  tcase_add_loop_test (tc, test_datagram_random, 0, 4);
  tcase_add_test (tc, test_bad_addresses);
  tcase_add_test (tc, test_bad_address_permission);
  tcase_add_loop_test (tc, test_unix_socket_file, 0, G_N_ELEMENTS (unix_transports));
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
