/* signals.c: shut a server down on SIGINT or SIGTERM.
 *
 * The watch installs a handler for the two signals that does one
 * async-signal-safe thing: it writes the signal's number, one byte, to the
 * pipe of every watch alive in the process. Each watch has a watcher thread
 * that reads its pipe and asks its server to shut down (without waiting for
 * serve_forever, so it stays free for what comes next): a second signal
 * ends the process at once, exit status 1 with a log line, as a user
 * pressing Ctrl-C twice expects while a client still holds a request open.
 *
 * Why a handler and not sigwait() with the signals blocked, the first
 * design: a blocked mask is inherited by every thread created afterwards
 * and by every process forked or spawned from them, none of which has a
 * watcher, so request children of the forking strategy and programs that a
 * handler ran (system() and popen() use posix_spawn) ignored SIGTERM; and a
 * thread that existed before the watch did not block them, so the kernel
 * could hand it the signal and kill the process. With a handler no mask is
 * changed but the calling thread's, where the two signals are unblocked: a
 * program that blocked them so that an early signal waits for the watch
 * gets that signal now.
 *
 * Children do not keep the handler: a pthread_atfork child hook puts the
 * program's own dispositions back in every forked child, and exec resets a
 * caught signal to its default anyway. A child that escaped the hook (a raw
 * clone) is caught by the handler's pid check, which restores the
 * program's disposition and raises the signal again.
 *
 * ThreadSanitizer builds steer the signals to the watcher as well: GCC 12's
 * TSan runs a handler at once only in the calls it treats as blocking
 * (poll, epoll_wait, condition waits) and defers it in read, recv, accept
 * and recvmsg until the thread's next intercepted call -- for a thread
 * waiting on an idle client, never. There the creating thread (and so
 * every thread it starts later) blocks the two signals, the watcher
 * unblocks them for itself and waits in poll(), and the atfork hook
 * unblocks them again in children. A program spawned with posix_spawn from
 * a blocked thread then inherits the mask: only in that build.
 *
 * Stopping a watch: its slot is emptied, ss_signal_watch_free waits until
 * no handler is still inside the slot loop (one may have read the fd just
 * before), writes a stop byte (0, never a signal number) to its own pipe and
 * joins the watcher. Freeing never touches the server.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_WATCHES 16
#define STOP_BYTE   0

#if defined(__SANITIZE_THREAD__)
#define STEER_TO_WATCHER TRUE
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STEER_TO_WATCHER TRUE
#endif
#endif
#ifndef STEER_TO_WATCHER
#define STEER_TO_WATCHER FALSE
#endif

struct _SsSignalWatch {
  SsServer *server;           /* borrowed */
  pthread_t watcher;
  pthread_t creator;          /* the thread whose mask the watch changed */
  sigset_t creator_mask;      /* that mask before, for ss_signal_watch_free */
  int pipe_fds[2];            /* the handler writes signal numbers into [1] */
  guint slot;                 /* index in slot_fd1 */
  pthread_mutex_t lock;       /* guards signal and taken */
  int signal;                 /* (lock) the first signal taken, or 0 */
  guint taken;                /* (lock) signals taken so far */
};

/* The process-wide part. registry_lock guards the fields marked (registry);
 * the handler reads only the atomic ones. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static int slot_fd1[MAX_WATCHES];     /* (atomic) a watch's pipe write end + 1; 0 = free */
static int in_handler;                /* (atomic) handlers inside the slot loop now */
static pid_t owner_pid;               /* (atomic) the process the handler is installed in */
static int handler_installed;         /* (atomic) the program's dispositions are saved below */
static int steered;                   /* (atomic) STEER_TO_WATCHER: 1 while the creating thread blocks them */
static guint n_watches;               /* (registry) watches alive: the handler is installed while > 0 */
static struct sigaction old_int;      /* (registry) the program's dispositions before the */
static struct sigaction old_term;     /*   first watch; read by the child hook and handler */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static sigset_t
int_and_term (void)
{
  sigset_t both;

  sigemptyset (&both);
  sigaddset (&both, SIGINT);
  sigaddset (&both, SIGTERM);
  return both;
}

static const struct sigaction *
old_action (int sig)
{
  return sig == SIGINT ? &old_int : &old_term;
}

static void
on_signal (int sig)
{
  int saved_errno = errno;
  char byte = (char) sig;
  guint i;

  if (getpid () != __atomic_load_n (&owner_pid, __ATOMIC_ACQUIRE))
    {
      /* A child the atfork hook did not see: act as the program would. */
      sigaction (sig, old_action (sig), NULL);
      raise (sig);
      errno = saved_errno;
      return;
    }
  __atomic_fetch_add (&in_handler, 1, __ATOMIC_SEQ_CST);
  for (i = 0; i < MAX_WATCHES; i++)
    {
      int fd1 = __atomic_load_n (&slot_fd1[i], __ATOMIC_SEQ_CST);

      /* Non-blocking: a full pipe already holds more signals than needed. */
      if (fd1 > 0 && write (fd1 - 1, &byte, 1) < 0)
        continue;
    }
  __atomic_fetch_sub (&in_handler, 1, __ATOMIC_SEQ_CST);
  errno = saved_errno;
}

