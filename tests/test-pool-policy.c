/* test-pool-policy.c: the thread pool's sizing rules, without threads.
 *
 * lib/strategies/pool/policy.c decides everything the pool does about its
 * size and its idle workers as pure functions over a struct of counts;
 * this file checks every branch of them: the 2008 post's rule (grow when
 * more than 3 requests wait and fewer than max_workers exist; after a
 * request retire when workers > min_workers and idle > min_spare_workers),
 * our fixes (count at spawn, never below min_workers, no starvation), the
 * accept cap and its boost, the sentinel's decisions and the queue's bound (max_queue
 * with the BLOCK and REJECT overload policies). The threaded behaviour is in
 * test-threadpool.c.
 */
#include "config.h"
#include "helpers.h"

#include "strategies/pool/pool.h"

/* A started pool in hand-off mode: (min, max, spare), all idle. */
static SsPoolCounts
counts (guint min, guint max, guint spare, guint workers)
{
  SsPoolCounts c = { 0 };

  c.min_workers = min;
  c.max_workers = max;
  c.min_spare_workers = spare;
  c.accept_cap = 2;
  c.workers = workers;
  c.started = TRUE;
  return c;
}

/* ------------------------------------------------------------ grow */

START_TEST (test_grow_more_than_three_waiting)
{
  /* Plenty of idle workers, so only the post's rule can say grow. */
  SsPoolCounts c = counts (10, 20, 0, 10);

  c.queued = 3;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);   /* 3 is not "more than 3" */
  c.queued = 4;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 1);
  ck_assert_uint_eq (SS_THREAD_POOL_GROW_THRESHOLD, 3);
}
END_TEST

START_TEST (test_grow_never_at_max)
{
  SsPoolCounts c = counts (1, 4, 0, 4);

  c.busy = 4;
  c.queued = 100;
  c.accepting = TRUE;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
  c.workers = 5;   /* limits lowered while running */
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
  c.workers = 3;
  c.busy = 3;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 1);
}
END_TEST

START_TEST (test_grow_not_before_start_nor_while_stopping)
{
  SsPoolCounts c = counts (1, 10, 0, 1);

  c.queued = 10;
  c.started = FALSE;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
  c.started = TRUE;
  c.stopping = TRUE;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
}
END_TEST

/* Our fix: more waiting than idle workers to take them grows even below
 * the post's threshold (under the post's rule 3 requests would wait
 * forever behind busy workers). */
START_TEST (test_grow_no_starvation)
{
  SsPoolCounts c = counts (2, 10, 0, 2);

  c.busy = 2;
  c.queued = 1;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 1);
  c.busy = 1;   /* one idle worker takes the one request */
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
  c.queued = 2;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 1);
}
END_TEST

/* Accept mode: nobody left idle to accept the next connection grows. */
START_TEST (test_grow_accept_mode_keeps_an_acceptor)
{
  SsPoolCounts c = counts (2, 10, 0, 2);

  c.busy = 2;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);   /* hand-off: nothing waits */
  c.accepting = TRUE;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 1);
  c.busy = 1;
  ck_assert_uint_eq (ss__pool_to_grow (&c), 0);
}
END_TEST

/* Count at spawn: the caller adds the new worker to `workers` when the
 * rule says grow, before the thread runs. A burst of requests, each
 * queued and checked while no worker has started yet, then spawns exactly
 * up to max_workers and never past it (the post counted a worker when it
 * started, and a burst overshot). */
START_TEST (test_grow_counts_at_spawn)
{
  SsPoolCounts c = counts (1, 4, 0, 1);
  guint spawned = 0;
  int i;

  c.busy = 1;
  for (i = 0; i < 50; i++)
    {
      guint n;

      c.queued++;
      n = ss__pool_to_grow (&c);
      ck_assert_uint_le (n, 1);
      c.workers += n;
      spawned += n;
      ck_assert_uint_le (c.workers, c.max_workers);
    }
  ck_assert_uint_eq (c.workers, 4);
  ck_assert_uint_eq (spawned, 3);
}
END_TEST

/* The invariant the starvation fix keeps: after every queueing and its
 * check, either every queued request has an idle worker or the pool is at
 * max_workers. */
