/* server.c: the server object: construction, dispatch, counters.
 *
 * A server is an instance of a server class composed with a strategy and
 * a handler class. When it is created its class is resolved once into a
 * private copy with every slot filled (class.c), so each ss_server_*
 * wrapper below is one indirect call, whatever the user's class left NULL.
 * The class behaviour itself is BaseServer's (base-server.c) and the
 * transports'; the serving loops live in serve.c, a request's run in
 * running.c.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ construction */

static SsServer *
server_alloc (const SsServerClass *klass, const SsServerClass *resolved, const SsAddress *address,
              const SsHandlerClass *handler_class, SsStrategy *strategy, GError **error)
{
  SsServer *self = g_malloc0 (resolved->instance_size);

  self->klass = klass;
  self->handler_class = handler_class;
  self->strategy = strategy != NULL ? strategy : ss_sync_strategy_new ();
  self->server_address = *address;
  self->socket_fd = -1;
  self->request_queue_size = SOMAXCONN;
  self->max_packet_size = 8192;
  self->timeout = -1.0;
  self->priv = g_new0 (struct SsServerPrivate, 1);
  self->priv->vtable = *resolved;
  self->priv->handler_room = ss_handler_class_instance_size (handler_class);
  self->priv->wake = (SsWakeFd) SS_WAKE_FD_INIT;
  self->priv->counters = &self->priv->own_counters;
  pthread_mutex_init (&self->priv->lock, NULL);
  pthread_mutex_init (&self->priv->running_lock, NULL);
  pthread_cond_init (&self->priv->is_shut_down_cond, NULL);
  if (!ss__wake_fd_open (&self->priv->wake, "Could not create the server's wake-up fd", error))
    {
      ss_server_free (self);
      return NULL;
    }
  if (self->strategy->ops->attach != NULL)
    self->strategy->ops->attach (self->strategy, self);
  return self;
}

/* Resolves @klass into @out, or says why it cannot be used. */
static gboolean
resolve_class (const SsServerClass *klass, SsServerClass *out)
{
  if (ss__server_class_resolve (klass, out))
    return TRUE;
  g_critical ("Server class %s does not derive from ss_base_server_class: give it a "
              "library class (ss_tcp_server_class, ...) as .parent",
              klass->name != NULL ? klass->name : "(unnamed)");
  return FALSE;
}

/* A handler class written as a plain initializer without
 * SS_HANDLER_CLASS_ATTRIBUTES_INHERIT would run with timeout 0 and every
 * other unnamed attribute 0: refused, loudly. */
static gboolean
check_handler_class (const SsHandlerClass *klass)
{
  const SsHandlerClass *unmarked = ss_handler_class_find_unmarked (klass);

  if (unmarked == NULL)
    return TRUE;
  g_critical ("Handler class %s was not defined with SS_DEFINE_HANDLER_CLASS: its attributes "
              "it does not name would be 0, not inherited; define it with the macro, or start "
              "its initializer with SS_HANDLER_CLASS_ATTRIBUTES_INHERIT",
              unmarked->name != NULL ? unmarked->name : "(unnamed)");
  return FALSE;
}

SsServer *
ss_server_new_for_address (const SsServerClass *klass, const SsAddress *address,
                           const SsHandlerClass *handler_class, SsStrategy *strategy,
                           gboolean bind_and_activate, GError **error)
{
  SsServerClass resolved;
  SsServer *self;

  if (klass == NULL || address == NULL || handler_class == NULL || !resolve_class (klass, &resolved)
      || !check_handler_class (handler_class))
    {
      ss_strategy_free (strategy);
      g_return_val_if_fail (klass != NULL, NULL);
      g_return_val_if_fail (address != NULL, NULL);
      g_return_val_if_fail (handler_class != NULL, NULL);
      return NULL;
    }

  self = server_alloc (klass, &resolved, address, handler_class, strategy, error);
  if (self == NULL)
    return NULL;
  if (bind_and_activate &&
      (!ss_server_server_bind (self, error) || !ss_server_server_activate (self, error)))
    {
      /* Python: except: self.server_close(); raise */
      ss_server_free (self);
      return NULL;
    }
  return self;
}

SsServer *
ss_server_new (const SsServerClass *klass, const char *address,
               const SsHandlerClass *handler_class, SsStrategy *strategy,
               gboolean bind_and_activate, GError **error)
{
  SsServerClass resolved;
  SsAddress parsed;
  gboolean ok;

  if (klass == NULL || address == NULL || !resolve_class (klass, &resolved))
    {
      ss_strategy_free (strategy);
      g_return_val_if_fail (klass != NULL, NULL);
      g_return_val_if_fail (address != NULL, NULL);
      return NULL;
    }

  if (resolved.address_family == AF_UNIX)
    ok = ss_address_parse_unix (address, &parsed, error);
  else
    ok = ss_address_parse_inet (address, resolved.socket_type, &parsed, error);
  if (!ok)
    {
      ss_strategy_free (strategy);
      return NULL;
    }
  return ss_server_new_for_address (klass, &parsed, handler_class, strategy,
                                    bind_and_activate, error);
}

