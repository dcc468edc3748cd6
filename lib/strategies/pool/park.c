/* park.c: parked connections -- requests waiting for their client without
 * a worker.
 *
 * A handler that finished one exchange parks its connection
 * (ss_server_park_request); when its run ends the request lands here
 * instead of being shut down. Apache's event MPM keeps such keep-alive
 * connections in its listener's poller; here the poller is one epoll set,
 * park_epfd, and park_epfd itself sits in every accepting worker's epoll
 * set next to the listening socket: a client that speaks again wakes the
 * workers waiting there (the kernel allows no EPOLLEXCLUSIVE on an epoll
 * fd, but while requests are short only accept_cap workers wait), the
 * first claims its request and runs it as it would run a new connection
 * (accept.c), the others find nothing and wait again. A burst of clients
 * speaking at once fans out the way a burst of connections does, the
 * sentinel included.
 *
 * A connection gets a slot of a table at its first park and keeps it, and
 * its registration in park_epfd, until its last run ends: the socket is
 * registered once (EPOLLET, not one-shot), so parking again costs no
 * system call. The epoll event carries the slot's index and generation,
 * never a pointer. A slot is PARKED (the connection waits for its client)
 * or RUNNING (claimed: in the ring or on a worker). An event that finds
 * its slot PARKED claims it; one that finds it RUNNING -- the client spoke
 * while a worker had the connection -- marks it `rearm`. Edge-triggered,
 * the registration reports only what arrives after the run's reads: so
 * the next park re-arms the socket with EPOLL_CTL_MOD, which reports at
 * once what is left unread, unless the run's last read came back short
 * (request->drained: the socket held no more then; a layer such as TLS
 * says so itself, when its own last read came back short and it holds
 * nothing read), nothing came while it ran and the
 * claim's event carried no EOF or error (which a short read leaves
 * behind). epoll_wait asks the socket again before it
 * reports, so bytes a run read itself wake nobody; but a worker that had
 * the report in hand as the run read them and parked claims the
 * connection with nothing to read: a resumed run asks the socket
 * (ss_rfile_worth_parking reads without waiting) and parks again. The
 * generation is bumped when the slot is emptied (timed out, closed when
 * serving stopped, or the run ended without parking: the pool's run path
 * frees it, after shutdown_request closed the fd and with it the
 * registration), so an event for an emptied slot, whose fd number may
 * already belong to a new connection, is never acted on. Timeouts are
 * swept by the serving thread's service_actions, at least every
 * poll_interval.
 *
 * A worker claims in batches: one epoll_wait takes up to
 * SS_POOL_CLAIM_BATCH clients that spoke, the worker runs the first and
 * keeps the others in `ready`, a ring every accepting worker takes from
 * before it waits (accept.c), so that under load a request costs its
 * recv, its send and a share of one epoll_wait. The ring is seen by
 * whoever waits too: when an acceptor sleeps on the socket or the
 * sentinel sleeps until a connection waits while the ring fills,
 * ready_efd (in their epoll set and poll) is set until the ring is empty
 * again, so a claimer stuck in a long request strands nobody: its peers
 * or the sentinel take the rest, as they would have taken them from
 * park_epfd.
 *
 * Locks: the slot table, `parked` and the ring are (lock). A request is
 * armed in park_epfd under the lock (epoll_ctl never blocks), so whoever
 * takes a slot under the lock owns the request whole; closing happens
 * without it.
 */
#include "strategies/pool/pool.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { SLOT_PARKED, SLOT_RUNNING };

struct _SsPoolParkSlot {
  SsRequest *request;    /* NULL: free */
  gint64 deadline_us;    /* monotonic; G_MAXINT64: no timeout (while PARKED) */
  guint32 generation;    /* bumped each time the slot is emptied */
  guint32 next_free;     /* free list, while free */
  guint32 runs;          /* claims so far (ss__pool_park_run_ended tells runs apart) */
  guint8 state;          /* SLOT_PARKED or SLOT_RUNNING, while used */
  gboolean rearm;        /* an event came while RUNNING, or the claim's said EOF or
                          * an error: re-arm at the next park */
};

