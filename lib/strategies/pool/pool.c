/* threadpool.c: the dynamic thread pool (the 2008 ThreadPoolingMixIn), its races fixed.
 *
 * The pool keeps the post's policy -- min_workers, max_workers,
 * min_spare_workers; grow when more than 3 requests wait; after a request
 * retire while more than min_spare_workers are idle -- and fixes its
 * defects: a worker is counted when it is spawned (so bursts cannot
 * overshoot max_workers), the pool never falls below min_workers, a request
 * never waits in the queue while fewer than max_workers exist and no worker
 * is idle (a connection in the backlog, see the sentinel below), and
 * server_close joins every worker. One pthread mutex covers the queue, every
 * counter, the flags and the list of worker handles, which is what makes
 * those rules exact (the post used two locks and raced).
 *
 * Requests reach a worker in one of two ways:
 *
 *  - accept mode (start_serving .. stop_serving, i.e. during serve_forever):
 *    idle workers accept themselves. Up to accept_cap of them (one per
 *    CPU) wait on the listening socket, each in its own epoll set holding
 *    it with EPOLLEXCLUSIVE, so the kernel wakes one of them per
 *    connection (no thundering herd) and no hand-off wake-up. The worker
 *    calls ss_server_handle_pending (server, 1), so get_request,
 *    verify_request and a user's process_request all still run; our
 *    process_request sees it is on a worker inside that call (a
 *    thread-local) and hands the request back to the worker, which runs it
 *    once handle_pending returns. When the last idle worker becomes busy
 *    and fewer than max_workers exist, it spawns one first.
 *
 *    Why a cap: with every idle worker on the socket, each connection woke
 *    a sleeping thread even when a busy one would be free microseconds
 *    later; with one waiter per CPU, workers that finish take the next
 *    connection from the backlog, often without sleeping, as an epoll
 *    server does (BENCHMARKS.md has the numbers). The cap holds only while
 *    requests are short (a moving average under SHORT_REQUEST_US): against
 *    longer ones a wake-up costs nothing that matters, and handlers that
 *    wait on I/O need every idle worker accepting, so then all do.
 *
 *    While capped, the other idle workers sleep on work_cond, except one,
 *    the sentinel. It parks while a worker waits in epoll_wait (on_socket;
 *    a worker inside accept or the hooks does not count, since a user's
 *    verify_request may be slow). When none does, it polls the socket
 *    (not exclusively, so it wakes with the next connection), and when a
 *    connection has waited SENTINEL_GRACE_MS with no request taken by
 *    anyone (every worker is inside a long request or hook), it accepts
 *    the connection itself and a sleeping worker is woken to be the next
 *    sentinel, which takes a still-pending connection at once: a backlog
 *    waits at most about SENTINEL_GRACE_MS behind busy workers while idle
 *    ones sleep, and a burst fans out at wake-up speed.
 *
 *  - hand-off (handle_request, a direct process_request, or a call from a
 *    non-worker thread during serve_forever): the request goes into a ring
 *    buffer (no allocation per request) and one waiting worker is signalled;
 *    the condvar is signalled only when a worker waits on it.
 *
 * Retired workers mark themselves exited; their threads are joined by the
 * serving thread (service_actions), by the next spawn, or at server_close,
 * so no thread is ever left unjoined and no list grows with requests.
 */
#include "strategies/strategy-private.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Workers run arbitrary handlers, so they get more stack than the threading
 * strategy's per-request threads, but far less than glibc's 8 MiB default
 * so that 200 of them stay cheap. Sanitizers need more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WORKER_STACK_SIZE (4u * 1024 * 1024)
#else
#define WORKER_STACK_SIZE (1024u * 1024)
#endif

/* How long the sentinel lets a connection wait while every accepting
 * worker is busy before it accepts the connection itself. */
#define SENTINEL_GRACE_MS 1

/* Requests shorter than this on average make the pool cap the workers
 * waiting on the socket; a wake-up (a few microseconds) only matters
 * against requests this short, and longer ones are mostly waiting. */
#define SHORT_REQUEST_US 500

typedef struct _SsThreadPool SsThreadPool;
typedef struct _PoolWorker PoolWorker;

struct _PoolWorker {
  SsThreadPool *pool;
  pthread_t thread;   /* written by pthread_create; read by joiners only once `joinable` */
  gboolean joinable;  /* (lock) `thread` is valid: the spawner registered it */
  gboolean exited;    /* (lock) the worker left its loop and touches nothing any more */
  /* Thread-private (only the worker itself touches these): */
  int epfd;           /* its epoll set for accept mode; -1 until first needed */
  gboolean in_pending;/* inside ss_server_handle_pending */
  SsRequest *stash;   /* the request our process_request handed back */
};