START_TEST (test_grow_invariant_queued_le_idle)
{
  SsPoolCounts c = counts (0, 8, 0, 0);
  int i;

  for (i = 0; i < 30; i++)
    {
      c.queued++;
      c.workers += ss__pool_to_grow (&c);
      ck_assert (c.queued <= c.workers - c.busy || c.workers == c.max_workers);
      if (i % 3 == 0 && c.queued > 0 && c.busy < c.workers)
        {
          /* a worker takes one and becomes busy */
          c.queued--;
          c.busy++;
          c.workers += ss__pool_to_grow (&c);
          ck_assert (c.queued <= c.workers - c.busy || c.workers == c.max_workers);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ start, min */

START_TEST (test_missing_workers)
{
  SsPoolCounts c = counts (5, 100, 5, 0);

  ck_assert_uint_eq (ss__pool_missing_workers (&c), 5);
  c.workers = 3;
  ck_assert_uint_eq (ss__pool_missing_workers (&c), 2);
  c.workers = 5;
  ck_assert_uint_eq (ss__pool_missing_workers (&c), 0);
  c.workers = 7;
  ck_assert_uint_eq (ss__pool_missing_workers (&c), 0);
  c.workers = 0;
  c.started = FALSE;   /* workers start with the pool, not at creation */
  ck_assert_uint_eq (ss__pool_missing_workers (&c), 0);
  c.started = TRUE;
  c.stopping = TRUE;
  ck_assert_uint_eq (ss__pool_missing_workers (&c), 0);
}
END_TEST

/* ------------------------------------------------------------ retire */

START_TEST (test_retire_more_than_min_spare_idle)
{
  SsPoolCounts c = counts (2, 100, 5, 10);

  c.busy = 4;   /* 6 idle > 5 */
  ck_assert (ss__pool_should_retire (&c));
  c.busy = 5;   /* 5 idle: not more than min_spare */
  ck_assert (!ss__pool_should_retire (&c));
}
END_TEST

START_TEST (test_retire_never_below_min)
{
  SsPoolCounts c = counts (4, 100, 0, 4);

  /* All idle, min_spare 0: still the min_workers stay. */
  ck_assert (!ss__pool_should_retire (&c));
  c.workers = 5;
  ck_assert (ss__pool_should_retire (&c));
}
END_TEST

START_TEST (test_retire_not_while_requests_wait)
{
  SsPoolCounts c = counts (0, 100, 0, 10);

  ck_assert (ss__pool_should_retire (&c));
  c.queued = 1;
  ck_assert (!ss__pool_should_retire (&c));
  c.workers = 200;   /* even above max: take the request first */
  ck_assert (!ss__pool_should_retire (&c));
}
END_TEST

START_TEST (test_retire_not_while_stopping)
{
  /* server_close joins the workers; they leave by the stop path. */
  SsPoolCounts c = counts (0, 100, 0, 10);

  c.stopping = TRUE;
  ck_assert (!ss__pool_should_retire (&c));
}
END_TEST

START_TEST (test_retire_above_lowered_max)
{
  SsPoolCounts c = counts (10, 10, 10, 10);

  c.busy = 10;
  ck_assert (!ss__pool_should_retire (&c));
  c.max_workers = 8;   /* set_limits lowered max below the workers there are */
  ck_assert (ss__pool_should_retire (&c));
}
END_TEST

/* Accept mode keeps the last idle worker whatever min_spare says: someone
 * must accept (or be the sentinel). */
START_TEST (test_retire_accept_mode_keeps_last_idle)
{
  SsPoolCounts c = counts (1, 100, 0, 3);

  c.busy = 2;   /* one idle */
  ck_assert (ss__pool_should_retire (&c));
  c.accepting = TRUE;
  ck_assert (!ss__pool_should_retire (&c));
  c.busy = 1;   /* two idle: one may go */
  ck_assert (ss__pool_should_retire (&c));
}
END_TEST

START_TEST (test_idle_retire_spares_the_wanted_sentinel)
{
  SsPoolCounts c = counts (0, 100, 0, 10);

  ck_assert (ss__pool_idle_should_retire (&c));
  c.sentinel_wanted = TRUE;
  ck_assert (!ss__pool_idle_should_retire (&c));
  c.sentinel_wanted = FALSE;
  c.workers = 0;
  ck_assert (!ss__pool_idle_should_retire (&c));
}
END_TEST

/* ------------------------------------------------------------ the accept cap */

START_TEST (test_accept_cap_while_short)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accept_cap = 2;
  c.request_us_avg = 0;
  ck_assert_uint_eq (ss__pool_accept_cap (&c), 2);
  c.request_us_avg = SS_POOL_SHORT_REQUEST_US - 1;
  ck_assert_uint_eq (ss__pool_accept_cap (&c), 2);
  c.request_us_avg = SS_POOL_SHORT_REQUEST_US;
  ck_assert_uint_eq (ss__pool_accept_cap (&c), G_MAXUINT);
}
END_TEST

START_TEST (test_request_average)
{
  gint64 avg = 0;
  int i;

  ck_assert_int_eq (ss__pool_next_request_avg (0, 800), 100);   /* 1/8 of the step */
  ck_assert_int_eq (ss__pool_next_request_avg (800, 0), 700);
  /* Requests of 3 ms lift the cap at the second, not the first. */
  avg = ss__pool_next_request_avg (avg, 3000);
  ck_assert_int_lt (avg, SS_POOL_SHORT_REQUEST_US);
  avg = ss__pool_next_request_avg (avg, 3000);
  ck_assert_int_ge (avg, SS_POOL_SHORT_REQUEST_US);
  /* Short ones bring it back under. */
  for (i = 0; i < 20; i++)
    avg = ss__pool_next_request_avg (avg, 50);
  ck_assert_int_lt (avg, SS_POOL_SHORT_REQUEST_US);

  ck_assert (ss__pool_cap_lifted (SS_POOL_SHORT_REQUEST_US - 1, SS_POOL_SHORT_REQUEST_US));
  ck_assert (!ss__pool_cap_lifted (SS_POOL_SHORT_REQUEST_US, SS_POOL_SHORT_REQUEST_US + 100));
  ck_assert (!ss__pool_cap_lifted (0, SS_POOL_SHORT_REQUEST_US - 1));
  ck_assert (!ss__pool_cap_lifted (SS_POOL_SHORT_REQUEST_US, 0));
}
END_TEST

/* ------------------------------------------------------------ idle roles, the sentinel */

START_TEST (test_idle_role)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accept_cap = 1;
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_SLEEP);   /* hand-off mode */
  c.accepting = TRUE;
  /* A free acceptor's place: the worker takes it. */
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_ACCEPT);
  /* The places are full: the first idle worker without one is the
   * sentinel, the others sleep. */
  c.acceptors = 1;
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_SENTINEL);
  c.have_sentinel = TRUE;
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_SLEEP);
  /* An acceptor keeps its place between requests... */
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_ACCEPT);
  /* ... unless a promoted sentinel made one too many: it gives it up. */
  c.acceptors = 2;
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_SLEEP);
  c.have_sentinel = FALSE;
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_SENTINEL);

  /* Long requests lift the cap: every idle worker accepts, no sentinel. */
  c.request_us_avg = SS_POOL_SHORT_REQUEST_US;
  c.acceptors = 50;
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_ACCEPT);
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_ACCEPT);
}
END_TEST

