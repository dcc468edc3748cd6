/* server.c: the server object and its class dispatch (Python's BaseServer).
 *
 * A server class is a static vtable whose NULL slots are inherited from its
 * parent, so a transport or a user's server overrides only what differs and
 * calls its parent's slot where Python calls super(). Every ss_server_*
 * wrapper below looks its slot up through the chain; the chains are two or
 * three classes long, so the walk costs a few loads per call.
 *
 * The default behaviour slots of ss_base_server_class hand the request to
 * the server's strategy (process_request), instantiate the handler class
 * (finish_request) and log failures (handle_error), as Python's BaseServer
 * does. The serving loops live in serve.c.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

gconstpointer
ss_server_class_lookup (const SsServerClass *klass, gsize offset)
{
  for (; klass != NULL; klass = klass->parent)
    {
      gconstpointer slot = G_STRUCT_MEMBER (gconstpointer, klass, offset);

      if (slot != NULL)
        return slot;
    }
  return NULL;
}

static int
class_int (const SsServerClass *klass, gsize offset)
{
  for (; klass != NULL; klass = klass->parent)
    {
      int value = G_STRUCT_MEMBER (int, klass, offset);

      if (value != 0)
        return value;
    }
  return 0;
}

static gsize
class_instance_size (const SsServerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->instance_size != 0)
      return MAX (klass->instance_size, sizeof (SsServer));
  return sizeof (SsServer);
}

/* ------------------------------------------------------------ default slots */

static gboolean
base_verify_request (SsServer *self, SsRequest *request)
{
  return TRUE;
}

void
ss__base_server_process_request (SsServer *self, SsRequest *request)
{
  self->strategy->ops->process_request (self->strategy, self, request);
}

static gboolean
base_finish_request (SsServer *self, SsRequest *request, GError **error)
{
  return ss_handler_run (self->handler_class, self, request, error);
}

static void
base_handle_error (SsServer *self, SsRequest *request, const GError *error)
{
  g_autofree char *who = request != NULL ? ss_address_to_string (&request->client_address)
                                         : ss_address_to_string (&self->server_address);

  if (request != NULL)
    g_message ("Exception occurred during processing of request from %s: %s",
               who, error != NULL ? error->message : "unknown error");
  else
    g_message ("Error on server %s: %s", who, error != NULL ? error->message : "unknown error");
}

static void
base_handle_timeout (SsServer *self)
{
  if (self->strategy->ops->handle_timeout != NULL)
    self->strategy->ops->handle_timeout (self->strategy, self);
}

static void
base_service_actions (SsServer *self)
{
  if (self->strategy->ops->service_actions != NULL)
    self->strategy->ops->service_actions (self->strategy, self);
}

static void
base_server_close (SsServer *self)
{
}

const SsServerClass ss_base_server_class = {
  .name = "BaseServer",
  .parent = NULL,
  .instance_size = sizeof (SsServer),
  .server_bind = NULL,
  .server_activate = NULL,
  .get_request = NULL,
  .shutdown_request = NULL,
  .close_request = NULL,
  .server_close = base_server_close,
  .fileno = NULL,
  .verify_request = base_verify_request,
  .process_request = ss__base_server_process_request,
  .finish_request = base_finish_request,
  .handle_error = base_handle_error,
  .handle_timeout = base_handle_timeout,
  .service_actions = base_service_actions,
};

/* ------------------------------------------------------------ construction */

static SsServer *
server_alloc (const SsServerClass *klass, const SsAddress *address,
              const SsHandlerClass *handler_class, SsStrategy *strategy, GError **error)
{
  SsServer *self = g_malloc0 (class_instance_size (klass));

  self->klass = klass;
  self->handler_class = handler_class;
  self->strategy = strategy != NULL ? strategy : ss_sync_strategy_new ();
  self->server_address = *address;
  self->socket_fd = -1;
  self->request_queue_size = SOMAXCONN;
  self->max_packet_size = 8192;
  self->timeout = -1.0;
  self->priv = g_new0 (struct SsServerPrivate, 1);
  self->priv->wake = (SsWakeFd) SS_WAKE_FD_INIT;
  pthread_mutex_init (&self->priv->lock, NULL);
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

SsServer *
ss_server_new_for_address (const SsServerClass *klass, const SsAddress *address,
                           const SsHandlerClass *handler_class, SsStrategy *strategy,
                           gboolean bind_and_activate, GError **error)
{
  SsServer *self;

  if (klass == NULL || address == NULL || handler_class == NULL)
    {
      ss_strategy_free (strategy);
      g_return_val_if_fail (klass != NULL, NULL);
      g_return_val_if_fail (address != NULL, NULL);
      g_return_val_if_fail (handler_class != NULL, NULL);
    }

  self = server_alloc (klass, address, handler_class, strategy, error);
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
  SsAddress parsed;
  gboolean ok;

  if (klass == NULL || address == NULL)
    {
      ss_strategy_free (strategy);
      g_return_val_if_fail (klass != NULL, NULL);
      g_return_val_if_fail (address != NULL, NULL);
    }

  if (class_int (klass, G_STRUCT_OFFSET (SsServerClass, address_family)) == AF_UNIX)
    ok = ss_address_parse_unix (address, &parsed, error);
  else
    ok = ss_address_parse_inet (address,
                                class_int (klass, G_STRUCT_OFFSET (SsServerClass, socket_type)),
                                &parsed, error);
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
  priv = server->priv;
  ss_server_server_close (server);
  ss_strategy_free (server->strategy);
  ss__wake_fd_close (&priv->wake);
  g_free (priv->transport_state);
  pthread_cond_destroy (&priv->is_shut_down_cond);
  pthread_mutex_destroy (&priv->lock);
  g_free (priv);
  g_free (server);
}

/* ------------------------------------------------------------ dispatch */

static gboolean
missing_slot (SsServer *server, const char *slot, GError **error)
{
  g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
               "Server class %s has no %s: derive it from a transport class "
               "(ss_tcp_server_class, ss_udp_server_class, ss_unix_*_server_class)",
               server->klass->name != NULL ? server->klass->name : "(unnamed)", slot);
  return FALSE;
}

