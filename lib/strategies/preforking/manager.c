/* manager.c: the parent's maintenance thread.
 *
 * It runs from start_serving to stop_serving and sleeps in epoll_wait on
 * the stop fd and every child's control socket. A pass runs once every
 * maintenance interval and at once when a child's socket hangs up (it
 * exited, or is exiting: the pass first reaps whatever has exited, so a
 * child that crashed, was recycled or was retired is replaced at the speed
 * Apache's rules allow, not a second later). Between passes it is the
 * sentinel's thread too (sentinel.c): woken by the first connection to a
 * quiet pool, it looks at the place holders every few milliseconds while
 * they serve.
 *
 * The serving thread cannot do this itself: serve_forever's loop watches
 * only its wake fd and wakes every poll_interval, which the program
 * chooses. Keeping the pool in its own thread makes the pool's timing the
 * strategy's alone, and forks happen here, where no lock of ours is held.
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* After a hang-up, how soon to look again for a child that has closed its
 * socket but is not yet a zombie (it is still in exit()), and for how long:
 * a child that exec'd another program hangs up too (close-on-exec) and
 * lives on; the pass, which tries every pid, finds it when it does exit. */
#define REAP_RETRY_MS 5
#define REAP_RETRY_WINDOW_US (200 * 1000)

/* The sentinel (sentinel.c) looks this soon after a connection comes to
 * a quiet pool, doubling the wait up to SS_SENTINEL_MAX_GRACE_MS while
 * requests are being taken (the thread pool's figures, strategy-private.h), and after
 * SS_SENTINEL_IDLE_LOOKS looks in a row that found no place holder busy
 * (about a second) it sleeps until the next connection: the listening
 * socket is in the manager's set with EPOLLONESHOT, armed only then. */
#define SENTINEL_TAG G_MAXUINT64

typedef struct {
  gboolean looking;    /* FALSE: armed on the socket, waiting for a connection */
  gboolean can_park;   /* the socket is in the set */
  gint64 next_look;
  int grace_ms;
  guint idle_looks;
} Sentinel;

static void
sentinel_wake (Sentinel *s, gint64 now)
{
  s->looking = TRUE;
  s->grace_ms = SS_SENTINEL_GRACE_MS;
  s->idle_looks = 0;
  s->next_look = now + SS_SENTINEL_GRACE_MS * 1000;
}

/* Arms the socket for the next connection (EPOLLONESHOT disarmed it). */
static void
sentinel_park (SsPreforkingStrategy *self, Sentinel *s)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = SENTINEL_TAG };

  if (s->can_park
      && epoll_ctl (self->epfd, EPOLL_CTL_MOD, ss_server_fileno (self->server), &ev) == 0)
    s->looking = FALSE;
}

static void
sentinel_turn (SsPreforkingStrategy *self, Sentinel *s)
{
  switch (ss__prefork_sentinel_look (self))
    {
    case SS_PREFORK_LOOK_STALLED:
      s->grace_ms = SS_SENTINEL_GRACE_MS;
      s->idle_looks = 0;
      break;
    case SS_PREFORK_LOOK_PROGRESS:
      s->grace_ms = MIN (s->grace_ms * 2, SS_SENTINEL_MAX_GRACE_MS);
      s->idle_looks = 0;
      break;
    case SS_PREFORK_LOOK_BUSY:
      s->idle_looks = 0;
      break;
    case SS_PREFORK_LOOK_IDLE:
      s->grace_ms = SS_SENTINEL_MAX_GRACE_MS;
      if (++s->idle_looks >= SS_SENTINEL_IDLE_LOOKS)
        sentinel_park (self, s);
      break;
    }
  s->next_look = g_get_monotonic_time () + (gint64) s->grace_ms * 1000;
}

/* Asks one idle child to leave: the highest slot, so the pool stays packed
 * at the low end of the scoreboard. (lock) */
static void
retire_one_unlocked (SsPreforkingStrategy *self)
{
  guint slot = self->n_slots;

  while (slot-- > 0)
    {
      SsPreforkChild *child = &self->children[slot];
      gint state;

      if (child->pid <= 0 || child->told)
        continue;
      state = __atomic_load_n (&self->board[slot].state, __ATOMIC_ACQUIRE);
      if (state == SS_PREFORK_SLOT_IDLE || state == SS_PREFORK_SLOT_STARTING)
        {
          ss__prefork_tell_unlocked (self, slot, SS_PREFORK_RETIRE);
          return;
        }
    }
}

/* Children the maintenance counts (not asked to leave, not leaving), and
 * of those the ones waiting for a connection or still starting. (lock) */
