/* forking.c: a process per request (Python's ForkingMixIn).
 *
 * process_request forks; the child runs the request (finish_request,
 * handle_error on failure, shutdown_request) and leaves with _exit(0) or
 * _exit(1) -- never returning into the server loop, never running the
 * parent's atexit handlers or flushing stdio buffers it inherited. The
 * parent closes its copy of the connection and remembers the pid.
 *
 * The server reaps only the pids it forked: waitpid(pid), never
 * waitpid(-1), so a child the program forked itself keeps its exit status
 * for the program (CPython issue 1540386; CPython itself still uses
 * waitpid(-1) while over max_children). To block until one of *our*
 * children exits without polling, each child gets a pidfd (Linux 5.3+) in
 * one epoll set; collecting without blocking is then one epoll_wait(0) per
 * loop pass instead of one waitpid per child. Without pidfd_open (ENOSYS)
 * collect scans with waitpid(WNOHANG) and sleeps 10 ms between scans.
 *
 * Children inherit the parent's signal mask and dispositions unchanged, as
 * Python's do; a program that installs SIGINT/SIGTERM handlers (signals.h)
 * gets them in its children too.
 */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define NO_PIDFD_SLEEP_US 10000

typedef struct {
  pid_t pid;
  int pidfd;   /* -1 when none could be opened */
} Child;

typedef struct {
  SsStrategy parent;  /* base, first member */

  /* Guards the fields marked (lock). Never held across waitpid(pid, 0),
   * epoll_wait(-1), fork or a sleep, so active_children answers at once. */
  pthread_mutex_t lock;
  GArray *children;          /* (lock) of Child: forked, not yet reaped */
  guint max_children;        /* (lock) */
  gboolean block_on_close;   /* (lock) */
  int epfd;                  /* pidfds of our children; -1 without pidfd support */
} SsForkingStrategy;

static const SsStrategyOps forking_ops;

gboolean
ss_is_forking_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &forking_ops;
}

static int
open_pidfd (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int) syscall (SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* ------------------------------------------------------------ bookkeeping */

static void
track_child (SsForkingStrategy *self, pid_t pid)
{
  Child child = { .pid = pid, .pidfd = -1 };

  if (self->epfd >= 0)
    {
      child.pidfd = open_pidfd (pid);
      if (child.pidfd >= 0)
        {
          struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (guint64) pid };

          if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, child.pidfd, &ev) < 0)
            {
              close (child.pidfd);
              child.pidfd = -1;
            }
        }
    }
  pthread_mutex_lock (&self->lock);
  g_array_append_val (self->children, child);
  pthread_mutex_unlock (&self->lock);
}

/* Forgets @pid (reaped by us or, ECHILD, by someone else). */
static void
untrack_child (SsForkingStrategy *self, pid_t pid)
{
  guint i;

  pthread_mutex_lock (&self->lock);
  for (i = 0; i < self->children->len; i++)
    {
      Child *c = &g_array_index (self->children, Child, i);

      if (c->pid != pid)
        continue;
      if (c->pidfd >= 0)
        {
          /* Explicit DEL: other children still hold a copy of this pidfd,
           * so close alone would leave it registered. */
          epoll_ctl (self->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
          close (c->pidfd);
        }
      g_array_remove_index_fast (self->children, i);
      break;
    }
  pthread_mutex_unlock (&self->lock);
}

/* The parent's record of how a child ended: the child's own counters died
 * with it, so served/errors are counted here; a signal gets a log line. */
static void
record_exit (SsServer *server, pid_t pid, int status)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      if (server != NULL)
        ss__server_count_served (server);
      return;
    }
  if (server != NULL)
    __atomic_fetch_add (&server->priv->errors, 1, __ATOMIC_RELAXED);
  if (WIFSIGNALED (status))
    {
      g_autofree char *where = server != NULL ? ss_server_address_string (server) : NULL;

      g_message ("Forked child %d of server %s was killed by signal %d (%s)%s",
                 (int) pid, where != NULL ? where : "?", WTERMSIG (status),
                 strsignal (WTERMSIG (status)),
                 WCOREDUMP (status) ? ", core dumped" : "");
    }
}