struct _SsThreadPool {
  SsStrategy parent;  /* base, first member */

  /* The one lock. It guards every field below marked (lock). It is never
   * held while user code (a handler, verify_request, handle_error) runs,
   * nor across thread creation or join. */
  pthread_mutex_t lock;
  /* Hand-off: a request was queued, the mode changed, or the pool stops.
   * Signalled only when `waiting` > 0. */
  pthread_cond_t work_cond;
  /* busy, queued, in_accept or pending_spawns fell, the sentinel left, or a worker exited.
   * Broadcast only when `state_waiters` > 0 (join, stop_serving, close). */
  pthread_cond_t state_cond;
  /* The sentinel parks here while an accepting worker is idle; signalled
   * when none is left, and on stop. */
  pthread_cond_t sentinel_cond;

  SsServer *server;            /* (lock) set by attach; one pool serves one server */
  guint min_workers;           /* (lock) */
  guint max_workers;           /* (lock) */
  guint min_spare_workers;     /* (lock) */
  gboolean block_on_close;     /* (lock) */

  SsRequest **ring;            /* (lock) the queue: ring buffer of ring_cap slots */
  guint ring_cap;              /* (lock) */
  guint ring_head;             /* (lock) index of the oldest queued request */
  guint queued;                /* (lock) requests in the ring */

  guint workers;               /* (lock) counted at spawn, uncounted at exit */
  guint busy;                  /* (lock) workers running a request */
  guint waiting;               /* (lock) workers blocked on work_cond */
  guint in_accept;             /* (lock) workers in epoll_wait or handle_pending */
  guint on_socket;             /* (lock) of those, the ones waiting in epoll_wait: idle
                                * acceptors (not inside get_request or the hooks) */
  guint accept_cap;            /* accept mode: idle workers that wait on the socket while
                                * requests are short (one per CPU) */
  gint64 request_us_avg;       /* (lock) moving average of a request's duration */
  gboolean have_sentinel;      /* (lock) one idle worker watches for a stalled backlog
                                * (and may touch the listening socket: stop_serving waits) */
  gboolean sentinel_wanted;    /* (lock) a waiting worker was woken to become the sentinel */
  gboolean sentinel_parked;    /* (lock) the sentinel waits on sentinel_cond */
  gboolean stalled;            /* (lock) the last sentinel found the accepting workers stuck */
  guint64 accepts;             /* (atomic; written under the lock) requests taken in accept mode */
  guint pending_spawns;        /* (lock) counted but not yet registered in `all` */
  guint exited_unjoined;       /* (lock) exited workers in `all` */
  guint state_waiters;         /* (lock) threads blocked on state_cond */
  guint64 spawned;             /* (lock) */
  guint64 retired;             /* (lock) */
  guint64 rejected;            /* (lock) dropped unprocessed (close without block_on_close) */
  gboolean started;            /* (lock) min_workers were spawned */
  gboolean accepting;          /* (lock) accept mode is on */
  gboolean stopping;           /* (lock) server_close: workers finish and exit */

  GPtrArray *all;              /* (lock) PoolWorker *: every registered, unjoined worker */

  /* Accept mode only. queue_efd is readable exactly while accepting and
   * queued > 0 (written/read under the lock at those transitions), so
   * workers in epoll see hand-offs. control_efd is readable while workers
   * must leave accept mode (stop_serving, server_close). */
  SsWakeFd queue_efd;
  SsWakeFd control_efd;
};

static const SsStrategyOps pool_ops;

/* The worker this thread is, if it is one (for process_request in accept mode). */
static __thread PoolWorker *current_worker;

gboolean
ss_is_thread_pool_strategy (const SsStrategy *strategy)
{
  return strategy != NULL && strategy->ops == &pool_ops;
}

/* ------------------------------------------------------------ small helpers */

/* Wakes state waiters. Call with the lock held after busy, queued,
 * in_accept or pending_spawns fell or a worker exited. */
static void
notify_state_unlocked (SsThreadPool *pool)
{
  if (pool->state_waiters > 0)
    pthread_cond_broadcast (&pool->state_cond);
}

static void
wait_state_unlocked (SsThreadPool *pool)
{
  pool->state_waiters++;
  pthread_cond_wait (&pool->state_cond, &pool->lock);
  pool->state_waiters--;
}

/* Wakes a parked sentinel to look at the pool again (no worker left on
 * the socket, a lifted cap, a queued request, stop). */
static void
unpark_sentinel_unlocked (SsThreadPool *pool)
{
  if (pool->sentinel_parked)
    pthread_cond_signal (&pool->sentinel_cond);
}

/* ------------------------------------------------------------ the queue (lock held) */

