/* handler.h: request handler classes (Python's BaseRequestHandler and kin).
 *
 * A handler class is a vtable (setup, handle, finish) plus the size of its
 * instance. The core allocates one zeroed instance per request, runs
 * setup(), then handle(), then finish() -- finish also when handle failed,
 * not when setup failed, as in Python -- then dispose() and frees it.
 * A failure anywhere goes to the server's handle_error.
 *
 * A user's handler embeds its base as the first member and overrides only
 * what differs; slots left NULL are inherited from the parent class:
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
 *     SS_DEFINE_HANDLER_CLASS (UpperHandler, upper_handler_class,
 *                              ss_stream_request_handler_class,
 *                              .handle = upper_handle);
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "server.h"
#include "rfile.h"
#include "wfile.h"

G_BEGIN_DECLS

typedef struct _SsRequestHandler SsRequestHandler;

struct _SsHandlerClass {
  const char *name;
  const SsHandlerClass *parent;   /* NULL only for ss_base_request_handler_class */
  gsize instance_size;            /* sizeof the instance struct; 0 = inherit */

  gboolean (*setup)  (SsRequestHandler *self, GError **error);
  gboolean (*handle) (SsRequestHandler *self, GError **error);
  gboolean (*finish) (SsRequestHandler *self, GError **error);
  /* Always called last, even after a failed setup: release what setup took.
   * A subclass that overrides it calls its parent's. */
  void     (*dispose) (SsRequestHandler *self);

  /* StreamRequestHandler's class attributes; 0 = inherit from the parent. */
  gssize rbufsize;                 /* rfile buffer; < 0 = default (8192) */
  gssize wbufsize;                 /* wfile buffer; 0 = unbuffered (sendall per write) */
  double timeout;                  /* seconds for each socket read/write; < 0 = none */
  gboolean disable_nagle_algorithm; /* TCP_NODELAY on the connection */
};

/* The instance: first member of every handler instance. */
struct _SsRequestHandler {
  const SsHandlerClass *klass;
  SsServer *server;                 /* self.server */
  SsRequest *request;               /* self.request */
  const SsAddress *client_address;  /* self.client_address (&request->client_address) */
};

/* Defines `const SsHandlerClass VAR` for instance struct TYPE deriving from
 * PARENT (a class variable), with the overriding slots as designated
 * initializers. */
#define SS_DEFINE_HANDLER_CLASS(TYPE, VAR, PARENT, ...)                \
  const SsHandlerClass VAR = {                                         \
    .name = #TYPE, .parent = &(PARENT), .instance_size = sizeof (TYPE), \
    __VA_ARGS__                                                        \
  }

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

/* Resolved class attributes (walking parents). */
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
 * datagram echo (each datagram back to its sender). */
SS_API const SsHandlerClass ss_stream_echo_handler_class;
SS_API const SsHandlerClass ss_datagram_echo_handler_class;
#define SS_ECHO_LINE_LIMIT 65536

G_END_DECLS
