/**
 * SECTION:class
 * @title: class.h
 * @short_description: what server classes and handler classes have in common
 * @include: socketserver/socketserver.h
 *
 * A class is a static const struct: a name, a parent class, slots (function
 * pointers) and class attributes. Python's inheritance maps onto it so:
 *
 * - `super`. Every class the library exports fills every slot, naming its
 *   parent's function where it inherits a behaviour. A user's override
 *   calls its parent's slot by name, as a porter writes it:
 *
 * |[<!-- language="C" -->
 *       return ss_tcp_server_class.verify_request (self, request);
 *       return ss_stream_request_handler_class.finish (handler, error);
 * ]|
 *
 * - A user's class may leave slots NULL: they are inherited, looked up once
 *   when a server is created. So a class deriving from another *user's*
 *   class (whose slots may be NULL) calls its parent through the lookup,
 *   which walks from the class named up to the first one that fills the
 *   slot and is never NULL for a class that derives from a library class:
 *
 * |[<!-- language="C" -->
 *       return SS_SERVER_CLASS_SLOT (&my_base_server_class, verify_request) (self, request);
 *       return SS_HANDLER_CLASS_SLOT (&my_base_handler_class, handle) (handler, error);
 * ]|
 *
 * - Class attributes (a handler class's rbufsize, wbufsize, timeout,
 *   disable_nagle_algorithm) are inherited when they hold SS_INHERIT, which
 *   SS_DEFINE_HANDLER_CLASS puts in every attribute a class does not name.
 *   Every other value is a value, so 0, FALSE and "unbuffered" can be set
 *   under a parent that set something else, as in Python.
 *
 * Classes are immutable after definition, so every function here is
 * thread-safe.
 *
 * ss_class_chain_find() is the one walk up a parent chain; the lookups and
 * attribute getters of server.h and handler.h are made of it.
 */
#pragma once

#include "api.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * SS_INHERIT:
 *
 * "Inherit this attribute from the parent class": a value no attribute
 * takes in Python (INT_MIN), usable in int, gboolean, gssize and double
 * fields alike.
 */
#define SS_INHERIT (-2147483647 - 1)

/**
 * ss_class_chain_find:
 * @klass: a class struct (a server class, a handler class or a class of
 *   one's own that embeds a parent pointer)
 * @parent_offset: the byte offset of the parent pointer in each class
 * @field_offset: the byte offset of the field looked for
 * @field_size: its size in bytes
 * @inherit: the value meaning "inherit": a pointer to %NULL for slots, to
 *   %SS_INHERIT for attributes
 *
 * Walks from @klass through the pointer at @parent_offset of each class
 * to the first class whose @field_size bytes at @field_offset differ from
 * *@inherit. A class extending #SsHandlerClass with fields of its own
 * (http.server's) walks them with this.
 *
 * Returns: (transfer none) (nullable): the address of that field in that
 *   class, or %NULL when no class in the chain sets it
 */
SS_API gconstpointer ss_class_chain_find (gconstpointer klass, gsize parent_offset,
                                          gsize field_offset, gsize field_size,
                                          gconstpointer inherit);

/**
 * ss_class_chain_find_slot:
 * @klass: a class struct
 * @parent_offset: the byte offset of the parent pointer in each class
 * @slot_offset: the byte offset of the slot
 *
 * The chain walk for slots, which ss_server_class_lookup() and
 * ss_handler_class_lookup() are.
 *
 * Returns: (transfer none) (nullable): the slot (a function pointer, as a
 *   gconstpointer) at @slot_offset of the nearest class from @klass up
 *   that fills it, or %NULL
 */
SS_API gconstpointer ss_class_chain_find_slot (gconstpointer klass, gsize parent_offset,
                                               gsize slot_offset);

/**
 * SS_BEGIN_IGNORE_OVERRIDE_INIT:
 *
 * Designated initializers that override an earlier one in the same list
 * are how SS_DEFINE_HANDLER_CLASS() presets %SS_INHERIT; this and
 * %SS_END_IGNORE_OVERRIDE_INIT silence the compilers' warning about
 * exactly that (-Woverride-init, clang's -Winitializer-overrides), around
 * the definition only. Use them between declarations, at file scope.
 */
/**
 * SS_END_IGNORE_OVERRIDE_INIT:
 *
 * Ends what %SS_BEGIN_IGNORE_OVERRIDE_INIT began.
 */
#if defined(__clang__)
#define SS_BEGIN_IGNORE_OVERRIDE_INIT \
  _Pragma ("clang diagnostic push") _Pragma ("clang diagnostic ignored \"-Winitializer-overrides\"")
#define SS_END_IGNORE_OVERRIDE_INIT _Pragma ("clang diagnostic pop")
#elif defined(__GNUC__)
#define SS_BEGIN_IGNORE_OVERRIDE_INIT \
  _Pragma ("GCC diagnostic push") _Pragma ("GCC diagnostic ignored \"-Woverride-init\"")
#define SS_END_IGNORE_OVERRIDE_INIT _Pragma ("GCC diagnostic pop")
#else
#define SS_BEGIN_IGNORE_OVERRIDE_INIT
#define SS_END_IGNORE_OVERRIDE_INIT
#endif

G_END_DECLS
