/* sentinel.c: the parent's watch over the places on the listening socket.
 *
 * While requests are short, only accept_cap children hold a place on the
 * socket, and they keep it while they serve (child.c). That is what makes
 * the pool cheap, and it would let the backlog wait behind a request that
 * blocks: a slow client, a handler waiting for a database. So the
 * maintenance thread (manager.c) looks at the place holders while any of
 * them runs a request: one that sleeps in the kernel (state S or D in
 * /proc), or has taken no request for 20 ms (a CPU-bound handler), is
 * blocked. While a connection waits, no holder waits in epoll_wait and
 * some are blocked, places are lent beyond the cap (shared->lent), and
 * the doorbell brings standby children to them; the loan is taken back a
 * place per look once a holder waits idle or none is blocked, and the
 * first child to finish its batch above the places stands by again.
 *
 * This is the thread pool's sentinel (pool/accept.c) for processes: its
 * rule, its figures, and the same /proc reading (ss__task_asleep), but in
 * the parent, which reads the scoreboard instead of the pool's counts.
 * The children pay nothing for it but a counter store per request.
 */
#include "strategies/preforking/prefork.h"

/* Looks further apart than this (the longest grace is 8 ms) mean the
 * sentinel slept in between. */
#define STALE_LOOK_US (50 * 1000)
/* Holders looked at per pass (the board may be larger; the cap is one per
 * two CPUs, and lent places are few). */
#define MAX_HOLDERS 64

typedef struct {
  pid_t pid;
  gint64 stuck_us;   /* since the sentinel last saw it idle or progressing */
} Holder;

/* The place holders running a request, and whether any made progress
 * since the last look; @waiting counts the ones waiting for a connection
 * (idle on the socket: from the board, so a child killed there is not
 * counted on). (lock) */
static guint
busy_holders_unlocked (SsPreforkingStrategy *self, gint64 now, Holder *out, gboolean *progress,
                       guint *waiting)
{
  /* After the sentinel slept (parked until a connection came), what it
   * saw last is old: a holder's first request would look stuck for the
   * whole quiet time. */
  gboolean stale = now - self->sentinel_last_look > STALE_LOOK_US;
  guint n = 0;

  self->sentinel_last_look = now;

  for (guint slot = 0; slot < self->n_slots; slot++)
    {
      SsPreforkChild *child = &self->children[slot];
      SsPreforkSlot *entry = &self->board[slot];
      guint64 taken;
      gboolean busy, on_socket;
      gint state;

      if (child->pid <= 0)
        continue;
      taken = __atomic_load_n (&entry->taken, __ATOMIC_RELAXED);
      state = __atomic_load_n (&entry->state, __ATOMIC_ACQUIRE);
      on_socket = __atomic_load_n (&entry->role, __ATOMIC_SEQ_CST) == SS_PREFORK_ROLE_SOCKET;
      busy = on_socket && state == SS_PREFORK_SLOT_BUSY;
      if (on_socket && state == SS_PREFORK_SLOT_IDLE)
        (*waiting)++;
      if (!busy || taken != child->seen_taken || child->seen_at == 0 || stale)
        {
          if (busy && taken != child->seen_taken)
            *progress = TRUE;
          child->seen_taken = taken;
          child->seen_at = now;
        }
      if (busy && n < MAX_HOLDERS)
        out[n++] = (Holder) { .pid = child->pid, .stuck_us = now - child->seen_at };
    }
  return n;
}

SsPreforkLook
ss__prefork_sentinel_look (SsPreforkingStrategy *self)
{
  SsPreforkShared *sh = self->shared;
  Holder holders[MAX_HOLDERS];
  gboolean progress = FALSE, stalled = FALSE;
  gint lent = __atomic_load_n (&sh->lent, __ATOMIC_SEQ_CST);
  gint blocked = 0, next, want, on_socket, standby;
  guint n, waiting = 0;

  pthread_mutex_lock (&self->lock);
  n = busy_holders_unlocked (self, g_get_monotonic_time (), holders, &progress, &waiting);
  pthread_mutex_unlock (&self->lock);

  standby = __atomic_load_n (&sh->standby, __ATOMIC_SEQ_CST);
  /* Uncapped (long requests), every idle child belongs on the socket: the
   * children rung when requests turned long (child.c, note_duration) are
   * on their way; one still standing by is rung again. */
  if (!ss__prefork_capped (sh))
    {
      __atomic_store_n (&sh->lent, 0, __ATOMIC_SEQ_CST);
      if (standby > 0)
        ss__prefork_ring (self->doorbell, (guint64) standby);
      return SS_PREFORK_LOOK_IDLE;
    }
  /* A connection waits and no holder waits for it: are the holders
   * blocked? While places are lent, whether they still are. */
  stalled = n > 0 && waiting == 0 && ss__prefork_listen_ready (ss_server_fileno (self->server));
  if (stalled || lent > 0)
    for (guint i = 0; i < n; i++)
      if (holders[i].stuck_us >= SS_STALL_RUNNING_US || ss__task_asleep (holders[i].pid, 0))
        blocked++;

  /* Lend one place more per look while the backlog stalls behind blocked
   * holders (at once as many as are blocked), and take one back per look
   * once a holder waits idle or none is blocked. Short blocking requests
   * (a handler that waits 50 us) so settle on the number of processes
   * that keeps the backlog moving, give or take one, instead of the loan
   * following each look's snapshot of who happens to sleep. */
  on_socket = __atomic_load_n (&sh->on_socket, __ATOMIC_SEQ_CST);
  if (stalled && blocked > 0)
    next = MAX (lent + 1, blocked);
  else if (waiting > 0 || blocked == 0)
    next = MAX (lent - 1, 0);
  else
    next = lent;
  /* Never more than the children there are to take the places (at
   * max_workers with every child busy, none). */
  next = MIN (next, MAX (lent, on_socket + standby - sh->accept_cap));
  __atomic_store_n (&sh->lent, next, __ATOMIC_SEQ_CST);
  if (next > lent)
    {
      pthread_mutex_lock (&self->lock);
      self->loans++;
      pthread_mutex_unlock (&self->lock);
    }
  if (!stalled || blocked == 0)
    return n > 0 ? (progress ? SS_PREFORK_LOOK_PROGRESS : SS_PREFORK_LOOK_BUSY)
                 : SS_PREFORK_LOOK_IDLE;

  /* Stalled behind blocked holders: ring a standby child to every free
   * place, the new ones and any a child left (killed, recycled) without
   * ringing, since it was not the last on the socket. Counted after the
   * loan is stored: a child going to stand by either is counted here or
   * sees the new places itself (child.c, wait_for_connection). */
  on_socket = __atomic_load_n (&sh->on_socket, __ATOMIC_SEQ_CST);
  standby = __atomic_load_n (&sh->standby, __ATOMIC_SEQ_CST);
  want = MIN (sh->accept_cap + next - on_socket, standby);
  if (want > 0)
    ss__prefork_ring (self->doorbell, (guint64) want);
  return SS_PREFORK_LOOK_STALLED;
}
