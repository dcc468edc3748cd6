/* pool.h: the thread pool's private header, shared by the files of pool/.
 *
 *   pool.c     the worker loop, a request's run, the hand-off and the
 *              strategy ops
 *   api.c      the pool object's construction and the public API
 *   policy.c   the sizing rules (grow, retire, the accept cap, the
 *              sentinel's decisions, the queue's bound): pure functions
 *              over SsPoolCounts
 *   queue.c    the hand-off queue: a ring buffer of requests
 *   workers.c  the registry of worker threads: spawn, mark exited, reap, join
 *   accept.c   accept mode: workers taking requests off the listening
 *              socket themselves, and the sentinel
 *   overload.c max_queue applied: rejecting, and the thread that takes
 *              connections while every worker is busy (REJECT)
 *   park.c     parked connections: requests waiting for their client in
 *              one epoll set, without a worker
 *
 * The lock rule, for every file: one pthread mutex (SsThreadPool.lock)
 * guards every field marked (lock), the counts included. It is never held
 * while user code runs (a handler, verify_request, handle_error, a user's
 * process_request), nor across thread creation, join or a blocking wait on
 * a socket. Functions named `_unlocked` are called with the lock held and
 * never drop it; functions called with the lock held that drop it on the
 * way (to run a request, to wait on the socket) say so at their
 * declaration. Every other function is called without the lock.
 */
#pragma once

#include "strategies/strategy-private.h"

#include <pthread.h>
#include <sys/types.h>

typedef struct _SsThreadPool SsThreadPool;
typedef struct _PoolWorker PoolWorker;

/* ------------------------------------------------------------ policy.c */

/* What the sizing rules look at: the limits and the counts. A plain value
 * (no pointers, no lock inside) so that the rules can be tested without
 * threads; in the pool it is SsThreadPool.counts, every field (lock). */
typedef struct {
  guint min_workers;
  guint max_workers;
  guint min_spare_workers;
  guint accept_cap;        /* accept mode: idle workers accepting while requests are short */
  guint accept_max;        /* the cap with every boost: one per CPU */

  guint workers;           /* counted at spawn, uncounted at exit */
  guint busy;              /* workers running a request */
  guint queued;            /* requests in the hand-off queue */
  guint waiting;           /* workers asleep on work_cond */
  guint acceptors;         /* accept mode: workers holding an acceptor's place (accept_cap) */
  guint on_socket;         /* accept mode: workers waiting in epoll_wait */
  gint64 request_us_avg;   /* moving average of a request's duration */
  guint accept_boost;      /* places the sentinel added to accept_cap: the acceptors never waited */
  guint32 wait_share;      /* share of the last accept turns that waited on the socket
                            * (a moving average, SS_POOL_SHARE_ONE = all) */

  gboolean started;        /* min_workers were spawned (first hand-off or serve_forever) */
  gboolean accepting;      /* accept mode is on (serve_forever) */
  gboolean stopping;       /* server_close: workers finish and exit */
  gboolean have_sentinel;  /* an idle worker is the sentinel */
  gboolean sentinel_wanted;/* a sleeping worker was woken to become the sentinel */

  gboolean block_on_close; /* server_close lets queued requests run */
  guint max_queue;         /* the queue's bound for this server (0: none) */
  gboolean reject;         /* overload policy SS_OVERLOAD_REJECT (else BLOCK) */
} SsPoolCounts;

/* Requests shorter than this on average make the pool cap the workers
 * waiting on the socket (see accept.c). */
#define SS_POOL_SHORT_REQUEST_US SS_SHORT_REQUEST_US

/* Workers to spawn so that a started pool has min_workers (0 when it has,
 * when not started, or when stopping). */
guint ss__pool_missing_workers (const SsPoolCounts *c);
/* The growth rule: 1 when a worker must be added now, else 0. */
guint ss__pool_to_grow (const SsPoolCounts *c);
/* The retire rule, for a worker that has just finished a request. */
gboolean ss__pool_should_retire (const SsPoolCounts *c);
/* The retire rule for a worker with nothing to do. */
gboolean ss__pool_idle_should_retire (const SsPoolCounts *c);