static void
queue_push_unlocked (SsThreadPool *pool, SsRequest *request)
{
  if (pool->queued == pool->ring_cap)
    {
      /* Grow by doubling and unwrap; amortised, not per request. */
      guint cap = MAX (16u, pool->ring_cap * 2);
      SsRequest **ring = g_new (SsRequest *, cap);
      guint i;

      for (i = 0; i < pool->queued; i++)
        ring[i] = pool->ring[(pool->ring_head + i) % pool->ring_cap];
      g_free (pool->ring);
      pool->ring = ring;
      pool->ring_cap = cap;
      pool->ring_head = 0;
    }
  pool->ring[(pool->ring_head + pool->queued) % pool->ring_cap] = request;
  pool->queued++;
  if (pool->queued == 1 && pool->accepting)
    ss__wake_fd_set (&pool->queue_efd);
  if (pool->waiting > 0)
    pthread_cond_signal (&pool->work_cond);
  unpark_sentinel_unlocked (pool);
}

static SsRequest *
queue_pop_unlocked (SsThreadPool *pool)
{
  SsRequest *request;

  if (pool->queued == 0)
    return NULL;
  request = pool->ring[pool->ring_head];
  pool->ring_head = (pool->ring_head + 1) % pool->ring_cap;
  pool->queued--;
  if (pool->queued == 0 && pool->accepting)
    ss__wake_fd_clear (&pool->queue_efd);
  notify_state_unlocked (pool);
  return request;
}

/* ------------------------------------------------------------ policy (lock held) */

/* Counts @n workers as spawned; the caller creates them after unlocking. */
static guint
count_spawn_unlocked (SsThreadPool *pool, guint n)
{
  pool->workers += n;
  pool->spawned += n;
  pool->pending_spawns += n;
  return n;
}

/* min_workers start on first use (start_serving or the first hand-off). */
static guint
start_unlocked (SsThreadPool *pool)
{
  if (pool->started || pool->stopping)
    return 0;
  pool->started = TRUE;
  return pool->workers < pool->min_workers
         ? count_spawn_unlocked (pool, pool->min_workers - pool->workers) : 0;
}

/* The growth rule, checked after every queueing and every time a worker
 * becomes busy: the post's (more than 3 waiting), plus the starvation fix
 * (more waiting than idle workers to take them; in accept mode, nobody left
 * idle to accept the next connection). Each event changes queued or idle by
 * one, so one new worker per check keeps "queued <= idle" below max. */
static guint
grow_unlocked (SsThreadPool *pool)
{
  guint idle;

  if (!pool->started || pool->stopping || pool->workers >= pool->max_workers)
    return 0;
  idle = pool->workers - pool->busy;
  if (pool->queued > SS_THREAD_POOL_GROW_THRESHOLD || pool->queued > idle ||
      (pool->accepting && idle == 0))
    return count_spawn_unlocked (pool, 1);
  return 0;
}

/* The post's retire rule, after a request; never below min_workers, and
 * not while requests wait (this worker takes the next one instead). */
static gboolean
should_retire_unlocked (SsThreadPool *pool)
{
  if (pool->queued > 0 || pool->stopping)
    return FALSE;
  if (pool->workers > pool->max_workers)   /* limits lowered while running */
    return TRUE;
  /* In accept mode the last idle worker stays, whatever min_spare says:
   * someone must be accepting (or, while capped, be the sentinel). */
  return pool->workers > pool->min_workers &&
         pool->workers - pool->busy > MAX (pool->min_spare_workers, pool->accepting ? 1u : 0u);
}

/* The retire rule for a worker with nothing to do, unless it was woken to
 * become the sentinel. */
static gboolean
idle_should_retire_unlocked (SsThreadPool *pool)
{
  return !pool->sentinel_wanted && should_retire_unlocked (pool);
}

/* Accept mode, after a worker left epoll_wait or the sentinel role: when
 * no worker waits on the socket any more, unparks the sentinel, or when
 * there is none wakes a waiting worker to become it. */
static void
watch_backlog_unlocked (SsThreadPool *pool)
{
  if (!pool->accepting || pool->stopping || pool->on_socket > 0)
    return;
  if (pool->have_sentinel)
    unpark_sentinel_unlocked (pool);
  else if (!pool->sentinel_wanted && pool->waiting > 0)
    {
      pool->sentinel_wanted = TRUE;
      pthread_cond_signal (&pool->work_cond);
    }
}

/* ------------------------------------------------------------ threads */

static void *worker_main (void *data);

