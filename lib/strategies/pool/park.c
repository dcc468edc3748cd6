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
 * Locks: the slot table and `parked` are (lock). A request is armed in
 * park_epfd under the lock (epoll_ctl never blocks), so whoever takes a
 * slot under the lock owns the request whole; closing happens without it.
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
  pool->park_epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (pool->park_epfd >= 0)
    {
      pool->park_free = NO_SLOT;
      return TRUE;
    }
  ss_set_error_from_errno (error, errno, "Thread pool: could not create the poller for parked "
                           "connections", "Raise the limit on open files (ulimit -n).");
  return FALSE;
}

void
ss__pool_park_close (SsThreadPool *pool)
{
  if (pool->park_epfd >= 0)
    close (pool->park_epfd);
  pool->park_epfd = -1;
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

SsRequest *
ss__pool_claim_parked (SsThreadPool *pool)
{
  struct epoll_event ev;
  SsRequest *request = NULL;
  guint32 index, generation;
  int n;

  do
    n = epoll_wait (pool->park_epfd, &ev, 1, 0);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return NULL;  /* another worker took it first */
  index = (guint32) (ev.data.u64 & G_MAXUINT32);
  generation = (guint32) (ev.data.u64 >> 32);

  pthread_mutex_lock (&pool->lock);
  if (index < pool->park_cap && pool->park_slots[index].request != NULL
      && pool->park_slots[index].generation == generation)
    request = slot_take_unlocked (pool, index);
  pthread_mutex_unlock (&pool->lock);
  return request;
}

/* Takes every parked request whose deadline is before @now (all with
 * G_MAXINT64), then shuts them down. */
static void
close_expired (SsThreadPool *pool, SsServer *server, gint64 now)
{
  GPtrArray *expired = NULL;
  guint32 i;

  pthread_mutex_lock (&pool->lock);
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
