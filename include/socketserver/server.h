/**
 * SECTION:server
 * @title: server.h
 * @short_description: the server object, Python's BaseServer / TCPServer
 * @include: socketserver/socketserver.h
 *
 * A server is an instance of a server class (SsServerClass, a vtable of the
 * methods Python lets a subclass override) composed with a concurrency
 * strategy (SsStrategy, strategy.h) and a request handler class
 * (SsHandlerClass, handler.h). The transports (tcp.h, udp.h, unix.h) are
 * server classes; a user's server class names one of them as its parent,
 * fills only the slots it overrides (the others stay NULL and are
 * inherited) and calls its parent's slot by name where Python calls
 * `super`: every slot of every class the library exports is filled
 * (class.h says more).
 *
 * |[<!-- language="C" -->
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
 * ]|
 *
 * A class deriving from my_server_class calls its parent through
 * SS_SERVER_CLASS_SLOT (&my_server_class, verify_request), since
 * my_server_class leaves most slots NULL.
 *
 * Threads: a server is used from the thread that created it and the
 * threads its strategy runs requests in. ss_server_shutdown() and
 * ss_server_get_stats() are safe from any thread; ss_server_server_close()
 * from a handler is safe as each strategy's header says; ss_server_free()
 * is for after serve_forever has returned, never from a handler. The
 * class attributes (the fields marked "rw") are set before serving.
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

/**
 * SsServerClass:
 * @name: the class name ("TCPServer", "MyServer"), for messages
 * @parent: the parent class; %NULL only for #ss_base_server_class
 * @instance_size: sizeof the user's struct embedding #SsServer as its
 *   first member; 0 = inherit
 * @address_family: what the transport is: AF_INET (taken from the
 *   address: v4 or v6) or AF_UNIX; 0 = inherit (0 is never a real value
 *   here). Python's address_family.
 * @socket_type: SOCK_STREAM or SOCK_DGRAM; 0 = inherit. Python's
 *   socket_type.
 * @server_bind: transport slot, Python's `server_bind`: create and bind
 *   the socket; %FALSE with @error on failure
 * @server_activate: transport slot, Python's `server_activate`: `listen`
 *   for stream transports; %FALSE with @error on failure
 * @get_request: transport slot, Python's `get_request`: returns a new
 *   request (transfer full), or %NULL with @error set. The server socket
 *   is non-blocking: nothing pending gives %NULL with @error left unset
 *   (not an error, so the accept path allocates nothing for it; an
 *   override may also report it as %SS_ERROR_WOULD_BLOCK). The wrapper
 *   ss_server_get_request() reports it as %SS_ERROR_WOULD_BLOCK.
 * @shutdown_request: transport slot, Python's `shutdown_request`: end the
 *   request's connection (TCP: shutdown(SHUT_WR), then close_request)
 * @close_request: transport slot, Python's `close_request`: close the
 *   request's socket
 * @server_close: transport slot, Python's `server_close`: close the
 *   server socket (and stop the strategy)
 * @fileno: transport slot, Python's `fileno`: the server socket, -1 once
 *   closed
 * @verify_request: behaviour slot, Python's `verify_request`: %FALSE
 *   refuses the request (it is shut down unprocessed)
 * @process_request: behaviour slot, Python's `process_request` (what the
 *   mix-ins override): takes ownership of the request; must end with
 *   shutdown_request and ss_request_free(), in this thread or another.
 *   Default: the strategy's.
 * @finish_request: behaviour slot, Python's `finish_request`:
 *   instantiates the handler class and runs setup/handle/finish
 * @handle_error: behaviour slot, Python's `handle_error`: reports a
 *   failure (the default logs it); the request may be %NULL when the
 *   failure is not tied to one request. Python's gets the exception; this
 *   gets the #GError (transfer none).
 * @handle_timeout: behaviour slot, Python's `handle_timeout`: called when
 *   `handle_request` waited server->timeout for nothing
 * @service_actions: behaviour slot, Python's `service_actions`: called on
 *   every pass of serve_forever
 *
 * A server class: Python's server class with the methods a subclass may
 * override as slots. A user's class fills only what it overrides (a
 * %NULL slot is inherited) and calls its parent's slot by name for
 * `super`. Classes are static const data: thread-safe.
 */
struct _SsServerClass {
  const char *name;
  const SsServerClass *parent;
  gsize instance_size;

  int address_family;
  int socket_type;

