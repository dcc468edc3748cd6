/* base-server.c: ss_base_server_class, Python's BaseServer.
 *
 * The root of every server class, with every slot filled, so that any
 * class derived from it can call any of its parent's slots by name. The
 * behaviour slots are BaseServer's methods: process_request hands the
 * request to the server's strategy, finish_request instantiates the
 * handler class, handle_error logs the client and the error and the server
 * carries on, handle_timeout and service_actions give the strategy its
 * turn. The transport slots are what BaseServer has, or a clear error
 * where Python's BaseServer has no such method (server_bind, get_request):
 * those belong to a transport class (tcp.h, udp.h, unix.h).
 */
#include "core/core.h"

static gboolean
no_transport (SsServer *self, const char *slot, GError **error)
{
  g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
               "Server class %s has no %s: derive it from a transport class "
               "(ss_tcp_server_class, ss_udp_server_class, ss_unix_*_server_class)",
               self->klass->name != NULL ? self->klass->name : "(unnamed)", slot);
  return FALSE;
}

gboolean
ss__base_server_server_bind (SsServer *self, GError **error)
{
  return no_transport (self, "server_bind", error);
}

/* Python: def server_activate(self): pass */
gboolean
ss__base_server_server_activate (SsServer *self, GError **error)
{
  return TRUE;
}

SsRequest *
ss__base_server_get_request (SsServer *self, GError **error)
{
  no_transport (self, "get_request", error);
  return NULL;
}

/* Python: def shutdown_request(self, request): self.close_request(request) */
void
ss__base_server_shutdown_request (SsServer *self, SsRequest *request)
{
  ss_server_close_request (self, request);
}

/* Python: def close_request(self, request): pass */
void
ss__base_server_close_request (SsServer *self, SsRequest *request)
{
}

/* Python: def server_close(self): pass */
void
ss__base_server_server_close (SsServer *self)
{
}

int
ss__base_server_fileno (SsServer *self)
{
  return self->socket_fd;
}

gboolean
ss__base_server_verify_request (SsServer *self, SsRequest *request)
{
  return TRUE;
}

void
ss__base_server_process_request (SsServer *self, SsRequest *request)
{
  self->strategy->ops->process_request (self->strategy, self, request);
}

gboolean
ss__base_server_finish_request (SsServer *self, SsRequest *request, GError **error)
{
  return ss_handler_run (self->handler_class, self, request, error);
}

void
ss__base_server_handle_error (SsServer *self, SsRequest *request, const GError *error)
{
  g_autofree char *who = request != NULL ? ss_address_to_string (&request->client_address)
                                         : ss_address_to_string (&self->server_address);

  if (request != NULL)
    SS_MESSAGE ("Exception occurred during processing of request from %s: %s",
                who, error != NULL ? error->message : "unknown error");
  else
    SS_MESSAGE ("Error on server %s: %s", who, error != NULL ? error->message : "unknown error");
}

void
ss__base_server_handle_timeout (SsServer *self)
{
  if (self->strategy->ops->handle_timeout != NULL)
    self->strategy->ops->handle_timeout (self->strategy, self);
}

void
ss__base_server_service_actions (SsServer *self)
{
  if (self->strategy->ops->service_actions != NULL)
    self->strategy->ops->service_actions (self->strategy, self);
}

const SsServerClass ss_base_server_class = {
  .name = "BaseServer",
  .parent = NULL,
  .instance_size = sizeof (SsServer),
  .address_family = AF_INET,
  .socket_type = SOCK_STREAM,
  .server_bind = ss__base_server_server_bind,
  .server_activate = ss__base_server_server_activate,
  .get_request = ss__base_server_get_request,
  .shutdown_request = ss__base_server_shutdown_request,
  .close_request = ss__base_server_close_request,
  .server_close = ss__base_server_server_close,
  .fileno = ss__base_server_fileno,
  .verify_request = ss__base_server_verify_request,
  .process_request = ss__base_server_process_request,
  .finish_request = ss__base_server_finish_request,
  .handle_error = ss__base_server_handle_error,
  .handle_timeout = ss__base_server_handle_timeout,
  .service_actions = ss__base_server_service_actions,
};
