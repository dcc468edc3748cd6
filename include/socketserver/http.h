/**
 * SECTION:http
 * @title: http.h
 * @short_description: Python's http.server, and the header parsing of http.client
 * @include: socketserver/http.h
 *
 * Python's http.server -- BaseHTTPRequestHandler,
 * SimpleHTTPRequestHandler, HTTPServer, ThreadingHTTPServer -- and the
 * header parsing of http.client it relies on.
 *
 * An HTTP handler class is a handler class (its first member is an
 * SsHandlerClass, so a server runs it like any other) with the slots and
 * class attributes of Python's BaseHTTPRequestHandler after it. A user's
 * class names its parent, fills only what it overrides and calls its
 * parent's slot by name for `super` (every slot of every class exported
 * here is filled):
 *
 * |[<!-- language="C" -->
 *     typedef struct {
 *       SsBaseHTTPRequestHandler base;   // the base, first member
 *     } HelloHandler;
 *
 *     static gboolean
 *     hello_do_GET (SsBaseHTTPRequestHandler *self, GError **error)
 *     {
 *       ss_http_send_response (self, 200, NULL);
 *       ss_http_send_header (self, "Content-Type", "text/plain");
 *       ss_http_send_header (self, "Content-Length", "6");
 *       return ss_http_end_headers (self, error)
 *              && ss_wfile_write (self->wfile, "hello\n", 6, error);
 *     }
 *
 *     SS_DEFINE_HTTP_HANDLER_CLASS (HelloHandler, hello_handler_class,
 *                                   ss_base_http_request_handler_class,
 *                                   .do_GET = hello_do_GET,
 *                                   .protocol_version = "HTTP/1.1");
 *
 *     server = ss_threading_http_server_new ("127.0.0.1:8000", &hello_handler_class, &error);
 * ]|
 *
 * Text: a C string holds what Python's str holds, in UTF-8. The request
 * is decoded as ISO-8859-1 (one character per byte) as Python decodes it,
 * so a request's path, version and header values are its bytes in that
 * reading; status lines and header lines go out encoded back to
 * ISO-8859-1 where Python encodes them (a string with a character beyond
 * U+00FF goes out as it is, where Python raises). Bodies are bytes.
 * docs/http.md maps every Python name to its C one.
 *
 * Threads: a handler instance, with its headers and files, lives in the
 * thread its strategy runs the request in; classes are static const
 * data (ss_http_handler_class_init() fills one before it is used), and
 * the functions that take no handler are thread-safe.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <sys/types.h>
#include "handler.h"
#include "server.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ errors */

/**
 * SS_HTTP_ERROR:
 *
 * The error domain of ss_http_parse_headers(): ss_http_error_quark(),
 * codes #SsHTTPErrorCode. (Connection failures are in %SS_ERROR.)
 */
#define SS_HTTP_ERROR (ss_http_error_quark ())

/**
 * SsHTTPErrorCode:
 * @SS_HTTP_ERROR_LINE_TOO_LONG: http.client.LineTooLong: a line over
 *   %SS_HTTP_MAXLINE bytes
 * @SS_HTTP_ERROR_TOO_MANY_HEADERS: http.client.HTTPException: more than
 *   %SS_HTTP_MAXHEADERS
 *
 * The codes of %SS_HTTP_ERROR.
 */
typedef enum {
  SS_HTTP_ERROR_LINE_TOO_LONG,
  SS_HTTP_ERROR_TOO_MANY_HEADERS,
} SsHTTPErrorCode;

/**
 * ss_http_error_quark:
 *
 * The quark behind %SS_HTTP_ERROR.
 *
 * Returns: the error domain quark
 */
SS_API GQuark ss_http_error_quark (void);

/**
 * SS_HTTP_MAXLINE:
 *
 * http.client's _MAXLINE, which http.server uses: 65536 bytes a line.
 */
#define SS_HTTP_MAXLINE    65536
/**
 * SS_HTTP_MAXHEADERS:
 *
 * http.client's _MAXHEADERS: 100 header lines.
 */
#define SS_HTTP_MAXHEADERS 100

/* ------------------------------------------------------------ headers */

typedef struct _SsHTTPHeaders SsHTTPHeaders;

/**
 * SsHTTPHeaders:
 *
 * http.client.HTTPMessage (an email.message.Message): the request's
 * header fields in the order received, looked up by name without regard
 * to ASCII case, a name possibly present several times. Opaque.
 */

/**
 * ss_http_headers_new:
 *
 * An empty header list.
 *
 * Returns: (transfer full): free with ss_http_headers_free()
 */
SS_API SsHTTPHeaders *ss_http_headers_new (void);
/**
 * ss_http_headers_free:
 * @headers: (transfer full) (nullable): headers
 *
 * Frees the list and its strings.
 */
SS_API void ss_http_headers_free (SsHTTPHeaders *headers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsHTTPHeaders, ss_http_headers_free)

/**
 * ss_http_headers_add:
 * @headers: headers
 * @name: the field name (copied)
 * @value: its value (copied)
 *
 * Appends a field (Python: msg[name] = value, which adds).
 */
SS_API void ss_http_headers_add (SsHTTPHeaders *headers, const char *name, const char *value);

