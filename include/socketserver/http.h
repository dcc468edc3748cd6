/* http.h: Python's http.server -- BaseHTTPRequestHandler,
 * SimpleHTTPRequestHandler, HTTPServer, ThreadingHTTPServer -- and the
 * header parsing of http.client it relies on.
 *
 * An HTTP handler class is a handler class (its first member is an
 * SsHandlerClass, so a server runs it like any other) with the slots and
 * class attributes of Python's BaseHTTPRequestHandler after it. A user's
 * class names its parent, fills only what it overrides and calls its
 * parent's slot by name for super() (every slot of every class exported
 * here is filled):
 *
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
 *
 * Text: a C string holds what Python's str holds, in UTF-8. The request
 * is decoded as ISO-8859-1 (one character per byte) as Python decodes it,
 * so a request's path, version and header values are its bytes in that
 * reading; status lines and header lines go out encoded back to
 * ISO-8859-1 where Python encodes them (a string with a character beyond
 * U+00FF goes out as it is, where Python raises). Bodies are bytes.
 * docs/http.md maps every Python name to its C one.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <sys/types.h>
#include "handler.h"
#include "server.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ errors */

#define SS_HTTP_ERROR (ss_http_error_quark ())

typedef enum {
  SS_HTTP_ERROR_LINE_TOO_LONG,    /* http.client.LineTooLong: a line over SS_HTTP_MAXLINE bytes */
  SS_HTTP_ERROR_TOO_MANY_HEADERS, /* http.client.HTTPException: more than SS_HTTP_MAXHEADERS */
} SsHTTPErrorCode;

SS_API GQuark ss_http_error_quark (void);

/* http.client's limits (_MAXLINE, _MAXHEADERS), which http.server uses. */
#define SS_HTTP_MAXLINE    65536
#define SS_HTTP_MAXHEADERS 100

/* ------------------------------------------------------------ headers */

/* http.client.HTTPMessage (an email.message.Message): the request's
 * header fields in the order received, looked up by name without regard
 * to ASCII case, a name possibly present several times. */
typedef struct _SsHTTPHeaders SsHTTPHeaders;

/* Returns: (transfer full). */
SS_API SsHTTPHeaders *ss_http_headers_new (void);
SS_API void ss_http_headers_free (SsHTTPHeaders *headers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsHTTPHeaders, ss_http_headers_free)

/* Appends a field (Python: msg[name] = value, which adds). */
SS_API void ss_http_headers_add (SsHTTPHeaders *headers, const char *name, const char *value);

/* Python's msg.get(name) / msg[name]: the first value of @name, or NULL
 * (Python None). (transfer none): valid until @headers changes. */
SS_API const char *ss_http_headers_get (const SsHTTPHeaders *headers, const char *name);

/* Python's `name in msg`. */
SS_API gboolean ss_http_headers_contains (const SsHTTPHeaders *headers, const char *name);

/* Python's msg.get_all(name): every value of @name in order, or NULL when
 * there is none. Returns: (transfer container): g_free the array, not the
 * strings (valid until @headers changes). */
SS_API const char **ss_http_headers_get_all (const SsHTTPHeaders *headers, const char *name);

/* len(msg), and msg.items() by index (transfer none). */
SS_API guint ss_http_headers_size (const SsHTTPHeaders *headers);
SS_API const char *ss_http_headers_nth_name (const SsHTTPHeaders *headers, guint n);
SS_API const char *ss_http_headers_nth_value (const SsHTTPHeaders *headers, guint n);

/* Parses @len bytes of header lines as http.client.parse_headers does
 * after reading them (email.parser with the compat32 policy): lines end
 * in CRLF, LF or CR; a line that is not "name:value", a continuation or
 * an envelope "From " line ends the header section; continuation lines
 * join the value before them with their line ends; a value loses the
 * spaces and tabs after the colon and the CRs and LFs at its end, nothing
 * else. Fields are appended to @headers. */
