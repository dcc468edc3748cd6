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
 * waitpid(-1) while over max_children). To find which child exited it
 * peeks with waitid(P_ALL, WNOWAIT), which reports a zombie without
 * reaping it: ours are then reaped by pid, a foreign one is left alone.
 * That is one syscall per loop pass whatever the number of children, and
 * nothing per fork -- an earlier version kept a pidfd per child in an
 * epoll set, and the four extra syscalls per request plus every child
 * inheriting the other children's pidfds cost about a tenth of the
 * forking strategy's throughput (BENCHMARKS.md). A foreign zombie hides
 * ours from the peek; then collect scans our pids one by one, and a
 * blocking wait sleeps 10 ms between scans instead of spinning.
 *
 * Signals: a child gets the program's own signal mask and dispositions.
 * A signal watch (signals.h) leaves no trace in it: the watch blocks
 * nothing outside its creating thread, and its pthread_atfork hook puts the
 * program's dispositions back in every child, so SIGTERM ends a child that
 * the program did not teach otherwise. (Python's children inherit the
 * parent's handlers -- KeyboardInterrupt included -- never a blocked mask;
 * ours cannot keep the watch's handler, since its watcher thread is not
 * copied by fork.)
 */
#include "strategies/strategy-private.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FOREIGN_ZOMBIE_SLEEP_US 10000

typedef struct {
  SsStrategy parent;  /* base, first member */

  /* Guards the fields marked (lock). Never held across waitpid(pid, 0),
   * epoll_wait(-1), fork or a sleep, so active_children answers at once. */
  pthread_mutex_t lock;
  GArray *children;          /* (lock) of pid_t: forked, not yet reaped */
  guint max_children;        /* (lock) */
  gboolean block_on_close;   /* (lock) */
} SsForkingStrategy;

static const SsStrategyOps forking_ops;

gboolean
ss_is_forking_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &forking_ops;
}

/* ------------------------------------------------------------ bookkeeping */

static void
track_child (SsForkingStrategy *self, pid_t pid)
{
  pthread_mutex_lock (&self->lock);
  g_array_append_val (self->children, pid);
  pthread_mutex_unlock (&self->lock);
}

/* Forgets @pid (reaped by us or, ECHILD, by someone else). */
static void
untrack_child (SsForkingStrategy *self, pid_t pid)
{
  guint i;

  pthread_mutex_lock (&self->lock);
  for (i = 0; i < self->children->len; i++)
    if (g_array_index (self->children, pid_t, i) == pid)
      {
        g_array_remove_index_fast (self->children, i);
        break;
      }
  pthread_mutex_unlock (&self->lock);
}

static gboolean
is_ours (SsForkingStrategy *self, pid_t pid)
{
  gboolean found = FALSE;
  guint i;

  pthread_mutex_lock (&self->lock);
  for (i = 0; i < self->children->len && !found; i++)
    found = g_array_index (self->children, pid_t, i) == pid;
  pthread_mutex_unlock (&self->lock);
  return found;
}

/* The parent's record of how a child ended: the child's own counters died
 * with it, so served/errors are counted here; a signal gets a log line. */
