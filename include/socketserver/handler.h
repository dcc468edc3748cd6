/* handler.h: request handler classes (Python's BaseRequestHandler and kin).
 *
 * A handler class is a vtable (setup, handle, finish) plus the size of its
 * instance. The core allocates one zeroed instance per request, runs
 * setup(), then handle(), then finish() -- finish also when handle failed,
 * not when setup failed, as in Python -- then dispose() and frees it.
 * A failure anywhere goes to the server's handle_error.
 *
 * A user's handler embeds its base as the first member and overrides only
 * what differs; slots left NULL are inherited from the parent class, and
 * an override calls its parent's slot by name for super() (every slot of
 * every class the library exports is filled; class.h):
 *
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
 *
 * Class attributes are Python's: a class that names one sets it, whatever
 * its parent set (timeout = 0, wbufsize = 0, disable_nagle_algorithm =
 * FALSE are values); one it does not name holds SS_INHERIT and inherits.
 * A class written as a plain initializer instead of SS_DEFINE_HANDLER_CLASS
 * starts from SS_HANDLER_CLASS_ATTRIBUTES_INHERIT; one that does not would
 * have 0 -- a real value -- in every attribute it does not name, so
 * ss_server_new refuses a handler class whose chain holds such a class
 * (a critical naming it), rather than run it with timeout 0.
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

struct _SsHandlerClass {
  const char *name;
  const SsHandlerClass *parent;   /* NULL only for ss_base_request_handler_class */
  gsize instance_size;            /* sizeof the instance struct; 0 = inherit (never a real size) */
  guint32 magic;                  /* SS_HANDLER_CLASS_MAGIC: set by SS_HANDLER_CLASS_ATTRIBUTES_INHERIT */

  gboolean (*setup)  (SsRequestHandler *self, GError **error);
  gboolean (*handle) (SsRequestHandler *self, GError **error);
  gboolean (*finish) (SsRequestHandler *self, GError **error);
  /* Always called last, even after a failed setup: release what setup took.
   * A subclass that overrides it calls its parent's. */
  void     (*dispose) (SsRequestHandler *self);

  /* StreamRequestHandler's class attributes, Python's values (its
   * defaults in brackets); SS_INHERIT = the parent's. */
  gssize rbufsize;                 /* rfile buffer: -1 default (8192), 0 unbuffered, N bytes [-1] */
  gssize wbufsize;                 /* wfile buffer: 0 unbuffered (sendall per write), N bytes [0] */
  double timeout;                  /* seconds for each socket read and write; SS_TIMEOUT_NONE
                                    * (Python None) waits forever; 0 fails any read or write
                                    * that would block [none] */
  gboolean disable_nagle_algorithm; /* TCP_NODELAY on the connection [FALSE] */
};

/* Python's timeout = None. */
#define SS_TIMEOUT_NONE (-1.0)

/* Every attribute set to SS_INHERIT, to start a class initializer with;
 * it also marks the class as one whose attributes mean what they say. */
#define SS_HANDLER_CLASS_MAGIC 0x53534843u /* "SSHC" */
#define SS_HANDLER_CLASS_ATTRIBUTES_INHERIT                              \
  .magic = SS_HANDLER_CLASS_MAGIC,                                       \
  .rbufsize = SS_INHERIT, .wbufsize = SS_INHERIT, .timeout = SS_INHERIT, \
  .disable_nagle_algorithm = SS_INHERIT

/* The instance: first member of every handler instance. */
struct _SsRequestHandler {
  const SsHandlerClass *klass;
  SsServer *server;                 /* self.server */
  SsRequest *request;               /* self.request */
  const SsAddress *client_address;  /* self.client_address (&request->client_address) */
};

/* Defines `static const SsHandlerClass VAR` for instance struct TYPE
 * deriving from PARENT (a class variable), with the overriding slots and
 * the attributes it sets as designated initializers; every other
 * attribute inherits. Used at file scope, ending with a semicolon:
 *
 *     SS_DEFINE_HANDLER_CLASS (EchoHandler, echo_handler_class,
 *                              ss_stream_request_handler_class,
 *                              .handle = echo_handle, .timeout = 10);
 *
 * SS_DEFINE_HANDLER_CLASS_EXTERN defines it with external linkage, for a
 * class other files use (declare it there as extern const SsHandlerClass).
 * (The storage class is part of the macro because the compiler's warning
 * about the preset attributes being overridden is silenced around the
 * definition, and GCC accepts that only between declarations.) */
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
#define SS_DEFINE_HANDLER_CLASS(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HANDLER_CLASS (static, TYPE, VAR, PARENT, __VA_ARGS__)
#define SS_DEFINE_HANDLER_CLASS_EXTERN(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HANDLER_CLASS (, TYPE, VAR, PARENT, __VA_ARGS__)