/* Joins exited workers. Call without the lock. */
static void
reap_exited (SsThreadPool *pool)
{
  GPtrArray *done = NULL;
  guint i;

  pthread_mutex_lock (&pool->lock);
  for (i = 0; pool->exited_unjoined > 0 && i < pool->all->len;)
    {
      PoolWorker *w = g_ptr_array_index (pool->all, i);

      if (w->exited && w->joinable)
        {
          if (done == NULL)
            done = g_ptr_array_new ();
          g_ptr_array_add (done, w);
          g_ptr_array_remove_index_fast (pool->all, i);
          pool->exited_unjoined--;
        }
      else
        i++;
    }
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; done != NULL && i < done->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (done, i);

      pthread_join (w->thread, NULL);
      g_free (w);
    }
  if (done != NULL)
    g_ptr_array_free (done, TRUE);
}

/* Creates @n workers already counted by count_spawn_unlocked. Call without
 * the lock. A failure uncounts the worker and goes to handle_error. */
static guint
spawn_workers (SsThreadPool *pool, SsServer *server, guint n, GError **error)
{
  pthread_attr_t attr;
  guint failed = 0;
  guint i;

  if (n == 0)
    return 0;
  reap_exited (pool);
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, WORKER_STACK_SIZE);
  for (i = 0; i < n; i++)
    {
      PoolWorker *w = g_new0 (PoolWorker, 1);
      int err;

      w->pool = pool;
      w->epfd = -1;
      err = pthread_create (&w->thread, &attr, worker_main, w);

      pthread_mutex_lock (&pool->lock);
      if (err == 0)
        {
          w->joinable = TRUE;
          if (w->exited)
            pool->exited_unjoined++;
          g_ptr_array_add (pool->all, w);
        }
      else
        {
          pool->workers--;
          pool->spawned--;
        }
      pool->pending_spawns--;
      notify_state_unlocked (pool);
      pthread_mutex_unlock (&pool->lock);

      if (err != 0)
        {
          GError *local = NULL;

          g_free (w);
          ss_set_error_from_errno (&local, err, "Thread pool could not start a worker thread",
                                   "Lower max_workers or raise the limit on threads "
                                   "(ulimit -u, /proc/sys/kernel/threads-max).");
          if (failed == 0 && error != NULL)
            *error = g_error_copy (local);
          else if (server != NULL)
            ss_server_handle_error (server, NULL, local);
          g_error_free (local);
          failed++;
        }
    }
  pthread_attr_destroy (&attr);
  return failed;
}

/* spawn_workers for callers that only log failures. */
static void
spawn_or_log (SsThreadPool *pool, SsServer *server, guint n)
{
  GError *error = NULL;

  if (spawn_workers (pool, server, n, &error) > 0)
    {
      ss_server_handle_error (server, NULL, error);
      g_error_free (error);
    }
}

/* Runs @request on this worker. Called and returns with the lock held;
 * drops it around the request and any spawning. */
static void
run_request_unlocked (SsThreadPool *pool, SsServer *server, SsRequest *request)
{
  gboolean was_short;
  gint64 start;
  guint n;

  pool->busy++;
  n = grow_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  spawn_or_log (pool, server, n);
  start = g_get_monotonic_time ();
  ss_server_run_request (server, request);

  pthread_mutex_lock (&pool->lock);
  pool->busy--;
  /* An average over about the last 8 requests. */
  was_short = pool->request_us_avg < SHORT_REQUEST_US;
  pool->request_us_avg += (g_get_monotonic_time () - start - pool->request_us_avg) / 8;
  if (was_short && pool->request_us_avg >= SHORT_REQUEST_US && pool->accepting)
    {
      /* The cap is lifted: every idle worker accepts. */
      if (pool->waiting > 0)
        pthread_cond_broadcast (&pool->work_cond);
      unpark_sentinel_unlocked (pool);
    }
  notify_state_unlocked (pool);
}

/* How many idle workers wait on the socket in accept mode. */
static guint
accept_cap_unlocked (SsThreadPool *pool)
{
  return pool->request_us_avg < SHORT_REQUEST_US ? pool->accept_cap : G_MAXUINT;
}

/* The worker's epoll set: the listening socket shared exclusively, the
 * hand-off queue exclusively, the stop signal for everyone. */
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
  ev.events = EPOLLIN;
  ev.data.fd = w->pool->control_efd.read_fd;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, w->pool->control_efd.read_fd, &ev) < 0)
    goto fail;
  w->epfd = epfd;
  return TRUE;

fail:
  close (epfd);
  return FALSE;
}

/* Blocks until the listening socket, the queue or the stop signal is
 * readable; returns whether the listening socket is. Without an epoll set
 * (out of fds) falls back to poll, which wakes every idle worker. */