/**
 * ss_http_headers_get:
 * @headers: headers
 * @name: a field name, any ASCII case
 *
 * Python's msg.get(name) / msg[name].
 *
 * Returns: (transfer none) (nullable): the first value of @name, or %NULL
 *   (Python None); valid until @headers changes
 */
SS_API const char *ss_http_headers_get (const SsHTTPHeaders *headers, const char *name);

/**
 * ss_http_headers_contains:
 * @headers: headers
 * @name: a field name, any ASCII case
 *
 * Python's `name in msg`.
 *
 * Returns: whether a field of that name is present
 */
SS_API gboolean ss_http_headers_contains (const SsHTTPHeaders *headers, const char *name);

/**
 * ss_http_headers_get_all:
 * @headers: headers
 * @name: a field name, any ASCII case
 *
 * Python's msg.get_all(name).
 *
 * Returns: (transfer container) (nullable) (array zero-terminated=1):
 *   every value of @name in order, or %NULL when there is none; g_free()
 *   the array, not the strings (valid until @headers changes)
 */
SS_API const char **ss_http_headers_get_all (const SsHTTPHeaders *headers, const char *name);

/**
 * ss_http_headers_size:
 * @headers: headers
 *
 * Python's len(msg).
 *
 * Returns: the number of fields
 */
SS_API guint ss_http_headers_size (const SsHTTPHeaders *headers);
/**
 * ss_http_headers_nth_name:
 * @headers: headers
 * @n: an index below ss_http_headers_size()
 *
 * The name of item @n of Python's `msg.items`.
 *
 * Returns: (transfer none): the name of field @n
 */
SS_API const char *ss_http_headers_nth_name (const SsHTTPHeaders *headers, guint n);
/**
 * ss_http_headers_nth_value:
 * @headers: headers
 * @n: an index below ss_http_headers_size()
 *
 * The value of item @n of Python's `msg.items`.
 *
 * Returns: (transfer none): the value of field @n
 */
SS_API const char *ss_http_headers_nth_value (const SsHTTPHeaders *headers, guint n);

/**
 * ss_http_headers_parse_bytes:
 * @headers: headers to append to
 * @data: (array length=len): the header lines
 * @len: their length in bytes
 *
 * Parses @len bytes of header lines as http.client.parse_headers does
 * after reading them (email.parser with the compat32 policy): lines end
 * in CRLF, LF or CR; a line that is not "name:value", a continuation or
 * an envelope "From " line ends the header section; continuation lines
 * join the value before them with their line ends; a value loses the
 * spaces and tabs after the colon and the CRs and LFs at its end, nothing
 * else. Fields are appended to @headers. Cannot fail.
 */
SS_API void ss_http_headers_parse_bytes (SsHTTPHeaders *headers, const char *data, gsize len);

/**
 * ss_http_parse_headers:
 * @rfile: the reader over the connection
 * @error: return location for a #GError, or %NULL
 *
 * Python's http.client.parse_headers(fp): reads header lines from @rfile
 * up to an empty line (or EOF) and parses them. A line longer than
 * %SS_HTTP_MAXLINE fails with %SS_HTTP_ERROR_LINE_TOO_LONG, more than
 * %SS_HTTP_MAXHEADERS lines (the empty one counted, as Python counts it)
 * with %SS_HTTP_ERROR_TOO_MANY_HEADERS; the message is Python's. A read
 * failure is the reader's %SS_ERROR.
 *
 * Returns: (transfer full) (nullable): the headers, or %NULL with @error
 *   set
 */
SS_API SsHTTPHeaders *ss_http_parse_headers (SsRFile *rfile, GError **error);

/* ------------------------------------------------------------ status codes */

/**
 * ss_http_status_phrase:
 * @code: an HTTP status code
 *
 * http.HTTPStatus(code).phrase. Thread-safe.
 *
 * Returns: (transfer none) (nullable): the phrase ("Not Found"), static;
 *   %NULL for a code Python does not know
 */
SS_API const char *ss_http_status_phrase (int code);
/**
 * ss_http_status_description:
 * @code: an HTTP status code
 *
 * http.HTTPStatus(code).description. Thread-safe.
 *
 * Returns: (transfer none) (nullable): the description ("Nothing matches
 *   the given URI"), static; %NULL for a code Python does not know
 */
SS_API const char *ss_http_status_description (int code);

/* ------------------------------------------------------------ the handler classes */

typedef struct _SsBaseHTTPRequestHandler SsBaseHTTPRequestHandler;
typedef struct _SsHTTPHandlerClass SsHTTPHandlerClass;
typedef struct _SsHTTPFile SsHTTPFile;

/**
 * SsHTTPFile:
 *
 * Python's f in send_head: what copyfile sends -- a file (some bytes of
 * it from an offset) or bytes in memory (a directory listing). Opaque.
 */

/**
 * SsHTTPMethod:
 * @self: the handler
 * @error: return location for a #GError
 *
 * A do_METHOD (Python's do_GET and kin).
 *
 * Returns: %FALSE with @error set only for a failure of the connection
 *   (the client vanished, a timeout): a request the method refuses is
 *   answered with ss_http_send_error() and returns %TRUE
 */
typedef gboolean (*SsHTTPMethod) (SsBaseHTTPRequestHandler *self, GError **error);