/* In every forked child: no watch lives here (the watchers are threads of
 * the parent), so the program's own dispositions come back. Only one
 * thread exists now, so the registry's lock is made fresh rather than
 * trusted: another thread may have held it at the fork. */
static void
reset_in_child (void)
{
  guint i;

  if (__atomic_load_n (&handler_installed, __ATOMIC_ACQUIRE))
    {
      sigaction (SIGINT, &old_int, NULL);
      sigaction (SIGTERM, &old_term, NULL);
    }
  if (__atomic_load_n (&steered, __ATOMIC_ACQUIRE))
    {
      sigset_t both = int_and_term ();

      pthread_sigmask (SIG_UNBLOCK, &both, NULL);
    }
  __atomic_store_n (&handler_installed, 0, __ATOMIC_RELEASE);
  __atomic_store_n (&steered, 0, __ATOMIC_RELEASE);
  for (i = 0; i < MAX_WATCHES; i++)
    __atomic_store_n (&slot_fd1[i], 0, __ATOMIC_SEQ_CST);
  __atomic_store_n (&in_handler, 0, __ATOMIC_SEQ_CST);
  n_watches = 0;
  pthread_mutex_init (&registry_lock, NULL);
}

static void
register_atfork (void)
{
  pthread_atfork (NULL, NULL, reset_in_child);
}

/* Installs the handler (the first watch). Called with registry_lock held. */
static gboolean
install_handler_unlocked (GError **error)
{
  struct sigaction sa;
  int errsv;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  sigaddset (&sa.sa_mask, SIGINT);
  sigaddset (&sa.sa_mask, SIGTERM);

  /* The pid first: a child forked in between is then caught by the check. */
  __atomic_store_n (&owner_pid, getpid (), __ATOMIC_RELEASE);
  if (sigaction (SIGINT, &sa, &old_int) == 0)
    {
      if (sigaction (SIGTERM, &sa, &old_term) == 0)
        {
          __atomic_store_n (&handler_installed, 1, __ATOMIC_RELEASE);
          return TRUE;
        }
      errsv = errno;
      sigaction (SIGINT, &old_int, NULL);
    }
  else
    errsv = errno;
  ss_set_error_from_errno (error, errsv, "Could not install the SIGINT/SIGTERM handler", NULL);
  return FALSE;
}

/* Puts the program's dispositions back (the last watch). Lock held. */
static void
uninstall_handler_unlocked (void)
{
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  __atomic_store_n (&handler_installed, 0, __ATOMIC_RELEASE);
}

/* Gives @watch a slot, installing the handler for the first watch. */
static gboolean
register_watch (SsSignalWatch *watch, GError **error)
{
  gboolean ok = TRUE;
  guint i;

  pthread_once (&atfork_once, register_atfork);
  pthread_mutex_lock (&registry_lock);
  for (i = 0; i < MAX_WATCHES && __atomic_load_n (&slot_fd1[i], __ATOMIC_SEQ_CST) != 0; i++)
    ;
  if (i == MAX_WATCHES)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_NO_RESOURCES,
                   "Could not watch for signals: %d signal watches are alive in this "
                   "process already; free one first", MAX_WATCHES);
      ok = FALSE;
    }
  else if (n_watches == 0)
    ok = install_handler_unlocked (error);
  if (ok)
    {
      n_watches++;
      watch->slot = i;
      __atomic_store_n (&slot_fd1[i], watch->pipe_fds[1] + 1, __ATOMIC_SEQ_CST);
    }
  pthread_mutex_unlock (&registry_lock);
  return ok;
}

/* Empties @watch's slot; when this returns no handler writes to its pipe. */
static void
unregister_watch (SsSignalWatch *watch)
{
  pthread_mutex_lock (&registry_lock);
  __atomic_store_n (&slot_fd1[watch->slot], 0, __ATOMIC_SEQ_CST);
  if (--n_watches == 0)
    {
      uninstall_handler_unlocked ();
      __atomic_store_n (&steered, 0, __ATOMIC_RELEASE);
    }
  pthread_mutex_unlock (&registry_lock);
  while (__atomic_load_n (&in_handler, __ATOMIC_SEQ_CST) > 0)
    sched_yield ();
}