START_TEST (test_place_to_fill)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accept_cap = 2;
  c.accepting = TRUE;
  c.acceptors = 1;
  ck_assert (ss__pool_place_to_fill (&c));
  c.acceptors = 2;
  ck_assert (!ss__pool_place_to_fill (&c));   /* full */
  c.acceptors = 0;
  c.stopping = TRUE;
  ck_assert (!ss__pool_place_to_fill (&c));
  c.stopping = FALSE;
  c.accepting = FALSE;
  ck_assert (!ss__pool_place_to_fill (&c));
}
END_TEST

START_TEST (test_backlog_watch)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accepting = TRUE;
  c.waiting = 3;
  c.on_socket = 1;
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_NOTHING);
  c.on_socket = 0;
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_WAKE_SENTINEL);
  c.sentinel_wanted = TRUE;   /* already asked for one */
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_NOTHING);
  c.sentinel_wanted = FALSE;
  c.waiting = 0;              /* nobody asleep to ask */
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_NOTHING);
  c.have_sentinel = TRUE;
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_UNPARK_SENTINEL);
  c.stopping = TRUE;
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_NOTHING);
  c.stopping = FALSE;
  c.accepting = FALSE;
  ck_assert_int_eq (ss__pool_backlog_watch (&c), SS_POOL_WATCH_NOTHING);
}
END_TEST