#define NO_SLOT G_MAXUINT32

static guint64
event_key (guint32 index, guint32 generation)
{
  return ((guint64) generation << 32) | index;
}

gboolean
ss__pool_park_open (SsThreadPool *pool, GError **error)
{
  pool->ready_efd = (SsWakeFd) SS_WAKE_FD_INIT;
  pool->park_epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (pool->park_epfd < 0)
    {
      ss_set_error_from_errno (error, errno, "Thread pool: could not create the poller for parked "
                               "connections", "Raise the limit on open files (ulimit -n).");
      return FALSE;
    }
  pool->park_free = NO_SLOT;
  return ss__wake_fd_open (&pool->ready_efd, "Thread pool: could not create an eventfd", error);
}

void
ss__pool_park_close (SsThreadPool *pool)
{
  if (pool->park_epfd >= 0)
    close (pool->park_epfd);
  pool->park_epfd = -1;
  ss__wake_fd_close (&pool->ready_efd);
  g_free (pool->park_slots);
  pool->park_slots = NULL;
  pool->park_cap = 0;
}

static guint32
slot_alloc_unlocked (SsThreadPool *pool)
{
  guint32 index;

  if (pool->park_free == NO_SLOT)
    {
      guint32 old = pool->park_cap;
      guint32 cap = MAX (64u, old * 2);
      guint32 i;

      pool->park_slots = g_renew (SsPoolParkSlot, pool->park_slots, cap);
      for (i = old; i < cap; i++)
        pool->park_slots[i] = (SsPoolParkSlot) {
          .request = NULL, .generation = 0, .next_free = i + 1 < cap ? i + 1 : NO_SLOT,
        };
      pool->park_free = old;
      pool->park_cap = cap;
    }
  index = pool->park_free;
  pool->park_free = pool->park_slots[index].next_free;
  return index;
}

/* Empties slot @index (lock held): its events are stale from now. */
static void
slot_free_unlocked (SsThreadPool *pool, guint32 index)
{
  SsPoolParkSlot *slot = &pool->park_slots[index];

  slot->request = NULL;
  slot->generation++;
  slot->next_free = pool->park_free;
  pool->park_free = index;
}

/* The slot of a request that will not run again is emptied (lock held). */
static void
slot_release_unlocked (SsThreadPool *pool, SsRequest *request)
{
  if (request->park_slot == 0)
    return;
  slot_free_unlocked (pool, request->park_slot - 1);
  request->park_slot = 0;
}

/* Takes the request of PARKED slot @index out of the pool, to close it
 * (lock held). */
static SsRequest *
slot_take_unlocked (SsThreadPool *pool, guint32 index)
{
  SsRequest *request = pool->park_slots[index].request;

  pool->parked--;
  slot_release_unlocked (pool, request);
  return request;
}

gboolean
ss__pool_can_park (SsThreadPool *pool)
{
  gboolean can;

  pthread_mutex_lock (&pool->lock);
  can = pool->counts.accepting && !pool->counts.stopping && pool->park_epfd >= 0;
  pthread_mutex_unlock (&pool->lock);
  return can;
}

/* Shuts a request down that will not run again. Without the lock. */
static void
close_parked (SsThreadPool *pool, SsServer *server, SsRequest *request)
{
  (void) epoll_ctl (pool->park_epfd, EPOLL_CTL_DEL, request->fd, NULL);
  ss_server_shutdown_request (server, request);
  ss_request_free (request);
}

