/* http-private.h: what the files of handlers/http/ share.
 *
 * Built on the public API alone, as every handler (handlers/README in
 * lib/README.md). The text model, said once here: a C string in this API
 * holds what Python's str holds, in UTF-8. The request's bytes are
 * decoded as Latin-1 on the way in (Python's str(raw, 'iso-8859-1')), and
 * status lines and header lines are encoded back to Latin-1 on the way out
 * where Python calls .encode('latin-1', 'strict'); bodies are bytes.
 */
#pragma once

#include "../handlers-private.h"

#include <socketserver/http.h>

#include <stdarg.h>

/* ------------------------------------------------------------ pystr.c: Python's str on bytes */

/* str.isspace() of a code point (what str.split() splits on). */
gboolean ss__py_isspace (gunichar c);

/* Appends @len bytes of @s, taken as Latin-1 characters, in UTF-8. */
void ss__latin1_to_utf8 (GString *out, const char *s, gsize len);

/* Appends @s (UTF-8) as str.encode('latin-1') gives it; text that holds a
 * character above U+00FF or is not UTF-8 goes out unchanged (Python would
 * raise UnicodeEncodeError). */
void ss__utf8_to_latin1 (GString *out, const char *s, gsize len);

/* Appends repr() of the str made of @len Latin-1 bytes, in UTF-8. */
void ss__py_repr_latin1 (GString *out, const char *s, gsize len);

/* Appends html.escape(@s, quote=False): & < > only. */
void ss__html_escape (GString *out, const char *s, gsize len);

/* ------------------------------------------------------------ request.c: the request line */

typedef enum {
  SS__REQUEST_LINE_OK,
  SS__REQUEST_LINE_EMPTY,  /* no words: close without an answer */
  SS__REQUEST_LINE_ERROR,  /* answer error_code with error_message */
} SsRequestLineStatus;

/* Python's parse_request up to the headers, on the raw line. The strings
 * are UTF-8 (the Latin-1 decoded line), kept in one buffer that the next
 * parse of the same struct reuses (a connection's requests allocate
 * nothing here once it has grown). Start from { 0 }. */
typedef struct {
  SsRequestLineStatus status;
  const char *requestline;    /* the line without its CRs and LFs */
  const char *command;        /* NULL unless OK */
  const char *path;           /* NULL unless OK; a leading "//" reduced to "/" */
  const char *version;        /* the request_version to set: NULL = leave the default */
  gboolean close_connection;
  int error_code;
  const char *error_message;
  GString *text;              /* owns the strings above */
} SsRequestLine;

void ss__request_line_parse (SsRequestLine *out, const char *raw, gsize len,
                             const char *protocol_version);
/* Forgets the strings (keeping the buffer). */
void ss__request_line_reset (SsRequestLine *line);
/* Frees the buffer too. */
void ss__request_line_clear (SsRequestLine *line);

/* ------------------------------------------------------------ headers.c */

/* Empties @headers, keeping its memory for the next request's. */
void ss__http_headers_reset (SsHTTPHeaders *headers);

/* ss_http_parse_headers into @headers (reset first), reading the lines
 * into @scratch: the per-connection form, which allocates nothing once
 * both have grown. FALSE with @error as ss_http_parse_headers. */
gboolean ss__http_parse_headers_into (SsHTTPHeaders *headers, GString *scratch, SsRFile *rfile,
                                      GError **error);

/* ------------------------------------------------------------ class.c */

/* Copies @klass into @out with every HTTP slot and attribute resolved up
 * its chain; FALSE when @klass does not derive from BaseHTTPRequestHandler. */
gboolean ss__http_class_resolve (const SsHTTPHandlerClass *klass, SsHTTPHandlerClass *out);

/* ------------------------------------------------------------ the handler's private part */

