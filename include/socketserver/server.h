/* server.h: the server object, Python's BaseServer / TCPServer.
 *
 * A server is an instance of a server class (SsServerClass, a vtable of the
 * methods Python lets a subclass override) composed with a concurrency
 * strategy (SsStrategy, strategy.h) and a request handler class
 * (SsHandlerClass, handler.h). The transports (tcp.h, udp.h, unix.h) are
 * server classes; a user's server class names one of them as its parent,
 * fills only the slots it overrides (the others stay NULL and are
 * inherited) and calls its parent's slot by name where Python calls
 * super(): every slot of every class the library exports is filled
 * (class.h says more).
 *
 *     static gboolean
 *     my_verify_request (SsServer *server, SsRequest *request)
 *     {
 *       if (!allowed (&request->client_address))
 *         return FALSE;
 *       return ss_tcp_server_class.verify_request (server, request); // super()
 *     }
 *     static const SsServerClass my_server_class = {
 *       .name = "MyServer", .parent = &ss_tcp_server_class,
 *       .verify_request = my_verify_request,
 *     };
 *     server = ss_server_new (&my_server_class, "127.0.0.1:0", &my_handler_class,
 *                             ss_threading_strategy_new (), TRUE, &error);
 *
 * A class deriving from my_server_class calls its parent through
 * SS_SERVER_CLASS_SLOT (&my_server_class, verify_request), since
 * my_server_class leaves most slots NULL.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <sys/socket.h>
#include "address.h"
#include "request.h"
#include "error.h"
#include "class.h"

G_BEGIN_DECLS

typedef struct _SsServer SsServer;
typedef struct _SsServerClass SsServerClass;
typedef struct _SsStrategy SsStrategy;
typedef struct _SsHandlerClass SsHandlerClass;

struct _SsServerClass {
  const char *name;
  const SsServerClass *parent;   /* NULL only for ss_base_server_class */
  gsize instance_size;           /* sizeof the user's struct embedding SsServer; 0 = inherit */

  /* What the transport is; 0 = inherit (0 is never a real value here). */
  int address_family;            /* AF_INET (taken from the address: v4 or v6) or AF_UNIX */
  int socket_type;               /* SOCK_STREAM or SOCK_DGRAM */

  /* Transport slots (Python: TCPServer/UDPServer/UnixStreamServer methods). */
  gboolean (*server_bind)      (SsServer *self, GError **error);
  gboolean (*server_activate)  (SsServer *self, GError **error);
  /* Returns a new request (transfer full), or NULL with @error set. The
   * server socket is non-blocking: nothing pending gives NULL with @error
   * left unset (not an error, so the accept path allocates nothing for it;
   * an override may also report it as SS_ERROR_WOULD_BLOCK). The wrapper
   * ss_server_get_request reports it as SS_ERROR_WOULD_BLOCK. */
  SsRequest *(*get_request)    (SsServer *self, GError **error);
  void     (*shutdown_request) (SsServer *self, SsRequest *request);
  void     (*close_request)    (SsServer *self, SsRequest *request);
  void     (*server_close)     (SsServer *self);
  int      (*fileno)           (SsServer *self);

  /* Behaviour slots (Python: BaseServer methods). */
  gboolean (*verify_request)   (SsServer *self, SsRequest *request);
  /* Takes ownership of @request; must end with shutdown_request and
   * ss_request_free, in this thread or another. Default: the strategy's. */
  void     (*process_request)  (SsServer *self, SsRequest *request);
  /* Instantiates the handler class and runs setup/handle/finish. */
  gboolean (*finish_request)   (SsServer *self, SsRequest *request, GError **error);
  /* @request may be NULL when the failure is not tied to one request. */
  void     (*handle_error)     (SsServer *self, SsRequest *request, const GError *error);
  void     (*handle_timeout)   (SsServer *self);
  void     (*service_actions)  (SsServer *self);
};

/* A thread-safe snapshot of what a server has done; strategy fields are 0
 * where the strategy has no such notion. */
