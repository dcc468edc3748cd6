/**
 * SECTION:strategy
 * @title: strategy.h
 * @short_description: where a request runs (Python's mix-ins as composed objects)
 * @include: socketserver/socketserver.h
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
 *
 * Python composes ThreadingMixIn with TCPServer by inheritance; here the
 * strategy object is passed to ss_server_new(), which takes it. A
 * strategy is set up (its setters) before serving, from the thread that
 * owns the server; its ops are called by the core as each says.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "server.h"

G_BEGIN_DECLS

typedef struct _SsStrategyOps SsStrategyOps;

/**
 * SsStrategyOps:
 * @name: "sync", "threading", "threadpooling", "forking", "preforking", ...
 * @attach: optional; called once when the strategy is composed into the
 *   server (ss_server_new()), before anything else: set the server
 *   defaults the strategy needs there (forking: timeout 300 s, as Python's
 *   ForkingMixIn) and remember the server if the strategy needs it
 * @process_request: required; Python's mix-in `process_request`. Takes
 *   ownership of the request; must eventually run ss_server_run_request()
 *   (or shutdown_request + ss_request_free())
 * @service_actions: optional; called from the serving thread on every
 *   loop pass (ForkingMixIn's collects children here)
 * @handle_timeout: optional; called when handle_request times out
 * @server_close: optional; called by server_close after the socket is
 *   closed: join, wait or stop whatever the strategy started (Python's
 *   mix-in `server_close` with block_on_close)
 * @start_serving: optional: take over accepting during serve_forever.
 *   Called once the loop starts; returns %FALSE with the error to abort it
 * @stop_serving: optional, with @start_serving: called once shutdown was
 *   asked for; must return only when no strategy thread touches the
 *   listening socket any more
 * @can_park: optional, both or neither with @park_request: parked
 *   connections (ss_server_park_request()). Says whether park_request may
 *   be called now.
 * @park_request: takes ownership of a stream request whose handler has
 *   just returned: it must run ss_server_run_request() again once
 *   request->fd is readable, or shut the request down and free it after
 *   the timeout's seconds of silence (&lt; 0: no limit) or when serving
 *   stops
 * @get_stats: optional: fill the strategy's part of the stats (workers,
 *   busy, idle, queued, rejected, spawned, retired)
 * @signal_workers: optional: a strategy whose requests run in processes
 *   of its own sends the signal to each of them and returns how many it
 *   signalled. A drain that reaches its deadline (ss_server_drain()) calls
 *   it, with SIGTERM and then SIGKILL, while server_close waits for them
 *   in another thread. Requests on threads of this process need nothing:
 *   the core shuts their connections down.
 * @free: required: free the strategy (after server_close)
 *
 * The ops table of a strategy: a static const struct with designated
 * initializers, an optional slot left %NULL.
 */
struct _SsStrategyOps {
  const char *name;

  void (*attach) (SsStrategy *self, SsServer *server);

  void (*process_request) (SsStrategy *self, SsServer *server, SsRequest *request);

  void (*service_actions) (SsStrategy *self, SsServer *server);
  void (*handle_timeout)  (SsStrategy *self, SsServer *server);
  void (*server_close)    (SsStrategy *self, SsServer *server);

  gboolean (*start_serving) (SsStrategy *self, SsServer *server, GError **error);
  void     (*stop_serving)  (SsStrategy *self, SsServer *server);

  gboolean (*can_park) (SsStrategy *self, SsServer *server);
  void (*park_request) (SsStrategy *self, SsServer *server, SsRequest *request, double timeout);

  void (*get_stats) (SsStrategy *self, SsServer *server, SsServerStats *stats);

  guint (*signal_workers) (SsStrategy *self, SsServer *server, int sig);

  void (*free) (SsStrategy *self);
};

/**
 * SsStrategy:
 * @ops: the strategy's ops table
 *
 * A strategy. Every strategy struct begins with this (its base, as the
 * first member), followed by its own state.
 */
struct _SsStrategy {
  const SsStrategyOps *ops;
};

/**
 * ss_sync_strategy_new:
 *
 * The synchronous strategy: the request runs inline in the serving
 * thread, as with Python's plain TCPServer (no mix-in).
 *
 * Returns: (transfer full): give it to ss_server_new(), or free it with
 *   ss_strategy_free()
 */
SS_API SsStrategy *ss_sync_strategy_new (void);

/**
 * ss_strategy_new_by_name:
 * @name: "sync", "threading", "threadpooling", "forking" or "preforking"
 * @error: return location for a #GError, or %NULL
 *
 * A strategy by name, with default parameters (ss-echo --strategy).
 *
 * Returns: (transfer full) (nullable): the strategy, or %NULL with @error
 *   set (%SS_ERROR_INVALID_ARGUMENT) for an unknown name
 */
SS_API SsStrategy *ss_strategy_new_by_name (const char *name, GError **error);

/**
 * ss_strategy_name:
 * @strategy: a strategy
 *
 * The strategy's name, for messages.
 *
 * Returns: (transfer none): its ops' name ("threading", ...)
 */
SS_API const char *ss_strategy_name (const SsStrategy *strategy);

/**
 * ss_strategy_free:
 * @strategy: (transfer full) (nullable): a strategy not given to a server
 *
 * Frees a strategy through its free op. A strategy given to
 * ss_server_new() belongs to the server, which frees it.
 */
SS_API void ss_strategy_free (SsStrategy *strategy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsStrategy, ss_strategy_free)

G_END_DECLS
