/**
 * SECTION:handler
 * @title: handler.h
 * @short_description: request handler classes (Python's BaseRequestHandler and kin)
 * @include: socketserver/socketserver.h
 *
 * A handler class is a vtable (setup, handle, finish) plus the size of its
 * instance. The core allocates one zeroed instance per request, runs
 * `setup`, then `handle`, then `finish` -- finish also when handle failed,
 * not when setup failed, as in Python -- then `dispose` and frees it.
 * A failure anywhere goes to the server's handle_error.
 *
 * A user's handler embeds its base as the first member and overrides only
 * what differs; slots left NULL are inherited from the parent class, and
 * an override calls its parent's slot by name for `super` (every slot of
 * every class the library exports is filled; class.h):
 *
 * |[<!-- language="C" -->
 *     typedef struct {
 *       SsStreamRequestHandler base;   // the base, first member
 *       guint lines;
 *     } UpperHandler;
 *
 *     static gboolean
 *     upper_handle (SsRequestHandler *handler, GError **error)
 *     {
 *       UpperHandler *self = (UpperHandler *) handler;
 *       ...ss_rfile_readline (self->base.rfile, line, 10000, error)...
 *     }
 *
 *     static gboolean
 *     upper_finish (SsRequestHandler *handler, GError **error)
 *     {
 *       ...
 *       return ss_stream_request_handler_class.finish (handler, error); // super()
 *     }
 *
 *     SS_DEFINE_HANDLER_CLASS (UpperHandler, upper_handler_class,
 *                              ss_stream_request_handler_class,
 *                              .handle = upper_handle, .finish = upper_finish,
 *                              .timeout = 0, .wbufsize = 0);
 * ]|
 *
 * Class attributes are Python's: a class that names one sets it, whatever
 * its parent set (timeout = 0, wbufsize = 0, disable_nagle_algorithm =
 * FALSE are values); one it does not name holds SS_INHERIT and inherits.
 * A class written as a plain initializer instead of SS_DEFINE_HANDLER_CLASS
 * starts from SS_HANDLER_CLASS_ATTRIBUTES_INHERIT; one that does not would
 * have 0 -- a real value -- in every attribute it does not name, so
 * ss_server_new refuses a handler class whose chain holds such a class
 * (a critical naming it), rather than run it with timeout 0.
 *
 * Threads: a handler instance lives in the one thread (or process) its
 * strategy runs the request in, from setup to dispose; classes are
 * static const data, so the class functions here are thread-safe.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "class.h"
#include "server.h"
#include "rfile.h"
#include "wfile.h"

G_BEGIN_DECLS

typedef struct _SsRequestHandler SsRequestHandler;

/**
 * SsHandlerClass:
 * @name: the class name, for messages
 * @parent: the parent class; %NULL only for
 *   #ss_base_request_handler_class
 * @instance_size: sizeof the instance struct; 0 = inherit (never a real
 *   size)
 * @magic: %SS_HANDLER_CLASS_MAGIC: set by
 *   %SS_HANDLER_CLASS_ATTRIBUTES_INHERIT
 * @setup: Python's `setup`; %FALSE with the error on failure (handle and
 *   finish are then skipped)
 * @handle: Python's `handle`: serve the request; %FALSE with the error on
 *   failure
 * @finish: Python's `finish`: runs after handle, also when handle failed
 * @dispose: always called last, even after a failed setup: release what
 *   setup took. A subclass that overrides it calls its parent's. (C's
 *   addition: Python has the garbage collector.)
 * @rbufsize: StreamRequestHandler.rbufsize: the rfile buffer: -1 default
 *   (8192), 0 unbuffered, N bytes [-1]; %SS_INHERIT = the parent's
 * @wbufsize: StreamRequestHandler.wbufsize: the wfile buffer: 0
 *   unbuffered (sendall per write), N bytes [0]; %SS_INHERIT = the
 *   parent's
 * @timeout: StreamRequestHandler.timeout: seconds for each socket read
 *   and write; %SS_TIMEOUT_NONE (Python None) waits forever; 0 fails any
 *   read or write that would block [none]; %SS_INHERIT = the parent's
 * @disable_nagle_algorithm: StreamRequestHandler.disable_nagle_algorithm:
 *   TCP_NODELAY on the connection [%FALSE]; %SS_INHERIT = the parent's
 *
 * A handler class: the slots Python lets a subclass override, and
 * StreamRequestHandler's class attributes with Python's values (its
 * defaults in brackets). A %NULL slot is inherited. Slots return %FALSE
 * with @error set on failure; one that returns %FALSE without an error
 * gets %SS_ERROR_HANDLER ("CLASS.STEP failed without giving a reason").
 */