START_TEST (test_sentinel_keeps_watching)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accepting = TRUE;
  c.accept_cap = 1;
  c.acceptors = 1;
  ck_assert (ss__pool_sentinel_keeps_watching (&c));
  c.acceptors = 0;   /* a free place: it takes it instead */
  ck_assert (!ss__pool_sentinel_keeps_watching (&c));
  c.acceptors = 1;
  c.queued = 1;
  ck_assert (!ss__pool_sentinel_keeps_watching (&c));
  c.queued = 0;
  c.request_us_avg = SS_POOL_SHORT_REQUEST_US;
  ck_assert (!ss__pool_sentinel_keeps_watching (&c));
  c.request_us_avg = 0;
  c.stopping = TRUE;
  ck_assert (!ss__pool_sentinel_keeps_watching (&c));
  c.stopping = FALSE;
  c.accepting = FALSE;
  ck_assert (!ss__pool_sentinel_keeps_watching (&c));
}
END_TEST

/* More threads only when a request blocks: acceptors asleep in the
 * kernel at once; running ones (or ones waiting for a CPU) only after
 * SS_POOL_STALL_RUNNING_US without a request taken. */
START_TEST (test_backlog_stalled)
{
  ck_assert (ss__pool_backlog_stalled (TRUE, 0));
  ck_assert (ss__pool_backlog_stalled (TRUE, 1000));
  ck_assert (!ss__pool_backlog_stalled (FALSE, 1000));
  ck_assert (!ss__pool_backlog_stalled (FALSE, SS_POOL_STALL_RUNNING_US - 1));
  ck_assert (ss__pool_backlog_stalled (FALSE, SS_POOL_STALL_RUNNING_US));
}
END_TEST

START_TEST (test_sentinel_promotes)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accepting = TRUE;
  ck_assert (ss__pool_sentinel_promotes (&c, TRUE));
  ck_assert (!ss__pool_sentinel_promotes (&c, FALSE));
  c.on_socket = 1;   /* a worker reached the socket meanwhile */
  ck_assert (!ss__pool_sentinel_promotes (&c, TRUE));
  c.on_socket = 0;
  c.stopping = TRUE;
  ck_assert (!ss__pool_sentinel_promotes (&c, TRUE));
  c.stopping = FALSE;
  c.accepting = FALSE;
  ck_assert (!ss__pool_sentinel_promotes (&c, TRUE));
}
END_TEST

/* ------------------------------------------------------------ the boost */

START_TEST (test_accept_cap_includes_boost)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accept_cap = 1;
  c.accept_max = 2;
  c.accept_boost = 1;
  ck_assert_uint_eq (ss__pool_accept_cap (&c), 2);
  /* A boosted place is a place: an idle worker takes it, and a boosted
   * acceptor keeps it between requests. */
  c.accepting = TRUE;
  c.acceptors = 1;
  ck_assert_int_eq (ss__pool_idle_role (&c, FALSE), SS_POOL_ROLE_ACCEPT);
  c.acceptors = 2;
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_ACCEPT);
  /* Given back: one of the two holds a place too many. */
  c.accept_boost = 0;
  ck_assert_int_eq (ss__pool_idle_role (&c, TRUE), SS_POOL_ROLE_SENTINEL);
  /* Long requests lift the cap, boosted or not. */
  c.accept_boost = 1;
  c.request_us_avg = SS_POOL_SHORT_REQUEST_US;
  ck_assert_uint_eq (ss__pool_accept_cap (&c), G_MAXUINT);
}
END_TEST

