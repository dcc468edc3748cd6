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

#include "config.h"

#include <socketserver/socketserver.h>
#include <socketserver/http.h>

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

/* Python's parse_request up to the headers, on the raw line. Strings are
 * UTF-8 (the Latin-1 decoded line) and owned by the struct. */
typedef struct {
  SsRequestLineStatus status;
  char *requestline;          /* the line without its CRs and LFs */
  char *command;              /* NULL unless OK */
  char *path;                 /* NULL unless OK; a leading "//" reduced to "/" */
  char *version;              /* the request_version to set: NULL = leave the default */
  gboolean close_connection;
  int error_code;
  char *error_message;
} SsRequestLine;

void ss__request_line_parse (SsRequestLine *out, const char *raw, gsize len,
                             const char *protocol_version);
void ss__request_line_clear (SsRequestLine *line);
