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
#include "rfile.h"

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

G_END_DECLS
