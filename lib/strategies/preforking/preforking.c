/* preforking.c: the preforking strategy -- its object, ops and public calls,
 * and the forking and reaping of children (prefork.h has the map
 * of the other files).
 *
 * Each child gets a scoreboard slot and a control socket (a socketpair):
 * the parent writes a byte on its end to ask the child to leave (retire,
 * stop; the child finishes a connection it took first), and the end hangs
 * up the moment the child is gone, whatever killed it, which is how the
 * maintenance thread hears of an exit at once without a SIGCHLD handler
 * (the program's to own) or a pidfd (valgrind has none). The parent then
 * reaps that child by pid; a pass also tries every pid of ours with
 * WNOHANG, which catches a child whose socket a grandchild still holds.
 * Nothing here ever waits for -1: a child the program forked itself keeps
 * its exit status for the program (CPython issue 1540386).
 *
 * Children are forked ahead of time, so fork()'s cost (about 820 us here,
 * and a GLib child re-faulting its pages) is paid per child, not per
 * request; max_requests bounds how long a child lives.
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const SsStrategyOps preforking_ops;

gboolean
ss_is_preforking_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &preforking_ops;
}

/* ------------------------------------------------------------ shared memory */

static gpointer
map_shared (gsize size, GError **error)
{
  gpointer p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED)
    {
      ss_set_error_from_errno (error, errno, "Could not map the process pool's shared memory",
                               "Lower max_workers or raise the memory limit (ulimit -v)");
      return NULL;
    }
  return p;
}

static gsize
board_size (guint n_slots)
{
  return (gsize) n_slots * sizeof (SsPreforkSlot);
}

/* Sizes the scoreboard and the parent's table for @n_slots children. Only
 * while no child is alive. (lock) */
static gboolean
resize_board_unlocked (SsPreforkingStrategy *self, guint n_slots, GError **error)
{
  SsPreforkSlot *board;
  guint i;

  if (n_slots == self->n_slots)
    return TRUE;
  board = map_shared (board_size (n_slots), error);
  if (board == NULL)
    return FALSE;
  if (self->board != NULL)
    munmap (self->board, board_size (self->n_slots));
  self->board = board;
  self->children = g_renew (SsPreforkChild, self->children, n_slots);
  for (i = 0; i < n_slots; i++)
    self->children[i] = (SsPreforkChild) { .pid = 0, .fd = -1, .told = FALSE, .hung_up = FALSE };
  self->n_slots = n_slots;
  return TRUE;
}

/* ------------------------------------------------------------ limits */

static gboolean
check_limits (guint min_workers, guint max_workers, guint min_spare, guint max_spare, GError **error)
{
  if (max_workers == 0 || max_workers > SS_PREFORKING_WORKERS_LIMIT || min_workers > max_workers)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Process pool limits min_workers=%u max_workers=%u do not fit: need "
                   "min_workers <= max_workers and 1 <= max_workers <= %u",
                   min_workers, max_workers, SS_PREFORKING_WORKERS_LIMIT);
      return FALSE;
    }
  if (max_spare != SS_PREFORKING_MAX_SPARE_DEFAULT && max_spare < min_spare)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Process pool limits min_spare_workers=%u max_spare_workers=%u do not fit: "
                   "need min_spare_workers <= max_spare_workers",
                   min_spare, max_spare);
      return FALSE;
    }
  return TRUE;
}

SsPreforkLimits
ss__prefork_limits_unlocked (SsPreforkingStrategy *self)
{
  SsPreforkLimits limits = {
    .min_workers = self->min_workers,
    .max_workers = self->max_workers,
    .min_spare = self->min_spare,
    .max_spare = self->max_spare_setting,
  };

  /* As Apache resets MinSpareServers 0 to 1: with no idle child kept, the
   * last one could retire and nobody would accept. */
  limits.min_spare = MAX (limits.min_spare, 1);
  if (limits.max_spare == SS_PREFORKING_MAX_SPARE_DEFAULT)
    limits.max_spare = self->min_workers + self->min_spare;
  limits.max_spare = MAX (limits.max_spare, limits.min_spare);
  return limits;
}

/* ------------------------------------------------------------ children */