static gboolean
wait_for_work (PoolWorker *w, int listen_fd)
{
  SsThreadPool *pool = w->pool;

  if (ensure_epoll (w, listen_fd))
    {
      struct epoll_event ev[3];
      int n, i;

      do
        n = epoll_wait (w->epfd, ev, G_N_ELEMENTS (ev), -1);
      while (n < 0 && errno == EINTR);
      for (i = 0; i < n; i++)
        if (ev[i].data.fd == listen_fd)
          return TRUE;
      return FALSE;
    }
  else
    {
      struct pollfd pfd[3] = {
        { .fd = listen_fd, .events = POLLIN },
        { .fd = pool->queue_efd.read_fd, .events = POLLIN },
        { .fd = pool->control_efd.read_fd, .events = POLLIN },
      };

      while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
        ;
      return (pfd[0].revents & POLLIN) != 0;
    }
}

/* One turn of accept mode. Called and returns with the lock held. Returns
 * whether this worker ran a request. */
static gboolean
accept_turn_unlocked (SsThreadPool *pool, SsServer *server, PoolWorker *w)
{
  int listen_fd = ss_server_fileno (server);
  SsRequest *request;
  gboolean ready;

  /* in_accept counts us until we stop touching the listening socket;
   * stop_serving waits for it to reach 0. */
  pool->in_accept++;
  pool->on_socket++;
  pthread_mutex_unlock (&pool->lock);

  ready = wait_for_work (w, listen_fd);
  /* Out of epoll_wait: accept and the hooks (get_request, verify_request,
   * process_request) may take long, so the sentinel watches from now. */
  pthread_mutex_lock (&pool->lock);
  pool->on_socket--;
  watch_backlog_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  w->in_pending = TRUE;
  if (ready)
    {
      double paused;

      if (ss_server_handle_pending (server, 1) == 0 &&
          (paused = ss__server_accept_paused_for (server)) > 0)
        {
          /* Out of fds: the socket stays readable, so wait out the
           * core's pause (or a stop) instead of spinning. */
          struct pollfd pfd = { .fd = pool->control_efd.read_fd, .events = POLLIN };

          poll (&pfd, 1, (int) (paused * 1000) + 1);
        }
    }
  w->in_pending = FALSE;

  pthread_mutex_lock (&pool->lock);
  pool->in_accept--;
  notify_state_unlocked (pool);
  request = w->stash;
  w->stash = NULL;
  if (request == NULL)
    return FALSE;
  __atomic_add_fetch (&pool->accepts, 1, __ATOMIC_RELAXED);
  run_request_unlocked (pool, server, request);
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
  struct pollfd pfd[3] = {
    { .fd = listen_fd, .events = POLLIN },
    { .fd = pool->control_efd.read_fd, .events = POLLIN },
    { .fd = pool->queue_efd.read_fd, .events = POLLIN },
  };
  struct pollfd stop = { .fd = pool->control_efd.read_fd, .events = POLLIN };
  guint64 accepts;

  /* Chained: the backlog was stalled a moment ago; is it still? */
  if (chain && poll (pfd, G_N_ELEMENTS (pfd), 0) == 1 && pfd[0].revents == POLLIN)
    return TRUE;
  while (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0 && errno == EINTR)
    ;
  if (!(pfd[0].revents & POLLIN) || (pfd[1].revents | pfd[2].revents) & POLLIN)
    return FALSE;
  accepts = __atomic_load_n (&pool->accepts, __ATOMIC_RELAXED);
  if (poll (&stop, 1, SENTINEL_GRACE_MS) != 0)
    return FALSE;
  if (__atomic_load_n (&pool->accepts, __ATOMIC_RELAXED) != accepts)
    return FALSE;
  pfd[0].revents = 0;
  return poll (pfd, 1, 0) == 1 && (pfd[0].revents & POLLIN);
}

/* One turn as the sentinel (see the top of the file): an idle worker
 * beyond accept_cap that watches the listening socket without competing
 * for connections. Returns TRUE when it found the backlog stalled while
 * accept mode is on, and so becomes an accepting worker (the caller then
 * accepts); FALSE when accept mode ends, the pool stops, the cap is lifted
 * or a request was queued. Called and returns with the lock held. */
