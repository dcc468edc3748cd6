/* park.c: parked connections -- requests waiting for their client without
 * a worker.
 *
 * A handler that finished one exchange parks its connection
 * (ss_server_park_request); when its run ends the request lands here
 * instead of being shut down. Apache's event MPM keeps such keep-alive
 * connections in its listener's poller; here the poller is one epoll set,
 * park_epfd, holding each parked socket with EPOLLONESHOT, and park_epfd
 * itself sits in every accepting worker's epoll set next to the listening
 * socket: a client that speaks again wakes the workers waiting there (the
 * kernel allows no EPOLLEXCLUSIVE on an epoll fd, but while requests are
 * short only accept_cap workers wait), the first claims its request and
 * runs it as it would run a new connection (accept.c), the others find
 * nothing and wait again. A burst of clients speaking at once fans out
 * the way a burst of connections does, the sentinel included.
 *
 * Each parked request sits in a slot of a table; the epoll event carries
 * the slot's index and generation, never a pointer. A worker holding an
 * event claims the slot only if the generation still matches, so a
 * request that timed out (or was closed when serving stopped) meanwhile,
 * and whose fd number may already belong to a new connection, is never
 * touched through a stale event. Timeouts are swept by the serving
 * thread's service_actions, at least every poll_interval.
 *
 * A worker claims in batches: one epoll_wait takes up to
 * SS_POOL_CLAIM_BATCH clients that spoke, the worker runs the first and
 * keeps the others in `ready`, a ring every accepting worker takes from
 * before it waits (accept.c), so that under load a request costs its
 * recv, its send and its re-arming, and a share of one epoll_wait. The
 * ring is seen by whoever waits too: when an acceptor sleeps on the
 * socket or the sentinel sleeps until a connection waits while the ring
 * fills, ready_efd (in their epoll set and poll) is set until the ring is
 * empty again, so a claimer stuck in a long request strands nobody: its
 * peers or the sentinel take the rest, as they would have taken them from
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

struct _SsPoolParkSlot {
  SsRequest *request;    /* NULL: free */
  gint64 deadline_us;    /* monotonic; G_MAXINT64: no timeout */
  guint32 generation;    /* bumped each time the slot is emptied */
  guint32 next_free;     /* free list, while free */
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

/* Empties slot @index and returns its request (lock held). */
static SsRequest *
slot_take_unlocked (SsThreadPool *pool, guint32 index)
{
  SsPoolParkSlot *slot = &pool->park_slots[index];
  SsRequest *request = slot->request;

  slot->request = NULL;
  slot->generation++;
  slot->next_free = pool->park_free;
  pool->park_free = index;
  pool->parked--;
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
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT };
  guint32 index;
  int errsv;

  pthread_mutex_lock (&pool->lock);
  if (!pool->counts.accepting || pool->counts.stopping)
    {
      /* Serving stopped since the handler asked: nobody would wake it. */
      pthread_mutex_unlock (&pool->lock);
      close_parked (pool, server, request);
      return;
    }
  index = slot_alloc_unlocked (pool);
  pool->park_slots[index].request = request;
  pool->park_slots[index].deadline_us =
    timeout < 0 ? G_MAXINT64 : g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  pool->parked++;
  ev.data.u64 = event_key (index, pool->park_slots[index].generation);
  /* Armed under the lock (epoll_ctl does not block), so that stopping,
   * which closes every parked request under it, never meets one half
   * parked. The slot is filled first: the event may fire at once. A
   * request parked before is still in the set, one-shot and disarmed. */
  if (epoll_ctl (pool->park_epfd, EPOLL_CTL_MOD, request->fd, &ev) == 0
      || (errno == ENOENT && epoll_ctl (pool->park_epfd, EPOLL_CTL_ADD, request->fd, &ev) == 0))
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

/* The request an event names, taken from its slot; NULL when the slot
 * was emptied since (timed out, closed) (lock held). */
static SsRequest *
event_take_unlocked (SsThreadPool *pool, guint64 key)
{
  guint32 index = (guint32) (key & G_MAXUINT32);
  guint32 generation = (guint32) (key >> 32);

  if (index < pool->park_cap && pool->park_slots[index].request != NULL
      && pool->park_slots[index].generation == generation)
    return slot_take_unlocked (pool, index);
  return NULL;
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
      SsRequest *taken = event_take_unlocked (pool, ev[i].data.u64);

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
      if (expired == NULL)
        expired = g_ptr_array_new ();
      g_ptr_array_add (expired, ready_pop_unlocked (pool));
    }
  for (i = 0; pool->parked > 0 && i < pool->park_cap; i++)
    if (pool->park_slots[i].request != NULL && pool->park_slots[i].deadline_us <= now)
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