static void
release_slot_unlocked (SsPreforkingStrategy *self, guint slot)
{
  if (self->children[slot].fd >= 0)
    close (self->children[slot].fd);
  self->children[slot] = (SsPreforkChild) { .pid = 0, .fd = -1, .told = FALSE, .hung_up = FALSE };
  __atomic_store_n (&self->board[slot].state, SS_PREFORK_SLOT_FREE, __ATOMIC_RELEASE);
}

gboolean
ss__prefork_spawn (SsPreforkingStrategy *self, GError **error)
{
  SsPreforkSlot *entry;
  guint slot;
  int sv[2];
  int errsv;
  pid_t pid;

  pthread_mutex_lock (&self->lock);
  for (slot = 0; slot < self->n_slots && self->children[slot].pid != 0; slot++)
    ;
  if (slot == self->n_slots)
    {
      pthread_mutex_unlock (&self->lock);
      g_set_error (error, SS_ERROR, SS_ERROR_NO_RESOURCES,
                   "The process pool has no free slot (max_workers %u)", self->n_slots);
      return FALSE;
    }
  self->children[slot].pid = -1;   /* being forked */
  entry = &self->board[slot];
  entry->left = SS_PREFORK_LEFT_TOLD;
  entry->role = SS_PREFORK_ROLE_NONE;
  __atomic_store_n (&entry->state, SS_PREFORK_SLOT_STARTING, __ATOMIC_RELEASE);
  pthread_mutex_unlock (&self->lock);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
    {
      errsv = errno;
      goto fail;
    }
  pid = fork ();
  if (pid == 0)
    {
      close (sv[0]);
      ss__prefork_child_main (self, slot, sv[1]);
    }
  errsv = errno;
  close (sv[1]);
  if (pid < 0)
    {
      close (sv[0]);
      goto fail;
    }

  pthread_mutex_lock (&self->lock);
  self->children[slot] = (SsPreforkChild) { .pid = pid, .fd = sv[0], .told = FALSE, .hung_up = FALSE };
  self->alive++;
  self->spawned++;
  if (self->epfd >= 0)
    {
      struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (guint64) slot + 1 };

      /* Failing (out of memory) only delays hearing of its exit to the
       * next pass, which tries every pid. */
      (void) epoll_ctl (self->epfd, EPOLL_CTL_ADD, sv[0], &ev);
    }
  pthread_mutex_unlock (&self->lock);
  return TRUE;

fail:
  pthread_mutex_lock (&self->lock);
  release_slot_unlocked (self, slot);
  pthread_mutex_unlock (&self->lock);
  ss_set_error_from_errno (error, errsv, "Could not fork a child process for the pool",
                           "Lower max_workers or raise the limit on processes (ulimit -u)");
  return FALSE;
}