static void
record_exit (SsServer *server, pid_t pid, int status)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      if (server != NULL)
        ss__server_count (server, SS__COUNT_SERVED);
      return;
    }
  if (server != NULL)
    ss__server_count (server, SS__COUNT_ERRORS);
  if (WIFSIGNALED (status))
    {
      g_autofree char *where = server != NULL ? ss_server_address_string (server) : NULL;

      SS_MESSAGE ("Forked child %d of server %s was killed by signal %d (%s)%s",
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
snapshot (SsForkingStrategy *self)
{
  GArray *pids;

  pthread_mutex_lock (&self->lock);
  pids = g_array_sized_new (FALSE, FALSE, sizeof (pid_t), self->children->len);
  g_array_append_vals (pids, self->children->data, self->children->len);
  pthread_mutex_unlock (&self->lock);
  return pids;
}

/* waitpid(WNOHANG) on each of our pids in turn: Python's way, used only
 * when a foreign zombie hides ours from the peek below. */
static guint
scan_ours (SsForkingStrategy *self, SsServer *server)
{
  GArray *pids = snapshot (self);
  guint reaped = 0;
  guint i;

  for (i = 0; i < pids->len; i++)
    reaped += reap_pid (self, server, g_array_index (pids, pid_t, i), FALSE);
  g_array_free (pids, TRUE);
  return reaped;
}

/* The zombie child waitid would report next, without reaping it: 0 when no
 * child has exited, -1 when the process has no children at all. With
 * @blocking it first waits for some child to exit. */
static pid_t
peek_exited (gboolean blocking)
{
  siginfo_t info;
  int r;

  do
    {
      memset (&info, 0, sizeof info);
      r = waitid (P_ALL, 0, &info, WEXITED | WNOWAIT | (blocking ? 0 : WNOHANG));
    }
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : info.si_pid;
}

/* Reaps every child of ours that has exited, without blocking. Returns how
 * many. A peek costs one syscall whatever the number of children, where
 * Python's scan costs one waitpid per child on every loop pass. */
static guint
reap_exited (SsForkingStrategy *self, SsServer *server)
{
  guint reaped = 0;

  for (;;)
    {
      pid_t pid = peek_exited (FALSE);

      if (pid <= 0)
        return reaped;
      if (!is_ours (self, pid))
        /* The program's own child: its status is the program's to collect
         * (CPython issue 1540386), and it will keep being the one peeked. */
        return reaped + scan_ours (self, server);
      reaped += reap_pid (self, server, pid, FALSE);
    }
}

static guint
active_unlocked (SsForkingStrategy *self)
{
  return self->children->len;
}

/* Blocks until one of our children exits (or none is left). */
static void
wait_for_one (SsForkingStrategy *self, SsServer *server)
{
  while (reap_exited (self, server) == 0 && ss_forking_strategy_active_children (&self->parent) > 0)
    {
      pid_t pid = peek_exited (TRUE);

      /* A foreign zombie makes the blocking peek return at once: fall back
       * to sleeping between scans rather than spinning. */
      if (pid < 0 || !is_ours (self, pid))
        g_usleep (FOREIGN_ZOMBIE_SLEEP_US);
    }
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
      GArray *pids = snapshot (self);
      guint i;

      for (i = 0; i < pids->len; i++)
        reap_pid (self, server, g_array_index (pids, pid_t, i), TRUE);
      g_array_free (pids, TRUE);
    }
  else
    reap_exited (self, server);
}

/* ------------------------------------------------------------ strategy ops */

/* In the child: the server object is a copy, and a handler may still call
 * shutdown or server_close on it. The core makes it a copy that is not
 * serving, with its own wake fd (the parent's loop must not be woken). Its
 * children list holds the parent's children, so it is emptied (they are
 * not this process's to wait for); a stream child has
 * no use for the listening socket, so it is closed and forgotten (the
 * number may be taken by the next open() here, which a server_close must
 * not then close). A datagram child replies through the server socket
 * (request->fd), so keeps it. */
G_GNUC_NORETURN static void
run_child (SsForkingStrategy *self, SsServer *server, SsRequest *request)
{
  int listen_fd = ss_server_fileno (server);

  ss__server_in_forked_child (server);
  g_array_set_size (self->children, 0);
  if (listen_fd >= 0 && listen_fd != request->fd)
    {
      close (listen_fd);
      server->socket_fd = -1;
    }
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
    run_child (self, server, request);
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

/* Python's ForkingMixIn sets timeout = 300: handle_request then wakes at
 * least that often to reap children. */
static void
forking_attach (SsStrategy *strategy, SsServer *server)
{
  server->timeout = SS_FORKING_DEFAULT_TIMEOUT;
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

/* A drain's deadline: every child still running gets @sig. A pid leaves
 * the list only after it is reaped, so a signalled pid is still ours (a
 * zombie at worst), never a reused number. */
static guint
forking_signal_workers (SsStrategy *strategy, SsServer *server, int sig)
{
  SsForkingStrategy *self = (SsForkingStrategy *) strategy;
  guint i, n = 0;

  (void) server;
  pthread_mutex_lock (&self->lock);
  for (i = 0; i < self->children->len; i++)
    if (kill (g_array_index (self->children, pid_t, i), sig) == 0)
      n++;
  pthread_mutex_unlock (&self->lock);
  return n;
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

  /* Children still running (block_on_close FALSE) are left to run. */
  g_array_free (self->children, TRUE);
  pthread_mutex_destroy (&self->lock);
  g_free (self);
}

static const SsStrategyOps forking_ops = {
  .name = "forking",
  .attach = forking_attach,
  .process_request = forking_process_request,
  .service_actions = forking_collect_nonblocking,
  .handle_timeout = forking_collect_nonblocking,
  .server_close = forking_server_close,
  .start_serving = NULL,
  .stop_serving = NULL,
  .signal_workers = forking_signal_workers,
  .can_park = NULL,
  .park_request = NULL,
  .get_stats = forking_get_stats,
  .free = forking_free,
};

SsStrategy *
ss_forking_strategy_new (void)
{
  SsForkingStrategy *self = g_new0 (SsForkingStrategy, 1);

  self->parent.ops = &forking_ops;
  pthread_mutex_init (&self->lock, NULL);
  self->children = g_array_new (FALSE, FALSE, sizeof (pid_t));
  self->max_children = SS_FORKING_DEFAULT_MAX_CHILDREN;
  self->block_on_close = TRUE;
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