  gboolean (*server_bind)      (SsServer *self, GError **error);
  gboolean (*server_activate)  (SsServer *self, GError **error);
  SsRequest *(*get_request)    (SsServer *self, GError **error);
  void     (*shutdown_request) (SsServer *self, SsRequest *request);
  void     (*close_request)    (SsServer *self, SsRequest *request);
  void     (*server_close)     (SsServer *self);
  int      (*fileno)           (SsServer *self);

  gboolean (*verify_request)   (SsServer *self, SsRequest *request);
  void     (*process_request)  (SsServer *self, SsRequest *request);
  gboolean (*finish_request)   (SsServer *self, SsRequest *request, GError **error);
  void     (*handle_error)     (SsServer *self, SsRequest *request, const GError *error);
  void     (*handle_timeout)   (SsServer *self);
  void     (*service_actions)  (SsServer *self);
};

/**
 * SsServerStats:
 * @workers: threads or processes that serve requests now
 * @busy: of those, handling a request
 * @idle: workers - busy
 * @queued: accepted, waiting for a worker
 * @parked: connections parked between requests (ss_server_park_request())
 * @served: requests whose finish_request returned
 * @rejected: refused by verify_request or an overload policy
 * @spawned: workers started since the server was created
 * @retired: workers that exited
 * @errors: calls of handle_error
 *
 * A thread-safe snapshot of what a server has done (ss_server_get_stats());
 * strategy fields are 0 where the strategy has no such notion. No Python
 * counterpart.
 */
typedef struct {
  guint workers;
  guint busy;
  guint idle;
  guint queued;
  guint parked;
  guint64 served;
  guint64 rejected;
  guint64 spawned;
  guint64 retired;
  guint64 errors;
} SsServerStats;

/**
 * SsServer:
 * @klass: the server class (Python: type(self))
 * @handler_class: the request handler class (Python's
 *   RequestHandlerClass)
 * @strategy: the concurrency strategy, owned by the server; never %NULL
 *   (sync when none given)
 * @server_address: the address asked for; after bind, the real one
 *   (Python's server_address)
 * @socket_fd: the server socket (Python's socket); -1 once closed
 * @allow_reuse_address: (rw before bind) SO_REUSEADDR, INET only; default
 *   %FALSE as in Python (ss-echo and ss-bench set it). Python's
 *   allow_reuse_address.
 * @allow_reuse_port: (rw before bind) SO_REUSEPORT; INET/INET6 only.
 *   Python's allow_reuse_port.
 * @request_queue_size: (rw before activate) listen backlog; default
 *   SOMAXCONN. Python's request_queue_size.
 * @max_packet_size: (rw) datagram servers: 8192. Python's
 *   max_packet_size.
 * @refuse_truncated: (rw) datagram servers: a datagram longer than
 *   @max_packet_size goes to handle_error as %SS_ERROR_TRUNCATED (logged
 *   with the sender, counted in errors), and the handler never sees it.
 *   Default %FALSE: as in Python, the handler gets the first
 *   @max_packet_size bytes, with request->truncated set. No Python
 *   counterpart.
 * @timeout: (rw) handle_request timeout in seconds; &lt; 0 = none (Python
 *   None). Python's timeout.
 * @unix_socket_mode: (rw before bind) the Unix socket file's mode from
 *   its creation on (never wider at any moment); 0 = as the umask gives.
 *   No Python counterpart.
 * @user_data: (rw) free for the program; handlers reach it as
 *   server->user_data
 *
 * The instance. Fields marked (rw before bind) are Python's class
 * attributes: set them between ss_server_new(..., bind_and_activate =
 * %FALSE, ...) and ss_server_server_bind(). Other fields are read-only
 * for users; the rest is the core's (private).
 */
struct _SsServer {
  const SsServerClass *klass;
  const SsHandlerClass *handler_class;
  SsStrategy *strategy;

  SsAddress server_address;
  int socket_fd;

  gboolean allow_reuse_address;
  gboolean allow_reuse_port;
  int request_queue_size;
  gsize max_packet_size;
  gboolean refuse_truncated;
  double timeout;
  guint unix_socket_mode;

  gpointer user_data;

  /*< private >*/
  struct SsServerPrivate *priv;
};

/**
 * ss_base_server_class:
 *
 * The root class: Python's BaseServer. Every slot is filled; server_bind
 * and get_request fail with %SS_ERROR_INVALID_ARGUMENT ("derive from a
 * transport class"), as Python's BaseServer has no such methods.
 */
SS_API const SsServerClass ss_base_server_class;