static void
count_unlocked (SsPreforkingStrategy *self, guint *workers, guint *idle)
{
  *workers = 0;
  *idle = 0;
  for (guint slot = 0; slot < self->n_slots; slot++)
    {
      gint state;

      if (self->children[slot].pid <= 0 || self->children[slot].told)
        continue;
      state = __atomic_load_n (&self->board[slot].state, __ATOMIC_ACQUIRE);
      if (state == SS_PREFORK_SLOT_EXITING)
        continue;
      (*workers)++;
      if (state == SS_PREFORK_SLOT_IDLE || state == SS_PREFORK_SLOT_STARTING)
        (*idle)++;
    }
}

static void
log_decision (SsPreforkingStrategy *self, const SsPreforkDecision *d, guint workers, guint idle,
              guint alive)
{
  g_autofree char *where = NULL;

  if (!d->log_max && !d->log_busy)
    return;
  where = ss_server_address_string (self->server);
  if (d->log_max)
    SS_MESSAGE ("Server %s reached max_workers (%u processes, %u of them busy or leaving): no "
                "more are started while fewer than min_spare_workers are idle; raise max_workers "
                "if clients wait", where, alive, alive - MIN (idle, alive));
  if (d->log_busy)
    g_info ("Server %s seems busy (raise min_spare_workers?): forking %u children, "
            "%u idle of %u", where, d->spawn, idle, workers);
}

/* One pass of the maintenance (policy.c decides). */
static void
maintain (SsPreforkingStrategy *self)
{
  SsPreforkDecision d;
  SsPreforkLimits limits;
  GError *error = NULL;
  guint workers, idle, alive, i;

  pthread_mutex_lock (&self->lock);
  limits = ss__prefork_limits_unlocked (self);
  count_unlocked (self, &workers, &idle);
  alive = self->alive;
  ss__prefork_decide (&limits, workers, idle, alive, &self->policy, &d);
  if (d.retire)
    retire_one_unlocked (self);
  if (d.max_reached)
    self->max_reached = TRUE;
  pthread_mutex_unlock (&self->lock);

  log_decision (self, &d, workers, idle, alive);
  for (i = 0; i < d.spawn; i++)
    if (!ss__prefork_spawn (self, &error))
      break;

  /* Both at once: a reader sees a pass with what it forked. */
  pthread_mutex_lock (&self->lock);
  self->passes++;
  self->last_spawned = i;
  pthread_mutex_unlock (&self->lock);
  if (error != NULL)
    {
      ss_server_handle_error (self->server, NULL, error);
      g_error_free (error);
    }
}

/* Reads what a child's socket has: a hang-up (the child is gone) or, never
 * expected, stray bytes. Returns whether it hung up. */