struct _SsHandlerClass {
  const char *name;
  const SsHandlerClass *parent;
  gsize instance_size;
  guint32 magic;

  gboolean (*setup)  (SsRequestHandler *self, GError **error);
  gboolean (*handle) (SsRequestHandler *self, GError **error);
  gboolean (*finish) (SsRequestHandler *self, GError **error);
  void     (*dispose) (SsRequestHandler *self);

  gssize rbufsize;
  gssize wbufsize;
  double timeout;
  gboolean disable_nagle_algorithm;
};

/**
 * SS_TIMEOUT_NONE:
 *
 * Python's timeout = None: wait forever.
 */
#define SS_TIMEOUT_NONE (-1.0)

/**
 * SS_HANDLER_CLASS_MAGIC:
 *
 * The mark %SS_HANDLER_CLASS_ATTRIBUTES_INHERIT puts in
 * #SsHandlerClass.magic ("SSHC").
 */
#define SS_HANDLER_CLASS_MAGIC 0x53534843u
/**
 * SS_HANDLER_CLASS_ATTRIBUTES_INHERIT:
 *
 * Every attribute set to %SS_INHERIT, to start a class initializer with;
 * it also marks the class as one whose attributes mean what they say
 * (ss_server_new() refuses a chain holding an unmarked class).
 */
#define SS_HANDLER_CLASS_ATTRIBUTES_INHERIT                              \
  .magic = SS_HANDLER_CLASS_MAGIC,                                       \
  .rbufsize = SS_INHERIT, .wbufsize = SS_INHERIT, .timeout = SS_INHERIT, \
  .disable_nagle_algorithm = SS_INHERIT

/**
 * SsRequestHandler:
 * @klass: the handler's class
 * @server: self.server (borrowed)
 * @request: self.request (borrowed: the request owns the instance's
 *   memory)
 * @client_address: self.client_address (&request->client_address)
 *
 * The instance: first member of every handler instance. The core
 * allocates it zeroed, per request, and frees it after dispose.
 */
struct _SsRequestHandler {
  const SsHandlerClass *klass;
  SsServer *server;
  SsRequest *request;
  const SsAddress *client_address;
};

/**
 * SS__DEFINE_HANDLER_CLASS:
 * @STORAGE: static, or nothing
 * @TYPE: the instance struct
 * @VAR: the class variable
 * @PARENT: the parent class variable
 * @...: designated initializers
 *
 * Internal: what SS_DEFINE_HANDLER_CLASS() and
 * SS_DEFINE_HANDLER_CLASS_EXTERN() expand to.
 */