/* BaseRequestHandler: setup, handle and finish do nothing. */
SS_API const SsHandlerClass ss_base_request_handler_class;

/* StreamRequestHandler: setup makes rfile/wfile over the connection (and
 * applies timeout and disable_nagle_algorithm), finish flushes wfile,
 * dispose frees both. */
typedef struct {
  SsRequestHandler parent;  /* base, first member */
  SsRFile *rfile;           /* buffered reader over the connection */
  SsWFile *wfile;           /* sendall writer, buffered when wbufsize > 0 */
  int connection;           /* self.connection: the socket (owned by the request) */
} SsStreamRequestHandler;
SS_API const SsHandlerClass ss_stream_request_handler_class;

/* DatagramRequestHandler: rfile reads the packet, wfile collects the reply,
 * which finish sends to the client as one datagram (always, even empty). */
typedef struct {
  SsRequestHandler parent;  /* base, first member */
  SsRFile *rfile;           /* over the packet (same offset as the stream handler's) */
  SsWFile *wfile;           /* into memory, sent by finish */
  int socket;               /* the server socket to reply on */
  const guint8 *packet;     /* the datagram */
  gsize packet_len;
} SsDatagramRequestHandler;
SS_API const SsHandlerClass ss_datagram_request_handler_class;

/* Dispatchers (Python: self.setup() etc.), through the class chain. */
SS_API gboolean ss_request_handler_setup  (SsRequestHandler *self, GError **error);
SS_API gboolean ss_request_handler_handle (SsRequestHandler *self, GError **error);
SS_API gboolean ss_request_handler_finish (SsRequestHandler *self, GError **error);

/* The slot at byte @offset of SsHandlerClass from @klass or its nearest
 * ancestor that fills it (transfer none): super() for a class deriving from
 * a user's class. Use it through SS_HANDLER_CLASS_SLOT. */
SS_API gconstpointer ss_handler_class_lookup (const SsHandlerClass *klass, gsize offset);

/* SS_HANDLER_CLASS_SLOT (&my_handler_class, handle) (handler, error). */
#define SS_HANDLER_CLASS_SLOT(klass, slot) \
  ((__typeof__ (((SsHandlerClass *) 0)->slot)) ss_handler_class_lookup ((klass), G_STRUCT_OFFSET (SsHandlerClass, slot)))

/* The first class from @klass up its chain that was not defined with
 * SS_DEFINE_HANDLER_CLASS or SS_HANDLER_CLASS_ATTRIBUTES_INHERIT (its
 * attributes would be 0 by accident), or NULL when there is none. */
SS_API const SsHandlerClass *ss_handler_class_find_unmarked (const SsHandlerClass *klass);

/* Resolved class attributes (the nearest class in the chain that sets
 * each; Python's defaults when none does). */
SS_API gsize  ss_handler_class_instance_size (const SsHandlerClass *klass);
SS_API gssize ss_handler_class_rbufsize (const SsHandlerClass *klass);
SS_API gssize ss_handler_class_wbufsize (const SsHandlerClass *klass);
SS_API double ss_handler_class_timeout (const SsHandlerClass *klass);
SS_API gboolean ss_handler_class_disable_nagle (const SsHandlerClass *klass);

/* Python's RequestHandlerClass(request, client_address, server): allocates
 * an instance of @klass, runs setup/handle/finish/dispose and frees it.
 * Returns FALSE with the first error (a later one is logged) on failure. */
SS_API gboolean ss_handler_run (const SsHandlerClass *klass, SsServer *server,
                         SsRequest *request, GError **error);

/* Ready-made handlers (handlers/echo.c): stream echo (every line back as
 * read, readline limit 64 KiB so a longer line goes back in pieces) and
 * datagram echo (each datagram back to its sender -- any source address:
 * see udp.h on reflection). */
SS_API const SsHandlerClass ss_stream_echo_handler_class;
SS_API const SsHandlerClass ss_datagram_echo_handler_class;

/* The stream echo that parks its connection between lines where the
 * strategy can (ss_server_park_request, no timeout): with the thread pool
 * an idle echo client holds no worker (ss-echo --park-idle). Elsewhere it
 * is ss_stream_echo_handler_class. */
SS_API const SsHandlerClass ss_stream_echo_parking_handler_class;
#define SS_ECHO_LINE_LIMIT 65536

G_END_DECLS