/* How many idle workers wait on the socket in accept mode (G_MAXUINT:
 * all of them, no sentinel). */
guint ss__pool_accept_cap (const SsPoolCounts *c);
/* The moving average after a request of @us microseconds. */
gint64 ss__pool_next_request_avg (gint64 avg, gint64 us);
/* TRUE when the average crossing from @before to @after lifts the cap. */
gboolean ss__pool_cap_lifted (gint64 before, gint64 after);

/* What an idle worker does in accept mode. */
typedef enum {
  SS_POOL_ROLE_SLEEP,     /* wait on work_cond */
  SS_POOL_ROLE_ACCEPT,    /* wait on the socket and take the next request */
  SS_POOL_ROLE_SENTINEL,  /* watch for a backlog stalled behind busy workers */
} SsPoolRole;

/* @acceptor: the worker holds an acceptor's place now. ACCEPT means it
 * holds one (takes or keeps it); any other role, that it gives it up. */
SsPoolRole ss__pool_idle_role (const SsPoolCounts *c, gboolean acceptor);
/* After a worker gave its place up: does someone have to take it? */
gboolean ss__pool_place_to_fill (const SsPoolCounts *c);

/* After a worker left epoll_wait or the sentinel role. */
typedef enum {
  SS_POOL_WATCH_NOTHING,          /* a worker still waits on the socket */
  SS_POOL_WATCH_UNPARK_SENTINEL,  /* nobody waits on it: the sentinel looks */
  SS_POOL_WATCH_WAKE_SENTINEL,    /* nobody waits on it and there is no sentinel: wake one */
} SsPoolWatch;

SsPoolWatch ss__pool_backlog_watch (const SsPoolCounts *c);
/* The sentinel found a connection waiting and no request taken for a
 * grace. @asleep: every acceptor sleeps in the kernel (a blocked request
 * or hook); @stuck_us: how long no request has been taken. Is the backlog
 * stalled behind them? */
gboolean ss__pool_backlog_stalled (gboolean asleep, gint64 stuck_us);
/* How long acceptors that are running (or waiting for a CPU) may take no
 * request before the sentinel helps anyway. */
#define SS_POOL_STALL_RUNNING_US SS_STALL_RUNNING_US

/* The sentinel goes on watching (else it goes back to being a worker). */
gboolean ss__pool_sentinel_keeps_watching (const SsPoolCounts *c);
/* The sentinel found the backlog @stalled: does it accept itself? */
gboolean ss__pool_sentinel_promotes (const SsPoolCounts *c, gboolean stalled);

/* The sentinel saw the acceptors take request after request without
 * ever waiting on the socket for @saturated_us, a connection waiting at
 * every look: they are one CPU's worth of work behind. Does it take one
 * more place (accept_boost) to use another CPU? */
gboolean ss__pool_sentinel_boosts (const SsPoolCounts *c, gint64 saturated_us);
#define SS_POOL_BOOST_US (50 * 1000)
/* An acceptor's turn ended after it waited @waited_us on the socket (-1:
 * it took a request without waiting). Does the pool give one boosted
 * place back? */
gboolean ss__pool_boost_given_back (const SsPoolCounts *c, gint64 waited_us);
/* wait_share after one more turn, which @waited or not: an average over
 * about the last 64 turns. */
guint32 ss__pool_next_wait_share (guint32 share, gboolean waited);
#define SS_POOL_SHARE_ONE 65536u
/* Boosted acceptors that wait in more turns than this, or this long in
 * one, are more than the load needs. */
#define SS_POOL_BOOST_WAIT_SHARE (SS_POOL_SHARE_ONE / 4)
#define SS_POOL_BOOST_IDLE_US (10 * 1000)

/* A boost is a trial: the CPU a second acceptor would use may be the
 * one the clients need (a load generator on the same machine, other
 * programs), and then two acceptors only share the lock and serve less.
 * The sentinel compares the requests per second taken while saturated
 * before the boost with those over SS_POOL_BOOST_TRIAL_US after it: less
 * than SS_POOL_BOOST_GAIN_PCT more, and the place goes back and no boost
 * is tried for a while (from SS_POOL_BOOST_BACKOFF_US, doubling up to
 * SS_POOL_BOOST_MAX_BACKOFF_US while trials keep failing). */