START_TEST (test_sentinel_boosts)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accepting = TRUE;
  c.accept_cap = 1;
  c.accept_max = 2;
  ck_assert (ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  ck_assert (ss__pool_sentinel_boosts (&c, 10 * SS_POOL_BOOST_US));
  /* Not saturated for long enough. */
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US - 1));
  ck_assert (!ss__pool_sentinel_boosts (&c, 0));
  /* Somebody waits on the socket: it takes the next connection. */
  c.on_socket = 1;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  c.on_socket = 0;
  /* Never past one acceptor per CPU. */
  c.accept_boost = 1;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  c.accept_max = 4;
  ck_assert (ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  c.accept_boost = 3;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  /* One CPU: the cap is the most already. */
  c.accept_boost = 0;
  c.accept_cap = 1;
  c.accept_max = 1;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  /* Not outside accept mode, nor while stopping. */
  c.accept_max = 2;
  c.stopping = TRUE;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
  c.stopping = FALSE;
  c.accepting = FALSE;
  ck_assert (!ss__pool_sentinel_boosts (&c, SS_POOL_BOOST_US));
}
END_TEST

START_TEST (test_boost_given_back)
{
  SsPoolCounts c = counts (2, 100, 0, 10);

  c.accepting = TRUE;
  c.accept_cap = 1;
  c.accept_max = 2;
  /* Nothing to give back without a boost. */
  c.wait_share = SS_POOL_SHARE_ONE;
  ck_assert (!ss__pool_boost_given_back (&c, SS_POOL_BOOST_IDLE_US));
  c.accept_boost = 1;
  /* A turn that took a request without waiting keeps it, however the
   * turns before went. */
  ck_assert (!ss__pool_boost_given_back (&c, -1));
  /* Acceptors that wait in more than a quarter of their turns... */
  ck_assert (ss__pool_boost_given_back (&c, 0));
  c.wait_share = SS_POOL_BOOST_WAIT_SHARE + 1;
  ck_assert (ss__pool_boost_given_back (&c, 0));
  /* ... but not in fewer, unless the wait was long: the load went. */
  c.wait_share = SS_POOL_BOOST_WAIT_SHARE;
  ck_assert (!ss__pool_boost_given_back (&c, 0));
  ck_assert (!ss__pool_boost_given_back (&c, SS_POOL_BOOST_IDLE_US - 1));
  ck_assert (ss__pool_boost_given_back (&c, SS_POOL_BOOST_IDLE_US));
  c.wait_share = 0;
  ck_assert (ss__pool_boost_given_back (&c, SS_POOL_BOOST_IDLE_US));
}
END_TEST

START_TEST (test_wait_share)
{
  guint32 share = 0;
  int i;

  /* Turns that never wait keep it at nothing. */
  ck_assert_uint_eq (ss__pool_next_wait_share (0, FALSE), 0);
  /* One turn that waited is 1/64 of it. */
  ck_assert_uint_eq (ss__pool_next_wait_share (0, TRUE), SS_POOL_SHARE_ONE / 64);
  /* Every turn waiting tends to all and never passes it. */
  for (i = 0; i < 1000; i++)
    share = ss__pool_next_wait_share (share, TRUE);
  ck_assert_uint_le (share, SS_POOL_SHARE_ONE);
  ck_assert_uint_gt (share, SS_POOL_SHARE_ONE - SS_POOL_SHARE_ONE / 32);
  /* One turn in two: about half, past the give-back share. */
  share = 0;
  for (i = 0; i < 1000; i++)
    share = ss__pool_next_wait_share (share, i % 2 == 0);
  ck_assert_uint_gt (share, SS_POOL_SHARE_ONE * 2 / 5);
  ck_assert_uint_lt (share, SS_POOL_SHARE_ONE * 3 / 5);
  /* One in ten: under it. */
  share = 0;
  for (i = 0; i < 1000; i++)
    share = ss__pool_next_wait_share (share, i % 10 == 0);
  ck_assert_uint_lt (share, SS_POOL_BOOST_WAIT_SHARE);
  /* After all waiting, about 90 turns without a wait bring it under a
   * quarter: a boost is kept once the acceptors stop waiting. */
  share = SS_POOL_SHARE_ONE;
  for (i = 0; i < 90; i++)
    share = ss__pool_next_wait_share (share, FALSE);
  ck_assert_uint_lt (share, SS_POOL_BOOST_WAIT_SHARE);
  ck_assert_uint_gt (share, SS_POOL_BOOST_WAIT_SHARE / 2);
}
END_TEST