static gboolean
child_hung_up (int fd, guint32 events)
{
  char buf[16];
  ssize_t n;

  if (events & (EPOLLHUP | EPOLLERR))
    return TRUE;
  do
    n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Children whose socket hung up but that are not reaped yet. (lock) */
static gboolean
any_hung_up_unlocked (SsPreforkingStrategy *self)
{
  for (guint slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0 && self->children[slot].hung_up)
      return TRUE;
  return FALSE;
}

/* Marks the children whose socket hung up among @ev; returns how many.
 * (lock) */
static guint
note_hang_ups_unlocked (SsPreforkingStrategy *self, const struct epoll_event *ev, int n)
{
  guint found = 0;

  for (int i = 0; i < n; i++)
    {
      guint64 slot = ev[i].data.u64;
      SsPreforkChild *child;

      if (slot == 0 || slot > self->n_slots)
        continue;   /* the stop fd */
      child = &self->children[slot - 1];
      if (child->fd < 0 || child->hung_up || !child_hung_up (child->fd, ev[i].events))
        continue;
      /* Level-triggered: stop watching it (the reap closes it). */
      (void) epoll_ctl (self->epfd, EPOLL_CTL_DEL, child->fd, NULL);
      child->hung_up = TRUE;
      found++;
    }
  return found;
}

static void *
manager_main (void *data)
{
  SsPreforkingStrategy *self = data;
  Sentinel sentinel = { 0 };
  gint64 next_pass;
  gint64 retry_until = 0;
  struct epoll_event lev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = SENTINEL_TAG };

  pthread_mutex_lock (&self->lock);
  next_pass = g_get_monotonic_time () + (gint64) (self->interval * G_USEC_PER_SEC);
  pthread_mutex_unlock (&self->lock);
  /* Without the socket in the set the sentinel never parks: it looks
   * every SS_SENTINEL_MAX_GRACE_MS at most, whatever comes. */
  sentinel.can_park = epoll_ctl (self->epfd, EPOLL_CTL_ADD, ss_server_fileno (self->server), &lev) == 0;
  sentinel.looking = !sentinel.can_park;
  sentinel.grace_ms = SS_SENTINEL_MAX_GRACE_MS;

  for (;;)
    {
      struct epoll_event ev[16];
      gint64 now = g_get_monotonic_time ();
      int timeout_ms = next_pass > now ? (int) ((next_pass - now + 999) / 1000) : 0;
      gboolean serving, pending;
      guint hung_up;
      int n;

      if (now < retry_until)
        timeout_ms = MIN (timeout_ms, REAP_RETRY_MS);
      if (sentinel.looking)
        timeout_ms = MIN (timeout_ms, sentinel.next_look > now
                                          ? (int) ((sentinel.next_look - now + 999) / 1000) : 0);
      n = epoll_wait (self->epfd, ev, G_N_ELEMENTS (ev), timeout_ms);
      if (n < 0 && errno != EINTR)
        g_usleep (REAP_RETRY_MS * 1000);   /* not expected with a valid epfd */
      for (int i = 0; i < n; i++)
        if (ev[i].data.u64 == SENTINEL_TAG)
          sentinel_wake (&sentinel, g_get_monotonic_time ());

      pthread_mutex_lock (&self->lock);
      serving = self->serving;
      hung_up = n > 0 ? note_hang_ups_unlocked (self, ev, n) : 0;
      pthread_mutex_unlock (&self->lock);
      if (!serving)
        break;

      now = g_get_monotonic_time ();
      if (hung_up > 0)
        retry_until = now + REAP_RETRY_WINDOW_US;
      if (now < retry_until)
        {
          /* A child reaped is replaced at once, by a pass of its own. */
          if (ss__prefork_reap (self, FALSE) > 0)
            next_pass = 0;
          pthread_mutex_lock (&self->lock);
          pending = any_hung_up_unlocked (self);
          pthread_mutex_unlock (&self->lock);
          if (!pending)
            retry_until = 0;
        }
      if (sentinel.looking && g_get_monotonic_time () >= sentinel.next_look)
        sentinel_turn (self, &sentinel);
      if (g_get_monotonic_time () >= next_pass)
        {
          ss__prefork_reap (self, FALSE);
          maintain (self);
          pthread_mutex_lock (&self->lock);
          next_pass = g_get_monotonic_time () + (gint64) (self->interval * G_USEC_PER_SEC);
          pthread_mutex_unlock (&self->lock);
        }
    }
  return NULL;
}

gboolean
ss__prefork_manager_start (SsPreforkingStrategy *self, GError **error)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
  int epfd = epoll_create1 (EPOLL_CLOEXEC);
  int rc;

  if (epfd < 0 || epoll_ctl (epfd, EPOLL_CTL_ADD, self->stop.read_fd, &ev) < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create the process pool's epoll set",
                               "Raise the open-file limit (ulimit -n)");
      if (epfd >= 0)
        close (epfd);
      return FALSE;
    }
  ss__wake_fd_clear (&self->stop);

  pthread_mutex_lock (&self->lock);
  for (guint slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].pid > 0 && self->children[slot].fd >= 0)
      {
        struct epoll_event cev = { .events = EPOLLIN, .data.u64 = (guint64) slot + 1 };

        (void) epoll_ctl (epfd, EPOLL_CTL_ADD, self->children[slot].fd, &cev);
      }
  self->epfd = epfd;
  rc = pthread_create (&self->manager, NULL, manager_main, self);
  self->have_manager = rc == 0;
  if (rc != 0)
    self->epfd = -1;
  pthread_mutex_unlock (&self->lock);

  if (rc != 0)
    {
      close (epfd);
      ss_set_error_from_errno (error, rc, "Could not start the process pool's maintenance thread", NULL);
      return FALSE;
    }
  return TRUE;
}

/* Returns once the thread has ended; harmless when none runs. */
void
ss__prefork_manager_stop (SsPreforkingStrategy *self)
{
  gboolean have;
  int epfd;

  pthread_mutex_lock (&self->lock);
  have = self->have_manager;
  self->have_manager = FALSE;
  self->serving = FALSE;
  pthread_mutex_unlock (&self->lock);
  if (!have)
    return;

  ss__wake_fd_set (&self->stop);
  pthread_join (self->manager, NULL);

  pthread_mutex_lock (&self->lock);
  epfd = self->epfd;
  self->epfd = -1;
  pthread_mutex_unlock (&self->lock);
  close (epfd);
}