static gboolean
sentinel_turn_unlocked (SsThreadPool *pool, SsServer *server)
{
  gboolean promote = FALSE;

  /* Set until we stop touching the listening socket (stop_serving). */
  pool->have_sentinel = TRUE;
  pool->sentinel_wanted = FALSE;
  while (!promote && pool->accepting && !pool->stopping && pool->queued == 0 &&
         accept_cap_unlocked (pool) != G_MAXUINT)
    {
      gboolean chain = pool->stalled;
      gboolean stalled;

      if (pool->on_socket > 0)
        {
          /* A worker waits on the socket and takes the next connection:
           * nothing to watch until it leaves (watch_backlog_unlocked). */
          pool->sentinel_parked = TRUE;
          pthread_cond_wait (&pool->sentinel_cond, &pool->lock);
          pool->sentinel_parked = FALSE;
          continue;
        }
      pthread_mutex_unlock (&pool->lock);
      stalled = backlog_stalled (pool, ss_server_fileno (server), chain);
      pthread_mutex_lock (&pool->lock);
      promote = stalled && pool->on_socket == 0 && pool->accepting && !pool->stopping;
      pool->stalled = promote;
    }
  pool->have_sentinel = FALSE;
  notify_state_unlocked (pool);
  /* Promoted: our accept_turn wakes a successor once it is busy. */
  if (!promote)
    watch_backlog_unlocked (pool);
  return promote;
}

static void *
worker_main (void *data)
{
  PoolWorker *w = data;
  SsThreadPool *pool = w->pool;
  SsServer *server;

  current_worker = w;
  pthread_mutex_lock (&pool->lock);
  server = pool->server;
  for (;;)
    {
      SsRequest *request;

      /* With block_on_close the queue is drained before workers leave;
       * without it server_close has already emptied it. */
      if (pool->stopping && pool->queued == 0)
        break;
      request = queue_pop_unlocked (pool);
      if (request != NULL)
        {
          run_request_unlocked (pool, server, request);
          if (should_retire_unlocked (pool))
            break;
          continue;
        }
      if (pool->accepting)
        {
          /* While requests are short, accept_cap idle workers wait on the
           * socket, one more (the sentinel) watches for a stalled backlog
           * and the rest sleep here; otherwise every idle worker accepts. */
          guint cap = accept_cap_unlocked (pool);
          gboolean accept;

          if (cap != G_MAXUINT && !pool->have_sentinel &&
              (pool->sentinel_wanted || pool->on_socket >= cap))
            {
              accept = sentinel_turn_unlocked (pool, server);
              if (!accept)
                continue;
            }
          else
            accept = pool->on_socket < cap;
          if (accept)
            {
              pool->sentinel_wanted = FALSE;   /* we watch the socket now */
              if (accept_turn_unlocked (pool, server, w) && should_retire_unlocked (pool))
                break;
              continue;
            }
        }
      /* A worker that never ran a request (spawned for a burst that
       * others served) checks here: the retire chain below only reaches
       * workers already waiting. */
      if (idle_should_retire_unlocked (pool))
        break;
      pool->waiting++;
      pthread_cond_wait (&pool->work_cond, &pool->lock);
      pool->waiting--;
      /* Woken with nothing to do (a retiring worker found the pool still
       * above its spare count, see below; or start_serving, a lifted cap,
       * a wanted sentinel): retire if the policy says so. */
      if (idle_should_retire_unlocked (pool))
        break;
    }

  if (w->epfd >= 0)
    close (w->epfd);
  w->epfd = -1;
  pool->workers--;
  pool->retired++;
  /* Workers that never ran a request (spawned by the post's "more than 3
   * waiting" rule) never reach the retire check; when a retiring worker
   * leaves the pool still above min_spare idle, it passes the check on to
   * one waiting worker, which retires in turn until the surplus is gone. */
  if (pool->waiting > 0 && should_retire_unlocked (pool))
    pthread_cond_signal (&pool->work_cond);
  /* After this, a joiner may free `w` as soon as we unlock. */
  w->exited = TRUE;
  if (w->joinable)
    pool->exited_unjoined++;
  notify_state_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
  current_worker = NULL;
  return NULL;
}

/* ------------------------------------------------------------ strategy ops */

static void
pool_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  PoolWorker *w = current_worker;
  guint n;

  /* Accept mode: a worker's own handle_pending called us; hand the request
   * back so it runs on that worker, with no queue and no wake-up. */
  if (w != NULL && w->pool == pool && w->in_pending && w->stash == NULL)
    {
      w->stash = request;
      return;
    }

  pthread_mutex_lock (&pool->lock);
  if (pool->stopping)
    {
      pool->rejected++;
      pthread_mutex_unlock (&pool->lock);
      ss_server_shutdown_request (server, request);
      ss_request_free (request);
      return;
    }
  n = start_unlocked (pool);
  queue_push_unlocked (pool, request);
  n += grow_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);

  spawn_or_log (pool, server, n);
}

/* One pool serves one server: it learns which here. */
static void
pool_attach (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  pool->server = server;
  pthread_mutex_unlock (&pool->lock);
}

