/* strategy-private.h: what the strategies in lib/strategies may use of the
 * core besides the public API. The core implements it; no strategy
 * includes lib/core/ itself, and the core includes no particular
 * strategy's header.
 */
#pragma once

#include "io/fd.h"

/* The figures the thread pool (pool/) and the process pool (preforking/)
 * share for their accept caps and sentinels (BENCHMARKS.md has how they
 * were found).
 *
 * Requests shorter than SS_SHORT_REQUEST_US on average cap the workers
 * holding a place on the listening socket; longer ones let every idle
 * worker wait there. */
#define SS_SHORT_REQUEST_US 500
/* How long place holders that are running (or waiting for a CPU) may take
 * no request before the sentinel helps anyway. */
#define SS_STALL_RUNNING_US (20 * 1000)
/* How long the sentinel lets a connection wait while every place holder
 * is busy before it looks whether they are blocked; it doubles the wait,
 * up to SS_SENTINEL_MAX_GRACE_MS, while they keep taking requests (each
 * look is a wake-up, so looking every millisecond cost more than short
 * requests themselves on a loaded machine), and starts again at the
 * shortest once they were idle. */
#define SS_SENTINEL_GRACE_MS 1
#define SS_SENTINEL_MAX_GRACE_MS 8
/* Looks in a row that found no place holder busy before the sentinel
 * parks until the pool needs it again (about a second). */
#define SS_SENTINEL_IDLE_LOOKS 125

/* The server's counters behind ss_server_get_stats, counted in one place
 * whichever strategy ran the request (a forking parent counts for its
 * children, whose own counters die with them). */
typedef enum {
  SS__COUNT_SERVED,
  SS__COUNT_ERRORS,
  SS__COUNT_REJECTED,
} SsCounter;

void ss__server_count (SsServer *server, SsCounter counter);

/* The counters themselves, as ss__server_count keeps them (atomics). */
typedef struct {
  guint64 served;
  guint64 errors;
  guint64 rejected;
} SsServerCounters;

/* Makes the server count into @counters from now on, carrying over what it
 * counted so far. A strategy whose requests run in other processes points
 * them at memory it shares with those processes (MAP_SHARED), so that what
 * a child counts reaches ss_server_get_stats in the parent and is not lost
 * with the child. Call it from attach, before any request; @counters must
 * outlive the server's last count (the strategy frees it in its free). */
void ss__server_share_counters (SsServer *server, SsServerCounters *counters);

/* Seconds left of an accept pause after EMFILE/ENFILE (0 when accepting).
 * Accepting threads must not poll the server socket before it ends: the
 * socket stays readable and they would spin. */
double ss__server_accept_paused_for (SsServer *server);

/* Takes one request off the server socket and verifies it: get_request,
 * then verify_request (a refused request is shut down and counted as
 * rejected here). Returns the verified request (transfer full) for the
 * caller to run or to hand to process_request; NULL when there was none
 * (EAGAIN costs no allocation), when it was refused, or when get_request
 * failed (the error went to handle_error; EMFILE pauses accepting, see
 * ss__server_accept_paused_for). *@took says whether a request came off
 * the socket, refused or not: FALSE means stop taking for now. */
SsRequest *ss__server_take_request (SsServer *server, gboolean *took);

/* In a child just forked from the serving thread: the child's copy of
 * the server stops being "the one serving" and gets a wake fd of its own,
 * so a handler's shutdown or server_close there neither waits for the
 * parent's loop nor wakes it (the wake fd is shared across fork). */
void ss__server_in_forked_child (SsServer *server);

/* TRUE when the server's class overrides process_request (a user's
 * subclass): a strategy that runs the requests it takes itself must then
 * hand each to ss_server_process_request instead, as Python would call it. */
gboolean ss__server_overrides_process_request (SsServer *server);
