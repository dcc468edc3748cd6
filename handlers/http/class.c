/* class.c: what makes an HTTP handler class a class.
 *
 * SsHTTPHandlerClass embeds SsHandlerClass first, so the server runs it as
 * a handler class, and its parent pointer (SsHandlerClass.parent) points at
 * the parent's embedded SsHandlerClass, which is the parent
 * SsHTTPHandlerClass itself. The one chain walk (ss_class_chain_find,
 * class.h) therefore finds HTTP slots and attributes as it finds the
 * handler ones -- as long as the chain really is made of HTTP classes up to
 * BaseHTTPRequestHandler, which fills everything, so the walk always stops
 * there before it could read past a plain SsHandlerClass. That is checked
 * (ss_is_http_handler_class) before any HTTP field is read.
 *
 * A handler resolves its class once, when its connection is set up, into
 * a private copy with every HTTP slot and attribute filled: each
 * dispatch is then one indirect call.
 */
#include "http-private.h"

#include <string.h>

#define PARENT_OFFSET G_STRUCT_OFFSET (SsHandlerClass, parent)
#define HTTP_SLOT(name) G_STRUCT_OFFSET (SsHTTPHandlerClass, name)

static const gsize slot_offsets[] = {
  HTTP_SLOT (do_GET), HTTP_SLOT (do_HEAD), HTTP_SLOT (do_POST), HTTP_SLOT (do_PUT),
  HTTP_SLOT (do_DELETE), HTTP_SLOT (do_OPTIONS), HTTP_SLOT (do_PATCH), HTTP_SLOT (do_TRACE),
  HTTP_SLOT (do_CONNECT),
  HTTP_SLOT (handle_one_request), HTTP_SLOT (parse_request), HTTP_SLOT (handle_expect_100),
  HTTP_SLOT (send_error), HTTP_SLOT (send_response), HTTP_SLOT (send_response_only),
  HTTP_SLOT (send_header), HTTP_SLOT (end_headers), HTTP_SLOT (log_request),
  HTTP_SLOT (log_error), HTTP_SLOT (log_message), HTTP_SLOT (version_string),
  HTTP_SLOT (address_string), HTTP_SLOT (send_head), HTTP_SLOT (list_directory),
  HTTP_SLOT (translate_path), HTTP_SLOT (copyfile), HTTP_SLOT (guess_type),
  /* Pointer attributes inherit through NULL like slots. */
  HTTP_SLOT (server_version), HTTP_SLOT (sys_version), HTTP_SLOT (protocol_version),
  HTTP_SLOT (default_request_version), HTTP_SLOT (error_message_format),
  HTTP_SLOT (error_content_type), HTTP_SLOT (directory), HTTP_SLOT (extensions_map),
};

gboolean
ss_is_http_handler_class (const SsHandlerClass *klass)
{
  for (; klass != NULL; klass = klass->parent)
    if (klass == &ss_base_http_request_handler_class.parent_class)
      return TRUE;
  return FALSE;
}

gconstpointer
ss_http_handler_class_lookup (const SsHTTPHandlerClass *klass, gsize offset)
{
  g_return_val_if_fail (klass != NULL, NULL);
  g_return_val_if_fail (ss_is_http_handler_class (&klass->parent_class), NULL);
  return ss_class_chain_find_slot (klass, PARENT_OFFSET, offset);
}

void
ss_http_handler_class_init (SsHTTPHandlerClass *klass, const char *name,
                            const SsHTTPHandlerClass *parent, gsize instance_size)
{
  g_return_if_fail (klass != NULL && parent != NULL);

  memset (klass, 0, sizeof *klass);
  klass->parent_class.name = name;
  klass->parent_class.parent = &parent->parent_class;
  klass->parent_class.instance_size = instance_size;
  klass->parent_class.magic = SS_HANDLER_CLASS_MAGIC;
  klass->parent_class.rbufsize = SS_INHERIT;
  klass->parent_class.wbufsize = SS_INHERIT;
  klass->parent_class.timeout = SS_INHERIT;
  klass->parent_class.disable_nagle_algorithm = SS_INHERIT;
  klass->http_magic = SS_HTTP_HANDLER_CLASS_MAGIC;
  klass->keepalive_timeout = SS_INHERIT;
  klass->ranges = SS_INHERIT;
  klass->park_idle = SS_INHERIT;
  klass->header_timeout = SS_INHERIT;
}

/* The nearest value of the @size-byte attribute at @offset that is not
 * SS_INHERIT. BaseHTTPRequestHandler sets every one. */
static const void *
find_attribute (const SsHTTPHandlerClass *klass, gsize offset, gsize size, const void *inherit)
{
  const void *value = ss_class_chain_find (klass, PARENT_OFFSET, offset, size, inherit);

  g_assert (value != NULL);
  return value;
}

gboolean
ss__http_class_resolve (const SsHTTPHandlerClass *klass, SsHTTPHandlerClass *out)
{
  static const double inherit_double = SS_INHERIT;
  static const gboolean inherit_bool = SS_INHERIT;

  if (!ss_is_http_handler_class (&klass->parent_class))
    return FALSE;
  *out = *klass;
  for (gsize i = 0; i < G_N_ELEMENTS (slot_offsets); i++)
    G_STRUCT_MEMBER (gconstpointer, out, slot_offsets[i])
      = ss_class_chain_find_slot (klass, PARENT_OFFSET, slot_offsets[i]);
  out->keepalive_timeout = *(const double *) find_attribute (
      klass, HTTP_SLOT (keepalive_timeout), sizeof (double), &inherit_double);
  out->header_timeout = *(const double *) find_attribute (
      klass, HTTP_SLOT (header_timeout), sizeof (double), &inherit_double);
  out->ranges = *(const gboolean *) find_attribute (klass, HTTP_SLOT (ranges), sizeof (gboolean),
                                                   &inherit_bool);
  out->park_idle = *(const gboolean *) find_attribute (klass, HTTP_SLOT (park_idle), sizeof (gboolean),
                                                      &inherit_bool);
  return TRUE;
}