static gboolean
pool_start_serving (SsStrategy *strategy, SsServer *server, GError **error)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  GError *local = NULL;
  guint n;

  pthread_mutex_lock (&pool->lock);
  n = start_unlocked (pool);
  pool->accepting = TRUE;
  n += grow_unlocked (pool);   /* min_workers 0: still one to accept */
  if (pool->queued > 0)
    ss__wake_fd_set (&pool->queue_efd);
  /* Workers waiting for hand-offs switch to accepting. */
  pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);

  if (spawn_workers (pool, server, n, &local) == 0)
    return TRUE;

  pthread_mutex_lock (&pool->lock);
  if (pool->workers == 0)
    {
      /* Nobody would accept: abort serve_forever with the error. */
      pool->accepting = FALSE;
      ss__wake_fd_clear (&pool->queue_efd);
      pthread_mutex_unlock (&pool->lock);
      g_propagate_error (error, local);
      return FALSE;
    }
  pthread_mutex_unlock (&pool->lock);
  ss_server_handle_error (server, NULL, local);
  g_error_free (local);
  return TRUE;
}

/* Returns once no worker touches the listening socket: every worker in
 * accept mode leaves it through control_efd and counts itself out. */
static void
pool_stop_serving (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  pool->accepting = FALSE;
  unpark_sentinel_unlocked (pool);
  if (pool->in_accept > 0 || pool->have_sentinel)
    {
      ss__wake_fd_set (&pool->control_efd);
      while (pool->in_accept > 0 || pool->have_sentinel)
        wait_state_unlocked (pool);
    }
  /* The next serve_forever starts without a stale sentinel state. */
  pool->sentinel_wanted = FALSE;
  pool->stalled = FALSE;
  /* Nobody is in epoll now; re-arm for the next serve_forever. */
  ss__wake_fd_clear (&pool->control_efd);
  ss__wake_fd_clear (&pool->queue_efd);
  if (pool->queued > 0 && pool->waiting > 0)
    pthread_cond_broadcast (&pool->work_cond);
  pthread_mutex_unlock (&pool->lock);
  reap_exited (pool);
}

static void
pool_service_actions (SsStrategy *strategy, SsServer *server)
{
  reap_exited ((SsThreadPool *) strategy);
}

static void
pool_server_close (SsStrategy *strategy, SsServer *server)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  GPtrArray *dropped = g_ptr_array_new ();
  GPtrArray *workers;
  guint i;

  pthread_mutex_lock (&pool->lock);
  pool->stopping = TRUE;
  pool->accepting = FALSE;
  ss__wake_fd_set (&pool->control_efd);   /* stays set: workers in epoll leave and exit */
  unpark_sentinel_unlocked (pool);
  if (!pool->block_on_close)
    {
      SsRequest *request;

      while ((request = queue_pop_unlocked (pool)) != NULL)
        g_ptr_array_add (dropped, request);
      pool->rejected += dropped->len;
    }
  pthread_cond_broadcast (&pool->work_cond);
  /* Workers being created now must be registered before we take the list;
   * no new spawn is decided once `stopping` is set. */
  while (pool->pending_spawns > 0)
    wait_state_unlocked (pool);
  workers = pool->all;
  pool->all = g_ptr_array_new ();
  pool->exited_unjoined = 0;
  pthread_mutex_unlock (&pool->lock);

  for (i = 0; i < dropped->len; i++)
    {
      ss_server_shutdown_request (server, g_ptr_array_index (dropped, i));
      ss_request_free (g_ptr_array_index (dropped, i));
    }
  g_ptr_array_free (dropped, TRUE);

  for (i = 0; i < workers->len; i++)
    {
      PoolWorker *w = g_ptr_array_index (workers, i);

      if (w == current_worker)
        {
          /* server_close from a handler: we cannot join ourselves. */
          pthread_detach (w->thread);
          continue;
        }
      pthread_join (w->thread, NULL);
      g_free (w);
    }
  g_ptr_array_free (workers, TRUE);
}

static void
pool_get_stats (SsStrategy *strategy, SsServer *server, SsServerStats *stats)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  pthread_mutex_lock (&pool->lock);
  stats->workers = pool->workers;
  stats->busy = pool->busy;
  stats->idle = pool->workers - pool->busy;
  stats->queued = pool->queued;
  stats->spawned = pool->spawned;
  stats->retired = pool->retired;
  stats->rejected = pool->rejected;
  pthread_mutex_unlock (&pool->lock);
}

static void
pool_free (SsStrategy *strategy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  /* server_close (which ss_server_free runs first) joined every worker. */
  g_ptr_array_free (pool->all, TRUE);
  g_free (pool->ring);
  ss__wake_fd_close (&pool->queue_efd);
  ss__wake_fd_close (&pool->control_efd);
  pthread_cond_destroy (&pool->work_cond);
  pthread_cond_destroy (&pool->state_cond);
  pthread_cond_destroy (&pool->sentinel_cond);
  pthread_mutex_destroy (&pool->lock);
  g_free (pool);
}