void
ss_server_free (SsServer *server)
{
  struct SsServerPrivate *priv;

  if (server == NULL)
    return;
  if (ss__server_running_here (server))
    {
      g_critical ("ss_server_free: called from inside one of the server's own handlers, "
                  "which would go on running on the freed server; nothing was freed. "
                  "Call ss_server_shutdown() in the handler and ss_server_free() after "
                  "serve_forever returns.");
      return;
    }
  priv = server->priv;
  ss_server_server_close (server);
  ss_strategy_free (server->strategy);
  ss__wake_fd_close (&priv->wake);
  ss__server_set_stream_wrap (server, NULL, NULL, NULL);
  g_free (priv->transport_state);
  pthread_cond_destroy (&priv->is_shut_down_cond);
  pthread_mutex_destroy (&priv->running_lock);
  pthread_mutex_destroy (&priv->lock);
  g_free (priv);
  g_free (server);
}

/* ------------------------------------------------------------ dispatch */

const SsServerClass *
ss__server_resolved_class (SsServer *server)
{
  return &server->priv->vtable;
}

gboolean
ss_server_server_bind (SsServer *server, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  return server->priv->vtable.server_bind (server, error);
}

gboolean
ss_server_server_activate (SsServer *server, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  return server->priv->vtable.server_activate (server, error);
}

SsRequest *
ss__server_get_request_or_none (SsServer *server, GError **error)
{
  return server->priv->vtable.get_request (server, error);
}

SsRequest *
ss_server_get_request (SsServer *server, GError **error)
{
  GError *local = NULL;
  SsRequest *request;

  g_return_val_if_fail (server != NULL, NULL);
  request = ss__server_get_request_or_none (server, &local);
  if (request == NULL && local == NULL)
    g_set_error_literal (&local, SS_ERROR, SS_ERROR_WOULD_BLOCK, "Nothing pending on the server socket");
  if (local != NULL)
    g_propagate_error (error, local);
  return request;
}

gboolean
ss__server_overrides_process_request (SsServer *server)
{
  return server->priv->vtable.process_request != ss__base_server_process_request;
}

gboolean
ss_server_verify_request (SsServer *server, SsRequest *request)
{
  return server->priv->vtable.verify_request (server, request);
}

void
ss_server_process_request (SsServer *server, SsRequest *request)
{
  server->priv->vtable.process_request (server, request);
}

gboolean
ss_server_finish_request (SsServer *server, SsRequest *request, GError **error)
{
  return server->priv->vtable.finish_request (server, request, error);
}

void
ss_server_shutdown_request (SsServer *server, SsRequest *request)
{
  server->priv->vtable.shutdown_request (server, request);
}

void
ss_server_close_request (SsServer *server, SsRequest *request)
{
  server->priv->vtable.close_request (server, request);
}

void
ss_server_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  ss__server_count (server, SS__COUNT_ERRORS);
  server->priv->vtable.handle_error (server, request, error);
}

void
ss_server_handle_timeout (SsServer *server)
{
  server->priv->vtable.handle_timeout (server);
}

void
ss_server_service_actions (SsServer *server)
{
  server->priv->vtable.service_actions (server);
}

static void
strategy_close (SsServer *server)
{
  if (server->strategy->ops->server_close != NULL)
    server->strategy->ops->server_close (server->strategy, server);
}

/* Idempotent. For stream servers the transport closes its listening
 * socket first, then the strategy joins or waits for what it started
 * (Python's mix-ins call super().server_close() first, then join): new
 * clients are refused at once instead of queueing for a server that is
 * going away. Datagram requests reply on the server socket itself, so
 * there the strategy finishes first: closing under a running handler would
 * make its sendto() hit a closed -- or worse, reused -- fd.
 *
 * Python's server_close belongs after serve_forever. Called while
 * serve_forever runs (from a handler, or another thread), it first stops
 * the loop as ss_server_shutdown does, so that the loop never polls or
 * accepts on a closed (or reused) fd; from the serving thread itself (a
 * sync handler) it only asks, and the loop ends when the handler returns. */
void
ss_server_server_close (SsServer *server)
{
  gboolean datagram;

  g_return_if_fail (server != NULL);
  /* Once, whichever of several threads calling at once gets here first;
   * the others return at once (they must not wait: one of them may be a
   * handler the first one's strategy close is waiting for). */
  if (__atomic_exchange_n (&server->priv->closed, TRUE, __ATOMIC_ACQ_REL))
    return;
  ss_server_shutdown (server);
  datagram = server->priv->vtable.socket_type == SOCK_DGRAM;
  if (datagram)
    strategy_close (server);
  server->priv->vtable.server_close (server);
  if (!datagram)
    strategy_close (server);
}

int
ss_server_fileno (SsServer *server)
{
  return server->priv->vtable.fileno (server);
}

/* ------------------------------------------------------------ helpers */