typedef struct {
  gint64 started_us;   /* when the place was opened (monotonic); 0: no trial runs */
  guint boost;         /* counts.accept_boost with it (fewer: a place went back meanwhile) */
  guint64 accepts_at;  /* requests taken by then */
  gint64 rate_before;  /* requests per second while saturated before it */
  gint64 retry_at_us;  /* no boost before this */
  gint64 backoff_us;   /* the wait after the last failed trial (0: none failed) */
} SsPoolBoostTrial;

typedef enum {
  SS_POOL_TRIAL_PENDING,    /* no trial, or too early to say */
  SS_POOL_TRIAL_KEEP,       /* more requests per second: the place stays */
  SS_POOL_TRIAL_GIVE_BACK,  /* not enough more: the place goes back */
} SsPoolTrialVerdict;

#define SS_POOL_BOOST_TRIAL_US (100 * 1000)
#define SS_POOL_BOOST_GAIN_PCT 5
#define SS_POOL_BOOST_BACKOFF_US (1000 * 1000)
#define SS_POOL_BOOST_MAX_BACKOFF_US (16 * 1000 * 1000)

/* Requests per second: @n taken in @us (0 when @us is not positive). */
gint64 ss__pool_rate (guint64 n, gint64 us);
/* The sentinel may open a place at @now_us: no trial runs, none failed recently. */
gboolean ss__pool_boost_may_start (const SsPoolBoostTrial *t, gint64 now_us);
/* The trial's verdict at @now_us, @accepts requests having been taken in all. */
SsPoolTrialVerdict ss__pool_boost_trial_verdict (const SsPoolBoostTrial *t, guint64 accepts,
                                                 gint64 now_us);
/* The wait before the next boost after a failed trial. */
gint64 ss__pool_next_boost_backoff (gint64 backoff_us);

/* The queue holds max_queue requests (never, when unbounded). */
gboolean ss__pool_queue_full (const SsPoolCounts *c);
/* Every one of max_workers is busy: nobody would take another request. */
gboolean ss__pool_saturated (const SsPoolCounts *c);

/* What process_request does with a request handed to the pool. */
typedef enum {
  SS_POOL_HAND_OFF_QUEUE,   /* queue it */
  SS_POOL_HAND_OFF_WAIT,    /* BLOCK: wait for a free slot, then decide again */
  SS_POOL_HAND_OFF_REJECT,  /* shut it down unprocessed */
} SsPoolHandOff;

/* @from_worker: the caller is one of the pool's workers (a user's
 * process_request calling super()), which must never wait for a slot
 * that only workers can free. */
SsPoolHandOff ss__pool_hand_off (const SsPoolCounts *c, gboolean from_worker);

/* ------------------------------------------------------------ queue.c */

/* A ring buffer of requests; grows by doubling (amortised, not per
 * request). Knows nothing of locks: the pool holds its lock around it. */
typedef struct {
  SsRequest **ring;
  guint cap;
  guint head;   /* index of the oldest request */
  guint len;
} SsPoolQueue;

void ss__pool_queue_push (SsPoolQueue *queue, SsRequest *request);
/* The oldest request, or NULL when empty. */
SsRequest *ss__pool_queue_pop (SsPoolQueue *queue);
/* Frees the ring; the queue must be empty. */
void ss__pool_queue_clear (SsPoolQueue *queue);

/* ------------------------------------------------------------ workers.c */

struct _PoolWorker {
  SsThreadPool *pool;
  pthread_t thread;   /* written by pthread_create; read by joiners only once `joinable` */
  gboolean joinable;  /* (lock) `thread` is valid: pthread_create has returned */
  gboolean started;   /* (lock) the thread runs and `self` is set */
  pthread_t self;     /* (lock) the thread's own pthread_self(), once started */
  pid_t tid;          /* (lock) its kernel thread id, once started (the sentinel reads its state) */
  gboolean exited;    /* (lock) the worker left its loop and touches nothing any more */
  int epfd;           /* accept mode's epoll set (thread-private); -1 until first needed */
  gboolean took_last; /* (thread-private) its last accept turn took a request: the
                       * next one tries accept before epoll_wait */
  gboolean acceptor;  /* (lock) holds an acceptor's place (counts.acceptors) */
  gboolean promoted;  /* (thread-private) a sentinel turned acceptor: its accept turn
                       * wakes the next sentinel */
};