gboolean
ss_server_server_bind (SsServer *server, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  if (SS_SLOT (server->klass, server_bind) == NULL)
    return missing_slot (server, "server_bind", error);
  return SS_SLOT (server->klass, server_bind) (server, error);
}

gboolean
ss_server_server_activate (SsServer *server, GError **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  if (SS_SLOT (server->klass, server_activate) == NULL)
    return missing_slot (server, "server_activate", error);
  return SS_SLOT (server->klass, server_activate) (server, error);
}

SsRequest *
ss__server_get_request_or_none (SsServer *server, GError **error)
{
  if (SS_SLOT (server->klass, get_request) == NULL)
    {
      missing_slot (server, "get_request", error);
      return NULL;
    }
  return SS_SLOT (server->klass, get_request) (server, error);
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
  return SS_SLOT (server->klass, process_request) != ss__base_server_process_request;
}

gboolean
ss_server_verify_request (SsServer *server, SsRequest *request)
{
  return SS_SLOT (server->klass, verify_request) (server, request);
}

void
ss_server_process_request (SsServer *server, SsRequest *request)
{
  SS_SLOT (server->klass, process_request) (server, request);
}

gboolean
ss_server_finish_request (SsServer *server, SsRequest *request, GError **error)
{
  return SS_SLOT (server->klass, finish_request) (server, request, error);
}

void
ss_server_shutdown_request (SsServer *server, SsRequest *request)
{
  void (*slot) (SsServer *, SsRequest *) = SS_SLOT (server->klass, shutdown_request);

  if (slot != NULL)
    slot (server, request);
}

void
ss_server_close_request (SsServer *server, SsRequest *request)
{
  void (*slot) (SsServer *, SsRequest *) = SS_SLOT (server->klass, close_request);

  if (slot != NULL)
    slot (server, request);
}

void
ss_server_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  ss__server_count (server, SS__COUNT_ERRORS);
  SS_SLOT (server->klass, handle_error) (server, request, error);
}

void
ss_server_handle_timeout (SsServer *server)
{
  SS_SLOT (server->klass, handle_timeout) (server);
}

void
ss_server_service_actions (SsServer *server)
{
  SS_SLOT (server->klass, service_actions) (server);
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
 * make its sendto() hit a closed -- or worse, reused -- fd. */
void
ss_server_server_close (SsServer *server)
{
  gboolean datagram;

  g_return_if_fail (server != NULL);
  if (server->priv->closed)
    return;
  server->priv->closed = TRUE;
  datagram = class_int (server->klass, G_STRUCT_OFFSET (SsServerClass, socket_type)) == SOCK_DGRAM;
  if (datagram)
    strategy_close (server);
  SS_SLOT (server->klass, server_close) (server);
  if (!datagram)
    strategy_close (server);
}

int
ss_server_fileno (SsServer *server)
{
  int (*slot) (SsServer *) = SS_SLOT (server->klass, fileno);

  return slot != NULL ? slot (server) : server->socket_fd;
}

/* ------------------------------------------------------------ helpers */

gboolean
ss_server_run_request (SsServer *server, SsRequest *request)
{
  GError *error = NULL;
  gboolean ok = ss_server_finish_request (server, request, &error);

  if (ok)
    ss__server_count (server, SS__COUNT_SERVED);
  else
    {
      if (error == NULL)
        g_set_error_literal (&error, SS_ERROR, SS_ERROR_HANDLER,
                             "finish_request failed without saying why");
      ss_server_handle_error (server, request, error);
      g_error_free (error);
    }
  ss_server_shutdown_request (server, request);
  ss_request_free (request);
  return ok;
}

void
ss__server_count (SsServer *server, SsCounter counter)
{
  struct SsServerPrivate *priv = server->priv;
  guint64 *slot = counter == SS__COUNT_SERVED ? &priv->served
                  : counter == SS__COUNT_ERRORS ? &priv->errors : &priv->rejected;

  __atomic_fetch_add (slot, 1, __ATOMIC_RELAXED);
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
  stats->served = __atomic_load_n (&server->priv->served, __ATOMIC_RELAXED);
  stats->errors = __atomic_load_n (&server->priv->errors, __ATOMIC_RELAXED);
  stats->rejected += __atomic_load_n (&server->priv->rejected, __ATOMIC_RELAXED);
}