/**
 * ss_server_class_lookup:
 * @klass: a server class
 * @offset: the byte offset of a slot in #SsServerClass
 *
 * `super` for a class deriving from a user's class. Use it through
 * SS_SERVER_CLASS_SLOT(). Thread-safe.
 *
 * Returns: (transfer none) (nullable): the slot at byte @offset of
 *   #SsServerClass from @klass or its nearest ancestor that fills it
 */
SS_API gconstpointer ss_server_class_lookup (const SsServerClass *klass, gsize offset);

/**
 * SS_SERVER_CLASS_SLOT:
 * @klass: a pointer to a server class
 * @slot: the name of a slot of #SsServerClass
 *
 * The slot with its type, from @klass or its nearest ancestor that fills
 * it: `SS_SERVER_CLASS_SLOT (&my_server_class, verify_request) (self,
 * request)` is Python's `super().verify_request(request)` in a class
 * deriving from my_server_class.
 */
#define SS_SERVER_CLASS_SLOT(klass, slot) \
  ((__typeof__ (((SsServerClass *) 0)->slot)) ss_server_class_lookup ((klass), G_STRUCT_OFFSET (SsServerClass, slot)))

/**
 * ss_server_new:
 * @klass: the server class (a transport class or one deriving from one)
 * @address: "HOST:PORT", "[V6]:PORT", or a Unix path, parsed as the
 *   transport needs
 * @handler_class: the request handler class
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL
 *   means synchronous
 * @bind_and_activate: bind and listen now (Python's bind_and_activate)
 * @error: return location for a #GError, or %NULL
 *
 * Creates a server of @klass for @address whose requests are handled by
 * @handler_class through @strategy: Python's
 * `ServerClass(server_address, RequestHandlerClass, bind_and_activate)`.
 * Errors: the address's (%SS_ERROR_INVALID_ADDRESS, %SS_ERROR_RESOLVE),
 * bind's and listen's (%SS_ERROR_ADDRESS_IN_USE, %SS_ERROR_PERMISSION,
 * %SS_ERROR_NOT_FOUND, ...). A handler class not defined with
 * SS_DEFINE_HANDLER_CLASS() or %SS_HANDLER_CLASS_ATTRIBUTES_INHERIT is
 * refused (a critical naming it).
 *
 * Returns: (transfer full) (nullable): the server, free with
 *   ss_server_free(); on failure %NULL with @error set, the socket closed
 *   and @strategy freed
 */
SS_API SsServer *ss_server_new (const SsServerClass *klass,
                         const char *address,
                         const SsHandlerClass *handler_class,
                         SsStrategy *strategy,
                         gboolean bind_and_activate,
                         GError **error);

/**
 * ss_server_new_for_address:
 * @klass: the server class
 * @address: an already parsed address (copied)
 * @handler_class: the request handler class
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL
 *   means synchronous
 * @bind_and_activate: bind and listen now
 * @error: return location for a #GError, or %NULL
 *
 * Same as ss_server_new(), from an already parsed address.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 *   set (@strategy freed)
 */
SS_API SsServer *ss_server_new_for_address (const SsServerClass *klass,
                                     const SsAddress *address,
                                     const SsHandlerClass *handler_class,
                                     SsStrategy *strategy,
                                     gboolean bind_and_activate,
                                     GError **error);

/**
 * ss_server_free:
 * @server: (transfer full) (nullable): a server
 *
 * server_close (if not yet done) then frees everything, the strategy
 * included (so it waits for what server_close waits for). %NULL is
 * ignored. Call it after serve_forever has returned; called from inside
 * one of the server's own handlers it is refused (a critical; nothing is
 * freed). Python has no counterpart (the garbage collector).
 */
SS_API void ss_server_free (SsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsServer, ss_server_free)

/**
 * ss_server_serve_forever:
 * @server: a bound and activated server
 * @poll_interval: seconds between passes when nothing happens; &lt;= 0
 *   means 0.5, Python's default
 * @error: return location for a #GError, or %NULL
 *
 * Python's serve_forever(poll_interval): handle requests until
 * ss_server_shutdown(). service_actions runs on every pass (at least every
 * @poll_interval seconds). shutdown wakes the loop at once. One thread at
 * a time serves a server.
 *
 * Returns: %TRUE when it stopped because shutdown was asked for; %FALSE
 *   with %SS_ERROR_INVALID_ARGUMENT when serve_forever already runs on
 *   this server in another thread or the server is closed or unbound, or
 *   with the error that made the strategy's start_serving or the loop's
 *   wait (poll, epoll) fail
 */
