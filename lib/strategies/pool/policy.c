/* policy.c: the pool's sizing rules, as pure functions over SsPoolCounts.
 *
 * The 2008 post's policy: min_workers start with the pool; a worker is
 * added when more than SS_THREAD_POOL_GROW_THRESHOLD (3) requests wait and
 * fewer than max_workers exist; after a request a worker retires when more
 * than min_workers exist and more than min_spare_workers are idle. Our
 * fixes of its defects: a worker is counted when it is spawned (the caller
 * counts before creating, so a burst cannot overshoot max_workers), the
 * pool never falls below min_workers, and no request starves -- a worker is
 * also added when more requests wait than idle workers can take, or, in
 * accept mode, when nobody would be left idle to take the next connection.
 *
 * The accept cap and the sentinel's decisions (accept.c explains the
 * mechanism) and the queue's bound with its overload policy (overload.c)
 * are here too, so that every decision the pool makes can be
 * tested without threads (tests/test-pool-policy.c). Nothing here touches
 * a lock, a thread or a socket: the callers hold the pool's lock and pass
 * its counts.
 */
#include "strategies/pool/pool.h"

guint
ss__pool_missing_workers (const SsPoolCounts *c)
{
  if (!c->started || c->stopping || c->workers >= c->min_workers)
    return 0;
  return c->min_workers - c->workers;
}

/* Checked after every queueing and every time a worker becomes busy. Each
 * such event changes queued or idle by one, so one new worker per check
 * keeps "queued <= idle" below max_workers. */
guint
ss__pool_to_grow (const SsPoolCounts *c)
{
  guint idle;

  if (!c->started || c->stopping || c->workers >= c->max_workers)
    return 0;
  idle = c->workers - c->busy;
  if (c->queued > SS_THREAD_POOL_GROW_THRESHOLD || c->queued > idle ||
      (c->accepting && idle == 0))
    return 1;
  return 0;
}

/* Never below min_workers, and not while requests wait (this worker takes
 * the next one instead). */
gboolean
ss__pool_should_retire (const SsPoolCounts *c)
{
  if (c->queued > 0 || c->stopping)
    return FALSE;
  if (c->workers > c->max_workers)   /* limits lowered while running */
    return TRUE;
  /* In accept mode the last idle worker stays, whatever min_spare says:
   * someone must be accepting (or, while capped, be the sentinel). */
  return c->workers > c->min_workers &&
         c->workers - c->busy > MAX (c->min_spare_workers, c->accepting ? 1u : 0u);
}

/* Unless it was woken to become the sentinel. */
gboolean
ss__pool_idle_should_retire (const SsPoolCounts *c)
{
  return !c->sentinel_wanted && ss__pool_should_retire (c);
}

/* The cap holds only while requests are short: against longer ones a
 * wake-up costs nothing that matters, and handlers that wait on I/O need
 * every idle worker accepting. The sentinel's boosts raise it while the
 * acceptors cannot keep up. */
guint
ss__pool_accept_cap (const SsPoolCounts *c)
{
  return c->request_us_avg < SS_POOL_SHORT_REQUEST_US ? c->accept_cap + c->accept_boost : G_MAXUINT;
}

/* An average over about the last 8 requests. */
gint64
ss__pool_next_request_avg (gint64 avg, gint64 us)
{
  return avg + (us - avg) / 8;
}

gboolean
ss__pool_cap_lifted (gint64 before, gint64 after)
{
  return before < SS_POOL_SHORT_REQUEST_US && after >= SS_POOL_SHORT_REQUEST_US;
}

/* While the cap holds, accept_cap workers hold an acceptor's place: they
 * take connections and run them, one after the other, and keep their
 * place between requests. One more idle worker (the sentinel) watches for
 * a stalled backlog, and the rest sleep. A promoted sentinel makes one
 * acceptor too many: the first of them to finish a request gives its
 * place up. Without the cap every idle worker accepts. */
SsPoolRole
ss__pool_idle_role (const SsPoolCounts *c, gboolean acceptor)
{
  guint cap;

  if (!c->accepting)
    return SS_POOL_ROLE_SLEEP;
  cap = ss__pool_accept_cap (c);
  if (cap == G_MAXUINT)
    return SS_POOL_ROLE_ACCEPT;
  if (acceptor ? c->acceptors <= cap : c->acceptors < cap)
    return SS_POOL_ROLE_ACCEPT;
  if (!c->have_sentinel)
    return SS_POOL_ROLE_SENTINEL;
  return SS_POOL_ROLE_SLEEP;
}

/* An acceptor's place was given up: a sleeping worker or the sentinel
 * takes it, unless the places are full or accept mode is off. */
gboolean
ss__pool_place_to_fill (const SsPoolCounts *c)
{
  return c->accepting && !c->stopping && c->acceptors < ss__pool_accept_cap (c);
}

/* When no worker waits on the socket any more, someone must watch it:
 * the sentinel if there is one, else a sleeping worker woken to become it
 * (once: sentinel_wanted). */
SsPoolWatch
ss__pool_backlog_watch (const SsPoolCounts *c)
{
  if (!c->accepting || c->stopping || c->on_socket > 0)
    return SS_POOL_WATCH_NOTHING;
  if (c->have_sentinel)
    return SS_POOL_WATCH_UNPARK_SENTINEL;
  if (!c->sentinel_wanted && c->waiting > 0)
    return SS_POOL_WATCH_WAKE_SENTINEL;
  return SS_POOL_WATCH_NOTHING;
}

