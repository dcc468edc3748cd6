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
 * workers (one per two CPUs) accept, and a worker that has just run a
 * request tries the next accept before it waits in epoll_wait. A worker
 * that finishes then takes the next connection from the backlog without
 * sleeping, as a sync server or an epoll server does, and the others
 * sleep. With every idle worker on the socket, each connection woke a
 * sleeping thread even when a busy one would be free microseconds later;
 * with one per CPU on two CPUs, the two accepting workers still took turns
 * waking each other and shared the lock (BENCHMARKS.md has the numbers).
 * But when the acceptors never wait -- keep-alive clients that speak again
 * as soon as they are answered keep a backlog -- the cap leaves CPUs
 * idle: then the sentinel boosts it, one place at a time up to one per
 * CPU, after SS_POOL_BOOST_US of acceptors that took request after
 * request without waiting on the socket, and an acceptor gives a boosted
 * place back once the acceptors wait again in more than a quarter of
 * their turns, or for SS_POOL_BOOST_IDLE_US in one (policy.c). Each boost
 * is a trial the next sentinel judges (judge_boost): the other CPU may be
 * the one the clients need, and a place that does not bring 5 % more
 * requests per second within 0.1 s goes back, with no new trial for a
 * second, then two, up to 16 while trials keep failing.
 *
 * The sentinel: while capped, the idle workers without a place sleep on
 * work_cond, except one, the sentinel, which brings another thread in
 * when a request blocks. It looks at the pool after a grace
 * (SS_SENTINEL_GRACE_MS, doubling up to SS_SENTINEL_MAX_GRACE_MS while requests
 * keep being taken; it is not woken per request, which cost more than the
 * requests). When a connection waits and no worker waits in epoll_wait,
 * it reads the acceptors' states from /proc: all asleep in the kernel (a
 * blocked send, a slow verify_request, a handler waiting for a database)
 * means stalled, even if they took requests since the last look (else
 * short blocking requests would be served one at a time), and the
 * sentinel accepts the connection itself, taking one place more than the
 * cap; a sleeping worker is woken to be the next sentinel, which looks at
 * once, so a burst of blocking requests fans out at wake-up speed. Acceptors that run (or, on
 * a loaded machine, wait for a CPU) are not helped by one more runnable
 * thread; only after SS_POOL_STALL_RUNNING_US does the sentinel help them
 * anyway (policy.c). So a backlog waits behind a blocked request a few
 * milliseconds at most while idle workers sleep. When nothing waits, the
 * sentinel sleeps in poll until a connection does; after about a second
 * of an idle pool it parks until a worker leaves the socket.
 *
 * Locks: in_accept counts a worker from the moment it decides to accept
 * until it no longer touches the listening socket, and have_sentinel
 * covers the sentinel likewise; stop_serving waits for both, so the
 * listening socket is never used after serve_forever returns. Nobody holds
 * the lock while waiting on the socket, accepting or in the hooks.
 */
#include "strategies/pool/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* The sentinel's grace and idle looks (SS_SENTINEL_*) are in
 * strategy-private.h, shared with the process pool's. Here an idle look
 * finds a worker idle on the socket, and the parked sentinel waits until
 * one leaves it. */