/* waitpid on one of our pids; returns whether it is gone now. */
static gboolean
reap_pid (SsForkingStrategy *self, SsServer *server, pid_t pid, gboolean blocking)
{
  int status = 0;
  pid_t r;

  do
    r = waitpid (pid, &status, blocking ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);

  if (r == pid)
    record_exit (server, pid, status);
  else if (!(r < 0 && errno == ECHILD))
    return FALSE;   /* still running */
  untrack_child (self, pid);
  return TRUE;
}

/* Our pids, copied so waitpid runs without the lock. */
static GArray *
snapshot (SsForkingStrategy *self, gboolean only_without_pidfd)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  guint i;

  pthread_mutex_lock (&self->lock);
  for (i = 0; i < self->children->len; i++)
    {
      Child *c = &g_array_index (self->children, Child, i);

      if (!only_without_pidfd || c->pidfd < 0)
        g_array_append_val (pids, c->pid);
    }
  pthread_mutex_unlock (&self->lock);
  return pids;
}

/* Reaps what has exited, waiting up to @timeout_ms (-1 forever) for the
 * first exit when nothing has yet. Returns how many were reaped. */
static guint
reap_exited (SsForkingStrategy *self, SsServer *server, int timeout_ms)
{
  GArray *pids;
  guint reaped = 0;
  guint i;

  if (self->epfd >= 0)
    {
      struct epoll_event ev[64];
      int n;

      do
        n = epoll_wait (self->epfd, ev, G_N_ELEMENTS (ev), timeout_ms);
      while (n < 0 && errno == EINTR);
      for (i = 0; n > 0 && i < (guint) n; i++)
        reaped += reap_pid (self, server, (pid_t) ev[i].data.u64, FALSE);
    }

  /* Children without a pidfd (none could be opened): scan them. */
  pids = snapshot (self, TRUE);
  for (i = 0; i < pids->len; i++)
    reaped += reap_pid (self, server, g_array_index (pids, pid_t, i), FALSE);
  g_array_free (pids, TRUE);
  return reaped;
}

static guint
active_unlocked (SsForkingStrategy *self)
{
  return self->children->len;
}

static gboolean
all_have_pidfds (SsForkingStrategy *self)
{
  GArray *pids = snapshot (self, TRUE);
  gboolean all = pids->len == 0;

  g_array_free (pids, TRUE);
  return all;
}

/* Blocks until one of our children exits (or none is left). */
static void
wait_for_one (SsForkingStrategy *self, SsServer *server)
{
  if (self->epfd >= 0 && all_have_pidfds (self))
    {
      /* Bounded, so a child reaped meanwhile by another thread calling
       * collect_children cannot leave us waiting forever. */
      reap_exited (self, server, 1000);
      return;
    }
  while (reap_exited (self, server, 0) == 0 && ss_forking_strategy_active_children (&self->parent) > 0)
    g_usleep (NO_PIDFD_SLEEP_US);
}

/* ------------------------------------------------------------ public collect */

guint
ss_forking_strategy_active_children (SsStrategy *strategy)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  guint n;

  g_return_val_if_fail (ss_is_forking_strategy (strategy), 0);
  pthread_mutex_lock (&self->lock);
  n = active_unlocked (self);
  pthread_mutex_unlock (&self->lock);
  return n;
}

void
ss_forking_strategy_collect_children (SsStrategy *strategy, SsServer *server, gboolean blocking)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  guint max;

  g_return_if_fail (ss_is_forking_strategy (strategy));

  /* Python: while len(active_children) >= max_children, wait for one. */
  for (;;)
    {
      guint active;

      pthread_mutex_lock (&self->lock);
      active = active_unlocked (self);
      max = self->max_children;
      pthread_mutex_unlock (&self->lock);
      if (active == 0 || active < max)
        break;
      wait_for_one (self, server);
    }

  if (blocking)
    {
      /* Python: waitpid(pid, 0) for each child in turn. */
      GArray *pids = snapshot (self, FALSE);
      guint i;

      for (i = 0; i < pids->len; i++)
        reap_pid (self, server, g_array_index (pids, pid_t, i), TRUE);
      g_array_free (pids, TRUE);
    }
  else
    reap_exited (self, server, 0);
}

