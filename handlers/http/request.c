/* request.c: the request line, as Python's parse_request reads it.
 *
 *     requestline = str(self.raw_requestline, 'iso-8859-1').rstrip('\r\n')
 *     words = requestline.split()
 *     if len(words) == 0: return False                       # close, no answer
 *     if len(words) >= 3:                                    # a version to check
 *         'HTTP/' + two dot-separated runs of at most 10 digits, else 400
 *         "Bad request version (%r)"; (1, 1) or later with protocol_version
 *         >= "HTTP/1.1" keeps the connection; (2, 0) or later is 505
 *         "Invalid HTTP version (%s)"; then request_version = version
 *     if not 2 <= len(words) <= 3: 400 "Bad request syntax (%r)"
 *     two words are HTTP/0.9: only GET, else 400 "Bad HTTP/0.9 request type (%r)"
 *     a path starting with '//' is reduced to one '/' (gh-87389, CVE-2021-28861)
 *
 * kept in that order, because each error is answered with the
 * request_version known at that point (HTTP/0.9 answers have no status
 * line). str.split() splits on the whitespace of Latin-1, which includes
 * U+001C..U+001F, U+0085 and U+00A0 beside the ASCII ones. One deviation:
 * a NUL byte in the line, which C strings cannot carry, is answered as bad
 * syntax (Python would fail later, opening the path, with a traceback).
 */
#include "http-private.h"

#include <string.h>

typedef struct {
  const char *start;
  gsize len;
} Word;

/* Splits @line as str.split() does, keeping the first two words and the
 * last; returns how many there are. */
static guint
split_words (const char *line, gsize len, Word *first, Word *second, Word *last)
{
  guint n = 0;
  gsize i = 0;

  while (i < len)
    {
      gsize start;

      while (i < len && ss__py_isspace ((guchar) line[i]))
        i++;
      if (i == len)
        break;
      start = i;
      while (i < len && !ss__py_isspace ((guchar) line[i]))
        i++;
      *last = (Word) { line + start, i - start };
      if (n == 0)
        *first = *last;
      else if (n == 1)
        *second = *last;
      n++;
    }
  return n;
}

/* Offsets into the line's text of what parse found; (gsize) -1: none. */
typedef struct {
  gsize requestline, command, path, version, message;
} Offsets;

#define NONE ((gsize) -1)

/* Appends @len Latin-1 bytes as a NUL-terminated UTF-8 string to @text;
 * returns where it starts. */
static gsize
add_latin1 (GString *text, const char *s, gsize len)
{
  gsize at = text->len;

  ss__latin1_to_utf8 (text, s, len);
  g_string_append_c (text, '\0');
  return at;
}

/* One component of the version number: Python's isdigit() and at most 10
 * characters, then int(). Latin-1's superscript digits pass isdigit() and
 * fail int(), which raises the same ValueError, so ASCII digits it is. */
static gboolean
parse_component (const char *s, gsize len, guint64 *value)
{
  if (len == 0 || len > 10)
    return FALSE;
  *value = 0;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      *value = *value * 10 + (guint64) (s[i] - '0');
    }
  return TRUE;
}

/* 'HTTP/' + major '.' minor. */
static gboolean
parse_version (const Word *w, guint64 *major, guint64 *minor)
{
  const char *number;
  const char *dot;
  gsize number_len;

  if (w->len < 5 || memcmp (w->start, "HTTP/", 5) != 0)
    return FALSE;
  number = w->start + 5;
  number_len = w->len - 5;
  dot = memchr (number, '.', number_len);
  if (dot == NULL || memchr (dot + 1, '.', number_len - (gsize) (dot + 1 - number)) != NULL)
    return FALSE;
  return parse_component (number, (gsize) (dot - number), major)
      && parse_component (dot + 1, number_len - (gsize) (dot + 1 - number), minor);
}

static void
set_error (SsRequestLine *out, Offsets *at, int code, const char *what, const char *s, gsize len,
           gboolean repr)
{
  at->message = out->text->len;
  g_string_append (out->text, what);
  g_string_append_c (out->text, '(');
  if (repr)
    ss__py_repr_latin1 (out->text, s, len);
  else
    ss__latin1_to_utf8 (out->text, s, len);
  g_string_append (out->text, ")");
  g_string_append_c (out->text, '\0');
  out->status = SS__REQUEST_LINE_ERROR;
  out->error_code = code;
}

static const char *
at_or_null (const SsRequestLine *line, gsize offset)
{
  return offset == NONE ? NULL : line->text->str + offset;
}

static void
parse (SsRequestLine *out, Offsets *at, const char *raw, gsize len, const char *protocol_version)
{
  Word first = { 0 }, second = { 0 }, last = { 0 };
  gsize n = len;
  guint count;

  out->close_connection = TRUE;
  while (n > 0 && (raw[n - 1] == '\r' || raw[n - 1] == '\n'))
    n--;
  at->requestline = add_latin1 (out->text, raw, n);

  count = split_words (raw, n, &first, &second, &last);
  if (count == 0)
    {
      out->status = SS__REQUEST_LINE_EMPTY;
      return;
    }

  if (count >= 3)
    {
      guint64 major, minor;

      if (!parse_version (&last, &major, &minor))
        {
          set_error (out, at, 400, "Bad request version ", last.start, last.len, TRUE);
          return;
        }
      if ((major > 1 || (major == 1 && minor >= 1)) && strcmp (protocol_version, "HTTP/1.1") >= 0)
        out->close_connection = FALSE;
      if (major >= 2)
        {
          set_error (out, at, 505, "Invalid HTTP version ", last.start + 5, last.len - 5, FALSE);
          return;
        }
      at->version = add_latin1 (out->text, last.start, last.len);
    }

  if (count > 3 || count < 2 || memchr (raw, '\0', n) != NULL)
    {
      set_error (out, at, 400, "Bad request syntax ", raw, n, TRUE);
      return;
    }
  if (count == 2)
    {
      out->close_connection = TRUE;
      if (first.len != 3 || memcmp (first.start, "GET", 3) != 0)
        {
          set_error (out, at, 400, "Bad HTTP/0.9 request type ", first.start, first.len, TRUE);
          return;
        }
    }

  at->command = add_latin1 (out->text, first.start, first.len);
  if (second.len >= 2 && second.start[0] == '/' && second.start[1] == '/')
    {
      /* self.path = '/' + self.path.lstrip('/') */
      while (second.len > 1 && second.start[1] == '/')
        second.start++, second.len--;
    }
  at->path = add_latin1 (out->text, second.start, second.len);
  out->status = SS__REQUEST_LINE_OK;
}

void
ss__request_line_parse (SsRequestLine *out, const char *raw, gsize len, const char *protocol_version)
{
  Offsets at = { NONE, NONE, NONE, NONE, NONE };
  GString *text = out->text != NULL ? out->text : g_string_sized_new (256);

  memset (out, 0, sizeof *out);
  out->text = text;
  g_string_truncate (text, 0);
  parse (out, &at, raw, len, protocol_version);
  /* Only now: the text may have moved while it grew. */
  out->requestline = at_or_null (out, at.requestline);
  out->command = at_or_null (out, at.command);
  out->path = at_or_null (out, at.path);
  out->version = at_or_null (out, at.version);
  out->error_message = at_or_null (out, at.message);
}

void
ss__request_line_reset (SsRequestLine *line)
{
  GString *text = line->text;

  memset (line, 0, sizeof *line);
  line->text = text;
}

void
ss__request_line_clear (SsRequestLine *line)
{
  if (line->text != NULL)
    g_string_free (line->text, TRUE);
  memset (line, 0, sizeof *line);
}