SS_API void ss_http_headers_parse_bytes (SsHTTPHeaders *headers, const char *data, gsize len);

/* Python's http.client.parse_headers(fp): reads header lines from @rfile
 * up to an empty line (or EOF) and parses them. A line longer than
 * SS_HTTP_MAXLINE fails with SS_HTTP_ERROR_LINE_TOO_LONG, more than
 * SS_HTTP_MAXHEADERS lines (the empty one counted, as Python counts it)
 * with SS_HTTP_ERROR_TOO_MANY_HEADERS; the message is Python's.
 * Returns: (transfer full), or NULL with @error set. */
SS_API SsHTTPHeaders *ss_http_parse_headers (SsRFile *rfile, GError **error);

/* ------------------------------------------------------------ status codes */

/* http.HTTPStatus: the phrase ("Not Found") and the description ("Nothing
 * matches the given URI") of @code, or NULL for a code Python does not
 * know. (transfer none): static. */
SS_API const char *ss_http_status_phrase (int code);
SS_API const char *ss_http_status_description (int code);

/* ------------------------------------------------------------ the handler classes */

typedef struct _SsBaseHTTPRequestHandler SsBaseHTTPRequestHandler;
typedef struct _SsHTTPHandlerClass SsHTTPHandlerClass;
typedef struct _SsHTTPFile SsHTTPFile;

/* A do_METHOD. Returns FALSE with @error set only for a failure of the
 * connection (the client vanished, a timeout): a request the method
 * refuses is answered with ss_http_send_error and returns TRUE. */
typedef gboolean (*SsHTTPMethod) (SsBaseHTTPRequestHandler *self, GError **error);

/* A command outside the named do_ slots (PROPFIND, MKCOL, ...). */
typedef struct {
  const char *command;  /* case-sensitive, as Python's getattr(self, 'do_' + command) */
  SsHTTPMethod method;
} SsHTTPMethodEntry;

/* One entry of SimpleHTTPRequestHandler.extensions_map. */
typedef struct {
  const char *extension; /* ".gz" */
  const char *type;      /* "application/gzip" */
} SsHTTPExtension;

/* "Use the working directory when the handler is created" (Python's
 * directory=None, which becomes os.getcwd()). */
#define SS_HTTP_DIRECTORY_CWD ""

struct _SsHTTPHandlerClass {
  SsHandlerClass parent_class;  /* first member: a handler class to the server */
  guint32 http_magic;           /* SS_HTTP_HANDLER_CLASS_MAGIC */

  /* do_METHOD. BaseHTTPRequestHandler fills each with one that answers
   * 501 "Unsupported method ('GET')", as Python answers a class without
   * the method. */
  SsHTTPMethod do_GET;
  SsHTTPMethod do_HEAD;
  SsHTTPMethod do_POST;
  SsHTTPMethod do_PUT;
  SsHTTPMethod do_DELETE;
  SsHTTPMethod do_OPTIONS;
  SsHTTPMethod do_PATCH;
  SsHTTPMethod do_TRACE;
  SsHTTPMethod do_CONNECT;
  /* Other commands: a table ending with { NULL, NULL }; the classes' tables
   * are searched from this class up. NULL = none here. */
  const SsHTTPMethodEntry *methods;

