/* stats.c: the stats line, and acting on a signal (printing it, or a
 * restart: restart.c) on a thread of the watch.
 *
 * The line is what an operator greps and a script splits on spaces:
 * "workers=N busy=N idle=N queued=N served=N rejected=N spawned=N
 * retired=N errors=N", every field always present (0 where the strategy
 * has no such notion), in the order of issue 9's contract.
 *
 * The signal side follows signals.c: the handler does one
 * async-signal-safe thing, writing a byte to the watch's non-blocking
 * pipe (a full pipe already holds a pending line), and a thread of the
 * watch reads it, takes the snapshot and writes the line with one
 * write(2), so lines of several signals never interleave. Unlike a
 * blocked signal and sigwait() this changes no thread's mask, so it holds
 * whichever thread the kernel picks, in any call (SA_RESTART). Forked
 * children get the program's disposition back (pthread_atfork); a child
 * that escaped the hook (a raw clone) is caught by the pid check and does
 * what the program would have done.
 */
#include "ops/ops-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define STOP_BYTE 0
#define N_SIGNALS 65

struct _SsOpsSignal {
  SsServer *server;     /* borrowed */
  int signo;
  SsOpsAction action;   /* run on the watch's thread for each signal (or burst) */
  gpointer data;
  GDestroyNotify destroy;
  int pipe_fds[2];
  pthread_t thread;
  struct sigaction old; /* the program's disposition before the watch */
};

char *
ss_server_stats_line (SsServer *server)
{
  SsServerStats st;

  g_return_val_if_fail (server != NULL, NULL);
  ss_server_get_stats (server, &st);
  return g_strdup_printf ("workers=%u busy=%u idle=%u queued=%u served=%" G_GUINT64_FORMAT
                          " rejected=%" G_GUINT64_FORMAT " spawned=%" G_GUINT64_FORMAT
                          " retired=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT,
                          st.workers, st.busy, st.idle, st.queued, st.served, st.rejected,
                          st.spawned, st.retired, st.errors);
}

/* The process-wide part: the write end (+ 1) of each signal's watch. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static int slot_fd1[N_SIGNALS];            /* (atomic) 0 = no watch */
static SsOpsSignal *watches[N_SIGNALS];   /* (registry_lock) */
static int in_handler;                     /* (atomic) */
static pid_t owner_pid;                    /* (atomic) */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
on_signal (int sig)
{
  int saved_errno = errno;
  char byte = 1;
  int fd1;

  if (getpid () != __atomic_load_n (&owner_pid, __ATOMIC_ACQUIRE))
    {
      /* A child the atfork hook did not see: the program's default. */
      signal (sig, SIG_DFL);
      raise (sig);
      errno = saved_errno;
      return;
    }
  __atomic_fetch_add (&in_handler, 1, __ATOMIC_SEQ_CST);
  fd1 = sig > 0 && sig < N_SIGNALS ? __atomic_load_n (&slot_fd1[sig], __ATOMIC_SEQ_CST) : 0;
  if (fd1 > 0 && write (fd1 - 1, &byte, 1) < 0)
    byte = 0;   /* full: a line is pending already */
  __atomic_fetch_sub (&in_handler, 1, __ATOMIC_SEQ_CST);
  errno = saved_errno;
}

/* In a forked child: no watcher thread lives here. One thread exists, so
 * the lock is made fresh rather than trusted. */
static void
reset_in_child (void)
{
  for (int sig = 1; sig < N_SIGNALS; sig++)
    if (__atomic_load_n (&slot_fd1[sig], __ATOMIC_SEQ_CST) != 0)
      {
        if (watches[sig] != NULL)
          sigaction (sig, &watches[sig]->old, NULL);
        __atomic_store_n (&slot_fd1[sig], 0, __ATOMIC_SEQ_CST);
        watches[sig] = NULL;
      }
  pthread_mutex_init (&registry_lock, NULL);
}

static void
register_atfork (void)
{
  pthread_atfork (NULL, NULL, reset_in_child);
}