/* The sentinel stops when accept mode ends, the pool stops, a request was
 * queued (it takes it as a worker), the cap is lifted (every idle worker
 * accepts) or an acceptor's place is free (it takes it). */
gboolean
ss__pool_sentinel_keeps_watching (const SsPoolCounts *c)
{
  guint cap = ss__pool_accept_cap (c);

  return c->accepting && !c->stopping && c->queued == 0 && cap != G_MAXUINT &&
         c->acceptors >= cap;
}

/* More threads only when a request blocks: an acceptor asleep in the
 * kernel (I/O, a lock, a slow hook) will not take the connection soon, so
 * a grace is enough. One that runs -- or, on a loaded machine, waits for
 * a CPU -- is not helped by one more runnable thread; only a long
 * CPU-bound request is, and after SS_POOL_STALL_RUNNING_US the sentinel
 * takes the connection anyway, so no request waits without bound. */
gboolean
ss__pool_backlog_stalled (gboolean asleep, gint64 stuck_us)
{
  return asleep || stuck_us >= SS_POOL_STALL_RUNNING_US;
}

/* Only when still nobody waits on the socket: a worker that arrived there
 * meanwhile takes the connection. */
gboolean
ss__pool_sentinel_promotes (const SsPoolCounts *c, gboolean stalled)
{
  return stalled && c->on_socket == 0 && c->accepting && !c->stopping;
}

/* One acceptor per two CPUs wins while the load leaves it time to wait:
 * two acceptors on two CPUs wake each other and share the lock (accept.c).
 * When the backlog never lets it wait -- keep-alive clients that speak as
 * soon as they are answered -- it is all one CPU serves, and the other
 * idles. Only then, and never past one acceptor per CPU, is another place
 * opened; not when somebody waits on the socket (it takes the next
 * connection anyway). */
gboolean
ss__pool_sentinel_boosts (const SsPoolCounts *c, gint64 saturated_us)
{
  return saturated_us >= SS_POOL_BOOST_US && c->on_socket == 0 && c->accepting &&
         !c->stopping && c->accept_cap + c->accept_boost < c->accept_max;
}

/* Given back by a boosted acceptor that waits again: often (the load
 * leaves the acceptors time to wait, so the boost only costs wake-ups),
 * or long (the load has gone). */
gboolean
ss__pool_boost_given_back (const SsPoolCounts *c, gint64 waited_us)
{
  return c->accept_boost > 0 && waited_us >= 0 &&
         (c->wait_share > SS_POOL_BOOST_WAIT_SHARE || waited_us >= SS_POOL_BOOST_IDLE_US);
}

guint32
ss__pool_next_wait_share (guint32 share, gboolean waited)
{
  return share - share / 64 + (waited ? SS_POOL_SHARE_ONE / 64 : 0);
}

gint64
ss__pool_rate (guint64 n, gint64 us)
{
  return us > 0 ? (gint64) (n * G_USEC_PER_SEC / (guint64) us) : 0;
}

gboolean
ss__pool_boost_may_start (const SsPoolBoostTrial *t, gint64 now_us)
{
  return t->started_us == 0 && now_us >= t->retry_at_us;
}

SsPoolTrialVerdict
ss__pool_boost_trial_verdict (const SsPoolBoostTrial *t, guint64 accepts, gint64 now_us)
{
  gint64 after;

  if (t->started_us == 0 || now_us - t->started_us < SS_POOL_BOOST_TRIAL_US)
    return SS_POOL_TRIAL_PENDING;
  after = ss__pool_rate (accepts - t->accepts_at, now_us - t->started_us);
  return after * 100 >= t->rate_before * (100 + SS_POOL_BOOST_GAIN_PCT) ? SS_POOL_TRIAL_KEEP
                                                                         : SS_POOL_TRIAL_GIVE_BACK;
}

gint64
ss__pool_next_boost_backoff (gint64 backoff_us)
{
  return backoff_us == 0 ? SS_POOL_BOOST_BACKOFF_US
                         : MIN (backoff_us * 2, (gint64) SS_POOL_BOOST_MAX_BACKOFF_US);
}

/* ------------------------------------------------------------ the queue's bound */

gboolean
ss__pool_queue_full (const SsPoolCounts *c)
{
  return c->max_queue > 0 && c->queued >= c->max_queue;
}

gboolean
ss__pool_saturated (const SsPoolCounts *c)
{
  return c->workers >= c->max_workers && c->busy >= c->workers;
}

/* Closing: with block_on_close a request still reaches the queue while a
 * worker is left to drain it (a user's process_request calling super() on
 * a worker); otherwise it is shut down unprocessed. Serving: a full queue
 * rejects or waits as the overload policy says, except that a worker
 * never waits (only workers free slots) and queues it past the bound --
 * by at most one request per worker, each taken by its own worker next. */
SsPoolHandOff
ss__pool_hand_off (const SsPoolCounts *c, gboolean from_worker)
{
  if (c->stopping)
    return c->block_on_close && c->workers > 0 ? SS_POOL_HAND_OFF_QUEUE : SS_POOL_HAND_OFF_REJECT;
  if (!ss__pool_queue_full (c))
    return SS_POOL_HAND_OFF_QUEUE;
  if (c->reject)
    return SS_POOL_HAND_OFF_REJECT;
  return from_worker ? SS_POOL_HAND_OFF_QUEUE : SS_POOL_HAND_OFF_WAIT;
}
