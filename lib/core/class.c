/* class.c: the one walk up a class's parent chain.
 *
 * Server classes and handler classes (and a user's extensions of them,
 * such as the http.server classes) store slots and attributes in plain
 * structs whose unset entries hold an "inherit" value: NULL for a slot,
 * SS_INHERIT for a handler attribute, 0 for a server class's family,
 * socket type and instance size (never real values there). Every lookup
 * of the library is this function with the field's offset; there is no
 * second walk to keep in step with it.
 */
#include "core/core.h"

#include <string.h>

gconstpointer
ss_class_chain_find (gconstpointer klass, gsize parent_offset, gsize field_offset,
                     gsize field_size, gconstpointer inherit)
{
  const guint8 *k;

  for (k = klass; k != NULL; k = G_STRUCT_MEMBER (gconstpointer, k, parent_offset))
    if (memcmp (k + field_offset, inherit, field_size) != 0)
      return k + field_offset;
  return NULL;
}

gconstpointer
ss_class_chain_find_slot (gconstpointer klass, gsize parent_offset, gsize slot_offset)
{
  static const gconstpointer inherit = NULL;
  const gconstpointer *slot = ss_class_chain_find (klass, parent_offset, slot_offset,
                                                   sizeof (gconstpointer), &inherit);

  return slot != NULL ? *slot : NULL;
}

gconstpointer
ss_server_class_lookup (const SsServerClass *klass, gsize offset)
{
  g_return_val_if_fail (klass != NULL, NULL);
  return ss_class_chain_find_slot (klass, G_STRUCT_OFFSET (SsServerClass, parent), offset);
}

/* A server class's int attribute (family, socket type): 0 inherits. */
static int
server_class_int (const SsServerClass *klass, gsize offset)
{
  static const int inherit = 0;
  const int *value = ss_class_chain_find (klass, G_STRUCT_OFFSET (SsServerClass, parent), offset,
                                          sizeof (int), &inherit);

  return value != NULL ? *value : 0;
}

#define RESOLVE_SLOT(out, klass, slot) \
  ((out)->slot = SS_SERVER_CLASS_SLOT ((klass), slot))

gboolean
ss__server_class_resolve (const SsServerClass *klass, SsServerClass *out)
{
  static const gsize zero = 0;
  const gsize *size = ss_class_chain_find (klass, G_STRUCT_OFFSET (SsServerClass, parent),
                                           G_STRUCT_OFFSET (SsServerClass, instance_size),
                                           sizeof (gsize), &zero);

  *out = *klass;
  out->instance_size = MAX (size != NULL ? *size : 0, sizeof (SsServer));
  out->address_family = server_class_int (klass, G_STRUCT_OFFSET (SsServerClass, address_family));
  out->socket_type = server_class_int (klass, G_STRUCT_OFFSET (SsServerClass, socket_type));
  RESOLVE_SLOT (out, klass, server_bind);
  RESOLVE_SLOT (out, klass, server_activate);
  RESOLVE_SLOT (out, klass, get_request);
  RESOLVE_SLOT (out, klass, shutdown_request);
  RESOLVE_SLOT (out, klass, close_request);
  RESOLVE_SLOT (out, klass, server_close);
  RESOLVE_SLOT (out, klass, fileno);
  RESOLVE_SLOT (out, klass, verify_request);
  RESOLVE_SLOT (out, klass, process_request);
  RESOLVE_SLOT (out, klass, finish_request);
  RESOLVE_SLOT (out, klass, handle_error);
  RESOLVE_SLOT (out, klass, handle_timeout);
  RESOLVE_SLOT (out, klass, service_actions);
  /* NULL only when the chain does not reach ss_base_server_class. */
  return out->server_bind != NULL && out->server_activate != NULL && out->get_request != NULL
         && out->shutdown_request != NULL && out->close_request != NULL
         && out->server_close != NULL && out->fileno != NULL && out->verify_request != NULL
         && out->process_request != NULL && out->finish_request != NULL
         && out->handle_error != NULL && out->handle_timeout != NULL
         && out->service_actions != NULL && out->address_family != 0 && out->socket_type != 0;
}