/**
 * SsHTTPMethodEntry:
 * @command: the command, case-sensitive, as Python's getattr(self, 'do_'
 *   + command)
 * @method: its do_ method
 *
 * A command outside the named do_ slots (PROPFIND, MKCOL, ...).
 */
typedef struct {
  const char *command;
  SsHTTPMethod method;
} SsHTTPMethodEntry;

/**
 * SsHTTPExtension:
 * @extension: the file name extension (".gz")
 * @type: its type ("application/gzip")
 *
 * One entry of SimpleHTTPRequestHandler.extensions_map.
 */
typedef struct {
  const char *extension;
  const char *type;
} SsHTTPExtension;

/**
 * SS_HTTP_DIRECTORY_CWD:
 *
 * "Use the working directory when the handler is created" (Python's
 * directory=None, which becomes `os.getcwd`).
 */
#define SS_HTTP_DIRECTORY_CWD ""

/**
 * SsHTTPHandlerClass:
 * @parent_class: first member: a handler class to the server
 * @http_magic: %SS_HTTP_HANDLER_CLASS_MAGIC
 * @do_GET: Python's do_GET. BaseHTTPRequestHandler fills each do_ slot
 *   with one that answers 501 "Unsupported method ('GET')", as Python
 *   answers a class without the method.
 * @do_HEAD: do_HEAD
 * @do_POST: do_POST
 * @do_PUT: do_PUT
 * @do_DELETE: do_DELETE
 * @do_OPTIONS: do_OPTIONS
 * @do_PATCH: do_PATCH
 * @do_TRACE: do_TRACE
 * @do_CONNECT: do_CONNECT
 * @methods: other commands: a table ending with { %NULL, %NULL }; the
 *   classes' tables are searched from this class up. %NULL = none here.
 * @handle_one_request: BaseHTTPRequestHandler.handle_one_request
 * @parse_request: parse_request; says in *proceed whether to go on (Python
 *   returns False after answering)
 * @handle_expect_100: handle_expect_100; says in *proceed whether to go on
 * @send_error: send_error(code, message, explain); message and explain
 *   %NULL for Python's None (the code's phrase and description)
 * @send_response: send_response(code, message)
 * @send_response_only: send_response_only(code, message)
 * @send_header: send_header(keyword, value)
 * @end_headers: end_headers
 * @log_request: log_request(code, size); code and size &lt; 0 for Python's
 *   '-'
 * @log_error: log_error, the message already formatted
 *   (ss_http_log_error() formats it and calls this)
 * @log_message: log_message, the message already formatted
 *   (ss_http_log_message() formats it and calls this)
 * @version_string: version_string; returns (transfer full)
 * @address_string: address_string; returns (transfer full)
 * @send_head: SimpleHTTPRequestHandler.send_head: returns the body to
 *   send in *file (%NULL when the response is complete: an error, a 304,
 *   a redirect). BaseHTTPRequestHandler fills this and the next four with
 *   SimpleHTTPRequestHandler's, which only that class's do_GET and do_HEAD
 *   call.
 * @list_directory: list_directory(path): the listing in *file
 * @translate_path: translate_path(path): returns (transfer full) a file
 *   system path inside the directory
 * @copyfile: copyfile(source, outputfile): sends @source on wfile
 * @guess_type: guess_type(path): returns (transfer none) a static string
 *   or one of the tables'
 * @server_version: "BaseHTTP/0.6"; SimpleHTTP: "SimpleHTTP/0.6"
 * @sys_version: Python's "Python/3.11.7": "libsocketserver/VERSION"
 * @protocol_version: "HTTP/1.0"; "HTTP/1.1" turns keep-alive on
 * @default_request_version: "HTTP/0.9"
 * @error_message_format: %SS_HTTP_DEFAULT_ERROR_MESSAGE: %(code)d,
 *   %(message)s, %(explain)s as in Python's
 * @error_content_type: "text/html;charset=utf-8"
 * @keepalive_timeout: beyond Python: seconds to wait for the next request
 *   on a connection (an idle keep-alive connection, or a new one that
 *   sends nothing) before closing it without a word; %SS_TIMEOUT_NONE
 *   waits as the class's timeout says, as Python does. With timeout None
 *   (the default) it is also the limit on each read within a request,
 *   answered as Python answers its timeout ("Request timed out" in the
 *   log, the connection closed).
 * @directory: SimpleHTTPRequestHandler: the folder served
 *   (%SS_HTTP_DIRECTORY_CWD: the working directory)
 * @extensions_map: SimpleHTTPRequestHandler.extensions_map, a table
 *   ending with { %NULL, %NULL } tried before the MIME types database
 * @ranges: beyond Python: SimpleHTTPRequestHandler answers Range requests
 *   (206, 416, Accept-Ranges: bytes). %FALSE serves whole files as Python
 *   does.
 * @park_idle: beyond Python: between two requests of a kept connection
 *   (and before the first), when nothing of the next request has
 *   arrived, hand the connection back to the strategy
 *   (ss_server_park_request(), with keepalive_timeout as its timeout) so
 *   that an idle connection holds no worker; the thread pool can, other
 *   strategies go on waiting inline. The next request then runs in a new
 *   handler instance: a class that keeps per-connection state in its
 *   instance, as a Python handler may in self, leaves this %FALSE.
 *   BaseHTTPRequestHandler: %FALSE; SimpleHTTPRequestHandler: %TRUE.
 * @header_timeout: beyond Python: seconds from the first byte of a
 *   request by which its request line and headers must have arrived,
 *   however slowly the client trickles them (ss_rfile_set_deadline());
 *   past it the request ends as a read timeout does ("Request timed out"
 *   in the log, the connection closed), so a slow client holds a worker
 *   for at most that long. Default 20 (Apache's RequestReadTimeout header=20:
 *   a slow client holds a worker here, as in Apache's threads, not an
 *   event loop's few bytes as in nginx, whose client_header_timeout is 60);
 *   %SS_TIMEOUT_NONE: no limit, as in Python. The body is the handler's
 *   to read, under the class's timeout.
 *
 * An HTTP handler class: a handler class with the slots of Python's
 * BaseHTTPRequestHandler (and SimpleHTTPRequestHandler) after it, and
 * their class attributes with Python's names and values; %NULL (strings)
 * or %SS_INHERIT (numbers) inherit the parent's. Every method slot
 * returns %FALSE with @error only when the connection failed.
 */