void
ss__prefork_tell_unlocked (SsPreforkingStrategy *self, guint slot, char why)
{
  SsPreforkChild *child = &self->children[slot];

  if (child->pid <= 0 || child->told)
    return;
  child->told = TRUE;
  /* One byte into an empty socket buffer cannot block; a child that is
   * already gone makes it fail with EPIPE, which the reap will notice. */
  (void) send (child->fd, &why, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void
ss__prefork_ring (int doorbell, guint64 tokens)
{
  (void) !write (doorbell, &tokens, sizeof tokens);
}

/* A child that died in its place (killed, crashed) left it counted: mend
 * the count, and pass the socket on if it was the last one there. (lock) */
static void
mend_places_unlocked (SsPreforkingStrategy *self, guint slot)
{
  SsPreforkShared *sh = self->shared;
  gint role = __atomic_exchange_n (&self->board[slot].role, SS_PREFORK_ROLE_NONE, __ATOMIC_SEQ_CST);

  if (role == SS_PREFORK_ROLE_SOCKET
      && __atomic_sub_fetch (&sh->on_socket, 1, __ATOMIC_SEQ_CST) == 0
      && __atomic_load_n (&sh->standby, __ATOMIC_SEQ_CST) > 0)
    ss__prefork_ring (self->doorbell, 1);
  else if (role == SS_PREFORK_ROLE_STANDBY)
    __atomic_sub_fetch (&sh->standby, 1, __ATOMIC_SEQ_CST);
}

/* Why a reaped child is worth a report, or NULL when it left cleanly. */
static char *
describe_exit (SsPreforkingStrategy *self, guint slot, pid_t pid, int status)
{
  SsPreforkSlot *entry = &self->board[slot];
  gboolean busy = __atomic_load_n (&entry->state, __ATOMIC_ACQUIRE) == SS_PREFORK_SLOT_BUSY;
  g_autofree char *client = busy ? ss_address_to_string (&entry->client) : NULL;
  g_autofree char *how = NULL;

  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return NULL;
  /* Ctrl-C reaches the whole process group: a child still starting (it
   * catches SIGINT once it is set up, child.c) ended with no
   * request of its own. Nothing went wrong. */
  if (WIFSIGNALED (status) && WTERMSIG (status) == SIGINT
      && __atomic_load_n (&entry->state, __ATOMIC_ACQUIRE) == SS_PREFORK_SLOT_STARTING)
    return NULL;
  if (WIFSIGNALED (status))
    how = g_strdup_printf ("was killed by signal %d (%s)%s", WTERMSIG (status),
                           strsignal (WTERMSIG (status)), WCOREDUMP (status) ? ", core dumped" : "");
  else
    how = g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  return g_strdup_printf ("Child process %d %s%s%s; the pool replaces it",
                          (int) pid, how, client != NULL ? " while handling a request from " : "",
                          client != NULL ? client : "");
}

/* Forgets child @slot, reaped with @status, and returns its report. (lock) */
static char *
forget_child_unlocked (SsPreforkingStrategy *self, guint slot, pid_t pid, int status, gboolean reaped)
{
  SsPreforkSlot *entry = &self->board[slot];
  char *report = reaped ? describe_exit (self, slot, pid, status) : NULL;

  mend_places_unlocked (self, slot);
  if (report != NULL)
    self->crashed++;
  else if (__atomic_load_n (&entry->state, __ATOMIC_ACQUIRE) == SS_PREFORK_SLOT_EXITING
           && __atomic_load_n (&entry->left, __ATOMIC_ACQUIRE) == SS_PREFORK_LEFT_RECYCLED)
    self->recycled++;
  release_slot_unlocked (self, slot);
  self->alive--;
  self->retired++;
  return report;
}

/* Hands a dead child's report to handle_error: user code, so called
 * without the lock. */
static void
report_exit (SsPreforkingStrategy *self, char *report)
{
  GError *error = g_error_new_literal (SS_ERROR, SS_ERROR_FAILED, report);

  ss_server_handle_error (self->server, NULL, error);
  g_error_free (error);
  g_free (report);
}

guint
ss__prefork_reap (SsPreforkingStrategy *self, gboolean blocking)
{
  guint reaped = 0;
  guint slot;

  for (slot = 0;; slot++)
    {
      pid_t pid;
      pid_t r;
      int status = 0;
      char *report;

      pthread_mutex_lock (&self->lock);
      if (slot >= self->n_slots)
        {
          pthread_mutex_unlock (&self->lock);
          break;
        }
      pid = self->children[slot].pid;
      pthread_mutex_unlock (&self->lock);
      if (pid <= 0)
        continue;

      /* Only the manager or server_close reaps, never both at once, so the
       * slot still holds this pid when we come back with the lock. */
      do
        r = waitpid (pid, &status, blocking ? 0 : WNOHANG);
      while (r < 0 && errno == EINTR);
      if (r == 0 || (r < 0 && errno != ECHILD))
        continue;

      pthread_mutex_lock (&self->lock);
      report = forget_child_unlocked (self, slot, pid, status, r == pid);
      pthread_mutex_unlock (&self->lock);
      reaped++;
      if (report != NULL)
        report_exit (self, report);
    }
  return reaped;
}

/* ------------------------------------------------------------ strategy ops */

static void
preforking_attach (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  pthread_mutex_lock (&self->lock);
  self->server = server;
  pthread_mutex_unlock (&self->lock);
  ss__server_share_counters (server, &self->shared->counters);
}

/* In a child: the request runs here (the scoreboard says busy already).
 * In the parent, outside serve_forever: inline, as sync would. */
static void
preforking_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  if (self->in_child)
    ss__prefork_child_run (self, server, request);
  else
    ss_server_run_request (server, request);
}

static gboolean
preforking_start_serving (SsStrategy *strategy, SsServer *server, GError **error)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  GError *spawn_error = NULL;
  GError *manager_error = NULL;
  SsPreforkLimits limits;
  guint n, i;

  /* Children of an earlier serve_forever that have left since. */
  ss__prefork_reap (self, FALSE);

  pthread_mutex_lock (&self->lock);
  self->policy = (SsPreforkPolicy) { .spawn_rate = 1, .max_reported = FALSE };
  if (self->alive == 0)
    {
      /* Whatever children killed in their place left counted. */
      self->shared->on_socket = 0;
      self->shared->standby = 0;
    }
  self->max_reached = FALSE;
  limits = ss__prefork_limits_unlocked (self);
  n = MIN (MAX (limits.min_workers, limits.min_spare), limits.max_workers);
  /* Children of an earlier serve_forever still leaving hold their slots. */
  n = MIN (n, self->n_slots - MIN (self->alive, self->n_slots));
  self->serving = TRUE;
  pthread_mutex_unlock (&self->lock);

  /* Apache's StartServers: the pool is ready before the first client. A
   * fork that fails is retried by the next pass; without the maintenance
   * thread nobody would, so that aborts serve_forever. */
  for (i = 0; i < n; i++)
    if (!ss__prefork_spawn (self, &spawn_error))
      break;
  if (ss__prefork_manager_start (self, &manager_error))
    {
      if (spawn_error != NULL)
        {
          ss_server_handle_error (server, NULL, spawn_error);
          g_error_free (spawn_error);
        }
      return TRUE;
    }
  g_clear_error (&spawn_error);

  pthread_mutex_lock (&self->lock);
  self->serving = FALSE;
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  pthread_mutex_unlock (&self->lock);
  ss__prefork_reap (self, TRUE);
  g_propagate_error (error, manager_error);
  return FALSE;
}