SS_API gboolean ss_server_serve_forever (SsServer *server, double poll_interval, GError **error);

/**
 * ss_server_shutdown:
 * @server: a server
 *
 * Python's `shutdown`: ask serve_forever to stop and wait until it has.
 * Safe from any thread, including a handler running inside serve_forever
 * (then it does not wait). Called before serve_forever, that call returns
 * at once.
 */
SS_API void ss_server_shutdown (SsServer *server);

/**
 * ss_server_handle_request:
 * @server: a bound and activated server
 * @error: return location for a #GError, or %NULL
 *
 * Python's `handle_request`: wait up to server->timeout for one request
 * and handle it, or call handle_timeout.
 *
 * Returns: %TRUE when a request was handled or the timeout handled;
 *   %FALSE with %SS_ERROR_INVALID_ARGUMENT on a closed or unbound server,
 *   or with the errno's code when waiting failed
 */
SS_API gboolean ss_server_handle_request (SsServer *server, GError **error);

/**
 * ss_server_server_bind:
 * @server: a server created without bind_and_activate
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to the class's server_bind slot: Python's `self.server_bind`.
 *
 * Returns: %TRUE on success; %FALSE with @error (bind's errno as an
 *   #SsErrorCode, e.g. %SS_ERROR_ADDRESS_IN_USE, %SS_ERROR_PERMISSION)
 */
SS_API gboolean   ss_server_server_bind      (SsServer *server, GError **error);

/**
 * ss_server_server_activate:
 * @server: a bound server
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to server_activate: Python's `self.server_activate`.
 *
 * Returns: %TRUE on success; %FALSE with @error
 */
SS_API gboolean   ss_server_server_activate  (SsServer *server, GError **error);

/**
 * ss_server_get_request:
 * @server: a server
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to get_request: Python's `self.get_request`. Unlike the
 * slot, nothing pending is %NULL with %SS_ERROR_WOULD_BLOCK here.
 *
 * Returns: (transfer full) (nullable): a new request, or %NULL with
 *   @error set
 */
SS_API SsRequest *ss_server_get_request      (SsServer *server, GError **error);

/**
 * ss_server_verify_request:
 * @server: a server
 * @request: (transfer none): a request
 *
 * Dispatches to verify_request: Python's `self.verify_request`.
 *
 * Returns: %FALSE to refuse the request
 */
SS_API gboolean   ss_server_verify_request   (SsServer *server, SsRequest *request);

/**
 * ss_server_process_request:
 * @server: a server
 * @request: (transfer full): a verified request
 *
 * Dispatches to process_request: Python's `self.process_request`. Takes
 * ownership of @request.
 */
SS_API void       ss_server_process_request  (SsServer *server, SsRequest *request);

/**
 * ss_server_finish_request:
 * @server: a server
 * @request: (transfer none): a request
 * @error: return location for a #GError, or %NULL
 *
 * Dispatches to finish_request: Python's `self.finish_request`; runs the
 * handler in the calling thread.
 *
 * Returns: %TRUE when the handler succeeded; %FALSE with its error
 *   (%SS_ERROR_HANDLER or an I/O code)
 */
SS_API gboolean   ss_server_finish_request   (SsServer *server, SsRequest *request, GError **error);

/**
 * ss_server_shutdown_request:
 * @server: a server
 * @request: (transfer none): a request
 *
 * Dispatches to shutdown_request: Python's `self.shutdown_request`. The
 * request is still to be freed with ss_request_free().
 */
SS_API void       ss_server_shutdown_request (SsServer *server, SsRequest *request);

/**
 * ss_server_close_request:
 * @server: a server
 * @request: (transfer none): a request
 *
 * Dispatches to close_request: Python's `self.close_request`.
 */
SS_API void       ss_server_close_request    (SsServer *server, SsRequest *request);

/**
 * ss_server_handle_error:
 * @server: a server
 * @request: (nullable): the request that failed, or %NULL when the
 *   failure is not tied to one
 * @error: (transfer none): the failure
 *
 * Dispatches to handle_error: Python's self.handle_error(request,
 * client_address). Counted in #SsServerStats.errors.
 */
SS_API void       ss_server_handle_error     (SsServer *server, SsRequest *request, const GError *error);

/**
 * ss_server_handle_timeout:
 * @server: a server
 *
 * Dispatches to handle_timeout: Python's `self.handle_timeout`.
 */
SS_API void       ss_server_handle_timeout   (SsServer *server);

