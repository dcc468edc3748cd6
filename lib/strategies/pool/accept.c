/* accept.c: accept mode -- the pool's workers take requests off the
 * listening socket themselves -- and the sentinel.
 *
 * From start_serving to stop_serving (that is, during serve_forever) idle
 * workers accept in turn. Each waits on the listening socket in its own
 * epoll set holding it with EPOLLEXCLUSIVE, so the kernel wakes one of
 * them per connection (no thundering herd) and no hand-off wake-up is
 * paid. A worker that wakes takes one verified request
 * (ss__server_take_request: get_request, then verify_request) and runs it
 * itself; only when the server's class overrides process_request does the
 * request go to ss_server_process_request instead, as Python would call
 * it (its super() hands the request to the pool's queue). When the last
 * idle worker becomes busy and fewer than max_workers exist, it spawns
 * one first (policy.c).
 *
 * The cap: while requests are short (policy.c), only accept_cap idle
 * workers (one per CPU) wait on the socket. With every idle worker there,
 * each connection woke a sleeping thread even when a busy one would be
 * free microseconds later; with the cap, workers that finish take the
 * next connection from the backlog, often without sleeping, as an epoll
 * server does (BENCHMARKS.md has the numbers).
 *
 * The sentinel: while capped, the other idle workers sleep on work_cond,
 * except one, the sentinel. It parks while a worker waits in epoll_wait
 * (on_socket; a worker inside accept or the hooks does not count, since a
 * user's verify_request may be slow). When none does, it polls the socket
 * (not exclusively, so it wakes with the next connection), and when a
 * connection has waited SENTINEL_GRACE_MS with no request taken by anyone
 * (every worker is inside a long request or hook), it accepts the
 * connection itself and a sleeping worker is woken to be the next
 * sentinel, which takes a still-pending connection at once: a backlog
 * waits at most about SENTINEL_GRACE_MS behind busy workers while idle
 * ones sleep, and a burst fans out at wake-up speed.
 *
 * Locks: in_accept counts a worker from the moment it decides to accept
 * until it no longer touches the listening socket, and have_sentinel
 * covers the sentinel likewise; stop_serving waits for both, so the
 * listening socket is never used after serve_forever returns. Nobody holds
 * the lock while waiting on the socket, accepting or in the hooks.
 */
#include "strategies/pool/pool.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

/* How long the sentinel lets a connection wait while every accepting
 * worker is busy before it accepts the connection itself. */
#define SENTINEL_GRACE_MS 1

void
ss__pool_watch_backlog_unlocked (SsThreadPool *pool)
{
  switch (ss__pool_backlog_watch (&pool->counts))
    {
    case SS_POOL_WATCH_UNPARK_SENTINEL:
      ss__pool_unpark_sentinel_unlocked (pool);
      break;
    case SS_POOL_WATCH_WAKE_SENTINEL:
      pool->counts.sentinel_wanted = TRUE;
      pthread_cond_signal (&pool->work_cond);
      break;
    case SS_POOL_WATCH_NOTHING:
      break;
    }
}

void
ss__pool_worker_close_epoll (PoolWorker *w)
{
  if (w->epfd >= 0)
    close (w->epfd);
  w->epfd = -1;
}

/* The worker's epoll set: the listening socket and the hand-off queue
 * shared exclusively, the parked connections and the stop signal for
 * everyone. */
static gboolean
ensure_epoll (PoolWorker *w, int listen_fd)
{
  struct epoll_event ev = { 0 };
  int epfd;

  if (w->epfd >= 0)
    return TRUE;
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return FALSE;
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.fd = listen_fd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
    goto fail;
  ev.data.fd = w->pool->queue_efd.read_fd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, w->pool->queue_efd.read_fd, &ev) < 0)
    goto fail;
  /* The kernel refuses EPOLLEXCLUSIVE on an epoll fd: every worker on the
   * socket (accept_cap of them while requests are short) sees a parked
   * client speak, the first claims it (park.c), the others find nothing
   * and wait again. */
  ev.events = EPOLLIN;
  ev.data.fd = w->pool->park_epfd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, w->pool->park_epfd, &ev) < 0)
    goto fail;
  ev.data.fd = w->pool->control_efd.read_fd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, w->pool->control_efd.read_fd, &ev) < 0)
    goto fail;
  w->epfd = epfd;
  return TRUE;

fail:
  close (epfd);
  return FALSE;
}

typedef enum {
  WORK_OTHER,      /* the queue or the stop signal: back to the worker loop */
  WORK_CONNECTION, /* the listening socket */
  WORK_PARKED,     /* a parked connection's client spoke */
} Work;

/* Blocks until the listening socket, a parked connection, the queue or
 * the stop signal is readable. A parked client goes first: it is further
 * into its conversation. Without an epoll set (out of fds) falls back to
 * poll, which wakes every idle worker. */
static Work
wait_for_work (PoolWorker *w, int listen_fd)
{
  SsThreadPool *pool = w->pool;
  gboolean connection = FALSE, parked = FALSE;

  if (ensure_epoll (w, listen_fd))
    {
      struct epoll_event ev[4];
      int n, i;

      do
        n = epoll_wait (w->epfd, ev, G_N_ELEMENTS (ev), -1);
      while (n < 0 && errno == EINTR);
      for (i = 0; i < n; i++)
        {
          connection |= ev[i].data.fd == listen_fd;
          parked |= ev[i].data.fd == pool->park_epfd;
        }
    }
  else
    {
      struct pollfd pfd[4] = {
        { .fd = listen_fd, .events = POLLIN },
        { .fd = pool->park_epfd, .events = POLLIN },
        { .fd = pool->queue_efd.read_fd, .events = POLLIN },
        { .fd = pool->control_efd.read_fd, .events = POLLIN },
      };

      while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
        ;
      connection = (pfd[0].revents & POLLIN) != 0;
      parked = (pfd[1].revents & POLLIN) != 0;
    }
  return parked ? WORK_PARKED : connection ? WORK_CONNECTION : WORK_OTHER;
}

