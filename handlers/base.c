/* base.c: BaseRequestHandler, the class chain, and running one handler.
 *
 * A handler class is a static const vtable naming its parent; a slot left
 * NULL (or an attribute left 0) is inherited, so dispatch walks the chain
 * to the first class that fills it. BaseRequestHandler is the root and
 * fills every slot with "do nothing, successfully", so the walk always ends.
 *
 * ss_handler_run is Python's
 *
 *     def __init__(self, request, client_address, server):
 *         ...
 *         self.setup()
 *         try:
 *             self.handle()
 *         finally:
 *             self.finish()
 *
 * plus what C needs after it: dispose (release what setup took, even when
 * setup failed half-way) and free. The instance is heap-allocated at the
 * size the class declares (a user's struct may be large), zeroed.
 */
#include "config.h"

#include <socketserver/socketserver.h>

static gboolean
base_setup (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

static gboolean
base_handle (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

static gboolean
base_finish (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

static void
base_dispose (SsRequestHandler *self)
{
}

const SsHandlerClass ss_base_request_handler_class = {
  .name = "BaseRequestHandler",
  .parent = NULL,
  .instance_size = sizeof (SsRequestHandler),
  .setup = base_setup,
  .handle = base_handle,
  .finish = base_finish,
  .dispose = base_dispose,
  .rbufsize = -1,   /* default buffer (8192) */
  .wbufsize = 0,    /* unbuffered wfile */
  .timeout = -1,    /* no socket timeout (Python: None) */
  .disable_nagle_algorithm = FALSE,
};

/* The first non-NULL slot at @offset from @klass up through its parents. */
static gconstpointer
handler_class_lookup (const SsHandlerClass *klass, gsize offset)
{
  for (; klass != NULL; klass = klass->parent)
    {
      gconstpointer slot = G_STRUCT_MEMBER (gconstpointer, klass, offset);

      if (slot != NULL)
        return slot;
    }
  return NULL;
}

#define HANDLER_SLOT(klass, slot) \
  ((__typeof__ (((SsHandlerClass *) 0)->slot)) \
   handler_class_lookup ((klass), G_STRUCT_OFFSET (SsHandlerClass, slot)))

/* A slot that returned FALSE without saying why still needs an error for
 * handle_error to report. */
static gboolean
check_step (gboolean ok, SsRequestHandler *self, const char *step, GError **error)
{
  if (!ok && error != NULL && *error == NULL)
    g_set_error (error, SS_ERROR, SS_ERROR_HANDLER,
                 "%s.%s failed without giving a reason", self->klass->name, step);
  if (ok && error != NULL)
    g_clear_error (error);
  return ok;
}

gboolean
ss_request_handler_setup (SsRequestHandler *self, GError **error)
{
  g_return_val_if_fail (self != NULL && self->klass != NULL, FALSE);
  return check_step (HANDLER_SLOT (self->klass, setup) (self, error), self, "setup", error);
}

gboolean
ss_request_handler_handle (SsRequestHandler *self, GError **error)
{
  g_return_val_if_fail (self != NULL && self->klass != NULL, FALSE);
  return check_step (HANDLER_SLOT (self->klass, handle) (self, error), self, "handle", error);
}

gboolean
ss_request_handler_finish (SsRequestHandler *self, GError **error)
{
  g_return_val_if_fail (self != NULL && self->klass != NULL, FALSE);
  return check_step (HANDLER_SLOT (self->klass, finish) (self, error), self, "finish", error);
}

gsize
ss_handler_class_instance_size (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->instance_size != 0)
      return klass->instance_size;
  return sizeof (SsRequestHandler);
}

gssize
ss_handler_class_rbufsize (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->rbufsize != 0)
      return klass->rbufsize;
  return -1;
}

gssize
ss_handler_class_wbufsize (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->wbufsize != 0)
      return klass->wbufsize;
  return 0;
}

double
ss_handler_class_timeout (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->timeout != 0)
      return klass->timeout;
  return -1;
}

gboolean
ss_handler_class_disable_nagle (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass->disable_nagle_algorithm)
      return TRUE;
  return FALSE;
}

/* finish failed after handle had already failed: the caller reports the
 * first error; this one is logged so it is not lost. */
static void
log_second_error (SsRequestHandler *self, const GError *second)
{
  char *client = ss_address_to_string (self->client_address);

  g_log (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
         "%s.finish also failed for the request from %s (after handle failed): %s",
         self->klass->name, client, second->message);
  g_free (client);
}

gboolean
ss_handler_run (const SsHandlerClass *klass, SsServer *server,
                SsRequest *request, GError **error)
{
  SsRequestHandler *self;
  GError *first = NULL;
  gsize size;
  gboolean ok;

  g_return_val_if_fail (klass != NULL, FALSE);
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  size = ss_handler_class_instance_size (klass);
  g_return_val_if_fail (size >= sizeof (SsRequestHandler), FALSE);

  /* Heap, zeroed: handler structs may be large, and fields start at 0. */
  self = g_malloc0 (size);
  self->klass = klass;
  self->server = server;
  self->request = request;
  self->client_address = &request->client_address;

  ok = ss_request_handler_setup (self, &first);
  if (ok)
    {
      GError *second = NULL;

      ok = ss_request_handler_handle (self, &first);
      /* finish runs whatever handle did (Python's try/finally). */
      if (!ss_request_handler_finish (self, ok ? &first : &second))
        {
          if (!ok)
            log_second_error (self, second);
          ok = FALSE;
        }
      g_clear_error (&second);
    }

  /* The most-derived dispose; it chains to its parent's itself. */
  HANDLER_SLOT (klass, dispose) (self);
  g_free (self);

  if (!ok)
    g_propagate_error (error, first);
  return ok;
}