  /* BaseHTTPRequestHandler's methods. The ones that Python lets return
   * False after answering (parse_request, handle_expect_100) say so in
   * *@proceed; every one returns FALSE with @error only when the
   * connection failed. */
  gboolean (*handle_one_request) (SsBaseHTTPRequestHandler *self, GError **error);
  gboolean (*parse_request) (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
  gboolean (*handle_expect_100) (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
  /* @message, @explain: NULL for Python's None (the code's phrase and description). */
  gboolean (*send_error) (SsBaseHTTPRequestHandler *self, int code, const char *message,
                          const char *explain, GError **error);
  void (*send_response) (SsBaseHTTPRequestHandler *self, int code, const char *message);
  void (*send_response_only) (SsBaseHTTPRequestHandler *self, int code, const char *message);
  void (*send_header) (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value);
  gboolean (*end_headers) (SsBaseHTTPRequestHandler *self, GError **error);
  /* @code, @size: < 0 for Python's '-'. */
  void (*log_request) (SsBaseHTTPRequestHandler *self, int code, gssize size);
  /* The message already formatted (ss_http_log_error/ss_http_log_message
   * format it and call these). */
  void (*log_error) (SsBaseHTTPRequestHandler *self, const char *message);
  void (*log_message) (SsBaseHTTPRequestHandler *self, const char *message);
  /* Returns: (transfer full). */
  char *(*version_string) (SsBaseHTTPRequestHandler *self);
  char *(*address_string) (SsBaseHTTPRequestHandler *self);

  /* SimpleHTTPRequestHandler's methods (BaseHTTPRequestHandler fills them
   * with SimpleHTTPRequestHandler's, which only that class's do_GET and
   * do_HEAD call). send_head returns the body to send in *@file (NULL
   * when the response is complete: an error, a 304, a redirect). */
  gboolean (*send_head) (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error);
  gboolean (*list_directory) (SsBaseHTTPRequestHandler *self, const char *path,
                              SsHTTPFile **file, GError **error);
  /* Returns: (transfer full): a file system path inside the directory. */
  char *(*translate_path) (SsBaseHTTPRequestHandler *self, const char *path);
  gboolean (*copyfile) (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error);
  /* Returns: (transfer none): a static string or one of the tables'. */
  const char *(*guess_type) (SsBaseHTTPRequestHandler *self, const char *path);

  /* Class attributes, Python's names and values; NULL (strings) or
   * SS_INHERIT (numbers) inherit the parent's. */
  const char *server_version;          /* "BaseHTTP/0.6"; SimpleHTTP: "SimpleHTTP/0.6" */
  const char *sys_version;             /* Python's "Python/3.11.7": "libsocketserver/VERSION" */
  const char *protocol_version;        /* "HTTP/1.0"; "HTTP/1.1" turns keep-alive on */
  const char *default_request_version; /* "HTTP/0.9" */
  const char *error_message_format;    /* SS_HTTP_DEFAULT_ERROR_MESSAGE: %(code)d, %(message)s,
                                        * %(explain)s as in Python's */
  const char *error_content_type;      /* "text/html;charset=utf-8" */
  /* Beyond Python: seconds to wait for the next request on a connection
   * (an idle keep-alive connection, or a new one that sends nothing) before
   * closing it without a word; SS_TIMEOUT_NONE waits as the class's
   * timeout says, as Python does. With timeout None (the default) it is
   * also the limit on each read within a request, answered as Python
   * answers its timeout ("Request timed out" in the log, the connection
   * closed). */
  double keepalive_timeout;
  /* SimpleHTTPRequestHandler: the folder served (SS_HTTP_DIRECTORY_CWD:
   * the working directory), and extensions_map, a table ending with
   * { NULL, NULL } tried before the MIME types database. */
  const char *directory;
  const SsHTTPExtension *extensions_map;
  /* Beyond Python: SimpleHTTPRequestHandler answers Range requests (206,
   * 416, Accept-Ranges: bytes). FALSE serves whole files as Python does. */
  gboolean ranges;
  /* Beyond Python: between two requests of a kept connection (and before
   * the first), when nothing of the next request has arrived, hand the
   * connection back to the strategy (ss_server_park_request, with
   * keepalive_timeout as its timeout) so that an idle connection holds no
   * worker; the thread pool can, other strategies go on waiting inline.
   * The next request then runs in a new handler instance: a class that
   * keeps per-connection state in its instance, as a Python handler may
   * in self, leaves this FALSE. BaseHTTPRequestHandler: FALSE;
   * SimpleHTTPRequestHandler: TRUE. */
  gboolean park_idle;
};

#define SS_HTTP_HANDLER_CLASS_MAGIC 0x53534854u /* "SSHT" */

/* Python's DEFAULT_ERROR_MESSAGE and DEFAULT_ERROR_CONTENT_TYPE. */
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
#define SS_HTTP_DEFAULT_ERROR_CONTENT_TYPE "text/html;charset=utf-8"

/* The part of a class initializer that makes every HTTP slot and
 * attribute inherit; SS_DEFINE_HTTP_HANDLER_CLASS starts with it. */
#define SS_HTTP_HANDLER_CLASS_INHERIT(TYPE, PARENT)                                    \
  .parent_class.name = #TYPE, .parent_class.parent = &(PARENT).parent_class,           \
  .parent_class.instance_size = sizeof (TYPE),                                         \
  .parent_class.magic = SS_HANDLER_CLASS_MAGIC, .parent_class.rbufsize = SS_INHERIT,   \
  .parent_class.wbufsize = SS_INHERIT, .parent_class.timeout = SS_INHERIT,             \
  .parent_class.disable_nagle_algorithm = SS_INHERIT,                                  \
  .http_magic = SS_HTTP_HANDLER_CLASS_MAGIC, .keepalive_timeout = SS_INHERIT,          \
  .ranges = SS_INHERIT, .park_idle = SS_INHERIT

/* Defines `static const SsHTTPHandlerClass VAR` for instance struct TYPE
 * (which embeds its parent's instance struct first) deriving from PARENT
 * (an HTTP handler class variable). The designated initializers after it
 * set slots and attributes, the HTTP ones by name (.do_GET = ...,
 * .protocol_version = "HTTP/1.1") and the handler ones through
 * parent_class (.parent_class.timeout = 10). Write it without `static`
 * in front (handler.h says why). _EXTERN: external linkage. */
#define SS__DEFINE_HTTP_HANDLER_CLASS(STORAGE, TYPE, VAR, PARENT, ...)           \
  SS_BEGIN_IGNORE_OVERRIDE_INIT                                                  \
  STORAGE const SsHTTPHandlerClass VAR = {                                       \
    SS_HTTP_HANDLER_CLASS_INHERIT (TYPE, PARENT),                                \
    __VA_ARGS__                                                                  \
  };                                                                             \
  SS_END_IGNORE_OVERRIDE_INIT                                                    \
  _Static_assert (sizeof (TYPE) >= sizeof (SsBaseHTTPRequestHandler),            \
                  #TYPE " must embed its base HTTP handler as its first member")
#define SS_DEFINE_HTTP_HANDLER_CLASS(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HTTP_HANDLER_CLASS (static, TYPE, VAR, PARENT, __VA_ARGS__)
#define SS_DEFINE_HTTP_HANDLER_CLASS_EXTERN(TYPE, VAR, PARENT, ...) \
  SS__DEFINE_HTTP_HANDLER_CLASS (, TYPE, VAR, PARENT, __VA_ARGS__)

/* Makes @klass a class deriving from @parent with every slot and
 * attribute inheriting, at run time: what Python's
 * `HandlerClass.protocol_version = protocol` becomes (set the fields
 * after this call). @name is borrowed; @instance_size 0 = the parent's. */
SS_API void ss_http_handler_class_init (SsHTTPHandlerClass *klass, const char *name,
                                        const SsHTTPHandlerClass *parent, gsize instance_size);

/* Whether @klass derives from ss_base_http_request_handler_class. */
SS_API gboolean ss_is_http_handler_class (const SsHandlerClass *klass);

/* The slot at byte @offset of SsHTTPHandlerClass from @klass or its
 * nearest ancestor that fills it: super() for a class deriving from a
 * user's class, through SS_HTTP_HANDLER_CLASS_SLOT. */
SS_API gconstpointer ss_http_handler_class_lookup (const SsHTTPHandlerClass *klass, gsize offset);
#define SS_HTTP_HANDLER_CLASS_SLOT(klass, slot)                                      \
  ((__typeof__ (((SsHTTPHandlerClass *) 0)->slot)) ss_http_handler_class_lookup (   \
      (klass), G_STRUCT_OFFSET (SsHTTPHandlerClass, slot)))

/* ------------------------------------------------------------ BaseHTTPRequestHandler */

/* The instance. The request fields are set by parse_request and stay
 * valid until the next request on the connection begins (transfer none). */
struct _SsBaseHTTPRequestHandler {
  SsStreamRequestHandler parent;  /* first member: rfile, wfile, connection */
  SsRFile *rfile;                 /* parent.rfile, parent.wfile: self.rfile, self.wfile */
  SsWFile *wfile;
  const SsHTTPHandlerClass *klass;

  const char *command;            /* "GET"; NULL until the request line is parsed (None) */
  const char *path;               /* "/index.html?x=1", a leading "//" reduced to "/" */
  const char *request_version;    /* "HTTP/1.1"; default_request_version until parsed */
  const char *requestline;        /* the request line without its line end; "" before */
  const GString *raw_requestline; /* the request line as read */
  SsHTTPHeaders *headers;         /* the request's headers; NULL until parsed */
  gboolean close_connection;      /* handle() stops after this request when TRUE */

  struct SsBaseHTTPRequestHandlerPrivate *priv;
};

SS_API const SsHTTPHandlerClass ss_base_http_request_handler_class;

/* self.send_response(code, message) and the rest: dispatch through the
 * handler's class. */
SS_API gboolean ss_http_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error);
SS_API gboolean ss_http_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
SS_API gboolean ss_http_handle_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed,
                                           GError **error);
SS_API gboolean ss_http_send_error (SsBaseHTTPRequestHandler *self, int code, const char *message,
                                    const char *explain, GError **error);
SS_API void ss_http_send_response (SsBaseHTTPRequestHandler *self, int code, const char *message);
SS_API void ss_http_send_response_only (SsBaseHTTPRequestHandler *self, int code, const char *message);
SS_API void ss_http_send_header (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value);
SS_API void ss_http_send_header_printf (SsBaseHTTPRequestHandler *self, const char *keyword,
                                        const char *format, ...) G_GNUC_PRINTF (3, 4);
/* Python's end_headers: the blank line, then flush_headers. The headers
 * go out with the body's first write on wfile (one send) or with the
 * flush at the end of the request; ss_wfile_flush sends them at once. */
SS_API gboolean ss_http_end_headers (SsBaseHTTPRequestHandler *self, GError **error);
SS_API gboolean ss_http_flush_headers (SsBaseHTTPRequestHandler *self, GError **error);
SS_API void ss_http_log_request (SsBaseHTTPRequestHandler *self, int code, gssize size);
SS_API void ss_http_log_error (SsBaseHTTPRequestHandler *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
SS_API void ss_http_log_message (SsBaseHTTPRequestHandler *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Returns: (transfer full). */
SS_API char *ss_http_version_string (SsBaseHTTPRequestHandler *self);
SS_API char *ss_http_address_string (SsBaseHTTPRequestHandler *self);

/* The resolved class attributes of the handler's class. (transfer none) */
SS_API const char *ss_http_protocol_version (SsBaseHTTPRequestHandler *self);
SS_API const char *ss_http_server_version (SsBaseHTTPRequestHandler *self);

/* Python's date_time_string(timestamp): "Sun, 06 Nov 1994 08:49:37 GMT"
 * into @buf (at least SS_HTTP_DATE_LEN bytes); @timestamp < 0 = now. */
#define SS_HTTP_DATE_LEN 32
SS_API void ss_http_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN]);
/* Python's log_date_time_string(): "06/Nov/1994 09:49:37", local time. */
SS_API void ss_http_log_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN]);