typedef struct {
  guint workers;    /* threads or processes that serve requests now */
  guint busy;       /* of those, handling a request */
  guint idle;       /* workers - busy */
  guint queued;     /* accepted, waiting for a worker */
  guint parked;     /* connections parked between requests (ss_server_park_request) */
  guint64 served;   /* requests whose finish_request returned */
  guint64 rejected; /* refused by verify_request or an overload policy */
  guint64 spawned;  /* workers started since the server was created */
  guint64 retired;  /* workers that exited */
  guint64 errors;   /* calls of handle_error */
} SsServerStats;

/* The instance. Fields marked (rw before bind) are Python's class attributes:
 * set them between ss_server_new(..., bind_and_activate = FALSE, ...) and
 * ss_server_server_bind(). Other fields are read-only for users. */
struct _SsServer {
  const SsServerClass *klass;
  const SsHandlerClass *handler_class;
  SsStrategy *strategy;            /* owned; never NULL (sync when none given) */

  SsAddress server_address;        /* the address asked for; after bind, the real one */
  int socket_fd;                   /* -1 once closed */

  gboolean allow_reuse_address;    /* (rw before bind) SO_REUSEADDR, INET only; default FALSE as in Python (ss-echo and ss-bench set it) */
  gboolean allow_reuse_port;       /* (rw before bind) SO_REUSEPORT; INET/INET6 only */
  int request_queue_size;          /* (rw before activate) listen backlog; default SOMAXCONN */
  gsize max_packet_size;           /* (rw) datagram servers: 8192 */
  double timeout;                  /* (rw) handle_request timeout in seconds; < 0 = none (Python None) */
  guint unix_socket_mode;          /* (rw before bind) the Unix socket file's mode from its creation on (never wider at any moment); 0 = as the umask gives */

  gpointer user_data;              /* (rw) free for the program; handlers reach it as server->user_data */

  /* Private: the core's. */
  struct SsServerPrivate *priv;
};

/* The root class: Python's BaseServer. Every slot is filled; server_bind
 * and get_request fail with SS_ERROR_INVALID_ARGUMENT ("derive from a
 * transport class"), as Python's BaseServer has no such methods. */
SS_API const SsServerClass ss_base_server_class;

/* The slot at byte @offset of SsServerClass from @klass or its nearest
 * ancestor that fills it (transfer none): super() for a class deriving
 * from a user's class. Use it through SS_SERVER_CLASS_SLOT. */
SS_API gconstpointer ss_server_class_lookup (const SsServerClass *klass, gsize offset);

/* SS_SERVER_CLASS_SLOT (&my_server_class, verify_request) (self, request):
 * the slot with its type. */
#define SS_SERVER_CLASS_SLOT(klass, slot) \
  ((__typeof__ (((SsServerClass *) 0)->slot)) ss_server_class_lookup ((klass), G_STRUCT_OFFSET (SsServerClass, slot)))

/* Creates a server of @klass for @address (parsed as the transport needs:
 * "HOST:PORT", "[V6]:PORT", or a Unix path), whose requests are handled by
 * @handler_class through @strategy (transfer full; NULL means synchronous).
 * With @bind_and_activate, binds and listens; on failure returns NULL with
 * @error set, the socket closed and @strategy freed.
 * Returns: (transfer full): free with ss_server_free(). */
SS_API SsServer *ss_server_new (const SsServerClass *klass,
                         const char *address,
                         const SsHandlerClass *handler_class,
                         SsStrategy *strategy,
                         gboolean bind_and_activate,
                         GError **error);

/* Same, from an already parsed address. */
SS_API SsServer *ss_server_new_for_address (const SsServerClass *klass,
                                     const SsAddress *address,
                                     const SsHandlerClass *handler_class,
                                     SsStrategy *strategy,
                                     gboolean bind_and_activate,
                                     GError **error);

/* server_close (if not yet done) then frees everything. NULL is ignored. */
SS_API void ss_server_free (SsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsServer, ss_server_free)