/* Counts @n workers as spawned (lock held); the caller creates them with
 * ss__pool_spawn after unlocking. Returns @n. */
guint ss__pool_count_spawn_unlocked (SsThreadPool *pool, guint n);
/* Creates @n workers already counted. A failure uncounts its worker; the
 * first one goes to @error, the others to handle_error. Returns how many
 * failed. Reaps nothing (an exiting worker spawns its replacement). */
guint ss__pool_spawn (SsThreadPool *pool, SsServer *server, guint n, GError **error);
/* Reaps exited workers, then ss__pool_spawn, logging failures to
 * handle_error. What every caller but an exiting worker uses. */
void ss__pool_spawn_or_log (SsThreadPool *pool, SsServer *server, guint n);
/* The worker leaves the pool (lock held): uncounted, and no longer
 * running the worker loop. */
void ss__pool_uncount_unlocked (SsThreadPool *pool, PoolWorker *w);
/* The worker's last act (lock held): mark it for joining. After this it
 * touches nothing of the pool. */
void ss__pool_mark_exited_unlocked (SsThreadPool *pool, PoolWorker *w);
/* Joins the workers that have exited. */
void ss__pool_reap (SsThreadPool *pool);
/* server_close and free: waits until every counted worker is registered,
 * then joins them all, except the calling thread when it is a worker (a
 * handler called server_close): that one stays registered for the next
 * call (pool_free). Called with `stopping` set, without the lock. */
void ss__pool_join_all (SsThreadPool *pool);
/* TRUE when the calling thread is one of the pool's registered workers. */
gboolean ss__pool_is_worker_thread_unlocked (SsThreadPool *pool);

/* The worker thread's entry point (pool.c). */
void *ss__pool_worker_main (void *data);

/* ------------------------------------------------------------ accept.c */

/* One turn of accept mode for worker @w: wait on the socket, take one
 * request, run it. Called with the lock held and returns with it held;
 * drops it while waiting, taking and running. Returns whether @w ran a
 * request. */
gboolean ss__pool_take_accept_turn (SsThreadPool *pool, SsServer *server, PoolWorker *w);
/* One turn as the sentinel. Called with the lock held and returns with it
 * held; drops it while watching the socket. Returns TRUE when the backlog
 * was stalled: the caller then takes an accept turn. */
gboolean ss__pool_take_sentinel_turn (SsThreadPool *pool, SsServer *server);
/* After a worker left epoll_wait or the sentinel role (lock held). */
void ss__pool_watch_backlog_unlocked (SsThreadPool *pool);
/* Gives @w's acceptor place up, if it holds one, and has it taken by
 * another worker when the places are not full (lock held). */
void ss__pool_give_up_place_unlocked (SsThreadPool *pool, PoolWorker *w);
/* Closes a worker's epoll set (when the worker exits). */
void ss__pool_worker_close_epoll (PoolWorker *w);
/* Takes one verified request off the socket (NULL: none, refused, or
 * failed; out of fds it waits out the core's accept pause first). Called
 * without the lock. */
SsRequest *ss__pool_take_request (SsThreadPool *pool, SsServer *server);

/* ------------------------------------------------------------ overload.c */

/* counts.max_queue for a server of that kind (lock held). */
void ss__pool_apply_max_queue_unlocked (SsThreadPool *pool, gboolean datagram);
/* Shuts @request down unprocessed, counted as rejected, logged at most
 * once a second. Called without the lock. */
void ss__pool_reject (SsThreadPool *pool, SsServer *server, SsRequest *request);
/* start_serving/stop_serving: the REJECT policy's thread that takes
 * connections while the pool is saturated. Called without the lock. */
void ss__pool_start_overload_watch (SsThreadPool *pool, SsServer *server);
void ss__pool_stop_overload_watch (SsThreadPool *pool);
/* After a worker became busy (lock held): wakes the overload thread when
 * the pool is now saturated. */
void ss__pool_note_busy_unlocked (SsThreadPool *pool);