/* email.utils.parsedate_to_datetime as http.server uses it for
 * If-Modified-Since: RFC 1123, RFC 850 and asctime dates. Returns TRUE
 * with the time in seconds since the epoch in *@timestamp when @text
 * parses to a valid date in UTC (a "GMT", "UT", "Z", "+0000" or "-0000"
 * zone, or none); FALSE when it does not parse or names another zone
 * (which http.server does not compare). */
SS_API gboolean ss_http_parse_date_utc (const char *text, gint64 *timestamp);

/* ------------------------------------------------------------ SimpleHTTPRequestHandler */

typedef struct {
  SsBaseHTTPRequestHandler parent;  /* first member */
  char *directory;                  /* self.directory: absolute unless the class gave a relative one */
} SsSimpleHTTPRequestHandler;

SS_API const SsHTTPHandlerClass ss_simple_http_request_handler_class;

/* Python's f in send_head: what copyfile sends -- a file (its @length
 * bytes from @offset) or bytes in memory (a directory listing). */
/* Takes @fd (closed by ss_http_file_free). Returns: (transfer full). */
SS_API SsHTTPFile *ss_http_file_new_fd (int fd, goffset offset, goffset length);
/* Returns: (transfer full). Takes a reference on @bytes. */
SS_API SsHTTPFile *ss_http_file_new_bytes (GBytes *bytes);
SS_API void ss_http_file_free (SsHTTPFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsHTTPFile, ss_http_file_free)