void
ss__pool_park (SsThreadPool *pool, SsServer *server, SsRequest *request, double timeout)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
  SsPoolParkSlot *slot;
  guint32 index;
  int op;
  int errsv;

  pthread_mutex_lock (&pool->lock);
  if (!pool->counts.accepting || pool->counts.stopping)
    {
      /* Serving stopped since the handler asked: nobody would wake it. */
      slot_release_unlocked (pool, request);
      pthread_mutex_unlock (&pool->lock);
      close_parked (pool, server, request);
      return;
    }
  if (request->park_slot != 0)
    {
      /* Parked before: still registered, reporting what arrives from now
       * on. What is there already is known to be nothing only when the
       * run's last read came back short and no event since (nor the
       * claim's EOF or error) was spent on the RUNNING slot; else MOD
       * re-arms it, reporting at once what the run left unread. */
      index = request->park_slot - 1;
      op = pool->park_slots[index].rearm || !request->drained ? EPOLL_CTL_MOD : 0;
    }
  else
    {
      index = slot_alloc_unlocked (pool);
      pool->park_slots[index].request = request;
      pool->park_slots[index].runs = 0;
      request->park_slot = index + 1;
      op = EPOLL_CTL_ADD;
    }
  slot = &pool->park_slots[index];
  g_assert (slot->request == request);
  slot->state = SLOT_PARKED;
  slot->deadline_us =
    timeout < 0 ? G_MAXINT64 : g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  slot->rearm = FALSE;
  pool->parked++;
  if (op == 0)
    {
      pthread_mutex_unlock (&pool->lock);
      return;
    }
  ev.data.u64 = event_key (index, slot->generation);
  /* Armed under the lock (epoll_ctl does not block), so that stopping,
   * which closes every parked request under it, never meets one half
   * parked. The slot is filled first: the event may fire at once. A
   * socket that left the set on a re-arm (ENOENT: a handler put another
   * socket on its fd) or is in it already (EEXIST: a user's
   * shutdown_request kept an earlier connection's fd open) is registered
   * the other way. */
  if (epoll_ctl (pool->park_epfd, op, request->fd, &ev) == 0
      || (errno == (op == EPOLL_CTL_MOD ? ENOENT : EEXIST)
          && epoll_ctl (pool->park_epfd, op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
                        request->fd, &ev) == 0))
    {
      pthread_mutex_unlock (&pool->lock);
      return;
    }
  errsv = errno;
  slot_take_unlocked (pool, index);
  pthread_mutex_unlock (&pool->lock);

  {
    GError *error = NULL;

    ss_set_error_from_errno (&error, errsv, "Could not park the connection",
                             "Raise the limit on open files (ulimit -n).");
    ss_server_handle_error (server, request, error);
    g_error_free (error);
    close_parked (pool, server, request);
  }
}

void
ss__pool_park_run_ended_unlocked (SsThreadPool *pool, const SsPoolParkRun *run)
{
  SsPoolParkSlot *slot;

  if (run->slot == 0)
    return;
  slot = &pool->park_slots[run->slot - 1];
  /* Neither parked again (PARKED, or claimed again: runs moved on) nor
   * emptied meanwhile (the generation moved on): the run ended without
   * parking, and its request, shut down, is gone. */
  if (slot->request != NULL && slot->generation == run->generation
      && slot->state == SLOT_RUNNING && slot->runs == run->runs)
    slot_free_unlocked (pool, run->slot - 1);
}

void
ss__pool_park_run_starts_unlocked (SsThreadPool *pool, const SsRequest *request,
                                   SsPoolParkRun *run)
{
  run->slot = request->park_slot;
  if (run->slot == 0)
    return;
  run->generation = pool->park_slots[run->slot - 1].generation;
  run->runs = pool->park_slots[run->slot - 1].runs;
}

/* The request an event names, taken from its slot; NULL when the slot
 * was emptied since (timed out, closed) or is running (lock held). */