static const char *
signal_name (int sig)
{
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* The first signal asks the server to stop; a second one ends the process,
 * since the first is evidently waiting for requests that do not end. */
static void
take_signal (SsSignalWatch *watch, int sig)
{
  guint taken;

  pthread_mutex_lock (&watch->lock);
  taken = ++watch->taken;
  if (watch->signal == 0)
    watch->signal = sig;
  pthread_mutex_unlock (&watch->lock);

  if (taken == 1)
    {
      ss__server_request_shutdown (watch->server);
      return;
    }
  SS_MESSAGE ("Received %s a second time while shutting down: exiting at once with "
              "status 1, without waiting for the requests still open", signal_name (sig));
  /* _exit(1) itself, as the raw syscall: the threads left running are left
   * on purpose, and a sanitizer's _exit hook would report them as leaks. */
  syscall (SYS_exit_group, 1);
  _exit (1);
}

static void *
watch_thread (void *data)
{
  SsSignalWatch *watch = data;

  if (STEER_TO_WATCHER)
    {
      sigset_t both = int_and_term ();

      pthread_sigmask (SIG_UNBLOCK, &both, NULL);
    }
  for (;;)
    {
      /* poll, then read: TSan runs a handler at once only inside poll. */
      struct pollfd pfd = { .fd = watch->pipe_fds[0], .events = POLLIN };
      guint8 buf[64];
      ssize_t n, i;

      if (poll (&pfd, 1, -1) < 0)
        continue;
      n = read (watch->pipe_fds[0], buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return NULL;   /* cannot happen while the watch holds the write end */
      for (i = 0; i < n; i++)
        {
          if (buf[i] == STOP_BYTE)
            return NULL;
          take_signal (watch, buf[i]);
        }
    }
}

/* Writes the stop byte, waiting while the pipe is full of signal bytes. */
static void
send_stop (SsSignalWatch *watch)
{
  char stop = STOP_BYTE;

  while (write (watch->pipe_fds[1], &stop, 1) < 0)
    {
      if (errno != EINTR && errno != EAGAIN)
        break;
      g_usleep (1000);
    }
}

static void
watch_destroy (SsSignalWatch *watch)
{
  if (watch->pipe_fds[0] >= 0)
    close (watch->pipe_fds[0]);
  if (watch->pipe_fds[1] >= 0)
    close (watch->pipe_fds[1]);
  pthread_mutex_destroy (&watch->lock);
  g_free (watch);
}

SsSignalWatch *
ss_server_shutdown_on_signals (SsServer *server, GError **error)
{
  SsSignalWatch *watch;
  sigset_t both;
  int rc;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  watch = g_new0 (SsSignalWatch, 1);
  watch->server = server;
  watch->creator = pthread_self ();
  pthread_mutex_init (&watch->lock, NULL);
  if (pipe2 (watch->pipe_fds, O_CLOEXEC) < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create the signal watch's pipe",
                               "Raise the limit on open files (ulimit -n).");
      watch->pipe_fds[0] = watch->pipe_fds[1] = -1;
      watch_destroy (watch);
      return NULL;
    }
  /* A handler must never block on a full pipe; the watcher polls. */
  ss__set_nonblocking (watch->pipe_fds[0], TRUE);
  ss__set_nonblocking (watch->pipe_fds[1], TRUE);

  both = int_and_term ();
  if (STEER_TO_WATCHER)
    {
      pthread_sigmask (SIG_BLOCK, &both, &watch->creator_mask);
      __atomic_store_n (&steered, 1, __ATOMIC_RELEASE);
    }
  else
    pthread_sigmask (SIG_UNBLOCK, &both, &watch->creator_mask);

  rc = pthread_create (&watch->watcher, NULL, watch_thread, watch);
  if (rc != 0)
    {
      ss_set_error_from_errno (error, rc, "Could not start the signal watcher thread", NULL);
      pthread_sigmask (SIG_SETMASK, &watch->creator_mask, NULL);
      watch_destroy (watch);
      return NULL;
    }
  if (!register_watch (watch, error))
    {
      send_stop (watch);
      pthread_join (watch->watcher, NULL);
      pthread_sigmask (SIG_SETMASK, &watch->creator_mask, NULL);
      watch_destroy (watch);
      return NULL;
    }
  return watch;
}

int
ss_signal_watch_signal (SsSignalWatch *watch)
{
  int sig;

  g_return_val_if_fail (watch != NULL, 0);

  pthread_mutex_lock (&watch->lock);
  sig = watch->signal;
  pthread_mutex_unlock (&watch->lock);
  return sig;
}

void
ss_signal_watch_free (SsSignalWatch *watch)
{
  if (watch == NULL)
    return;

  unregister_watch (watch);
  send_stop (watch);
  pthread_join (watch->watcher, NULL);

  /* The creator gets back its own mask of the two signals. */
  if (pthread_equal (watch->creator, pthread_self ()))
    {
      sigset_t block, unblock;

      sigemptyset (&block);
      sigemptyset (&unblock);
      sigaddset (sigismember (&watch->creator_mask, SIGINT) == 1 ? &block : &unblock, SIGINT);
      sigaddset (sigismember (&watch->creator_mask, SIGTERM) == 1 ? &block : &unblock, SIGTERM);
      pthread_sigmask (SIG_BLOCK, &block, NULL);
      pthread_sigmask (SIG_UNBLOCK, &unblock, NULL);
    }
  watch_destroy (watch);
}

gboolean
ss_server_serve_until_signalled (SsServer *server, double poll_interval, GError **error)
{
  SsSignalWatch *watch;
  gboolean ok;

  g_return_val_if_fail (server != NULL, FALSE);
  watch = ss_server_shutdown_on_signals (server, error);
  if (watch == NULL)
    return FALSE;
  ok = ss_server_serve_forever (server, poll_interval, error);
  ss_signal_watch_free (watch);
  return ok;
}
