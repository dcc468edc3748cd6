/* strategy.h: where a request runs (Python's mix-ins as composed objects).
 *
 * A strategy is a small object with its own ops and state, owned by exactly
 * one server. The server's default process_request, service_actions,
 * handle_timeout and server_close call into it, so any strategy works with
 * any transport. A strategy that only changes where a request runs
 * overrides only process_request; the rest may be NULL.
 *
 * A strategy may also take over accepting while serve_forever runs
 * (start_serving/stop_serving): the thread pool lets its idle workers
 * accept in turn, which saves a hand-off wake-up per request. It must still
 * call get_request and verify_request through the server, and a user's
 * process_request override when the class has one, so every hook keeps
 * working.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "server.h"

G_BEGIN_DECLS

typedef struct _SsStrategyOps SsStrategyOps;

struct _SsStrategyOps {
  const char *name;  /* "sync", "threading", "threadpooling", "forking", "preforking", ... */

  /* Optional; called once when the strategy is composed into @server
   * (ss_server_new), before anything else: set the server defaults the
   * strategy needs there (forking: timeout 300 s, as Python's ForkingMixIn)
   * and remember the server if the strategy needs it. */
  void (*attach) (SsStrategy *self, SsServer *server);

  /* Required. Takes ownership of @request; must eventually run
   * ss_server_run_request (or shutdown_request + ss_request_free). */
  void (*process_request) (SsStrategy *self, SsServer *server, SsRequest *request);

  /* Optional; called from the serving thread on every loop pass. */
  void (*service_actions) (SsStrategy *self, SsServer *server);
  /* Optional; called when handle_request times out. */
  void (*handle_timeout)  (SsStrategy *self, SsServer *server);
  /* Optional; called by server_close after the socket is closed: join,
   * wait or stop whatever the strategy started. */
  void (*server_close)    (SsStrategy *self, SsServer *server);

  /* Optional: take over accepting during serve_forever. start_serving is
   * called once the loop starts (returns FALSE with @error to abort it);
   * stop_serving once shutdown was asked for, and must return only when no
   * strategy thread touches the listening socket any more. */
  gboolean (*start_serving) (SsStrategy *self, SsServer *server, GError **error);
  void     (*stop_serving)  (SsStrategy *self, SsServer *server);

  /* Optional, both or neither: parked connections (ss_server_park_request).
   * can_park says whether park_request may be called now. park_request
   * takes ownership of a stream @request whose handler has just returned:
   * it must run ss_server_run_request (server, request) again once
   * request->fd is readable, or shut the request down and free it after
   * @timeout seconds of silence (< 0: no limit) or when serving stops. */
  gboolean (*can_park) (SsStrategy *self, SsServer *server);
  void (*park_request) (SsStrategy *self, SsServer *server, SsRequest *request, double timeout);

  /* Optional: fill the strategy's part of @stats (workers, busy, idle, queued,
   * rejected, spawned, retired). */
  void (*get_stats) (SsStrategy *self, SsServer *server, SsServerStats *stats);

  /* Required: free the strategy (after server_close). */
  void (*free) (SsStrategy *self);
};

/* Every strategy struct begins with this (its base, as the first member). */
struct _SsStrategy {
  const SsStrategyOps *ops;
};

/* The synchronous strategy: the request runs inline in the serving thread.
 * Returns: (transfer full). */
SS_API SsStrategy *ss_sync_strategy_new (void);

/* By name, with default parameters: "sync", "threading", "threadpooling",
 * "forking", "preforking". Returns NULL and sets @error for an unknown name. */
SS_API SsStrategy *ss_strategy_new_by_name (const char *name, GError **error);

SS_API const char *ss_strategy_name (const SsStrategy *strategy);
SS_API void ss_strategy_free (SsStrategy *strategy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsStrategy, ss_strategy_free)

G_END_DECLS