SsRequest *
ss__pool_take_request (SsThreadPool *pool, SsServer *server)
{
  SsRequest *request = NULL;
  gboolean took = FALSE;
  double paused;

  if (ss__server_accept_paused_for (server) == 0)
    request = ss__server_take_request (server, &took);
  if (!took && (paused = ss__server_accept_paused_for (server)) > 0)
    {
      /* Out of fds: the socket stays readable, so wait out the core's
       * pause (or a stop) instead of spinning. */
      struct pollfd pfd = { .fd = pool->control_efd.read_fd, .events = POLLIN };

      poll (&pfd, 1, (int) (paused * 1000) + 1);
    }
  return request;
}

gboolean
ss__pool_take_accept_turn (SsThreadPool *pool, SsServer *server, PoolWorker *w)
{
  int listen_fd = ss_server_fileno (server);
  SsRequest *request = NULL;
  Work work;

  pool->counts.sentinel_wanted = FALSE;   /* we watch the socket now */
  pool->in_accept++;
  pool->counts.on_socket++;
  pthread_mutex_unlock (&pool->lock);

  work = wait_for_work (w, listen_fd);
  /* Out of epoll_wait: accept and the hooks (get_request, verify_request)
   * may take long, so the sentinel watches from now. */
  pthread_mutex_lock (&pool->lock);
  pool->counts.on_socket--;
  ss__pool_watch_backlog_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  if (work == WORK_CONNECTION)
    request = ss__pool_take_request (pool, server);
  else if (work == WORK_PARKED)
    request = ss__pool_claim_parked (pool);

  pthread_mutex_lock (&pool->lock);
  pool->in_accept--;
  ss__pool_notify_state_unlocked (pool);
  if (request == NULL)
    return FALSE;
  __atomic_add_fetch (&pool->accepts, 1, __ATOMIC_RELAXED);
  /* A parked request was processed when it came in: it goes on running. */
  ss__pool_run_request (pool, server, request,
                        work == WORK_CONNECTION && ss__server_overrides_process_request (server));
  return TRUE;
}

/* The sentinel's wait: until the listening socket is readable, then
 * SENTINEL_GRACE_MS more. Returns whether a connection is still pending
 * and the workers took none in the meantime (they are stuck in long
 * requests or slow hooks, not merely busy with short ones). With @chain
 * (the last sentinel just found them stuck) a connection pending right now
 * is enough, so a burst fans out at wake-up speed. FALSE also when
 * stopping or a request was queued. Called without the lock. */
static gboolean
backlog_stalled (SsThreadPool *pool, int listen_fd, gboolean chain)
{
  /* The backlog: new connections and parked clients that spoke. */
  struct pollfd pfd[4] = {
    { .fd = listen_fd, .events = POLLIN },
    { .fd = pool->park_epfd, .events = POLLIN },
    { .fd = pool->control_efd.read_fd, .events = POLLIN },
    { .fd = pool->queue_efd.read_fd, .events = POLLIN },
  };
  struct pollfd stop = { .fd = pool->control_efd.read_fd, .events = POLLIN };
  guint64 accepts;

  /* Chained: the backlog was stalled a moment ago; is it still? */
  if (chain && poll (pfd, G_N_ELEMENTS (pfd), 0) > 0 && !(pfd[2].revents | pfd[3].revents)
      && (pfd[0].revents | pfd[1].revents) & POLLIN)
    return TRUE;
  while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
    ;
  if (!((pfd[0].revents | pfd[1].revents) & POLLIN) || (pfd[2].revents | pfd[3].revents) & POLLIN)
    return FALSE;
  accepts = __atomic_load_n (&pool->accepts, __ATOMIC_RELAXED);
  if (poll (&stop, 1, SENTINEL_GRACE_MS) != 0)
    return FALSE;
  if (__atomic_load_n (&pool->accepts, __ATOMIC_RELAXED) != accepts)
    return FALSE;
  pfd[0].revents = pfd[1].revents = 0;
  return poll (pfd, 2, 0) > 0 && (pfd[0].revents | pfd[1].revents) & POLLIN;
}

gboolean
ss__pool_take_sentinel_turn (SsThreadPool *pool, SsServer *server)
{
  gboolean promote = FALSE;

  /* Set until we stop touching the listening socket (stop_serving). */
  pool->counts.have_sentinel = TRUE;
  pool->counts.sentinel_wanted = FALSE;
  while (!promote && ss__pool_sentinel_keeps_watching (&pool->counts))
    {
      gboolean chain = pool->stalled;
      gboolean stalled;

      if (pool->counts.on_socket > 0)
        {
          /* A worker waits on the socket and takes the next connection:
           * nothing to watch until it leaves (watch_backlog). */
          pool->sentinel_parked = TRUE;
          pthread_cond_wait (&pool->sentinel_cond, &pool->lock);
          pool->sentinel_parked = FALSE;
          continue;
        }
      pthread_mutex_unlock (&pool->lock);
      stalled = backlog_stalled (pool, ss_server_fileno (server), chain);
      pthread_mutex_lock (&pool->lock);
      promote = ss__pool_sentinel_promotes (&pool->counts, stalled);
      pool->stalled = promote;
    }
  pool->counts.have_sentinel = FALSE;
  ss__pool_notify_state_unlocked (pool);
  /* Promoted: our accept turn wakes a successor once we are off the socket. */
  if (!promote)
    ss__pool_watch_backlog_unlocked (pool);
  return promote;
}