void
ss__server_count (SsServer *server, SsCounter counter)
{
  SsServerCounters *counters = server->priv->counters;
  guint64 *slot = counter == SS__COUNT_SERVED ? &counters->served
                  : counter == SS__COUNT_ERRORS ? &counters->errors : &counters->rejected;

  __atomic_fetch_add (slot, 1, __ATOMIC_RELAXED);
}

void
ss__server_share_counters (SsServer *server, SsServerCounters *counters)
{
  SsServerCounters *old = server->priv->counters;

  counters->served = __atomic_load_n (&old->served, __ATOMIC_RELAXED);
  counters->errors = __atomic_load_n (&old->errors, __ATOMIC_RELAXED);
  counters->rejected = __atomic_load_n (&old->rejected, __ATOMIC_RELAXED);
  server->priv->counters = counters;
}

/* The datagram request shares the server socket (request.c). */
static void
ss__server_hold_socket (SsServer *server, SsRequest *request)
{
  struct SsServerPrivate *priv = server->priv;
  SsSocketHold *hold;

  pthread_mutex_lock (&priv->lock);
  hold = priv->socket_hold;
  if (hold == NULL && server->socket_fd >= 0)
    {
      /* The server's own reference, dropped by ss__server_close_socket. */
      hold = priv->socket_hold = g_new0 (SsSocketHold, 1);
      hold->fd = server->socket_fd;
      hold->refs = 1;
    }
  if (hold != NULL && hold->fd == request->fd)
    {
      g_atomic_int_inc (&hold->refs);
      request->socket_hold = hold;
    }
  pthread_mutex_unlock (&priv->lock);
}

SsRequest *
ss__server_new_stream_request (SsServer *server, int fd, const SsAddress *client)
{
  struct SsServerPrivate *priv = server->priv;
  SsRequest *request = ss__request_new_stream_with_room (fd, client, priv->handler_room);

  if (priv->stream_wrap != NULL)
    priv->stream_wrap (server, request, priv->stream_wrap_data);
  return request;
}

void
ss__server_set_stream_wrap (SsServer *server, SsStreamWrapFunc wrap, gpointer data,
                            GDestroyNotify destroy)
{
  struct SsServerPrivate *priv = server->priv;

  if (priv->stream_wrap_destroy != NULL)
    priv->stream_wrap_destroy (priv->stream_wrap_data);
  priv->stream_wrap = wrap;
  priv->stream_wrap_data = data;
  priv->stream_wrap_destroy = destroy;
}

SsStreamWrapFunc
ss__server_stream_wrap (SsServer *server)
{
  return server->priv->stream_wrap;
}

gpointer
ss__server_stream_wrap_data (SsServer *server)
{
  return server->priv->stream_wrap_data;
}

SsRequest *
ss__server_new_datagram_request (SsServer *server, const SsAddress *client, const void *data,
                                 gsize len, gboolean truncated)
{
  SsRequest *request = ss__request_new_datagram_with_room (server->socket_fd, client, data, len,
                                                           truncated, server->priv->handler_room);

  ss__server_hold_socket (server, request);
  return request;
}

void
ss__server_close_socket (SsServer *server)
{
  struct SsServerPrivate *priv = server->priv;
  SsSocketHold *hold;
  int fd;

  pthread_mutex_lock (&priv->lock);
  fd = server->socket_fd;
  server->socket_fd = -1;
  hold = priv->socket_hold;
  priv->socket_hold = NULL;
  pthread_mutex_unlock (&priv->lock);
  if (hold != NULL && hold->fd == fd)
    ss__socket_hold_release (hold);
  else
    {
      if (hold != NULL)
        ss__socket_hold_release (hold);
      if (fd >= 0)
        close (fd);
    }
}

gpointer
ss__server_transport_state (SsServer *server, gsize size)
{
  if (server->priv->transport_state == NULL)
    server->priv->transport_state = g_malloc0 (size);
  return server->priv->transport_state;
}

char *
ss_server_address_string (SsServer *server)
{
  return ss_address_to_string (&server->server_address);
}

guint16
ss_server_port (SsServer *server)
{
  return ss_address_port (&server->server_address);
}

char *
ss_server_banner (SsServer *server)
{
  g_autofree char *host = ss_address_host_string (&server->server_address);

  if (ss_address_family (&server->server_address) == AF_UNIX)
    return g_strdup_printf ("Serving on %s ...", host);
  return g_strdup_printf ("Serving on %s port %u ...", host, ss_server_port (server));
}

void
ss_server_get_stats (SsServer *server, SsServerStats *stats)
{
  g_return_if_fail (server != NULL && stats != NULL);
  memset (stats, 0, sizeof *stats);
  if (server->strategy->ops->get_stats != NULL)
    server->strategy->ops->get_stats (server->strategy, server, stats);
  stats->served = __atomic_load_n (&server->priv->counters->served, __ATOMIC_RELAXED);
  stats->errors = __atomic_load_n (&server->priv->counters->errors, __ATOMIC_RELAXED);
  stats->rejected += __atomic_load_n (&server->priv->counters->rejected, __ATOMIC_RELAXED);
}