/* ------------------------------------------------------------ strategy ops */

G_GNUC_NORETURN static void
run_child (SsServer *server, SsRequest *request)
{
  int listen_fd = ss_server_fileno (server);

  /* A stream child has no use for the listening socket; a datagram child
   * replies through it (request->fd is the server socket), so keeps it. */
  if (listen_fd >= 0 && listen_fd != request->fd)
    close (listen_fd);
  _exit (ss_server_run_request (server, request) ? 0 : 1);
}

static void
forking_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  pid_t pid;

  /* Never more than max_children alive: wait here for one of ours. */
  ss_forking_strategy_collect_children (strategy, server, FALSE);

  pid = fork ();
  if (pid == 0)
    run_child (server, request);
  if (pid < 0)
    {
      GError *error = NULL;

      ss_set_error_from_errno (&error, errno, "Could not fork a process for the request",
                               "Lower max_children or raise the limit on processes (ulimit -u).");
      ss_server_handle_error (server, request, error);
      g_error_free (error);
      ss_server_shutdown_request (server, request);
      ss_request_free (request);
      return;
    }
  /* Python's parent branch: add the pid, close_request. */
  track_child (self, pid);
  ss_server_close_request (server, request);
  ss_request_free (request);
}

static void
forking_collect_nonblocking (SsStrategy *strategy, SsServer *server)
{
  ss_forking_strategy_collect_children (strategy, server, FALSE);
}

static void
forking_server_close (SsStrategy *strategy, SsServer *server)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  gboolean block;

  pthread_mutex_lock (&self->lock);
  block = self->block_on_close;
  pthread_mutex_unlock (&self->lock);
  /* Python: collect_children(blocking=self.block_on_close). */
  ss_forking_strategy_collect_children (strategy, server, block);
}

static void
forking_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  guint n = ss_forking_strategy_active_children (strategy);

  stats->workers = n;
  stats->busy = n;
}

static void
forking_free (SsStrategy *strategy)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  guint i;

  /* Children still running (block_on_close FALSE) are left to run; their
   * pidfds are closed, the processes are not touched. */
  for (i = 0; i < self->children->len; i++)
    {
      Child *c = &g_array_index (self->children, Child, i);

      if (c->pidfd >= 0)
        close (c->pidfd);
    }
  g_array_free (self->children, TRUE);
  if (self->epfd >= 0)
    close (self->epfd);
  pthread_mutex_destroy (&self->lock);
  g_free (self);
}

static const SsStrategyOps forking_ops = {
  .name = "forking",
  .process_request = forking_process_request,
  .service_actions = forking_collect_nonblocking,
  .handle_timeout = forking_collect_nonblocking,
  .server_close = forking_server_close,
  .start_serving = NULL,
  .stop_serving = NULL,
  .get_stats = forking_get_stats,
  .free = forking_free,
};

SsStrategy *
ss_forking_strategy_new (void)
{
  SsForkingStrategy *self = g_new0 (SsForkingStrategy, 1);
  int probe;

  self->parent.ops = &forking_ops;
  pthread_mutex_init (&self->lock, NULL);
  self->children = g_array_new (FALSE, FALSE, sizeof (Child));
  self->max_children = SS_FORKING_DEFAULT_MAX_CHILDREN;
  self->block_on_close = TRUE;

  /* pidfds need Linux 5.3; probe once with our own pid. */
  self->epfd = -1;
  probe = open_pidfd (getpid ());
  if (probe >= 0)
    {
      close (probe);
      self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    }
  return &self->parent;
}

void
ss_forking_strategy_set_max_children (SsStrategy *strategy, guint max_children)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;

  g_return_if_fail (ss_is_forking_strategy (strategy));
  g_return_if_fail (max_children > 0);
  pthread_mutex_lock (&self->lock);
  self->max_children = max_children;
  pthread_mutex_unlock (&self->lock);
}

void
ss_forking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;

  g_return_if_fail (ss_is_forking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->block_on_close = block_on_close;
  pthread_mutex_unlock (&self->lock);
}