struct SsBaseHTTPRequestHandlerPrivate {
  SsHTTPHandlerClass vt;      /* the handler's class, resolved (class.c) */
  SsRequestLine line;         /* the current request line; owns command, path, ... */
  GString *raw_requestline;
  GString *headers_buffer;    /* Python's _headers_buffer */
  GString *headers_scratch;   /* the header lines as read, reused */
  char *address;              /* address_string()'s, computed once per connection */
  char *version;              /* version_string()'s, likewise */
  GString *log_line;          /* log_message's line, reused */
  GString *log_message;       /* log_request's message, reused */
  gboolean idle_by_timeout;   /* keepalive_timeout is the socket's receive timeout (base.c) */
};

#define SS__HTTP_VT(self) (&(self)->priv->vt)

/* @value (>= 0) in decimal, written at the end of @buf: what "%d" would
 * print, without printf's set-up on every response. */
#define SS__HTTP_DECIMAL_LEN 24

static inline const char *
ss__http_decimal (char buf[SS__HTTP_DECIMAL_LEN], gint64 value)
{
  char *p = buf + SS__HTTP_DECIMAL_LEN - 1;

  *p = '\0';
  do
    {
      *--p = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0);
  return p;
}

/* BaseHTTPRequestHandler's slot functions, named in the classes' tables
 * (base.c, response.c, log.c) and SimpleHTTPRequestHandler's (simple.c). */
gboolean ss__http_setup (SsRequestHandler *handler, GError **error);
gboolean ss__http_handle (SsRequestHandler *handler, GError **error);
void ss__http_dispose (SsRequestHandler *handler);
gboolean ss__http_unsupported_method (SsBaseHTTPRequestHandler *self, GError **error);
gboolean ss__http_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error);
gboolean ss__http_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
gboolean ss__http_handle_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error);
gboolean ss__http_send_error (SsBaseHTTPRequestHandler *self, int code, const char *message,
                              const char *explain, GError **error);
void ss__http_send_response (SsBaseHTTPRequestHandler *self, int code, const char *message);
void ss__http_send_response_only (SsBaseHTTPRequestHandler *self, int code, const char *message);
void ss__http_send_header (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value);
gboolean ss__http_end_headers (SsBaseHTTPRequestHandler *self, GError **error);
void ss__http_log_request (SsBaseHTTPRequestHandler *self, int code, gssize size);
void ss__http_log_error (SsBaseHTTPRequestHandler *self, const char *message);
void ss__http_log_message (SsBaseHTTPRequestHandler *self, const char *message);
char *ss__http_version_string (SsBaseHTTPRequestHandler *self);
char *ss__http_address_string (SsBaseHTTPRequestHandler *self);

gboolean ss__simple_setup (SsRequestHandler *handler, GError **error);
void ss__simple_dispose (SsRequestHandler *handler);
gboolean ss__simple_do_GET (SsBaseHTTPRequestHandler *self, GError **error);
gboolean ss__simple_do_HEAD (SsBaseHTTPRequestHandler *self, GError **error);
gboolean ss__simple_send_head (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error);
gboolean ss__simple_list_directory (SsBaseHTTPRequestHandler *self, const char *path,
                                    SsHTTPFile **file, GError **error);
char *ss__simple_translate_path (SsBaseHTTPRequestHandler *self, const char *path);
gboolean ss__simple_copyfile (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error);
const char *ss__simple_guess_type (SsBaseHTTPRequestHandler *self, const char *path);

/* What BaseHTTPRequestHandler and SimpleHTTPRequestHandler fill alike
 * (every slot of both is filled; class.h): all but each one's name,
 * instance, setup, dispose, do_GET, do_HEAD and server_version. */
