/* spawn.c: a child from the parent's side -- forked into a free
 * scoreboard slot, told to leave, reaped and reported.
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
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
  entry->taken = 0;
  entry->told = 0;
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
  /* The board first: a child between requests looks there, without a
   * syscall (child.c, told_to_leave); the byte wakes one that waits. */
  __atomic_store_n (&self->board[slot].told, why, __ATOMIC_RELEASE);
  /* One byte into an empty socket buffer cannot block; a child that is
   * already gone makes it fail with EPIPE, which the reap will notice. */
  (void) send (child->fd, &why, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void
ss__prefork_ring (int doorbell, guint64 tokens)
{
  static const guint64 one = 1;

  /* A token per write: each write wakes one waiter of the exclusive
   * doorbell, so N tokens in one write would wake one child and leave the
   * others asleep beside the tokens meant for them. */
  for (guint64 i = 0; i < tokens; i++)
    (void) !write (doorbell, &one, sizeof one);
}

/* A child that died in its place (killed, crashed) left it counted: mend
 * the count, and pass the socket on if it was the last one there. (lock) */
static void
mend_places_unlocked (SsPreforkingStrategy *self, guint slot)
{
  SsPreforkShared *sh = self->shared;
  gint role = __atomic_exchange_n (&self->board[slot].role, SS_PREFORK_ROLE_NONE, __ATOMIC_SEQ_CST);

  if (role == SS_PREFORK_ROLE_SOCKET && ss__prefork_count_down (&sh->on_socket) == 0
      && __atomic_load_n (&sh->standby, __ATOMIC_SEQ_CST) > 0)
    ss__prefork_ring (self->doorbell, 1);
  else if (role == SS_PREFORK_ROLE_STANDBY)
    ss__prefork_count_down (&sh->standby);
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