/* Python's serve_forever(poll_interval): handle requests until
 * ss_server_shutdown(). service_actions runs on every pass (at least every
 * @poll_interval seconds). shutdown wakes the loop at once. */
SS_API gboolean ss_server_serve_forever (SsServer *server, double poll_interval, GError **error);

/* Python's shutdown(): ask serve_forever to stop and wait until it has.
 * Safe from any thread, including a handler running inside serve_forever
 * (then it does not wait). Called before serve_forever, that call returns
 * at once. */
SS_API void ss_server_shutdown (SsServer *server);

/* Python's handle_request(): wait up to server->timeout for one request
 * and handle it, or call handle_timeout. */
SS_API gboolean ss_server_handle_request (SsServer *server, GError **error);

/* Wrappers that dispatch through the class (Python: self.method()). */
SS_API gboolean   ss_server_server_bind      (SsServer *server, GError **error);
SS_API gboolean   ss_server_server_activate  (SsServer *server, GError **error);
/* get_request: nothing pending is NULL with SS_ERROR_WOULD_BLOCK here. */
SS_API SsRequest *ss_server_get_request      (SsServer *server, GError **error);
SS_API gboolean   ss_server_verify_request   (SsServer *server, SsRequest *request);
SS_API void       ss_server_process_request  (SsServer *server, SsRequest *request);
SS_API gboolean   ss_server_finish_request   (SsServer *server, SsRequest *request, GError **error);
SS_API void       ss_server_shutdown_request (SsServer *server, SsRequest *request);
SS_API void       ss_server_close_request    (SsServer *server, SsRequest *request);
SS_API void       ss_server_handle_error     (SsServer *server, SsRequest *request, const GError *error);
SS_API void       ss_server_handle_timeout   (SsServer *server);
SS_API void       ss_server_service_actions  (SsServer *server);
SS_API void       ss_server_server_close     (SsServer *server);   /* idempotent */
SS_API int        ss_server_fileno           (SsServer *server);

/* Runs one accepted request the synchronous way: finish_request, errors to
 * handle_error, then shutdown_request and ss_request_free. Strategies call
 * this from wherever the request runs. Returns whether finish_request
 * succeeded. */
SS_API gboolean ss_server_run_request (SsServer *server, SsRequest *request);

/* Takes up to @max pending requests off a ready socket and dispatches each
 * (get_request, verify_request, process_request). Returns the number taken;
 * 0 when none was pending. Errors other than "nothing pending" go to
 * handle_error (EMFILE is rate-limited and backs off). */
SS_API guint ss_server_handle_pending (SsServer *server, guint max);

/* Parked connections: a stream handler that has finished one exchange on
 * its connection, and holds nothing it read but has not used, may hand the
 * connection back to the strategy instead of waiting on it. When this
 * returns TRUE the handler should return (handle, then finish, run as
 * usual) without closing anything: the request is not shut down but kept
 * by the strategy, and run again -- finish_request with a new handler
 * instance, the same request -- once its socket is readable; after
 * @timeout seconds of silence (< 0: none) or when serving stops it is
 * shut down. So idle keep-alive connections hold no worker (Apache's event
 * MPM). Returns FALSE, and changes nothing, when the server's strategy
 * cannot park now (sync, threading, forking; the thread pool outside
 * serve_forever): the handler then goes on waiting itself, as Python's do.
 * Call it from the handler of @request, in its own thread. */
SS_API gboolean ss_server_park_request (SsServer *server, SsRequest *request, double timeout);

/* The real address after bind, as "HOST:PORT" or a path (transfer full). */
SS_API char *ss_server_address_string (SsServer *server);
SS_API guint16 ss_server_port (SsServer *server);

/* The Python-compatible banner: "Serving on HOST port PORT ..." or
 * "Serving on PATH ..." (transfer full). */
SS_API char *ss_server_banner (SsServer *server);

SS_API void ss_server_get_stats (SsServer *server, SsServerStats *stats);

G_END_DECLS