struct _SsHTTPHandlerClass {
  SsHandlerClass parent_class;
  guint32 http_magic;

  SsHTTPMethod do_GET;
  SsHTTPMethod do_HEAD;
  SsHTTPMethod do_POST;
  SsHTTPMethod do_PUT;
  SsHTTPMethod do_DELETE;
  SsHTTPMethod do_OPTIONS;
  SsHTTPMethod do_PATCH;
  SsHTTPMethod do_TRACE;
  SsHTTPMethod do_CONNECT;
  const SsHTTPMethodEntry *methods;

  gboolean (*handle_one_request) (SsBaseHTTPRequestHandler *self, GError **error);
  gboolean (*parse_request) (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
  gboolean (*handle_expect_100) (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
  gboolean (*send_error) (SsBaseHTTPRequestHandler *self, int code, const char *message,
                          const char *explain, GError **error);
  void (*send_response) (SsBaseHTTPRequestHandler *self, int code, const char *message);
  void (*send_response_only) (SsBaseHTTPRequestHandler *self, int code, const char *message);
  void (*send_header) (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value);
  gboolean (*end_headers) (SsBaseHTTPRequestHandler *self, GError **error);
  void (*log_request) (SsBaseHTTPRequestHandler *self, int code, gssize size);
  void (*log_error) (SsBaseHTTPRequestHandler *self, const char *message);
  void (*log_message) (SsBaseHTTPRequestHandler *self, const char *message);
  char *(*version_string) (SsBaseHTTPRequestHandler *self);
  char *(*address_string) (SsBaseHTTPRequestHandler *self);

  gboolean (*send_head) (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error);
  gboolean (*list_directory) (SsBaseHTTPRequestHandler *self, const char *path,
                              SsHTTPFile **file, GError **error);
  char *(*translate_path) (SsBaseHTTPRequestHandler *self, const char *path);
  gboolean (*copyfile) (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error);
  const char *(*guess_type) (SsBaseHTTPRequestHandler *self, const char *path);

  const char *server_version;
  const char *sys_version;
  const char *protocol_version;
  const char *default_request_version;
  const char *error_message_format;
  const char *error_content_type;
  double keepalive_timeout;
  const char *directory;
  const SsHTTPExtension *extensions_map;
  gboolean ranges;
  gboolean park_idle;
  double header_timeout;
};

/**
 * SS_HTTP_HANDLER_CLASS_MAGIC:
 *
 * The mark in #SsHTTPHandlerClass.http_magic ("SSHT").
 */
#define SS_HTTP_HANDLER_CLASS_MAGIC 0x53534854u

/**
 * SS_HTTP_DEFAULT_ERROR_MESSAGE:
 *
 * Python's DEFAULT_ERROR_MESSAGE: the body of send_error's answer, with
 * %(code)d, %(message)s and %(explain)s.
 */
#define SS_HTTP_DEFAULT_ERROR_MESSAGE                                  \
  "<!DOCTYPE HTML>\n"                                                  \
  "<html lang=\"en\">\n"                                               \
  "    <head>\n"                                                       \
  "        <meta charset=\"utf-8\">\n"                                 \
  "        <title>Error response</title>\n"                            \
  "    </head>\n"                                                      \
  "    <body>\n"                                                       \
  "        <h1>Error response</h1>\n"                                  \
  "        <p>Error code: %(code)d</p>\n"                              \
  "        <p>Message: %(message)s.</p>\n"                             \
  "        <p>Error code explanation: %(code)s - %(explain)s.</p>\n"   \
  "    </body>\n"                                                      \
  "</html>\n"
/**
 * SS_HTTP_DEFAULT_ERROR_CONTENT_TYPE:
 *
 * Python's DEFAULT_ERROR_CONTENT_TYPE: "text/html;charset=utf-8".
 */
#define SS_HTTP_DEFAULT_ERROR_CONTENT_TYPE "text/html;charset=utf-8"

/**
 * SS_HTTP_HANDLER_CLASS_INHERIT:
 * @TYPE: the instance struct
 * @PARENT: the parent HTTP handler class variable
 *
 * The part of a class initializer that makes every HTTP slot and
 * attribute inherit; SS_DEFINE_HTTP_HANDLER_CLASS() starts with it.
 */
#define SS_HTTP_HANDLER_CLASS_INHERIT(TYPE, PARENT)                                    \
  .parent_class.name = #TYPE, .parent_class.parent = &(PARENT).parent_class,           \
  .parent_class.instance_size = sizeof (TYPE),                                         \
  .parent_class.magic = SS_HANDLER_CLASS_MAGIC, .parent_class.rbufsize = SS_INHERIT,   \
  .parent_class.wbufsize = SS_INHERIT, .parent_class.timeout = SS_INHERIT,             \
  .parent_class.disable_nagle_algorithm = SS_INHERIT,                                  \
  .http_magic = SS_HTTP_HANDLER_CLASS_MAGIC, .keepalive_timeout = SS_INHERIT,          \
  .ranges = SS_INHERIT, .park_idle = SS_INHERIT, .header_timeout = SS_INHERIT

/**
 * SS__DEFINE_HTTP_HANDLER_CLASS:
 * @STORAGE: static, or nothing
 * @TYPE: the instance struct
 * @VAR: the class variable
 * @PARENT: the parent class variable
 * @...: designated initializers
 *
 * Internal: what SS_DEFINE_HTTP_HANDLER_CLASS() and
 * SS_DEFINE_HTTP_HANDLER_CLASS_EXTERN() expand to.
 */
#define SS__DEFINE_HTTP_HANDLER_CLASS(STORAGE, TYPE, VAR, PARENT, ...)           \
  SS_BEGIN_IGNORE_OVERRIDE_INIT                                                  \
  STORAGE const SsHTTPHandlerClass VAR = {                                       \
    SS_HTTP_HANDLER_CLASS_INHERIT (TYPE, PARENT),                                \
    __VA_ARGS__                                                                  \
  };                                                                             \
  SS_END_IGNORE_OVERRIDE_INIT                                                    \
  _Static_assert (sizeof (TYPE) >= sizeof (SsBaseHTTPRequestHandler),            \
                  #TYPE " must embed its base HTTP handler as its first member")
/**
 * SS_DEFINE_HTTP_HANDLER_CLASS:
 * @TYPE: the instance struct, embedding its parent's instance struct
 *   first
 * @VAR: the name of the class variable defined
 * @PARENT: the parent (an HTTP handler class variable)
 * @...: designated initializers
 *
 * Defines `static const SsHTTPHandlerClass VAR` for instance struct TYPE
 * deriving from PARENT. The designated initializers after it set slots
 * and attributes, the HTTP ones by name (.do_GET = ..., .protocol_version
 * = "HTTP/1.1") and the handler ones through parent_class
 * (.parent_class.timeout = 10). Write it without `static` in front
 * (SS_DEFINE_HANDLER_CLASS() says why).
 */
#define SS_DEFINE_HTTP_HANDLER_CLASS(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HTTP_HANDLER_CLASS (static, TYPE, VAR, PARENT, __VA_ARGS__)
/**
 * SS_DEFINE_HTTP_HANDLER_CLASS_EXTERN:
 * @TYPE: the instance struct
 * @VAR: the name of the class variable defined
 * @PARENT: the parent class
 * @...: designated initializers
 *
 * SS_DEFINE_HTTP_HANDLER_CLASS() with external linkage.
 */
#define SS_DEFINE_HTTP_HANDLER_CLASS_EXTERN(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HTTP_HANDLER_CLASS (, TYPE, VAR, PARENT, __VA_ARGS__)

/**
 * ss_http_handler_class_init:
 * @klass: (out caller-allocates): the class to fill
 * @name: its name (borrowed: must outlive the class)
 * @parent: the parent class
 * @instance_size: the instance size; 0 = the parent's
 *
 * Makes @klass a class deriving from @parent with every slot and
 * attribute inheriting, at run time: what Python's
 * `HandlerClass.protocol_version = protocol` becomes (set the fields
 * after this call, before a server uses the class).
 */
SS_API void ss_http_handler_class_init (SsHTTPHandlerClass *klass, const char *name,
                                        const SsHTTPHandlerClass *parent, gsize instance_size);

/**
 * ss_is_http_handler_class:
 * @klass: a handler class
 *
 * Whether @klass is an HTTP handler class.
 *
 * Returns: %TRUE when @klass derives from
 *   #ss_base_http_request_handler_class
 */
SS_API gboolean ss_is_http_handler_class (const SsHandlerClass *klass);

/**
 * ss_http_handler_class_lookup:
 * @klass: an HTTP handler class
 * @offset: the byte offset of a slot in #SsHTTPHandlerClass
 *
 * `super` for a class deriving from a user's class, through
 * SS_HTTP_HANDLER_CLASS_SLOT().
 *
 * Returns: (transfer none) (nullable): the slot at byte @offset of
 *   #SsHTTPHandlerClass from @klass or its nearest ancestor that fills it
 */
SS_API gconstpointer ss_http_handler_class_lookup (const SsHTTPHandlerClass *klass, gsize offset);
/**
 * SS_HTTP_HANDLER_CLASS_SLOT:
 * @klass: a pointer to an HTTP handler class
 * @slot: the name of a slot of #SsHTTPHandlerClass
 *
 * The slot with its type: `SS_HTTP_HANDLER_CLASS_SLOT (&my_class, do_GET)
 * (self, error)` is Python's `super().do_GET()` in a class deriving from
 * my_class.
 */
#define SS_HTTP_HANDLER_CLASS_SLOT(klass, slot)                                      \
  ((__typeof__ (((SsHTTPHandlerClass *) 0)->slot)) ss_http_handler_class_lookup (   \
      (klass), G_STRUCT_OFFSET (SsHTTPHandlerClass, slot)))

/* ------------------------------------------------------------ BaseHTTPRequestHandler */

/**
 * SsBaseHTTPRequestHandler:
 * @parent: first member: rfile, wfile, connection
 * @rfile: self.rfile (parent.rfile)
 * @wfile: self.wfile (parent.wfile)
 * @klass: the handler's HTTP class
 * @command: self.command: "GET"; %NULL until the request line is parsed
 *   (None)
 * @path: self.path: "/index.html?x=1", a leading "//" reduced to "/"
 * @request_version: self.request_version: "HTTP/1.1";
 *   default_request_version until parsed
 * @requestline: self.requestline: the request line without its line end;
 *   "" before
 * @raw_requestline: self.raw_requestline: the request line as read
 * @headers: self.headers: the request's headers; %NULL until parsed
 * @close_connection: self.close_connection: handle stops after this
 *   request when %TRUE
 *
 * The instance of BaseHTTPRequestHandler. The request fields are set by
 * parse_request and stay valid until the next request on the connection
 * begins (transfer none).
 */
struct _SsBaseHTTPRequestHandler {
  SsStreamRequestHandler parent;
  SsRFile *rfile;
  SsWFile *wfile;
  const SsHTTPHandlerClass *klass;

  const char *command;
  const char *path;
  const char *request_version;
  const char *requestline;
  const GString *raw_requestline;
  SsHTTPHeaders *headers;
  gboolean close_connection;

  /*< private >*/
  struct SsBaseHTTPRequestHandlerPrivate *priv;
};

/**
 * ss_base_http_request_handler_class:
 *
 * Python's http.server.BaseHTTPRequestHandler: every slot filled; each
 * do_ slot answers 501.
 */
SS_API const SsHTTPHandlerClass ss_base_http_request_handler_class;

/**
 * ss_http_handle_one_request:
 * @self: the handler
 * @error: return location for a #GError, or %NULL
 *
 * `self.handle_one_request`, through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error);
/**
 * ss_http_parse_request:
 * @self: the handler
 * @proceed: (out): %FALSE when the request was answered (an error) and
 *   must not be served: Python's return value
 * @error: return location for a #GError, or %NULL
 *
 * `self.parse_request`, through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
/**
 * ss_http_handle_expect_100:
 * @self: the handler
 * @proceed: (out): Python's return value: whether to go on with the request
 * @error: return location for a #GError, or %NULL
 *
 * `self.handle_expect_100`, through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_handle_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed,
                                           GError **error);
/**
 * ss_http_send_error:
 * @self: the handler
 * @code: the status code
 * @message: (nullable): the message; %NULL for Python's None (the code's
 *   phrase)
 * @explain: (nullable): the explanation; %NULL for Python's None (the
 *   code's description)
 * @error: return location for a #GError, or %NULL
 *
 * self.send_error(code, message, explain), through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_send_error (SsBaseHTTPRequestHandler *self, int code, const char *message,
                                    const char *explain, GError **error);
/**
 * ss_http_send_response:
 * @self: the handler
 * @code: the status code
 * @message: (nullable): the phrase; %NULL for the code's
 *
 * self.send_response(code, message), through the handler's class: logs
 * the request and buffers the status line, Server and Date.
 */
SS_API void ss_http_send_response (SsBaseHTTPRequestHandler *self, int code, const char *message);
/**
 * ss_http_send_response_only:
 * @self: the handler
 * @code: the status code
 * @message: (nullable): the phrase; %NULL for the code's
 *
 * self.send_response_only(code, message): the status line alone.
 */
SS_API void ss_http_send_response_only (SsBaseHTTPRequestHandler *self, int code, const char *message);
/**
 * ss_http_send_header:
 * @self: the handler
 * @keyword: the header name
 * @value: its value
 *
 * self.send_header(keyword, value): buffered until end_headers.
 */
SS_API void ss_http_send_header (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value);
/**
 * ss_http_send_header_printf:
 * @self: the handler
 * @keyword: the header name
 * @format: a `printf` format for the value
 * @...: its arguments
 *
 * ss_http_send_header() with a formatted value.
 */
SS_API void ss_http_send_header_printf (SsBaseHTTPRequestHandler *self, const char *keyword,
                                        const char *format, ...) G_GNUC_PRINTF (3, 4);
/**
 * ss_http_end_headers:
 * @self: the handler
 * @error: return location for a #GError, or %NULL
 *
 * Python's end_headers: the blank line, then flush_headers. The headers
 * go out with the body's first write on wfile (one send) or with the
 * flush at the end of the request; ss_wfile_flush() sends them at once.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_end_headers (SsBaseHTTPRequestHandler *self, GError **error);
/**
 * ss_http_flush_headers:
 * @self: the handler
 * @error: return location for a #GError, or %NULL
 *
 * Python's flush_headers: hands the buffered headers to wfile
 * (ss_wfile_hold()).
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_flush_headers (SsBaseHTTPRequestHandler *self, GError **error);
/**
 * ss_http_log_request:
 * @self: the handler
 * @code: the status code, &lt; 0 for Python's '-'
 * @size: the size, &lt; 0 for Python's '-'
 *
 * self.log_request(code, size), through the handler's class.
 */
SS_API void ss_http_log_request (SsBaseHTTPRequestHandler *self, int code, gssize size);
/**
 * ss_http_log_error:
 * @self: the handler
 * @format: a `printf` format
 * @...: its arguments
 *
 * self.log_error(format, *args): formats the message and calls the
 * class's log_error.
 */
SS_API void ss_http_log_error (SsBaseHTTPRequestHandler *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
/**
 * ss_http_log_message:
 * @self: the handler
 * @format: a `printf` format
 * @...: its arguments
 *
 * self.log_message(format, *args): formats the message and calls the
 * class's log_message (the default writes Python's line to stderr).
 */
SS_API void ss_http_log_message (SsBaseHTTPRequestHandler *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
/**
 * ss_http_version_string:
 * @self: the handler
 *
 * `self.version_string`: server_version and sys_version.
 *
 * Returns: (transfer full): g_free() it
 */
SS_API char *ss_http_version_string (SsBaseHTTPRequestHandler *self);
/**
 * ss_http_address_string:
 * @self: the handler
 *
 * `self.address_string`: the client's host.
 *
 * Returns: (transfer full): g_free() it
 */
SS_API char *ss_http_address_string (SsBaseHTTPRequestHandler *self);

/**
 * ss_http_protocol_version:
 * @self: the handler
 *
 * self.protocol_version: the resolved class attribute of the handler's
 * class.
 *
 * Returns: (transfer none): the value
 */
SS_API const char *ss_http_protocol_version (SsBaseHTTPRequestHandler *self);
/**
 * ss_http_server_version:
 * @self: the handler
 *
 * self.server_version: the resolved class attribute of the handler's
 * class.
 *
 * Returns: (transfer none): the value
 */
SS_API const char *ss_http_server_version (SsBaseHTTPRequestHandler *self);

/**
 * SS_HTTP_DATE_LEN:
 *
 * The size of the buffers of ss_http_date_time_string() and
 * ss_http_log_date_time_string().
 */
#define SS_HTTP_DATE_LEN 32
/**
 * ss_http_date_time_string:
 * @timestamp: seconds since the epoch; &lt; 0 = now
 * @buf: (out caller-allocates): at least %SS_HTTP_DATE_LEN bytes
 *
 * Python's date_time_string(timestamp): "Sun, 06 Nov 1994 08:49:37 GMT"
 * into @buf. Thread-safe.
 */
SS_API void ss_http_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN]);
/**
 * ss_http_log_date_time_string:
 * @timestamp: seconds since the epoch; &lt; 0 = now
 * @buf: (out caller-allocates): at least %SS_HTTP_DATE_LEN bytes
 *
 * Python's `log_date_time_string`: "06/Nov/1994 09:49:37", local time.
 */
SS_API void ss_http_log_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN]);

/**
 * ss_http_parse_date_utc:
 * @text: a date
 * @timestamp: (out): seconds since the epoch
 *
 * email.utils.parsedate_to_datetime as http.server uses it for
 * If-Modified-Since: RFC 1123, RFC 850 and asctime dates. Thread-safe.
 *
 * Returns: %TRUE with the time in *@timestamp when @text parses to a
 *   valid date in UTC (a "GMT", "UT", "Z", "+0000" or "-0000" zone, or
 *   none); %FALSE when it does not parse or names another zone (which
 *   http.server does not compare)
 */
SS_API gboolean ss_http_parse_date_utc (const char *text, gint64 *timestamp);

/* ------------------------------------------------------------ SimpleHTTPRequestHandler */

/**
 * SsSimpleHTTPRequestHandler:
 * @parent: first member
 * @directory: self.directory: absolute unless the class gave a relative
 *   one (owned by the handler)
 *
 * The instance of SimpleHTTPRequestHandler.
 */
typedef struct {
  SsBaseHTTPRequestHandler parent;
  char *directory;
} SsSimpleHTTPRequestHandler;

/**
 * ss_simple_http_request_handler_class:
 *
 * Python's http.server.SimpleHTTPRequestHandler: serves the files of its
 * directory (GET and HEAD), with Python's listings, types and
 * If-Modified-Since.
 */
SS_API const SsHTTPHandlerClass ss_simple_http_request_handler_class;

/**
 * ss_http_file_new_fd:
 * @fd: (transfer full): an open file, closed by ss_http_file_free()
 * @offset: where the body starts
 * @length: its length in bytes
 *
 * A body from a file: its @length bytes from @offset.
 *
 * Returns: (transfer full): free with ss_http_file_free()
 */
SS_API SsHTTPFile *ss_http_file_new_fd (int fd, goffset offset, goffset length);
/**
 * ss_http_file_new_bytes:
 * @bytes: the body; a reference is taken
 *
 * A body in memory (a directory listing).
 *
 * Returns: (transfer full): free with ss_http_file_free()
 */
SS_API SsHTTPFile *ss_http_file_new_bytes (GBytes *bytes);
/**
 * ss_http_file_free:
 * @file: (transfer full) (nullable): a body
 *
 * Closes the file or drops the bytes' reference, and frees @file.
 */
SS_API void ss_http_file_free (SsHTTPFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsHTTPFile, ss_http_file_free)

/**
 * ss_http_send_head:
 * @self: the handler
 * @file: (out) (transfer full) (nullable): the body to send, or %NULL when
 *   the response is complete (an error, a 304, a redirect)
 * @error: return location for a #GError, or %NULL
 *
 * `self.send_head`, through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_send_head (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error);
/**
 * ss_http_list_directory:
 * @self: the handler
 * @path: the directory's file system path
 * @file: (out) (transfer full) (nullable): the listing, or %NULL when an
 *   error was answered
 * @error: return location for a #GError, or %NULL
 *
 * self.list_directory(path), through the handler's class.
 *
 * Returns: %FALSE with @error only when the connection failed
 */
SS_API gboolean ss_http_list_directory (SsBaseHTTPRequestHandler *self, const char *path,
                                        SsHTTPFile **file, GError **error);
/**
 * ss_http_translate_path:
 * @self: the handler
 * @path: a URL path
 *
 * self.translate_path(path), through the handler's class.
 *
 * Returns: (transfer full) (nullable): a file system path inside the
 *   directory; g_free() it
 */
SS_API char *ss_http_translate_path (SsBaseHTTPRequestHandler *self, const char *path);
/**
 * ss_http_copyfile:
 * @self: the handler
 * @source: (transfer none): the body
 * @error: return location for a #GError, or %NULL
 *
 * self.copyfile(source, self.wfile), through the handler's class
 * (ss_wfile_sendfile() for a file).
 *
 * Returns: %FALSE with @error when the connection failed
 */
SS_API gboolean ss_http_copyfile (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error);
/**
 * ss_http_guess_type:
 * @self: the handler
 * @path: a file name
 *
 * self.guess_type(path), through the handler's class: extensions_map,
 * then the MIME types database, else "application/octet-stream".
 *
 * Returns: (transfer none): a static string or one of the tables'
 */
SS_API const char *ss_http_guess_type (SsBaseHTTPRequestHandler *self, const char *path);

/**
 * ss_http_translate_path_in:
 * @directory: the folder served
 * @path: a URL path
 *
 * Python's translate_path for @directory without a handler. Thread-safe.
 *
 * Returns: (transfer full) (nullable): the file system path that @path
 *   names inside @directory, or %NULL when the decoded path cannot name a
 *   file (a NUL byte, or a character the file system encoding cannot
 *   hold: Python fails there too)
 */
SS_API char *ss_http_translate_path_in (const char *directory, const char *path);

/**
 * ss_http_mimetypes_guess_type:
 * @path: a file name
 *
 * mimetypes.guess_type(path)[0] (strict): the types Python 3.11 builds
 * in, with the mime.types files Python reads (/etc/mime.types first) over
 * them when present.
 *
 * Returns: (transfer none) (nullable): the type, or %NULL when unknown
 */
SS_API const char *ss_http_mimetypes_guess_type (const char *path);

/* ------------------------------------------------------------ HTTPServer */

/**
 * SsHTTPServer:
 * @parent: first member
 * @server_port: self.server_port
 *
 * The instance of HTTPServer(socketserver.TCPServer): server_bind records
 * server_port (and server_name, resolved when first asked for: Python's
 * getfqdn may wait seconds for a DNS answer).
 */
typedef struct {
  SsServer parent;
  guint16 server_port;
  /*< private >*/
  struct SsHTTPServerPrivate *priv;
} SsHTTPServer;

/**
 * ss_http_server_class:
 *
 * Python's http.server.HTTPServer: #ss_tcp_server_class with a
 * server_bind that records the name and port (ss_http_server_new() sets
 * allow_reuse_address, as Python's class does).
 */
SS_API const SsServerClass ss_http_server_class;

/**
 * ss_http_server_get_server_name:
 * @server: an HTTP server
 *
 * Python's server_name: socket.getfqdn(host), resolved on the first call
 * (which may wait for DNS).
 *
 * Returns: (transfer none): the name
 */
SS_API const char *ss_http_server_get_server_name (SsServer *server);

/**
 * ss_http_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: an HTTP handler class
 * @strategy: (transfer full) (nullable): the concurrency strategy; %NULL =
 *   synchronous
 * @error: return location for a #GError, or %NULL
 *
 * HTTPServer(address, Handler) with a strategy, allow_reuse_address set
 * as Python's class sets it. Errors as ss_server_new().
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                                     SsStrategy *strategy, GError **error);
/**
 * ss_threading_http_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: an HTTP handler class
 * @error: return location for a #GError, or %NULL
 *
 * Python's ThreadingHTTPServer: a thread per connection, daemon_threads.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_threading_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                                               GError **error);
/**
 * ss_thread_pooling_http_server_new:
 * @address: "HOST:PORT" or "[V6]:PORT"
 * @handler_class: an HTTP handler class
 * @error: return location for a #GError, or %NULL
 *
 * The same over the dynamic thread pool (5, 100, 5).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
SS_API SsServer *ss_thread_pooling_http_server_new (const char *address,
                                                    const SsHTTPHandlerClass *handler_class,
                                                    GError **error);

G_END_DECLS