#define SS__HTTP_CLASS_COMMON                                                            \
  .parent_class.magic = SS_HANDLER_CLASS_MAGIC, .parent_class.handle = ss__http_handle, \
  .parent_class.finish = ss__stream_request_handler_finish,                            \
  /* StreamRequestHandler's attributes, which Python's classes keep (an                \
   * unbuffered wfile, no timeout). */                                                 \
  .parent_class.rbufsize = -1, .parent_class.wbufsize = 0,                              \
  .parent_class.timeout = SS_TIMEOUT_NONE, .parent_class.disable_nagle_algorithm = FALSE, \
  .http_magic = SS_HTTP_HANDLER_CLASS_MAGIC,                                            \
  .do_POST = ss__http_unsupported_method, .do_PUT = ss__http_unsupported_method,       \
  .do_DELETE = ss__http_unsupported_method, .do_OPTIONS = ss__http_unsupported_method, \
  .do_PATCH = ss__http_unsupported_method, .do_TRACE = ss__http_unsupported_method,    \
  .do_CONNECT = ss__http_unsupported_method, .methods = ss__http_no_methods,           \
  .handle_one_request = ss__http_handle_one_request,                                    \
  .parse_request = ss__http_parse_request, .handle_expect_100 = ss__http_handle_expect_100, \
  .send_error = ss__http_send_error, .send_response = ss__http_send_response,           \
  .send_response_only = ss__http_send_response_only, .send_header = ss__http_send_header, \
  .end_headers = ss__http_end_headers, .log_request = ss__http_log_request,             \
  .log_error = ss__http_log_error, .log_message = ss__http_log_message,                 \
  .version_string = ss__http_version_string, .address_string = ss__http_address_string, \
  .send_head = ss__simple_send_head, .list_directory = ss__simple_list_directory,       \
  .translate_path = ss__simple_translate_path, .copyfile = ss__simple_copyfile,         \
  .guess_type = ss__simple_guess_type,                                                  \
  .sys_version = "libsocketserver/" PACKAGE_VERSION, .protocol_version = "HTTP/1.0",    \
  .default_request_version = "HTTP/0.9", .error_message_format = SS_HTTP_DEFAULT_ERROR_MESSAGE, \
  .error_content_type = SS_HTTP_DEFAULT_ERROR_CONTENT_TYPE,                             \
  .keepalive_timeout = SS_TIMEOUT_NONE, .directory = SS_HTTP_DIRECTORY_CWD,            \
  .extensions_map = ss__http_default_extensions_map, .ranges = TRUE,                   \
  .header_timeout = 20

/* Python's default extensions_map (SimpleHTTPRequestHandler's). */
extern const SsHTTPExtension ss__http_default_extensions_map[];

/* Appends error_message_format % {'code': ..., 'message': ..., 'explain': ...}. */
void ss__http_format_error (GString *out, const char *format, int code, const char *message,
                            const char *explain);

/* vsnprintf into @stack (@size bytes) when it fits, else into a new
 * *@heap; returns the text (log.c). */
const char *ss__http_vformat (char *stack, gsize size, char **heap, const char *format, va_list args);

/* Appends repr() of a UTF-8 str. */
void ss__py_repr (GString *out, const char *s);

/* An empty methods table: what the library's classes add (none). */
extern const SsHTTPMethodEntry ss__http_no_methods[];

/* ------------------------------------------------------------ url.c */

/* unquote(@s, errors='surrogatepass') -- errors='replace' if that fails --
 * appended as the file system encoding gives it, with @unencodable in
 * place of each character that encoding cannot hold. */
void ss__url_unquote_fs (GString *out, const char *s, gsize len, const char *unencodable,
                         gsize unencodable_len);

/* quote(name, errors='surrogatepass') of a file name (bytes decoded with
 * surrogateescape), appended. */
void ss__url_quote_fs_name (GString *out, const char *name, gsize len);

/* urlunsplit of urlsplit(@url) with '/' added to its path, or NULL when
 * the path already ends with one (transfer full). */
char *ss__url_directory_redirect (const char *url);

/* ------------------------------------------------------------ listing.c */

/* The directory listing of @path for the request path @url_path, or NULL
 * when the directory cannot be read (transfer full). */
GBytes *ss__listing_render (const char *path, const char *url_path);
