/* strategy-private.h: what the strategies in lib/strategies may use of the
 * core besides the public API. The core implements it; no strategy
 * includes lib/core/ itself, and the core includes no particular
 * strategy's header.
 */
#pragma once

#include "io/fd.h"

/* The server's counters behind ss_server_get_stats, counted in one place
 * whichever strategy ran the request (a forking parent counts for its
 * children, whose own counters die with them). */
typedef enum {
  SS__COUNT_SERVED,
  SS__COUNT_ERRORS,
  SS__COUNT_REJECTED,
} SsCounter;

void ss__server_count (SsServer *server, SsCounter counter);

/* Seconds left of an accept pause after EMFILE/ENFILE (0 when accepting).
 * Accepting threads must not poll the server socket before it ends: the
 * socket stays readable and they would spin. */
double ss__server_accept_paused_for (SsServer *server);
