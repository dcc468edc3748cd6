/* core.h: the state of the server object, shared by the files of lib/core.
 *
 * SsServerPrivate holds the shutdown machinery (a wake fd that wakes the
 * serving loop), the counters behind ss_server_get_stats, and the EMFILE
 * back-off. The core implements the layer headers the transports and
 * strategies use, so it includes them; it includes no particular
 * transport's or strategy's internals.
 */
#pragma once

#include "io/fd.h"   /* first: common.h's config.h must precede every system header */

#include <pthread.h>
#include <sys/types.h>

#include "strategies/strategy-private.h"
#include "transports/transport-private.h"

/* A datagram server's socket shared by the server and every request
 * taken off it: closed when the last of them lets go (request.c). */
typedef struct {
  int fd;
  gint refs;  /* (atomic) */
} SsSocketHold;

/* ss_request_new_stream / _datagram with @room bytes for a handler
 * instance in the same allocation (request.c). */
SsRequest *ss__request_new_stream_with_room (int fd, const SsAddress *client, gsize room);
SsRequest *ss__request_new_datagram_with_room (int server_fd, const SsAddress *client,
                                               const void *data, gsize len, gboolean truncated,
                                               gsize room);

/* Drops one reference; the last closes the fd. */
void ss__socket_hold_release (SsSocketHold *hold);

/* A stream request inside ss_server_run_request: a node on that call's
 * stack, linked in SsServerPrivate.running while the handler runs, so a
 * drain that reaches its deadline can shut the connection down under the
 * handler (ss__server_force_running; ops/drain.c). No allocation; a
 * pthread_cleanup handler unlinks it should the handler end its thread
 * (pthread_exit), which would otherwise leave the list pointing into a
 * dead thread's stack. */
typedef struct SsRunningRequest {
  SsServer *server;
  int fd;
  struct SsRunningRequest *prev;
  struct SsRunningRequest *next;
} SsRunningRequest;

struct SsServerPrivate {
  SsServerClass vtable;            /* the server's class, every slot resolved (class.c) */
  pthread_mutex_t lock;            /* guards the fields below marked (lock) */
  pthread_cond_t is_shut_down_cond;
  gboolean serving;                /* (lock) serve_forever is running */
  gboolean shutdown_request;       /* (lock) shutdown() was asked for */
  pthread_t serving_thread;        /* (lock) valid while serving */
  SsWakeFd wake;                   /* readable from shutdown() until serve_forever returns */
  gboolean closed;                 /* (atomic) server_close has begun */
  gsize handler_room;              /* the handler class's instance size: room in each request */
  gpointer transport_state;        /* ss__server_transport_state; g_free'd with the server */
  SsSocketHold *socket_hold;       /* (lock) datagram servers: the socket, shared with requests */
  SsStreamWrapFunc stream_wrap;    /* ss__server_set_stream_wrap: set before serving */
  gpointer stream_wrap_data;
  GDestroyNotify stream_wrap_destroy;

  /* Stream requests running now (running.c); running_lock guards both. */
  pthread_mutex_t running_lock;
  SsRunningRequest *running;       /* (running_lock) */
  gboolean forcing;                /* (running_lock) a drain's deadline passed: shut new ones down too */
  gboolean handed_over;            /* (atomic) a restart gave the listening socket to a new
                                    * process (ops/restart.c): a drain must leave it listening */
  gboolean adopted;                /* the listening socket was inherited (ops/activation.c):
                                    * its other holders (systemd) keep it listening after us */

  /* Counters: atomics, read by ss_server_get_stats. `counters` points at
   * own_counters unless a strategy shares them (ss__server_share_counters). */
  SsServerCounters own_counters;
  SsServerCounters *counters;

  /* EMFILE back-off (serve.c): monotonic µs of the last log line and of the
   * time accepting may resume. Touched only by accepting threads. */
  gint64 emfile_logged_at;         /* (atomic) */
  gint64 accept_paused_until;      /* (atomic) */
  guint64 emfile_suppressed;       /* (atomic) EMFILE events not logged since the last line */
};

/* Wakes serve_forever and any thread polling the wake fd. */
void ss__server_wake (SsServer *server);
gboolean ss__server_shutdown_requested (SsServer *server);
/* What ss_server_shutdown asks for, without waiting for serve_forever to
 * return: for a thread that must stay free to act again (signals.c). */
void ss__server_request_shutdown (SsServer *server);
/* Drains the wake fd so a later serve_forever can sleep again. */
void ss__server_wake_reset (SsServer *server);

/* Copies @klass into @out with every NULL slot and 0 attribute taken from
 * the nearest ancestor that sets it; FALSE when the chain does not reach
 * ss_base_server_class (some slot stays NULL). */
gboolean ss__server_class_resolve (const SsServerClass *klass, SsServerClass *out);

/* TRUE when this thread is running one of @server's requests (inside
 * ss_server_run_request): ss_server_free must then refuse (running.c). */
gboolean ss__server_running_here (SsServer *server);

/* Shuts down (SHUT_RDWR) the connection of every stream request running
 * in this process now, and of every one that starts running from now on,
 * so their handlers see EOF and return. Returns how many were running. */
guint ss__server_force_running (SsServer *server);
/* The class's get_request: NULL without @error when nothing is pending. */
SsRequest *ss__server_get_request_or_none (SsServer *server, GError **error);