/* Children stop taking connections at once; each finishes the one it has.
 * The parent's listening fd is no child's: server_close may close it. */
static void
preforking_stop_serving (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  ss__prefork_manager_stop (self);
  pthread_mutex_lock (&self->lock);
  self->serving = FALSE;
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  pthread_mutex_unlock (&self->lock);
}

static void
preforking_server_close (SsStrategy *strategy, SsServer *server)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  gboolean block;

  ss__prefork_manager_stop (self);
  pthread_mutex_lock (&self->lock);
  for (guint slot = 0; slot < self->n_slots; slot++)
    ss__prefork_tell_unlocked (self, slot, SS_PREFORK_STOP);
  block = self->block_on_close;
  pthread_mutex_unlock (&self->lock);
  ss__prefork_reap (self, block);
}

/* A drain's deadline: every child still alive gets @sig (SIGTERM keeps
 * its default in a child, child.c). A slot keeps its pid until
 * the child is reaped, so the number is never a stranger's. */
static guint
preforking_signal_workers (SsStrategy *strategy, SsServer *server, int sig)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  guint slot, n = 0;

  (void) server;
  pthread_mutex_lock (&self->lock);
  for (slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0 && kill (self->children[slot].pid, sig) == 0)
      n++;
  pthread_mutex_unlock (&self->lock);
  return n;
}

static void
preforking_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  guint slot;

  pthread_mutex_lock (&self->lock);
  stats->workers = self->alive;
  for (slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0
        && __atomic_load_n (&self->board[slot].state, __ATOMIC_ACQUIRE) == SS_PREFORK_SLOT_BUSY)
      stats->busy++;
  stats->idle = stats->workers - MIN (stats->busy, stats->workers);
  stats->spawned = self->spawned;
  stats->retired = self->retired;
  pthread_mutex_unlock (&self->lock);
}

static void
preforking_free (SsStrategy *strategy)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  /* After server_close: the manager is stopped; children still running
   * (block_on_close FALSE) keep their own copies of the mappings. */
  ss__prefork_manager_stop (self);
  for (guint slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].fd >= 0)
      close (self->children[slot].fd);
  if (self->board != NULL)
    munmap (self->board, board_size (self->n_slots));
  if (self->shared != NULL)
    munmap (self->shared, sizeof *self->shared);
  ss__wake_fd_close (&self->stop);
  if (self->doorbell >= 0)
    close (self->doorbell);
  g_free (self->children);
  pthread_mutex_destroy (&self->lock);
  g_free (self);
}

static const SsStrategyOps preforking_ops = {
  .name = "preforking",
  .attach = preforking_attach,
  .process_request = preforking_process_request,
  .service_actions = NULL,
  .handle_timeout = NULL,
  .server_close = preforking_server_close,
  .start_serving = preforking_start_serving,
  .stop_serving = preforking_stop_serving,
  .signal_workers = preforking_signal_workers,
  .can_park = NULL,
  .park_request = NULL,
  .get_stats = preforking_get_stats,
  .free = preforking_free,
};

