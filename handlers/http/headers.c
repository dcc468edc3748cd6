/* headers.c: the request's header map and http.client.parse_headers.
 *
 * Python reads the header lines with readline(_MAXLINE + 1) up to an
 * empty line, then hands their bytes, decoded as Latin-1, to the email
 * parser (policy compat32). What that parser makes of them is what
 * http.server sees, so it is ported here rule for rule:
 *
 * - the text is cut into lines at CRLF, LF and CR alike;
 * - a line is a header line when it matches ^(From |[\041-\071\073-\176]*:|[\t ]),
 *   and the first one that does not ends the headers (an empty line
 *   silently, anything else as the start of a body, which http.server
 *   ignores);
 * - a line starting with a space or a tab continues the previous field
 *   (and is dropped when there is none); "From " lines are envelope lines,
 *   not fields; a line starting with ':' has no name and is dropped;
 * - a value is everything after the first colon, with the spaces and
 *   tabs after the colon removed, the continuation lines appended with
 *   their line ends, and the CRs and LFs at the very end removed; trailing
 *   spaces stay ("close " is not "close").
 *
 * The map keeps every field in order in one string buffer (names and
 * values NUL-terminated, values in UTF-8 as Python's str holds them) and
 * finds names by ASCII case-insensitive comparison, as Message.get does.
 */
#include "http-private.h"

#include <string.h>

typedef struct {
  gsize name;   /* offsets into text */
  gsize value;
} Field;

struct _SsHTTPHeaders {
  GString *text;
  GArray *fields;
};

G_DEFINE_QUARK (ss-http-error-quark, ss_http_error)

SsHTTPHeaders *
ss_http_headers_new (void)
{
  SsHTTPHeaders *headers = g_new0 (SsHTTPHeaders, 1);

  headers->text = g_string_sized_new (256);
  headers->fields = g_array_sized_new (FALSE, FALSE, sizeof (Field), 8);
  return headers;
}

void
ss_http_headers_free (SsHTTPHeaders *headers)
{
  if (headers == NULL)
    return;
  g_string_free (headers->text, TRUE);
  g_array_unref (headers->fields);
  g_free (headers);
}

/* Appends a field whose name is @name_len bytes of @name and whose value
 * is @value_len bytes of @value, Latin-1 when @latin1 (from the wire). */
static void
add_field (SsHTTPHeaders *headers, const char *name, gsize name_len,
           const char *value, gsize value_len, gboolean latin1)
{
  Field field;

  field.name = headers->text->len;
  g_string_append_len (headers->text, name, (gssize) name_len);
  g_string_append_c (headers->text, '\0');
  field.value = headers->text->len;
  if (latin1)
    ss__latin1_to_utf8 (headers->text, value, value_len);
  else
    g_string_append_len (headers->text, value, (gssize) value_len);
  g_string_append_c (headers->text, '\0');
  g_array_append_val (headers->fields, field);
}

void
ss_http_headers_add (SsHTTPHeaders *headers, const char *name, const char *value)
{
  g_return_if_fail (headers != NULL && name != NULL && value != NULL);
  add_field (headers, name, strlen (name), value, strlen (value), FALSE);
}

static const Field *
field_at (const SsHTTPHeaders *headers, guint n)
{
  return &g_array_index (headers->fields, Field, n);
}

static gboolean
field_is (const SsHTTPHeaders *headers, const Field *field, const char *name)
{
  return g_ascii_strcasecmp (headers->text->str + field->name, name) == 0;
}

const char *
ss_http_headers_get (const SsHTTPHeaders *headers, const char *name)
{
  g_return_val_if_fail (headers != NULL && name != NULL, NULL);

  for (guint i = 0; i < headers->fields->len; i++)
    if (field_is (headers, field_at (headers, i), name))
      return headers->text->str + field_at (headers, i)->value;
  return NULL;
}

gboolean
ss_http_headers_contains (const SsHTTPHeaders *headers, const char *name)
{
  return ss_http_headers_get (headers, name) != NULL;
}

const char **
ss_http_headers_get_all (const SsHTTPHeaders *headers, const char *name)
{
  GPtrArray *all;

  g_return_val_if_fail (headers != NULL && name != NULL, NULL);

  all = g_ptr_array_new ();
  for (guint i = 0; i < headers->fields->len; i++)
    if (field_is (headers, field_at (headers, i), name))
      g_ptr_array_add (all, headers->text->str + field_at (headers, i)->value);
  if (all->len == 0)
    {
      g_ptr_array_free (all, TRUE);
      return NULL;
    }
  g_ptr_array_add (all, NULL);
  return (const char **) g_ptr_array_free (all, FALSE);
}

guint
ss_http_headers_size (const SsHTTPHeaders *headers)
{
  g_return_val_if_fail (headers != NULL, 0);
  return headers->fields->len;
}

const char *
ss_http_headers_nth_name (const SsHTTPHeaders *headers, guint n)
{
  g_return_val_if_fail (headers != NULL && n < headers->fields->len, NULL);
  return headers->text->str + field_at (headers, n)->name;
}

const char *
ss_http_headers_nth_value (const SsHTTPHeaders *headers, guint n)
{
  g_return_val_if_fail (headers != NULL && n < headers->fields->len, NULL);
  return headers->text->str + field_at (headers, n)->value;
}

/* ------------------------------------------------------------ parsing */