void
ss__pool_watch_backlog_unlocked (SsThreadPool *pool)
{
  switch (ss__pool_backlog_watch (&pool->counts))
    {
    case SS_POOL_WATCH_UNPARK_SENTINEL:
      /* Only a sentinel parked for good: one timing a grace looks anyway. */
      if (pool->sentinel_parked == SS_POOL_SENTINEL_PARKED)
        pthread_cond_signal (&pool->sentinel_cond);
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
ss__pool_give_up_place_unlocked (SsThreadPool *pool, PoolWorker *w)
{
  if (!w->acceptor)
    return;
  w->acceptor = FALSE;
  pool->counts.acceptors--;
  if (!ss__pool_place_to_fill (&pool->counts))
    return;
  /* A parked sentinel leaves watching and takes the place; else a
   * sleeping worker does. (A sentinel watching the socket takes it with
   * the next connection.) */
  if (pool->sentinel_parked != SS_POOL_SENTINEL_AWAKE)
    pthread_cond_signal (&pool->sentinel_cond);
  else if (pool->counts.waiting > 0)
    pthread_cond_signal (&pool->work_cond);
}

void
ss__pool_worker_close_epoll (PoolWorker *w)
{
  if (w->epfd >= 0)
    close (w->epfd);
  w->epfd = -1;
}

/* The worker's epoll set: the listening socket and the hand-off queue
 * shared exclusively, the parked connections, the ring of claimed parked
 * clients (park.c) and the stop signal for everyone. */
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
  /* The ring's flag is set once while it fills: exclusive, it would wake
   * one sleeping worker for every client in it. Every worker on the
   * socket sees it, as it sees park_epfd. */
  ev.data.fd = w->pool->ready_efd.read_fd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, w->pool->ready_efd.read_fd, &ev) < 0)
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
      struct epoll_event ev[5];
      int n, i;

      do
        n = epoll_wait (w->epfd, ev, G_N_ELEMENTS (ev), -1);
      while (n < 0 && errno == EINTR);
      for (i = 0; i < n; i++)
        {
          connection |= ev[i].data.fd == listen_fd;
          parked |= ev[i].data.fd == pool->park_epfd || ev[i].data.fd == pool->ready_efd.read_fd;
        }
    }
  else
    {
      struct pollfd pfd[5] = {
        { .fd = listen_fd, .events = POLLIN },
        { .fd = pool->park_epfd, .events = POLLIN },
        { .fd = pool->ready_efd.read_fd, .events = POLLIN },
        { .fd = pool->queue_efd.read_fd, .events = POLLIN },
        { .fd = pool->control_efd.read_fd, .events = POLLIN },
      };

      while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
        ;
      connection = (pfd[0].revents & POLLIN) != 0;
      parked = ((pfd[1].revents | pfd[2].revents) & POLLIN) != 0;
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

static void judge_boost (SsThreadPool *pool);

gboolean
ss__pool_take_accept_turn (SsThreadPool *pool, SsServer *server, PoolWorker *w)
{
  int listen_fd = ss_server_fileno (server);
  SsRequest *request = NULL;
  Work work = WORK_OTHER;
  gint64 waited_us = -1;   /* how long it waited on the socket; -1: it did not */
  /* Its last turn took a connection, so the backlog may hold the next:
   * try it before sleeping, as a sync server's accept loop does. So does
   * any worker while clients claimed in a batch wait in the ring. */
  gboolean direct = w->took_last || pool->ready_len > 0;

  pool->counts.sentinel_wanted = FALSE;   /* we watch the socket now */
  if (!w->acceptor)
    {
      w->acceptor = TRUE;
      pool->counts.acceptors++;
    }
  pool->in_accept++;
  if (w->promoted)
    {
      /* A promoted sentinel takes the waiting connection without going
       * through epoll_wait: a successor watches from now. */
      w->promoted = FALSE;
      ss__pool_watch_backlog_unlocked (pool);
    }
  if (direct)
    {
      /* A parked client that spoke goes first, as in wait_for_work: a
       * steady backlog of new connections must not starve it. */
      work = pool->parked > 0 || pool->ready_len > 0 ? WORK_PARKED : WORK_CONNECTION;
      pthread_mutex_unlock (&pool->lock);
      request = work == WORK_PARKED ? ss__pool_claim_parked (pool) : NULL;
      if (request == NULL)
        {
          work = WORK_CONNECTION;
          request = ss__pool_take_request (pool, server);
        }
      if (request == NULL)
        pthread_mutex_lock (&pool->lock);
    }
  if (request == NULL)
    {
      gint64 wait_from;

      pool->counts.on_socket++;
      pool->socket_waits++;
      /* The ring filled since we looked: we see it through ready_efd. */
      ss__pool_ready_nudge_unlocked (pool);
      pthread_mutex_unlock (&pool->lock);
      wait_from = g_get_monotonic_time ();
      work = wait_for_work (w, listen_fd);
      waited_us = g_get_monotonic_time () - wait_from;
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
    }

  pthread_mutex_lock (&pool->lock);
  pool->in_accept--;
  ss__pool_notify_state_unlocked (pool);
  /* A boosted place goes back once acceptors wait again (policy.c); this
   * worker then holds one place too many and gives it up after its
   * request. */
  pool->counts.wait_share = ss__pool_next_wait_share (pool->counts.wait_share, waited_us >= 0);
  if (ss__pool_boost_given_back (&pool->counts, waited_us))
    pool->counts.accept_boost--;
  /* Judged here too: with every worker holding a place there is no
   * sentinel to judge it. */
  judge_boost (pool);
  /* Taken without waiting (the ring, or the backlog after a request):
   * we never left the socket through epoll_wait, so watch here that
   * someone is left watching what still waits: a batch behind a
   * blocked claimer fans out. */
  if (request != NULL && work == WORK_PARKED && pool->ready_len > 0)
    ss__pool_watch_backlog_unlocked (pool);
  w->took_last = request != NULL;
  if (request == NULL)
    return FALSE;
  __atomic_add_fetch (&pool->accepts, 1, __ATOMIC_RELAXED);
  /* A parked request was processed when it came in: it goes on running. */
  ss__pool_run_request (pool, server, request,
                        work == WORK_CONNECTION && ss__server_overrides_process_request (server));
  return TRUE;
}

/* Whether a connection waits on the listening socket or a parked client
 * spoke (FALSE too when the pool is told to stop or a request was queued). With @block, waits for
 * one. Called without the lock. */
static gboolean
connection_waits (SsThreadPool *pool, int listen_fd, gboolean block)
{
  /* The backlog: new connections and parked clients that spoke (in
   * park_epfd, or claimed into the ring). */
  struct pollfd pfd[5] = {
    { .fd = listen_fd, .events = POLLIN },
    { .fd = pool->park_epfd, .events = POLLIN },
    { .fd = pool->ready_efd.read_fd, .events = POLLIN },
    { .fd = pool->control_efd.read_fd, .events = POLLIN },
    { .fd = pool->queue_efd.read_fd, .events = POLLIN },
  };
  int n;

  do
    n = poll (pfd, G_N_ELEMENTS (pfd), block ? -1 : 0);
  while (n < 0 && errno == EINTR);
  return n > 0 && ((pfd[0].revents | pfd[1].revents | pfd[2].revents) & POLLIN)
         && !((pfd[3].revents | pfd[4].revents) & POLLIN);
}

/* Whether every worker holding an acceptor's place sleeps in the kernel.
 * Called with the lock held; drops it while reading /proc. */
static gboolean
acceptors_asleep (SsThreadPool *pool)
{
  pid_t tids[8];
  guint n = 0, i;
  gboolean asleep = TRUE;

  for (i = 0; i < pool->all->len && n < G_N_ELEMENTS (tids); i++)
    {
      PoolWorker *w = g_ptr_array_index (pool->all, i);

      if (w->acceptor && w->started)
        tids[n++] = w->tid;
    }
  pthread_mutex_unlock (&pool->lock);
  for (i = 0; asleep && i < n; i++)
    asleep = ss__task_asleep (0, tids[i]);
  pthread_mutex_lock (&pool->lock);
  return asleep;
}

/* The sentinel's grace: a timed wait on sentinel_cond, cut short by
 * ss__pool_unpark_sentinel_unlocked (stop, a queued request, a free place,
 * a lifted cap). Lock held; the wait drops it. */
static void
wait_a_grace (SsThreadPool *pool, int grace_ms)
{
  struct timespec deadline;

  clock_gettime (CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += grace_ms * 1000000L;
  if (deadline.tv_nsec >= 1000000000L)
    {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
  pool->sentinel_parked = SS_POOL_SENTINEL_TIMING;
  pthread_cond_timedwait (&pool->sentinel_cond, &pool->lock, &deadline);
  pool->sentinel_parked = SS_POOL_SENTINEL_AWAKE;
}

/* At each look while a boost's trial runs: keeps the place or gives it
 * back (policy.c). Lock held. */
static void
judge_boost (SsThreadPool *pool)
{
  SsPoolBoostTrial *t = &pool->boost_trial;
  SsPoolTrialVerdict verdict;
  gboolean given_back;
  gint64 now;

  if (t->started_us == 0)
    return;
  now = g_get_monotonic_time ();
  /* A place given back during the trial (the acceptors waited again):
   * it failed too, or the pool would open and close the place every few
   * grace periods. */
  given_back = pool->counts.accept_boost < t->boost;
  verdict = given_back ? SS_POOL_TRIAL_GIVE_BACK
                       : ss__pool_boost_trial_verdict (t, pool->accepts, now);
  switch (verdict)
    {
    case SS_POOL_TRIAL_PENDING:
      break;
    case SS_POOL_TRIAL_KEEP:
      t->started_us = 0;
      t->backoff_us = 0;
      break;
    case SS_POOL_TRIAL_GIVE_BACK:
      /* One acceptor holds a place too many now: it gives it up after
       * its request (policy.c's idle role). */
      if (!given_back)
        pool->counts.accept_boost--;
      t->started_us = 0;
      t->backoff_us = ss__pool_next_boost_backoff (t->backoff_us);
      t->retry_at_us = now + t->backoff_us;
      break;
    }
}

/* What the sentinel knows of saturation: since when every look found
 * requests taken and no acceptor having waited on the socket, and two
 * marks SS_POOL_BOOST_US / 2 or more apart, so that a boost's "before"
 * is the rate of its last part. Lock held for all three functions. */
typedef struct {
  gint64 since;
  guint64 waits;        /* pool->socket_waits then */
  gint64 mark_at, last_mark_at;
  guint64 mark_accepts, last_mark_accepts;
} Saturation;

static void
saturation_restart (Saturation *s, const SsThreadPool *pool, gint64 now)
{
  s->since = s->mark_at = s->last_mark_at = now;
  s->mark_accepts = s->last_mark_accepts = pool->accepts;
  s->waits = pool->socket_waits;
}

/* A look: it goes on while requests are taken and nobody waited. */
static void
saturation_look (Saturation *s, const SsThreadPool *pool, gboolean progress, gint64 now)
{
  if (!progress || pool->socket_waits != s->waits)
    saturation_restart (s, pool, now);
  else if (now - s->mark_at >= SS_POOL_BOOST_US / 2)
    {
      s->last_mark_at = s->mark_at;
      s->last_mark_accepts = s->mark_accepts;
      s->mark_at = now;
      s->mark_accepts = pool->accepts;
    }
}

/* The sentinel opens a place: its trial starts. */
static void
start_boost (SsThreadPool *pool, const Saturation *s)
{
  SsPoolBoostTrial *t = &pool->boost_trial;
  gint64 now = g_get_monotonic_time ();

  pool->counts.accept_boost++;
  t->boost = pool->counts.accept_boost;
  t->started_us = now;
  t->accepts_at = pool->accepts;
  t->rate_before = ss__pool_rate (pool->accepts - s->last_mark_accepts, now - s->last_mark_at);
}

gboolean
ss__pool_take_sentinel_turn (SsThreadPool *pool, SsServer *server)
{
  int listen_fd = ss_server_fileno (server);
  int grace_ms = SS_SENTINEL_GRACE_MS;
  guint idle_looks = 0;
  gboolean promote = FALSE, boost = FALSE, look_now;
  Saturation saturation;
  gint64 seen_at, now;
  guint64 seen;

  /* Set until we stop touching the listening socket (stop_serving). */
  pool->counts.have_sentinel = TRUE;
  pool->counts.sentinel_wanted = FALSE;
  /* The last sentinel found the backlog stalled a moment ago: look at
   * once, so a burst of blocking requests fans out at wake-up speed. */
  look_now = pool->stalled;
  seen = pool->accepts;
  seen_at = g_get_monotonic_time ();
  saturation_restart (&saturation, pool, seen_at);
  while (!promote && ss__pool_sentinel_keeps_watching (&pool->counts))
    {
      gboolean waits, stalled, progress;

      if (idle_looks >= SS_SENTINEL_IDLE_LOOKS && pool->counts.on_socket > 0)
        {
          /* Idle for a while: park until a worker leaves the socket
           * (watch_backlog), so that an idle server sleeps. */
          pool->sentinel_parked = SS_POOL_SENTINEL_PARKED;
          pthread_cond_wait (&pool->sentinel_cond, &pool->lock);
          pool->sentinel_parked = SS_POOL_SENTINEL_AWAKE;
          idle_looks = 0;
          grace_ms = SS_SENTINEL_GRACE_MS;
          seen = pool->accepts;
          seen_at = g_get_monotonic_time ();
          /* An idle pool was not saturated: the boost's clock starts anew. */
          saturation_restart (&saturation, pool, seen_at);
          continue;
        }
      /* Look after a grace. Not woken when a worker leaves the socket: a
       * wake-up per request cost more than the requests. */
      if (!look_now)
        wait_a_grace (pool, grace_ms);
      look_now = FALSE;
      now = g_get_monotonic_time ();
      progress = pool->accepts != seen;
      if (progress)
        {
          seen = pool->accepts;
          seen_at = now;
        }
      saturation_look (&saturation, pool, progress, now);
      judge_boost (pool);
      if (pool->counts.on_socket > 0)
        {
          /* A worker waits for the next connection: nothing waits. */
          idle_looks = progress ? 0 : idle_looks + 1;
          grace_ms = MIN (grace_ms * 2, SS_SENTINEL_MAX_GRACE_MS);
          continue;
        }
      idle_looks = 0;
      waits = pool->ready_len > 0;
      if (!waits)
        {
          pthread_mutex_unlock (&pool->lock);
          waits = connection_waits (pool, listen_fd, FALSE);
          pthread_mutex_lock (&pool->lock);
        }
      if (!waits && pool->ready_len == 0)
        {
          /* The acceptors are busy and nothing waits: sleep until a
           * connection does (or a claimer fills the ring: it sets
           * ready_efd for us), then give them a grace to take it. */
          pool->sentinel_polling = TRUE;
          pthread_mutex_unlock (&pool->lock);
          connection_waits (pool, listen_fd, TRUE);
          pthread_mutex_lock (&pool->lock);
          pool->sentinel_polling = FALSE;
          grace_ms = SS_SENTINEL_GRACE_MS;
          saturation_restart (&saturation, pool, g_get_monotonic_time ());
          continue;
        }
      /* A connection waits while every acceptor is inside a request or a
       * hook: help when they are blocked, even if they took requests
       * since the last look (short blocking requests would otherwise be
       * served one at a time), or when none was taken for long (policy.c). */
      stalled = ss__pool_backlog_stalled (acceptors_asleep (pool), g_get_monotonic_time () - seen_at);
      promote = ss__pool_sentinel_promotes (&pool->counts, stalled);
      /* Not stalled but never waiting: one CPU's worth behind. */
      if (!promote && ss__pool_boost_may_start (&pool->boost_trial, now)
          && ss__pool_sentinel_boosts (&pool->counts, now - saturation.since))
        promote = boost = TRUE;
      grace_ms = MIN (grace_ms * 2, SS_SENTINEL_MAX_GRACE_MS);
    }
  /* Only a stalled backlog makes the next sentinel look at once. */
  pool->stalled = promote && !boost;
  if (boost)
    start_boost (pool, &saturation);
  pool->counts.have_sentinel = FALSE;
  ss__pool_notify_state_unlocked (pool);
  /* Promoted: our accept turn wakes a successor. */
  if (!promote)
    ss__pool_watch_backlog_unlocked (pool);
  return promote;
}