/* ------------------------------------------------------------ public */

SsStrategy *
ss_preforking_strategy_new (guint min_workers, guint max_workers, guint min_spare_workers,
                            GError **error)
{
  SsPreforkingStrategy *self;

  if (!check_limits (min_workers, max_workers, min_spare_workers, SS_PREFORKING_MAX_SPARE_DEFAULT, error))
    return NULL;

  self = g_new0 (SsPreforkingStrategy, 1);
  self->parent.ops = &preforking_ops;
  pthread_mutex_init (&self->lock, NULL);
  self->min_workers = min_workers;
  self->max_workers = max_workers;
  self->min_spare = min_spare_workers;
  self->max_spare_setting = SS_PREFORKING_MAX_SPARE_DEFAULT;
  self->max_requests = SS_PREFORKING_DEFAULT_MAX_REQUESTS;
  self->interval = SS_PREFORKING_DEFAULT_INTERVAL;
  self->block_on_close = TRUE;
  self->epfd = -1;
  self->stop = (SsWakeFd) SS_WAKE_FD_INIT;
  self->policy.spawn_rate = 1;

  self->doorbell = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
  if (self->doorbell < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create the process pool's doorbell",
                               "Raise the open-file limit (ulimit -n)");
      preforking_free (&self->parent);
      return NULL;
    }
  self->shared = map_shared (sizeof *self->shared, error);
  if (self->shared == NULL || !resize_board_unlocked (self, max_workers, error)
      || !ss__wake_fd_open (&self->stop, "Could not create the process pool's stop fd", error))
    {
      preforking_free (&self->parent);
      return NULL;
    }
  self->shared->accept_cap = (gint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN));
  return &self->parent;
}

gboolean
ss_preforking_strategy_set_limits (SsStrategy *strategy, guint min_workers, guint max_workers,
                                   guint min_spare_workers, guint max_spare_workers, GError **error)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;
  gboolean ok = TRUE;

  g_return_val_if_fail (ss_is_preforking_strategy (strategy), FALSE);
  if (!check_limits (min_workers, max_workers, min_spare_workers, max_spare_workers, error))
    return FALSE;

  pthread_mutex_lock (&self->lock);
  if (max_workers > self->n_slots && self->alive > 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot raise max_workers to %u while %u children of the pool still run: "
                   "change it before serving or once they have exited", max_workers, self->alive);
      ok = FALSE;
    }
  else if (max_workers != self->n_slots && self->alive == 0)
    ok = resize_board_unlocked (self, max_workers, error);
  if (ok)
    {
      self->min_workers = min_workers;
      self->max_workers = max_workers;
      self->min_spare = min_spare_workers;
      self->max_spare_setting = max_spare_workers;
    }
  pthread_mutex_unlock (&self->lock);
  return ok;
}

void
ss_preforking_strategy_set_max_requests (SsStrategy *strategy, guint max_requests)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->max_requests = max_requests;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_maintenance_interval (SsStrategy *strategy, double seconds)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  g_return_if_fail (seconds > 0 && seconds <= 3600);
  pthread_mutex_lock (&self->lock);
  self->interval = seconds;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_child_hooks (SsStrategy *strategy, SsPreforkingChildHook child_init,
                                        SsPreforkingChildHook child_exit, gpointer user_data)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->child_init = child_init;
  self->child_exit = child_exit;
  self->hook_data = user_data;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy));
  pthread_mutex_lock (&self->lock);
  self->block_on_close = block_on_close;
  pthread_mutex_unlock (&self->lock);
}

void
ss_preforking_strategy_get_info (SsStrategy *strategy, SsPreforkingInfo *info)
{
  SsPreforkingStrategy *self = (SsPreforkingStrategy *) strategy;

  g_return_if_fail (ss_is_preforking_strategy (strategy) && info != NULL);
  pthread_mutex_lock (&self->lock);
  *info = (SsPreforkingInfo) {
    .passes = self->passes,
    .spawn_rate = self->policy.spawn_rate,
    .last_spawned = self->last_spawned,
    .crashed = self->crashed,
    .recycled = self->recycled,
    .max_workers_reached = self->max_reached,
  };
  pthread_mutex_unlock (&self->lock);
}