START_TEST (test_boost_trial)
{
  SsPoolBoostTrial t = { 0 };
  gint64 now = 10 * G_USEC_PER_SEC;

  ck_assert_int_eq (ss__pool_rate (500, 10 * 1000), 50000);
  ck_assert_int_eq (ss__pool_rate (500, 0), 0);
  /* No trial: a boost may start, and there is nothing to judge. */
  ck_assert (ss__pool_boost_may_start (&t, now));
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000, now), SS_POOL_TRIAL_PENDING);
  /* A trial from 40,000 requests/s. */
  t.started_us = now;
  t.accepts_at = 1000;
  t.rate_before = 40000;
  ck_assert (!ss__pool_boost_may_start (&t, now + 1));   /* one at a time */
  /* Too early to say, however it goes. */
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000 + 100000, now + SS_POOL_BOOST_TRIAL_US - 1),
                    SS_POOL_TRIAL_PENDING);
  /* 0.1 s later: 4,600 more requests is 46,000/s, 15 % more: kept. */
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000 + 4600, now + SS_POOL_BOOST_TRIAL_US),
                    SS_POOL_TRIAL_KEEP);
  /* 42,000/s is exactly the gain asked for; 41,900/s is not. */
  ck_assert_int_eq (SS_POOL_BOOST_GAIN_PCT, 5);
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000 + 4200, now + SS_POOL_BOOST_TRIAL_US),
                    SS_POOL_TRIAL_KEEP);
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000 + 4190, now + SS_POOL_BOOST_TRIAL_US),
                    SS_POOL_TRIAL_GIVE_BACK);
  /* Fewer requests than before (a second acceptor taking the clients'
   * CPU): given back. */
  ck_assert_int_eq (ss__pool_boost_trial_verdict (&t, 1000 + 3500, now + 2 * SS_POOL_BOOST_TRIAL_US),
                    SS_POOL_TRIAL_GIVE_BACK);

  /* After a failed trial, no boost until the back-off has passed. */
  t.started_us = 0;
  t.retry_at_us = now + SS_POOL_BOOST_BACKOFF_US;
  ck_assert (!ss__pool_boost_may_start (&t, now + SS_POOL_BOOST_BACKOFF_US - 1));
  ck_assert (ss__pool_boost_may_start (&t, now + SS_POOL_BOOST_BACKOFF_US));
}
END_TEST

START_TEST (test_boost_backoff)
{
  gint64 b = 0;
  int i;

  b = ss__pool_next_boost_backoff (b);
  ck_assert_int_eq (b, SS_POOL_BOOST_BACKOFF_US);
  b = ss__pool_next_boost_backoff (b);
  ck_assert_int_eq (b, 2 * SS_POOL_BOOST_BACKOFF_US);
  for (i = 0; i < 20; i++)
    b = ss__pool_next_boost_backoff (b);
  ck_assert_int_eq (b, SS_POOL_BOOST_MAX_BACKOFF_US);
}
END_TEST

/* ------------------------------------------------------------ the queue's bound */

START_TEST (test_queue_full)
{
  SsPoolCounts c = counts (1, 1, 0, 1);

  c.queued = 1000;
  ck_assert (!ss__pool_queue_full (&c));   /* max_queue 0: unbounded */
  c.max_queue = 2;
  c.queued = 1;
  ck_assert (!ss__pool_queue_full (&c));
  c.queued = 2;
  ck_assert (ss__pool_queue_full (&c));
  c.queued = 3;   /* past the bound (a worker's own hand-off) */
  ck_assert (ss__pool_queue_full (&c));
}
END_TEST