/* ------------------------------------------------------------ park.c */

typedef struct _SsPoolParkSlot SsPoolParkSlot;

/* Parked clients that spoke taken by one epoll_wait at most. */
#define SS_POOL_CLAIM_BATCH 16

/* Makes the poller (pool creation) / frees it and the slots (pool free). */
gboolean ss__pool_park_open (SsThreadPool *pool, GError **error);
void ss__pool_park_close (SsThreadPool *pool);
/* Accept mode is on: a request parked now will be woken. Takes the lock. */
gboolean ss__pool_can_park (SsThreadPool *pool);
/* Keeps @request (transfer full) until its socket is readable or @timeout
 * passes; shuts it down at once when serving has stopped. Without the lock. */
void ss__pool_park (SsThreadPool *pool, SsServer *server, SsRequest *request, double timeout);
/* A parked request whose client spoke (transfer full), or NULL when
 * another worker claimed it first: from the ring of those claimed with
 * an earlier one, else a batch from park_epfd. Without the lock. */
SsRequest *ss__pool_claim_parked (SsThreadPool *pool);
/* A run of a request that may have parked before: what its slot was when
 * the run started, so that its end can tell whether it parked again. */
typedef struct {
  guint slot;           /* request->park_slot then; 0: never parked */
  guint32 generation;
  guint32 runs;
} SsPoolParkRun;

/* Before a request runs (lock held). */
void ss__pool_park_run_starts_unlocked (SsThreadPool *pool, const SsRequest *request,
                                        SsPoolParkRun *run);
/* After it ran (lock held; the request may be freed): frees its slot when
 * it ended without parking again. */
void ss__pool_park_run_ended_unlocked (SsThreadPool *pool, const SsPoolParkRun *run);
/* Sets ready_efd when the ring holds requests and an acceptor or the
 * sentinel sleeps without seeing it (lock held). */
void ss__pool_ready_nudge_unlocked (SsThreadPool *pool);
/* Shuts down the requests whose timeout passed / every parked request
 * (serving stopped). Without the lock. */
void ss__pool_park_sweep (SsThreadPool *pool, SsServer *server);
void ss__pool_park_close_all (SsThreadPool *pool, SsServer *server);

/* ------------------------------------------------------------ pool.c */

extern const SsStrategyOps ss__pool_ops;

/* Queues @request and wakes a worker for it (lock held). */
void ss__pool_enqueue_unlocked (SsThreadPool *pool, SsRequest *request);

/* Runs @request on this worker, counted busy. With @call_process_request
 * (a request taken off the socket by a server whose class overrides
 * process_request) it calls that override instead, which owns the
 * request from then on. Called with the lock held and returns with it
 * held; drops it around the request (and any spawning). */
void ss__pool_run_request (SsThreadPool *pool, SsServer *server, SsRequest *request,
                           gboolean call_process_request);

/* ------------------------------------------------------------ the pool */

struct _SsThreadPool {
  SsStrategy parent;  /* base, first member */

  /* The one lock (see the top of this file). */
  pthread_mutex_t lock;
  /* Hand-off: a request was queued, the mode changed, or the pool stops.
   * Signalled only when counts.waiting > 0. */
  pthread_cond_t work_cond;
  /* busy, queued, in_accept or pending_spawns fell, the sentinel left, or
   * a worker exited. Broadcast only when `state_waiters` > 0 (join,
   * stop_serving, close). */
  pthread_cond_t state_cond;
  /* The sentinel parks here while an accepting worker is idle; signalled
   * when none is left, and on stop. */
  pthread_cond_t sentinel_cond;

  SsServer *server;            /* (lock) set by attach; one pool serves one server */
  SsPoolCounts counts;         /* (lock) the limits and counts the policy reads */
  gboolean max_queue_set;      /* (lock) the user set max_queue (else the per-kind default) */
  guint max_queue;             /* (lock) what the user set */
  SsPoolQueue queue;           /* (lock) counts.queued == queue.len, kept by pool.c */