/* One write(2) per line: lines never interleave with other writers'. */
static void
print_line (SsServer *server, gpointer data)
{
  g_autofree char *line = ss_server_stats_line (server);

  (void) data;
  g_autofree char *with_nl = g_strconcat (line, "\n", NULL);
  gsize len = strlen (with_nl);
  gsize off = 0;

  while (off < len)
    {
      ssize_t n = write (STDERR_FILENO, with_nl + off, len - off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      off += (gsize) n;
    }
}

static void *
watch_thread (void *data)
{
  SsOpsSignal *watch = data;

  for (;;)
    {
      struct pollfd pfd = { .fd = watch->pipe_fds[0], .events = POLLIN };
      guint8 buf[64];
      gboolean print = FALSE;
      ssize_t n, i;

      if (poll (&pfd, 1, -1) < 0)
        continue;
      n = read (watch->pipe_fds[0], buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return NULL;
      for (i = 0; i < n; i++)
        {
          if (buf[i] == STOP_BYTE)
            return NULL;
          print = TRUE;
        }
      /* Signals that came together get one action: a line is a snapshot,
       * a restart is one restart. */
      if (print)
        watch->action (watch->server, watch->data);
    }
}

static void
watch_destroy (SsOpsSignal *watch)
{
  if (watch->destroy != NULL)
    watch->destroy (watch->data);
  if (watch->pipe_fds[0] >= 0)
    close (watch->pipe_fds[0]);
  if (watch->pipe_fds[1] >= 0)
    close (watch->pipe_fds[1]);
  g_free (watch);
}

static void
send_stop (SsOpsSignal *watch)
{
  char stop = STOP_BYTE;

  while (write (watch->pipe_fds[1], &stop, 1) < 0)
    {
      if (errno != EINTR && errno != EAGAIN)
        break;
      g_usleep (1000);
    }
}

SsOpsSignal *
ss__ops_signal_new (SsServer *server, int signo, SsOpsAction action, gpointer data,
                    GDestroyNotify destroy, GError **error)
{
  struct sigaction sa;
  SsOpsSignal *watch;
  int rc;

  if (signo <= 0 || signo >= N_SIGNALS || signo == SIGKILL || signo == SIGSTOP
      || signo == SIGINT || signo == SIGTERM)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot act on signal %d: use SIGUSR1, SIGUSR2 or SIGHUP (SIGINT and SIGTERM "
                   "belong to ss_server_shutdown_on_signals)", signo);
      if (destroy != NULL)
        destroy (data);
      return NULL;
    }
  watch = g_new0 (SsOpsSignal, 1);
  watch->server = server;
  watch->signo = signo;
  watch->action = action;
  watch->data = data;
  watch->destroy = destroy;
  if (pipe2 (watch->pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create the stats watch's pipe",
                               "Raise the limit on open files (ulimit -n).");
      watch->pipe_fds[0] = watch->pipe_fds[1] = -1;
      watch_destroy (watch);
      return NULL;
    }
  rc = pthread_create (&watch->thread, NULL, watch_thread, watch);
  if (rc != 0)
    {
      ss_set_error_from_errno (error, rc, "Could not start the stats watch's thread", NULL);
      watch_destroy (watch);
      return NULL;
    }

  pthread_once (&atfork_once, register_atfork);
  pthread_mutex_lock (&registry_lock);
  if (watches[signo] != NULL)
    {
      pthread_mutex_unlock (&registry_lock);
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Signal %d (%s) is watched already: free that watch first", signo,
                   g_strsignal (signo));
      send_stop (watch);
      pthread_join (watch->thread, NULL);
      watch_destroy (watch);
      return NULL;
    }
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  __atomic_store_n (&owner_pid, getpid (), __ATOMIC_RELEASE);
  watches[signo] = watch;
  __atomic_store_n (&slot_fd1[signo], watch->pipe_fds[1] + 1, __ATOMIC_SEQ_CST);
  sigaction (signo, &sa, &watch->old);
  pthread_mutex_unlock (&registry_lock);
  return watch;
}

SsOpsSignal *
ss_server_print_stats_on_signal (SsServer *server, int signo, GError **error)
{
  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return ss__ops_signal_new (server, signo, print_line, NULL, NULL, error);
}

void
ss_ops_signal_free (SsOpsSignal *watch)
{
  if (watch == NULL)
    return;
  pthread_mutex_lock (&registry_lock);
  sigaction (watch->signo, &watch->old, NULL);
  __atomic_store_n (&slot_fd1[watch->signo], 0, __ATOMIC_SEQ_CST);
  watches[watch->signo] = NULL;
  pthread_mutex_unlock (&registry_lock);
  /* A handler may have read the fd just before: let it leave. */
  while (__atomic_load_n (&in_handler, __ATOMIC_SEQ_CST) > 0)
    sched_yield ();
  send_stop (watch);
  pthread_join (watch->thread, NULL);
  watch_destroy (watch);
}