START_TEST (test_saturated)
{
  SsPoolCounts c = counts (1, 3, 0, 3);

  c.busy = 2;
  ck_assert (!ss__pool_saturated (&c));   /* one idle worker */
  c.busy = 3;
  ck_assert (ss__pool_saturated (&c));
  c.workers = 2;   /* below max: the pool grows instead */
  c.busy = 2;
  ck_assert (!ss__pool_saturated (&c));
}
END_TEST

START_TEST (test_hand_off)
{
  SsPoolCounts c = counts (1, 1, 0, 1);

  c.busy = 1;
  c.block_on_close = TRUE;
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_QUEUE);   /* unbounded */
  c.max_queue = 1;
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_QUEUE);
  c.queued = 1;   /* full: BLOCK waits, REJECT rejects */
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_WAIT);
  ck_assert_int_eq (ss__pool_hand_off (&c, TRUE), SS_POOL_HAND_OFF_QUEUE);   /* a worker never waits */
  c.reject = TRUE;
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_REJECT);
  ck_assert_int_eq (ss__pool_hand_off (&c, TRUE), SS_POOL_HAND_OFF_REJECT);

  /* Closing: with block_on_close queued while a worker is left to run it. */
  c.reject = FALSE;
  c.queued = 0;
  c.stopping = TRUE;
  ck_assert_int_eq (ss__pool_hand_off (&c, TRUE), SS_POOL_HAND_OFF_QUEUE);
  c.queued = 1;   /* even full: the bound is for serving, not for draining */
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_QUEUE);
  c.workers = 0;
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_REJECT);
  c.workers = 1;
  c.block_on_close = FALSE;
  ck_assert_int_eq (ss__pool_hand_off (&c, FALSE), SS_POOL_HAND_OFF_REJECT);
}
END_TEST

static Suite *
make_suite (void)
{
  Suite *s = suite_create ("pool-policy");
  TCase *tc;

  tc = tcase_create ("/pool-policy/grow");
  tcase_add_test (tc, test_grow_more_than_three_waiting);
  tcase_add_test (tc, test_grow_never_at_max);
  tcase_add_test (tc, test_grow_not_before_start_nor_while_stopping);
  tcase_add_test (tc, test_grow_no_starvation);
  tcase_add_test (tc, test_grow_accept_mode_keeps_an_acceptor);
  tcase_add_test (tc, test_grow_counts_at_spawn);
  tcase_add_test (tc, test_grow_invariant_queued_le_idle);
  tcase_add_test (tc, test_missing_workers);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-policy/retire");
  tcase_add_test (tc, test_retire_more_than_min_spare_idle);
  tcase_add_test (tc, test_retire_never_below_min);
  tcase_add_test (tc, test_retire_not_while_requests_wait);
  tcase_add_test (tc, test_retire_not_while_stopping);
  tcase_add_test (tc, test_retire_above_lowered_max);
  tcase_add_test (tc, test_retire_accept_mode_keeps_last_idle);
  tcase_add_test (tc, test_idle_retire_spares_the_wanted_sentinel);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-policy/accept-cap");
  tcase_add_test (tc, test_accept_cap_while_short);
  tcase_add_test (tc, test_request_average);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-policy/sentinel");
  tcase_add_test (tc, test_idle_role);
  tcase_add_test (tc, test_place_to_fill);
  tcase_add_test (tc, test_backlog_watch);
  tcase_add_test (tc, test_sentinel_keeps_watching);
  tcase_add_test (tc, test_sentinel_promotes);
  tcase_add_test (tc, test_backlog_stalled);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-policy/boost");
  tcase_add_test (tc, test_accept_cap_includes_boost);
  tcase_add_test (tc, test_sentinel_boosts);
  tcase_add_test (tc, test_boost_given_back);
  tcase_add_test (tc, test_wait_share);
  tcase_add_test (tc, test_boost_trial);
  tcase_add_test (tc, test_boost_backoff);
  suite_add_tcase (s, tc);

  tc = tcase_create ("/pool-policy/max-queue");
  tcase_add_test (tc, test_queue_full);
  tcase_add_test (tc, test_saturated);
  tcase_add_test (tc, test_hand_off);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return test_run_suite (make_suite ());
}
