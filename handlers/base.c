/* base.c: BaseRequestHandler, the class lookups, and running one handler.
 *
 * A handler class is a static const vtable naming its parent; a slot left
 * NULL (or an attribute holding SS_INHERIT) is inherited from the nearest
 * class in the chain that sets it (ss_class_chain_find, class.h).
 * BaseRequestHandler is the root and fills every slot with "do nothing,
 * successfully" and every attribute with Python's default, so a lookup
 * from any class derived from it always finds something.
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
#include "handlers-private.h"

#include <pthread.h>
#include <string.h>

gboolean
ss__base_request_handler_setup (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

gboolean
ss__base_request_handler_handle (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

gboolean
ss__base_request_handler_finish (SsRequestHandler *self, GError **error)
{
  return TRUE;
}

void
ss__base_request_handler_dispose (SsRequestHandler *self)
{
}

const SsHandlerClass ss_base_request_handler_class = {
  .name = "BaseRequestHandler",
  .parent = NULL,
  .instance_size = sizeof (SsRequestHandler),
  .magic = SS_HANDLER_CLASS_MAGIC,
  .setup = ss__base_request_handler_setup,
  .handle = ss__base_request_handler_handle,
  .finish = ss__base_request_handler_finish,
  .dispose = ss__base_request_handler_dispose,
  .rbufsize = -1,   /* default buffer (8192) */
  .wbufsize = 0,    /* unbuffered wfile */
  .timeout = SS_TIMEOUT_NONE,
  .disable_nagle_algorithm = FALSE,
};

gconstpointer
ss_handler_class_lookup (const SsHandlerClass *klass, gsize offset)
{
  g_return_val_if_fail (klass != NULL, NULL);
  return ss_class_chain_find_slot (klass, G_STRUCT_OFFSET (SsHandlerClass, parent), offset);
}

#define HANDLER_SLOT(klass, slot) SS_HANDLER_CLASS_SLOT (klass, slot)

/* The attribute of @type at @offset from the nearest class that sets it;
 * @fallback (Python's default) when none does. */
#define HANDLER_ATTRIBUTE(klass, type, field, fallback)                                    \
  G_STMT_START {                                                                          \
    static const type inherit = SS_INHERIT;                                               \
    const type *value = ss_class_chain_find ((klass), G_STRUCT_OFFSET (SsHandlerClass, parent), \
                                             G_STRUCT_OFFSET (SsHandlerClass, field),     \
                                             sizeof (type), &inherit);                    \
    return value != NULL ? *value : (fallback);                                           \
  } G_STMT_END

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
  static const gsize inherit = 0;
  const gsize *size = ss_class_chain_find (klass, G_STRUCT_OFFSET (SsHandlerClass, parent),
                                           G_STRUCT_OFFSET (SsHandlerClass, instance_size),
                                           sizeof (gsize), &inherit);

  return size != NULL ? *size : sizeof (SsRequestHandler);
}

const SsHandlerClass *
ss_handler_class_find_unmarked (const SsHandlerClass *klass)
{
  static const guint32 marked = SS_HANDLER_CLASS_MAGIC;
  const guint8 *field = ss_class_chain_find (klass, G_STRUCT_OFFSET (SsHandlerClass, parent),
                                             G_STRUCT_OFFSET (SsHandlerClass, magic),
                                             sizeof (guint32), &marked);

  return field != NULL ? (const SsHandlerClass *) (field - G_STRUCT_OFFSET (SsHandlerClass, magic))
                       : NULL;
}

gssize
ss_handler_class_rbufsize (const SsHandlerClass *klass)
{
  HANDLER_ATTRIBUTE (klass, gssize, rbufsize, -1);
}

gssize
ss_handler_class_wbufsize (const SsHandlerClass *klass)
{
  HANDLER_ATTRIBUTE (klass, gssize, wbufsize, 0);
}

double
ss_handler_class_timeout (const SsHandlerClass *klass)
{
  HANDLER_ATTRIBUTE (klass, double, timeout, SS_TIMEOUT_NONE);
}

gboolean
ss_handler_class_disable_nagle (const SsHandlerClass *klass)
{
  HANDLER_ATTRIBUTE (klass, gboolean, disable_nagle_algorithm, FALSE);
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

/* Where a run is, for the cleanup of a thread that ends inside a slot. */
typedef struct {
  SsRequestHandler *self;
  GError **first;
  gboolean finish_owed;  /* setup succeeded and finish has not started */
} HandlerRun;

/* The handler's thread ended inside setup, handle or finish (pthread_exit,
 * Python's SystemExit): finish still runs if handle was under way (the
 * `finally` of Python's __init__), then dispose, and the instance is
 * freed. No error is reported for it, as Python's handle_error never sees
 * a SystemExit; the strategy's own cleanup shuts the request down. */
static void
handler_run_unwound (void *data)
{
  HandlerRun *run = data;
  SsRequestHandler *self = run->self;
  SsRequest *request = self->request;

  if (run->finish_owed)
    {
      GError *ignored = NULL;

      run->finish_owed = FALSE;
      HANDLER_SLOT (self->klass, finish) (self, &ignored);
      g_clear_error (&ignored);
    }
  HANDLER_SLOT (self->klass, dispose) (self);
  if ((gpointer) self != request->handler_room)
    g_free (self);
  g_clear_error (run->first);
}

gboolean
ss_handler_run (const SsHandlerClass *klass, SsServer *server,
                SsRequest *request, GError **error)
{
  SsRequestHandler *self;
  GError *first = NULL;
  HandlerRun run;
  gsize size;
  gboolean ok;

  g_return_val_if_fail (klass != NULL, FALSE);
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  size = ss_handler_class_instance_size (klass);
  g_return_val_if_fail (size >= sizeof (SsRequestHandler), FALSE);

  /* Zeroed, in the room the server's transport left in the request for
   * its handler class (no allocation), or on the heap when there is none
   * or the class is another: handler structs may be large. */
  if (request->handler_room != NULL && request->handler_room_size >= size)
    self = memset (request->handler_room, 0, size);
  else
    self = g_malloc0 (size);
  self->klass = klass;
  self->server = server;
  self->request = request;
  self->client_address = &request->client_address;

  run.self = self;
  run.first = &first;
  run.finish_owed = FALSE;
  pthread_cleanup_push (handler_run_unwound, &run);
  ok = ss_request_handler_setup (self, &first);
  if (ok)
    {
      GError *second = NULL;

      run.finish_owed = TRUE;
      ok = ss_request_handler_handle (self, &first);
      /* finish runs whatever handle did (Python's try/finally). */
      run.finish_owed = FALSE;
      if (!ss_request_handler_finish (self, ok ? &first : &second))
        {
          if (!ok)
            log_second_error (self, second);
          ok = FALSE;
        }
      g_clear_error (&second);
    }
  pthread_cleanup_pop (0);

  /* The most-derived dispose; it chains to its parent's itself. */
  HANDLER_SLOT (klass, dispose) (self);
  if ((gpointer) self != request->handler_room)
    g_free (self);

  if (!ok)
    g_propagate_error (error, first);
  return ok;
}