  /* The registry (workers.c). */
  GPtrArray *all;              /* (lock) PoolWorker *: every registered, unjoined worker */
  guint pending_spawns;        /* (lock) counted but not yet joinable */
  guint exited_unjoined;       /* (lock) exited workers in `all` */
  guint64 spawned;             /* (lock) */
  guint64 retired;             /* (lock) */
  guint64 rejected;            /* (lock) dropped unprocessed (close without block_on_close) */
  guint state_waiters;         /* (lock) threads blocked on state_cond */

  /* Accept mode (accept.c). */
  guint in_accept;             /* (lock) workers touching the listening socket
                                * (epoll_wait, get_request, the hooks) */
  guint sentinel_parked;       /* (lock) SS_POOL_SENTINEL_*: how the sentinel waits on sentinel_cond */
  gboolean stalled;            /* (lock) the last sentinel found the accepting workers stuck */
  guint64 socket_waits;        /* (lock) accept turns that waited in epoll_wait */
  SsPoolBoostTrial boost_trial;/* (lock) the last boost's trial (policy.c) */
  guint64 accepts;             /* (atomic; written under the lock) requests taken in accept mode */
  /* queue_efd is readable exactly while accepting and queued > 0
   * (written/read under the lock at those transitions), so workers in
   * epoll see hand-offs. control_efd is readable while workers must leave
   * accept mode (stop_serving, server_close). */
  SsWakeFd queue_efd;
  SsWakeFd control_efd;

  /* Overload (overload.c). */
  pthread_cond_t overload_cond;   /* the overload thread parks here while the pool is not saturated */
  gboolean overload_running;      /* (lock) the overload thread exists (joined by stop_serving) */
  gboolean overload_parked;       /* (lock) it waits on overload_cond */
  pthread_t overload_thread;      /* valid while overload_running */
  gint64 reject_logged_at;        /* (lock) monotonic us of the last "rejected" line */
  guint64 rejects_unlogged;       /* (lock) rejections since that line */

  /* Parked connections (park.c). park_epfd is in every accepting worker's
   * epoll set and the sentinel's poll. */
  int park_epfd;
  SsPoolParkSlot *park_slots;  /* (lock) park_cap slots */
  guint32 park_cap;            /* (lock) */
  guint32 park_free;           /* (lock) first free slot, or none */
  guint parked;                /* (lock) requests parked now (slots PARKED) */
  /* Clients that spoke, claimed in one batch and not yet run: a ring. */
  SsRequest *ready[SS_POOL_CLAIM_BATCH];  /* (lock) */
  guint ready_head;            /* (lock) */
  guint ready_len;             /* (lock) */
  gboolean claiming;           /* (lock) a worker is taking a batch from park_epfd */
  /* Readable while ready_nudged: the ring held requests while someone slept
   * without seeing it (in epoll on the socket, or the sentinel in poll). */
  SsWakeFd ready_efd;
  gboolean ready_nudged;       /* (lock) */
  gboolean sentinel_polling;   /* (lock) the sentinel sleeps until a connection waits */
};

/* Wakes state waiters (lock held), after busy, queued, in_accept or
 * pending_spawns fell or a worker exited. */
static inline void
ss__pool_notify_state_unlocked (SsThreadPool *pool)
{
  if (pool->state_waiters > 0)
    pthread_cond_broadcast (&pool->state_cond);
}

/* Waits for a state change. Lock held; pthread_cond_wait drops it while
 * asleep, as every condition wait does. */
static inline void
ss__pool_wait_state (SsThreadPool *pool)
{
  pool->state_waiters++;
  pthread_cond_wait (&pool->state_cond, &pool->lock);
  pool->state_waiters--;
}

/* Wakes a parked sentinel to look at the pool again (no worker left on
 * the socket, a lifted cap, a queued request, stop). Lock held. */
enum {
  SS_POOL_SENTINEL_AWAKE,    /* not waiting on sentinel_cond */
  SS_POOL_SENTINEL_PARKED,   /* until a worker leaves the socket */
  SS_POOL_SENTINEL_TIMING,   /* a grace, to see whether requests are taken */
};

static inline void
ss__pool_unpark_sentinel_unlocked (SsThreadPool *pool)
{
  if (pool->sentinel_parked != SS_POOL_SENTINEL_AWAKE)
    pthread_cond_signal (&pool->sentinel_cond);
}