static SsRequest *
event_take_unlocked (SsThreadPool *pool, const struct epoll_event *ev)
{
  guint32 index = (guint32) (ev->data.u64 & G_MAXUINT32);
  guint32 generation = (guint32) (ev->data.u64 >> 32);
  SsPoolParkSlot *slot;

  if (index >= pool->park_cap)
    return NULL;
  slot = &pool->park_slots[index];
  if (slot->request == NULL || slot->generation != generation)
    return NULL;
  if (slot->state == SLOT_RUNNING)
    {
      /* Its worker may have read it already; the next park asks. */
      slot->rearm = TRUE;
      return NULL;
    }
  slot->state = SLOT_RUNNING;
  slot->runs++;
  /* EOF or an error came with the bytes: a short read leaves it behind,
   * and it will not be reported again unless re-armed. */
  slot->rearm = (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  pool->parked--;
  return slot->request;
}

static SsRequest *
ready_pop_unlocked (SsThreadPool *pool)
{
  SsRequest *request;

  if (pool->ready_len == 0)
    return NULL;
  request = pool->ready[pool->ready_head];
  pool->ready_head = (pool->ready_head + 1) % SS_POOL_CLAIM_BATCH;
  pool->ready_len--;
  if (pool->ready_len == 0 && pool->ready_nudged)
    {
      ss__wake_fd_clear (&pool->ready_efd);
      pool->ready_nudged = FALSE;
    }
  return request;
}

static void
ready_push_unlocked (SsThreadPool *pool, SsRequest *request)
{
  g_assert (pool->ready_len < SS_POOL_CLAIM_BATCH);
  pool->ready[(pool->ready_head + pool->ready_len) % SS_POOL_CLAIM_BATCH] = request;
  pool->ready_len++;
}

void
ss__pool_ready_nudge_unlocked (SsThreadPool *pool)
{
  if (pool->ready_len > 0 && !pool->ready_nudged
      && (pool->counts.on_socket > 0 || pool->sentinel_polling))
    {
      ss__wake_fd_set (&pool->ready_efd);
      pool->ready_nudged = TRUE;
    }
}

SsRequest *
ss__pool_claim_parked (SsThreadPool *pool)
{
  struct epoll_event ev[SS_POOL_CLAIM_BATCH];
  SsRequest *request;
  gboolean batch;
  int n, i;

  pthread_mutex_lock (&pool->lock);
  request = ready_pop_unlocked (pool);
  if (request != NULL)
    {
      pthread_mutex_unlock (&pool->lock);
      return request;
    }
  /* One batch at a time, into the empty ring: it never overflows. A
   * worker claiming beside the batch takes one event for itself. */
  batch = !pool->claiming;
  pool->claiming = TRUE;
  pthread_mutex_unlock (&pool->lock);

  do
    n = epoll_wait (pool->park_epfd, ev, batch ? SS_POOL_CLAIM_BATCH : 1, 0);
  while (n < 0 && errno == EINTR);

  pthread_mutex_lock (&pool->lock);
  if (batch)
    pool->claiming = FALSE;
  for (i = 0; i < n; i++)
    {
      SsRequest *taken = event_take_unlocked (pool, &ev[i]);

      if (taken == NULL)
        continue;
      if (request == NULL)
        request = taken;
      else
        ready_push_unlocked (pool, taken);
    }
  ss__pool_ready_nudge_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
  return request;  /* NULL: another worker took it first */
}

/* Takes every parked request whose deadline is before @now (all with
 * G_MAXINT64), then shuts them down. */
static void
close_expired (SsThreadPool *pool, SsServer *server, gint64 now)
{
  GPtrArray *expired = NULL;
  guint32 i;

  pthread_mutex_lock (&pool->lock);
  /* Stopping: the clients that spoke but were not run yet go too. */
  while (now == G_MAXINT64 && pool->ready_len > 0)
    {
      SsRequest *request = ready_pop_unlocked (pool);

      if (expired == NULL)
        expired = g_ptr_array_new ();
      slot_release_unlocked (pool, request);
      g_ptr_array_add (expired, request);
    }
  for (i = 0; pool->parked > 0 && i < pool->park_cap; i++)
    if (pool->park_slots[i].request != NULL && pool->park_slots[i].state == SLOT_PARKED
        && pool->park_slots[i].deadline_us <= now)
      {
        if (expired == NULL)
          expired = g_ptr_array_new ();
        g_ptr_array_add (expired, slot_take_unlocked (pool, i));
      }
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; expired != NULL && i < expired->len; i++)
    close_parked (pool, server, g_ptr_array_index (expired, i));
  if (expired != NULL)
    g_ptr_array_free (expired, TRUE);
}

void
ss__pool_park_sweep (SsThreadPool *pool, SsServer *server)
{
  close_expired (pool, server, g_get_monotonic_time ());
}

void
ss__pool_park_close_all (SsThreadPool *pool, SsServer *server)
{
  close_expired (pool, server, G_MAXINT64);
}