typedef struct {
  const char *start;
  gsize len;      /* without the line end */
  gsize full;     /* with it */
} Line;

/* The next line of [*p, end) cut at CRLF, LF or CR (the email parser's
 * NLCRE_crack); FALSE when nothing is left. */
static gboolean
next_line (const char **p, const char *end, Line *line)
{
  const char *s = *p;
  const char *e = s;

  if (s >= end)
    return FALSE;
  while (e < end && *e != '\r' && *e != '\n')
    e++;
  line->start = s;
  line->len = (gsize) (e - s);
  if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
    e += 2;
  else if (e < end)
    e++;
  line->full = (gsize) (e - s);
  *p = e;
  return TRUE;
}

/* headerRE: ^(From |[\041-\071\073-\176]*:|[\t ]) */
static gboolean
is_header_line (const Line *line)
{
  if (line->len >= 5 && memcmp (line->start, "From ", 5) == 0)
    return TRUE;
  if (line->len > 0 && (line->start[0] == ' ' || line->start[0] == '\t'))
    return TRUE;
  for (gsize i = 0; i < line->len; i++)
    {
      guchar c = (guchar) line->start[i];

      if (c == ':')
        return TRUE;
      if (c < 0x21 || c > 0x7e)
        return FALSE;
    }
  return FALSE;
}

/* The field being collected: its first line and how far its
 * continuation lines reach (they are contiguous in the input). */
typedef struct {
  const char *first;
  gsize name_len;
  const char *end;   /* past the last line of the field, line end included */
} Pending;

/* compat32's header_source_parse: the value is the first line after the
 * colon without leading spaces and tabs, plus the continuation lines as
 * they are, without the CRs and LFs at the end. */
static void
flush_pending (SsHTTPHeaders *headers, Pending *pending)
{
  const char *value;
  const char *end = pending->end;

  if (pending->first == NULL)
    return;
  value = pending->first + pending->name_len + 1;
  while (value < end && (*value == ' ' || *value == '\t'))
    value++;
  while (end > value && (end[-1] == '\r' || end[-1] == '\n'))
    end--;
  add_field (headers, pending->first, pending->name_len, value, (gsize) (end - value), TRUE);
  pending->first = NULL;
}

void
ss_http_headers_parse_bytes (SsHTTPHeaders *headers, const char *data, gsize len)
{
  const char *p = data;
  const char *end = data + len;
  Pending pending = { NULL, 0, NULL };
  Line line;

  g_return_if_fail (headers != NULL);
  g_return_if_fail (data != NULL || len == 0);

  while (next_line (&p, end, &line))
    {
      if (!is_header_line (&line))
        break; /* the empty line, or the start of a body */
      if (line.start[0] == ' ' || line.start[0] == '\t')
        {
          if (pending.first != NULL)
            pending.end = line.start + line.full;
          continue;
        }
      flush_pending (headers, &pending);
      if (line.len >= 5 && memcmp (line.start, "From ", 5) == 0)
        {
          /* An envelope line (unix-from) where it is first, one pushed
           * back to the body where it is last, a defect elsewhere: never a
           * field. */
          continue;
        }
      if (line.start[0] == ':')
        continue; /* "Missing header name." */
      pending.first = line.start;
      pending.name_len = (gsize) ((const char *) memchr (line.start, ':', line.len) - line.start);
      pending.end = line.start + line.full;
    }
  flush_pending (headers, &pending);
}

void
ss__http_headers_reset (SsHTTPHeaders *headers)
{
  g_string_truncate (headers->text, 0);
  g_array_set_size (headers->fields, 0);
}

gboolean
ss__http_parse_headers_into (SsHTTPHeaders *headers, GString *block, SsRFile *rfile, GError **error)
{
  guint lines = 0;

  ss__http_headers_reset (headers);
  g_string_truncate (block, 0);
  /* Python's _read_headers. */
  for (;;)
    {
      gsize start = block->len;
      gssize got = ss_rfile_readline (rfile, block, SS_HTTP_MAXLINE + 1, error);
      gsize line_len;

      if (got < 0)
        return FALSE;
      line_len = block->len - start;
      if (line_len > SS_HTTP_MAXLINE)
        {
          g_set_error (error, SS_HTTP_ERROR, SS_HTTP_ERROR_LINE_TOO_LONG,
                       "got more than %d bytes when reading header line", SS_HTTP_MAXLINE);
          return FALSE;
        }
      if (++lines > SS_HTTP_MAXHEADERS)
        {
          g_set_error (error, SS_HTTP_ERROR, SS_HTTP_ERROR_TOO_MANY_HEADERS,
                       "got more than %d headers", SS_HTTP_MAXHEADERS);
          return FALSE;
        }
      if (line_len == 0 || (line_len == 1 && block->str[start] == '\n')
          || (line_len == 2 && block->str[start] == '\r' && block->str[start + 1] == '\n'))
        break;
    }

  ss_http_headers_parse_bytes (headers, block->str, block->len);
  return TRUE;
}

SsHTTPHeaders *
ss_http_parse_headers (SsRFile *rfile, GError **error)
{
  g_autoptr (GString) block = g_string_sized_new (512);
  SsHTTPHeaders *headers;

  g_return_val_if_fail (rfile != NULL, NULL);

  headers = ss_http_headers_new ();
  if (!ss__http_parse_headers_into (headers, block, rfile, error))
    {
      ss_http_headers_free (headers);
      return NULL;
    }
  return headers;
}