/**
 * ss_server_service_actions:
 * @server: a server
 *
 * Dispatches to service_actions: Python's `self.service_actions`.
 */
SS_API void       ss_server_service_actions  (SsServer *server);

/**
 * ss_server_server_close:
 * @server: a server
 *
 * Dispatches to server_close: Python's `self.server_close`. Idempotent.
 * When serve_forever runs in another thread it is stopped first (a close
 * from the serving thread only asks); the strategy then waits for or
 * stops what it started (threading.h, threadpool.h, forking.h and
 * preforking.h say what that means from a handler).
 */
SS_API void       ss_server_server_close     (SsServer *server);

/**
 * ss_server_fileno:
 * @server: a server
 *
 * Dispatches to fileno: Python's `self.fileno`.
 *
 * Returns: the server socket (borrowed), -1 once closed
 */
SS_API int        ss_server_fileno           (SsServer *server);

/**
 * ss_server_run_request:
 * @server: a server
 * @request: (transfer full): an accepted, verified request
 *
 * Runs one accepted request the synchronous way: finish_request, errors to
 * handle_error, then shutdown_request and ss_request_free() (unless the
 * handler parked the connection: then the strategy keeps it). Strategies
 * call this from wherever the request runs. No Python counterpart (the
 * body of BaseServer.process_request).
 *
 * Returns: whether finish_request succeeded
 */
SS_API gboolean ss_server_run_request (SsServer *server, SsRequest *request);

/**
 * ss_server_handle_pending:
 * @server: a server whose socket is ready
 * @max: the most requests to take
 *
 * Takes up to @max pending requests off a ready socket and dispatches each
 * (get_request, verify_request, process_request). Errors other than
 * "nothing pending" go to handle_error (EMFILE is rate-limited and backs
 * off). Stops when the socket is closed. Python's `_handle_request_noblock`.
 *
 * Returns: the number taken; 0 when none was pending
 */
SS_API guint ss_server_handle_pending (SsServer *server, guint max);

/**
 * ss_server_park_request:
 * @server: the request's server
 * @request: (transfer none): the request whose handler is running
 * @timeout: seconds of silence before the parked connection is shut
 *   down; &lt; 0 none
 *
 * Parked connections: a stream handler that has finished one exchange on
 * its connection, and holds nothing it read but has not used, may hand the
 * connection back to the strategy instead of waiting on it. When this
 * returns %TRUE the handler should return (handle, then finish, run as
 * usual) without closing anything: the request is not shut down but kept
 * by the strategy, and run again -- finish_request with a new handler
 * instance, the same request -- once its socket is readable; after
 * @timeout seconds of silence or when serving stops it is shut down. So
 * idle keep-alive connections hold no worker (Apache's event MPM). Ask
 * ss_rfile_worth_parking() first (or ss_rfile_readable_now(), which asks
 * the socket every time), at the start of a resumed run too: a run can
 * be woken with nothing to read, and then parks again. Call it from the
 * handler of @request, in its own thread. No Python counterpart.
 *
 * Returns: %TRUE when the connection will be parked; %FALSE, changing
 *   nothing, when the server's strategy cannot park now (sync, threading,
 *   forking; the thread pool outside serve_forever): the handler then goes
 *   on waiting itself, as Python's do
 */
SS_API gboolean ss_server_park_request (SsServer *server, SsRequest *request, double timeout);

/**
 * ss_server_address_string:
 * @server: a server
 *
 * Python's server_address, formatted.
 *
 * Returns: (transfer full): the real address after bind, as "HOST:PORT"
 *   or a path: g_free() it
 */
SS_API char *ss_server_address_string (SsServer *server);

/**
 * ss_server_port:
 * @server: a server
 *
 * Python's server_address[1].
 *
 * Returns: the bound port (the real one after binding port 0), 0 for
 *   Unix sockets
 */
SS_API guint16 ss_server_port (SsServer *server);

/**
 * ss_server_banner:
 * @server: a server
 *
 * The Python-compatible banner: "Serving on HOST port PORT ..." or
 * "Serving on PATH ...".
 *
 * Returns: (transfer full): g_free() it
 */
SS_API char *ss_server_banner (SsServer *server);

/**
 * ss_server_get_stats:
 * @server: a server
 * @stats: (out caller-allocates): the snapshot
 *
 * Fills @stats with what the server has done; safe from any thread.
 */
SS_API void ss_server_get_stats (SsServer *server, SsServerStats *stats);

G_END_DECLS