#define SS__DEFINE_HANDLER_CLASS(STORAGE, TYPE, VAR, PARENT, ...)        \
  SS_BEGIN_IGNORE_OVERRIDE_INIT                                          \
  STORAGE const SsHandlerClass VAR = {                                   \
    .name = #TYPE, .parent = &(PARENT), .instance_size = sizeof (TYPE),   \
    SS_HANDLER_CLASS_ATTRIBUTES_INHERIT,                                 \
    __VA_ARGS__                                                          \
  };                                                                     \
  SS_END_IGNORE_OVERRIDE_INIT                                            \
  _Static_assert (sizeof (TYPE) >= sizeof (SsRequestHandler),            \
                  #TYPE " must embed its base handler as its first member")
/**
 * SS_DEFINE_HANDLER_CLASS:
 * @TYPE: the instance struct, embedding its parent's instance as its
 *   first member (checked at compile time)
 * @VAR: the name of the class variable defined
 * @PARENT: the parent class (a class variable, not a pointer)
 * @...: the overriding slots and the attributes it sets, as designated
 *   initializers
 *
 * Defines `static const SsHandlerClass VAR` for instance struct TYPE
 * deriving from PARENT: Python's `class TYPE(PARENT):` with its methods
 * and class attributes. Every attribute not named inherits. Used at file
 * scope, WITHOUT `static` in front, ending with a semicolon:
 *
 * |[<!-- language="C" -->
 *     SS_DEFINE_HANDLER_CLASS (EchoHandler, echo_handler_class,
 *                              ss_stream_request_handler_class,
 *                              .handle = echo_handle, .timeout = 10);
 * ]|
 *
 * (The storage class is part of the macro because the compiler's warning
 * about the preset attributes being overridden is silenced around the
 * definition, and GCC accepts that only between declarations.)
 */
#define SS_DEFINE_HANDLER_CLASS(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HANDLER_CLASS (static, TYPE, VAR, PARENT, __VA_ARGS__)
/**
 * SS_DEFINE_HANDLER_CLASS_EXTERN:
 * @TYPE: the instance struct
 * @VAR: the name of the class variable defined
 * @PARENT: the parent class
 * @...: the overriding slots and attributes
 *
 * SS_DEFINE_HANDLER_CLASS() with external linkage, for a class other
 * files use (declare it there as `extern const SsHandlerClass VAR`).
 */
#define SS_DEFINE_HANDLER_CLASS_EXTERN(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HANDLER_CLASS (, TYPE, VAR, PARENT, __VA_ARGS__)

/**
 * ss_base_request_handler_class:
 *
 * Python's BaseRequestHandler: setup, handle and finish do nothing.
 */
SS_API const SsHandlerClass ss_base_request_handler_class;

/**
 * SsStreamRequestHandler:
 * @parent: base, first member
 * @rfile: self.rfile: buffered reader over the connection (owned by the
 *   handler: dispose frees it)
 * @wfile: self.wfile: sendall writer, buffered when wbufsize &gt; 0 (owned
 *   by the handler)
 * @connection: self.connection: the socket (owned by the request)
 *
 * The instance of #ss_stream_request_handler_class and its subclasses.
 */
typedef struct {
  SsRequestHandler parent;
  SsRFile *rfile;
  SsWFile *wfile;
  int connection;
} SsStreamRequestHandler;
/**
 * ss_stream_request_handler_class:
 *
 * Python's StreamRequestHandler: setup makes rfile/wfile over the
 * connection (and applies timeout and disable_nagle_algorithm), finish
 * flushes wfile, dispose frees both.
 */
SS_API const SsHandlerClass ss_stream_request_handler_class;

/**
 * SsDatagramRequestHandler:
 * @parent: base, first member
 * @rfile: self.rfile: over the packet (same offset as the stream
 *   handler's)
 * @wfile: self.wfile: into memory, sent by finish
 * @socket: self.socket: the server socket to reply on (borrowed)
 * @packet: the datagram (Python's self.packet; borrowed from the request)
 * @packet_len: its length
 *
 * The instance of #ss_datagram_request_handler_class and its subclasses.
 */
typedef struct {
  SsRequestHandler parent;
  SsRFile *rfile;
  SsWFile *wfile;
  int socket;
  const guint8 *packet;
  gsize packet_len;
} SsDatagramRequestHandler;
/**
 * ss_datagram_request_handler_class:
 *
 * Python's DatagramRequestHandler: rfile reads the packet, wfile collects
 * the reply, which finish sends to the client as one datagram (always,
 * even empty).
 */
SS_API const SsHandlerClass ss_datagram_request_handler_class;

/**
 * ss_request_handler_setup:
 * @self: a handler instance
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to the class chain's setup: Python's `self.setup`.
 *
 * Returns: %TRUE on success; %FALSE with the slot's error, or
 *   %SS_ERROR_HANDLER when it gave none
 */
SS_API gboolean ss_request_handler_setup  (SsRequestHandler *self, GError **error);
/**
 * ss_request_handler_handle:
 * @self: a handler instance
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to handle: Python's `self.handle`.
 *
 * Returns: %TRUE on success; %FALSE with the slot's error, or
 *   %SS_ERROR_HANDLER when it gave none
 */
SS_API gboolean ss_request_handler_handle (SsRequestHandler *self, GError **error);
/**
 * ss_request_handler_finish:
 * @self: a handler instance
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to finish: Python's `self.finish`.
 *
 * Returns: %TRUE on success; %FALSE with the slot's error, or
 *   %SS_ERROR_HANDLER when it gave none
 */
SS_API gboolean ss_request_handler_finish (SsRequestHandler *self, GError **error);

/**
 * ss_handler_class_lookup:
 * @klass: a handler class
 * @offset: the byte offset of a slot in #SsHandlerClass
 *
 * `super` for a class deriving from a user's class. Use it through
 * SS_HANDLER_CLASS_SLOT(). Thread-safe.
 *
 * Returns: (transfer none) (nullable): the slot at byte @offset of
 *   #SsHandlerClass from @klass or its nearest ancestor that fills it
 */
SS_API gconstpointer ss_handler_class_lookup (const SsHandlerClass *klass, gsize offset);

/**
 * SS_HANDLER_CLASS_SLOT:
 * @klass: a pointer to a handler class
 * @slot: the name of a slot of #SsHandlerClass
 *
 * The slot with its type, from @klass or its nearest ancestor that fills
 * it: `SS_HANDLER_CLASS_SLOT (&my_handler_class, handle) (handler, error)`
 * is Python's `super().handle()` in a class deriving from
 * my_handler_class.
 */
#define SS_HANDLER_CLASS_SLOT(klass, slot) \
  ((__typeof__ (((SsHandlerClass *) 0)->slot)) ss_handler_class_lookup ((klass), G_STRUCT_OFFSET (SsHandlerClass, slot)))

/**
 * ss_handler_class_find_unmarked:
 * @klass: a handler class
 *
 * What ss_server_new() checks a handler class with.
 *
 * Returns: (transfer none) (nullable): the first class from @klass up its
 *   chain that was not defined with SS_DEFINE_HANDLER_CLASS() or
 *   %SS_HANDLER_CLASS_ATTRIBUTES_INHERIT (its attributes would be 0 by
 *   accident), or %NULL when there is none
 */
SS_API const SsHandlerClass *ss_handler_class_find_unmarked (const SsHandlerClass *klass);

/**
 * ss_handler_class_instance_size:
 * @klass: a handler class
 *
 * A resolved class attribute: from the nearest class in the chain that
 * sets it.
 *
 * Returns: the instance size; sizeof (#SsRequestHandler) when no class
 *   sets one
 */
SS_API gsize  ss_handler_class_instance_size (const SsHandlerClass *klass);
/**
 * ss_handler_class_rbufsize:
 * @klass: a handler class
 *
 * The resolved rbufsize: Python's self.rbufsize.
 *
 * Returns: the nearest class's value; Python's default (-1) when none
 *   sets it
 */
SS_API gssize ss_handler_class_rbufsize (const SsHandlerClass *klass);
/**
 * ss_handler_class_wbufsize:
 * @klass: a handler class
 *
 * The resolved wbufsize: Python's self.wbufsize.
 *
 * Returns: the nearest class's value; Python's default (0) when none
 *   sets it
 */
SS_API gssize ss_handler_class_wbufsize (const SsHandlerClass *klass);
/**
 * ss_handler_class_timeout:
 * @klass: a handler class
 *
 * The resolved timeout: Python's self.timeout.
 *
 * Returns: the nearest class's value; %SS_TIMEOUT_NONE (Python's None)
 *   when none sets it
 */
SS_API double ss_handler_class_timeout (const SsHandlerClass *klass);
/**
 * ss_handler_class_disable_nagle:
 * @klass: a handler class
 *
 * The resolved disable_nagle_algorithm: Python's
 * self.disable_nagle_algorithm.
 *
 * Returns: the nearest class's value; %FALSE when none sets it
 */
SS_API gboolean ss_handler_class_disable_nagle (const SsHandlerClass *klass);

/**
 * ss_handler_run:
 * @klass: a handler class
 * @server: the server
 * @request: (transfer none): the request
 * @error: return location for a #GError, or %NULL
 *
 * Python's RequestHandlerClass(request, client_address, server):
 * allocates an instance of @klass, runs setup/handle/finish/dispose in
 * the calling thread and frees it.
 *
 * Returns: %TRUE on success; %FALSE with the first error (a later one is
 *   logged) on failure
 */
SS_API gboolean ss_handler_run (const SsHandlerClass *klass, SsServer *server,
                         SsRequest *request, GError **error);

/**
 * ss_stream_echo_handler_class:
 *
 * A ready-made handler (handlers/echo.c): stream echo, every line back as
 * read, readline limit %SS_ECHO_LINE_LIMIT (64 KiB) so a longer line goes
 * back in pieces.
 */
SS_API const SsHandlerClass ss_stream_echo_handler_class;
/**
 * ss_datagram_echo_handler_class:
 *
 * A ready-made handler: datagram echo, each datagram back to its sender
 * -- any source address: see udp.h on reflection.
 */
SS_API const SsHandlerClass ss_datagram_echo_handler_class;

/**
 * ss_stream_echo_parking_handler_class:
 *
 * The stream echo that parks its connection between lines where the
 * strategy can (ss_server_park_request(), no timeout): with the thread
 * pool an idle echo client holds no worker (ss-echo --park-idle).
 * Elsewhere it is #ss_stream_echo_handler_class.
 */
SS_API const SsHandlerClass ss_stream_echo_parking_handler_class;
/**
 * SS_ECHO_LINE_LIMIT:
 *
 * The readline limit of the echo handlers, in bytes (64 KiB).
 */
#define SS_ECHO_LINE_LIMIT 65536

G_END_DECLS
