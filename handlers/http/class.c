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

static gboolean
resolve (const SsHTTPHandlerClass *klass, SsHTTPHandlerClass *out)
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

/* A thread's last resolution, with a byte copy of every class of the chain
 * it read: it is used again only while each of those classes is still what
 * it was, so a class changed at run time (Python's SimpleHTTPRequestHandler
 * .extensions_map[...] = ..., here a field written) is seen by the next
 * request as before. Walking ~40 slots up the chain on every request (a
 * parked connection's every request sets a handler up) cost more than the
 * rest of setup. */
#define RESOLVE_CACHE_DEPTH 6

typedef struct {
  guint depth; /* 0: empty */
  const SsHTTPHandlerClass *chain[RESOLVE_CACHE_DEPTH];
  SsHTTPHandlerClass copy[RESOLVE_CACHE_DEPTH];
  SsHTTPHandlerClass resolved;
} ResolveCache;

static gboolean
cache_matches (const ResolveCache *cache, const SsHTTPHandlerClass *klass)
{
  if (cache->depth == 0 || cache->chain[0] != klass)
    return FALSE;
  for (guint i = 0; i < cache->depth; i++)
    if (memcmp (&cache->copy[i], cache->chain[i], sizeof (SsHTTPHandlerClass)) != 0)
      return FALSE;
  return TRUE;
}

/* Remembers @resolved for @klass when its chain up to BaseHTTPRequestHandler
 * (where resolution stops: it fills everything) fits the cache. */
static void
cache_store (ResolveCache *cache, const SsHTTPHandlerClass *klass, const SsHTTPHandlerClass *resolved)
{
  guint depth = 0;

  cache->depth = 0;
  for (const SsHandlerClass *c = &klass->parent_class;; c = c->parent)
    {
      if (depth == RESOLVE_CACHE_DEPTH)
        return; /* deeper than kept: resolved each time */
      cache->chain[depth] = (const SsHTTPHandlerClass *) c;
      memcpy (&cache->copy[depth], c, sizeof (SsHTTPHandlerClass));
      depth++;
      if (c == &ss_base_http_request_handler_class.parent_class)
        break;
    }
  cache->resolved = *resolved;
  cache->depth = depth;
}

gboolean
ss__http_class_resolve (const SsHTTPHandlerClass *klass, SsHTTPHandlerClass *out)
{
  static __thread ResolveCache cache;

  if (cache_matches (&cache, klass))
    {
      *out = cache.resolved;
      return TRUE;
    }
  if (!resolve (klass, out))
    return FALSE;
  cache_store (&cache, klass, out);
  return TRUE;
}
