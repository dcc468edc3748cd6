/* policy.c: Apache's idle-server maintenance, as a pure function.
 *
 * One pass looks at how many children there are and how many of them wait
 * for a connection, and decides what to fork and whether to retire one; it
 * touches no process, so its rules are tested on numbers alone
 * (tests/test-preforking.c builds this file into the test).
 *
 * The rules are prefork.c's perform_idle_server_maintenance with the
 * thread pool's names: above max_spare idle, retire one child per pass
 * (gently: a child that took a connection meanwhile finishes it first) and
 * start spawning slowly again; below min_spare idle, fork spawn_rate
 * children and double the rate for the next pass if that was not enough,
 * so a sudden burst is met within a few passes without forking hundreds of
 * processes for a blip; otherwise the rate falls back to 1. Two additions
 * from Net::Server::PreFork: the pool never falls below min_workers (forked
 * at once, whatever the rate), and never retires below it.
 */
#include "strategies/preforking/prefork.h"

void
ss__prefork_decide (const SsPreforkLimits *limits, guint workers, guint idle, guint alive,
                    SsPreforkPolicy *policy, SsPreforkDecision *decision)
{
  guint room = alive < limits->max_workers ? limits->max_workers - MAX (alive, workers) : 0;

  *decision = (SsPreforkDecision) { 0 };
  if (policy->spawn_rate == 0)
    policy->spawn_rate = 1;

  /* Below the floor: fork what is missing now, as far as free slots allow;
   * children that are starting count as idle, as in Apache. */
  if (workers < limits->min_workers)
    {
      decision->spawn = MIN (limits->min_workers - workers, room);
      workers += decision->spawn;
      idle += decision->spawn;
      room -= decision->spawn;
    }

  if (idle > limits->max_spare && workers > limits->min_workers)
    {
      decision->retire = TRUE;
      policy->spawn_rate = 1;
    }
  else if (idle < limits->min_spare)
    {
      if (room == 0)
        {
          decision->max_reached = TRUE;
          decision->log_max = !policy->max_reported;
          policy->max_reported = TRUE;
          policy->spawn_rate = 1;
        }
      else
        {
          decision->spawn += MIN (policy->spawn_rate, room);
          decision->log_busy = policy->spawn_rate >= 8;
          if (policy->spawn_rate < SS_PREFORKING_MAX_SPAWN_RATE)
            policy->spawn_rate *= 2;
        }
    }
  else
    policy->spawn_rate = 1;
}