static const SsStrategyOps pool_ops = {
  .name = "threadpooling",
  .attach = pool_attach,
  .process_request = pool_process_request,
  .service_actions = pool_service_actions,
  .handle_timeout = NULL,
  .server_close = pool_server_close,
  .start_serving = pool_start_serving,
  .stop_serving = pool_stop_serving,
  .get_stats = pool_get_stats,
  .free = pool_free,
};

/* ------------------------------------------------------------ public API */

static gboolean
check_limits (guint min_workers, guint max_workers, GError **error)
{
  if (max_workers == 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Thread pool: max_workers must be at least 1");
      return FALSE;
    }
  if (min_workers > max_workers)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Thread pool: min_workers (%u) is larger than max_workers (%u); "
                   "lower min_workers or raise max_workers", min_workers, max_workers);
      return FALSE;
    }
  return TRUE;
}

SsStrategy *
ss_thread_pool_strategy_new (guint min_workers, guint max_workers,
                             guint min_spare_workers, GError **error)
{
  SsWakeFd queue_efd = SS_WAKE_FD_INIT;
  SsWakeFd control_efd = SS_WAKE_FD_INIT;
  SsThreadPool *pool;

  if (!check_limits (min_workers, max_workers, error))
    return NULL;
  if (!ss__wake_fd_open (&queue_efd, "Thread pool: could not create an eventfd", error)
      || !ss__wake_fd_open (&control_efd, "Thread pool: could not create an eventfd", error))
    {
      ss__wake_fd_close (&queue_efd);
      return NULL;
    }

  pool = g_new0 (SsThreadPool, 1);
  pool->parent.ops = &pool_ops;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->work_cond, NULL);
  pthread_cond_init (&pool->state_cond, NULL);
  pthread_cond_init (&pool->sentinel_cond, NULL);
  pool->min_workers = min_workers;
  pool->max_workers = max_workers;
  pool->min_spare_workers = min_spare_workers;
  pool->block_on_close = TRUE;
  pool->accept_cap = (guint) MAX (1L, sysconf (_SC_NPROCESSORS_ONLN));
  pool->all = g_ptr_array_new ();
  pool->queue_efd = queue_efd;
  pool->control_efd = control_efd;
  return &pool->parent;
}

gboolean
ss_thread_pool_strategy_set_limits (SsStrategy *strategy, guint min_workers,
                                    guint max_workers, guint min_spare_workers,
                                    GError **error)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;
  SsServer *server;
  guint n = 0;

  g_return_val_if_fail (ss_is_thread_pool_strategy (strategy), FALSE);
  if (!check_limits (min_workers, max_workers, error))
    return FALSE;

  pthread_mutex_lock (&pool->lock);
  pool->min_workers = min_workers;
  pool->max_workers = max_workers;
  pool->min_spare_workers = min_spare_workers;
  /* Raised while running: never below min_workers. (Lowered: workers
   * above max retire after their next request.) */
  if (pool->started && !pool->stopping && pool->workers < min_workers)
    n = count_spawn_unlocked (pool, min_workers - pool->workers);
  server = pool->server;
  pthread_mutex_unlock (&pool->lock);

  spawn_or_log (pool, server, n);
  return TRUE;
}

void
ss_thread_pool_strategy_set_block_on_close (SsStrategy *strategy, gboolean block_on_close)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  pool->block_on_close = block_on_close;
  pthread_mutex_unlock (&pool->lock);
}

void
ss_thread_pool_strategy_join (SsStrategy *strategy)
{
  SsThreadPool *pool = (SsThreadPool *) strategy;

  g_return_if_fail (ss_is_thread_pool_strategy (strategy));
  pthread_mutex_lock (&pool->lock);
  while (pool->queued > 0 || pool->busy > 0)
    wait_state_unlocked (pool);
  pthread_mutex_unlock (&pool->lock);
}

gboolean
ss_server_init_thread_pool (SsServer *server, guint min_workers, guint max_workers,
                            guint min_spare_workers, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);

  if (!ss_is_thread_pool_strategy (server->strategy))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "init_thread_pool: the server's strategy is “%s”, not “threadpooling”; "
                   "create the server with ss_thread_pool_strategy_new() or a "
                   "ThreadPooling constructor", ss_strategy_name (server->strategy));
      return FALSE;
    }
  return ss_thread_pool_strategy_set_limits (server->strategy, min_workers, max_workers,
                                             min_spare_workers, error);
}