SS_API gboolean ss_http_send_head (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error);
SS_API gboolean ss_http_list_directory (SsBaseHTTPRequestHandler *self, const char *path,
                                        SsHTTPFile **file, GError **error);
SS_API char *ss_http_translate_path (SsBaseHTTPRequestHandler *self, const char *path);
SS_API gboolean ss_http_copyfile (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error);
SS_API const char *ss_http_guess_type (SsBaseHTTPRequestHandler *self, const char *path);

/* Python's translate_path for @directory without a handler: the file
 * system path that @path names inside @directory (transfer full), or NULL
 * when the decoded path cannot name a file (a NUL byte, or a character
 * the file system encoding cannot hold: Python fails there too). */
SS_API char *ss_http_translate_path_in (const char *directory, const char *path);

/* mimetypes.guess_type(path)[0] (strict), NULL when unknown: the types
 * Python 3.11 builds in, with the mime.types files Python reads
 * (/etc/mime.types first) over them when present. (transfer none) */
SS_API const char *ss_http_mimetypes_guess_type (const char *path);

/* ------------------------------------------------------------ HTTPServer */

/* HTTPServer(socketserver.TCPServer): server_bind records server_port
 * (and server_name, resolved when first asked for: Python's getfqdn may
 * wait seconds for a DNS answer). */
typedef struct {
  SsServer parent;       /* first member */
  guint16 server_port;   /* self.server_port */
  struct SsHTTPServerPrivate *priv;
} SsHTTPServer;

SS_API const SsServerClass ss_http_server_class;

/* Python's server_name: socket.getfqdn(host) (transfer none). */
SS_API const char *ss_http_server_get_server_name (SsServer *server);

/* HTTPServer(address, Handler) with a strategy (transfer full; NULL =
 * synchronous), allow_reuse_address set as Python's class sets it.
 * Returns: (transfer full) (nullable). */
SS_API SsServer *ss_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                                     SsStrategy *strategy, GError **error);
/* ThreadingHTTPServer: a thread per connection, daemon_threads. */
SS_API SsServer *ss_threading_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                                               GError **error);
/* The same over the dynamic thread pool (5, 100, 5). */
SS_API SsServer *ss_thread_pooling_http_server_new (const char *address,
                                                    const SsHTTPHandlerClass *handler_class,
                                                    GError **error);

G_END_DECLS
