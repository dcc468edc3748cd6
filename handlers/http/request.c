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

static char *
word_utf8 (const Word *w)
{
  GString *s = g_string_sized_new (w->len);

  ss__latin1_to_utf8 (s, w->start, w->len);
  return g_string_free (s, FALSE);
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
set_error (SsRequestLine *out, int code, const char *what, const char *s, gsize len, gboolean repr)
{
  GString *message = g_string_new (what);

  g_string_append_c (message, '(');
  if (repr)
    ss__py_repr_latin1 (message, s, len);
  else
    ss__latin1_to_utf8 (message, s, len);
  g_string_append_c (message, ')');
  out->status = SS__REQUEST_LINE_ERROR;
  out->error_code = code;
  out->error_message = g_string_free (message, FALSE);
}

void
ss__request_line_parse (SsRequestLine *out, const char *raw, gsize len, const char *protocol_version)
{
  Word first = { 0 }, second = { 0 }, last = { 0 };
  GString *requestline;
  gsize n = len;
  guint count;

  memset (out, 0, sizeof *out);
  out->close_connection = TRUE;
  while (n > 0 && (raw[n - 1] == '\r' || raw[n - 1] == '\n'))
    n--;
  requestline = g_string_sized_new (n);
  ss__latin1_to_utf8 (requestline, raw, n);
  out->requestline = g_string_free (requestline, FALSE);

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
          set_error (out, 400, "Bad request version ", last.start, last.len, TRUE);
          return;
        }
      if ((major > 1 || (major == 1 && minor >= 1)) && strcmp (protocol_version, "HTTP/1.1") >= 0)
        out->close_connection = FALSE;
      if (major >= 2)
        {
          set_error (out, 505, "Invalid HTTP version ", last.start + 5, last.len - 5, FALSE);
          return;
        }
      out->version = word_utf8 (&last);
    }

  if (count > 3 || count < 2 || memchr (raw, '\0', n) != NULL)
    {
      set_error (out, 400, "Bad request syntax ", raw, n, TRUE);
      return;
    }
  if (count == 2)
    {
      out->close_connection = TRUE;
      if (first.len != 3 || memcmp (first.start, "GET", 3) != 0)
        {
          set_error (out, 400, "Bad HTTP/0.9 request type ", first.start, first.len, TRUE);
          return;
        }
    }

  out->command = word_utf8 (&first);
  if (second.len >= 2 && second.start[0] == '/' && second.start[1] == '/')
    {
      /* self.path = '/' + self.path.lstrip('/') */
      while (second.len > 1 && second.start[1] == '/')
        second.start++, second.len--;
    }
  out->path = word_utf8 (&second);
  out->status = SS__REQUEST_LINE_OK;
}

void
ss__request_line_clear (SsRequestLine *line)
{
  g_free (line->requestline);
  g_free (line->command);
  g_free (line->path);
  g_free (line->version);
  g_free (line->error_message);
  memset (line, 0, sizeof *line);
}
