/* pystr.c: the few operations of Python's str that http.server's output
 * depends on, done on bytes.
 *
 * http.server decodes the request as Latin-1, so every byte is one
 * character and str.split(), repr() and the log's escaping see code
 * points 0..255. These functions take those bytes, give the UTF-8 that
 * Python's str would hold (http-private.h), and encode it back to
 * Latin-1 for the status and header lines, so the bytes on the wire, in
 * error pages and in the log are Python's.
 */
#include "http-private.h"

#include <string.h>

/* Python 3.11's str.isspace(): the complete list (bidirectional classes
 * WS, B, S and category Zs). */
gboolean
ss__py_isspace (gunichar c)
{
  switch (c)
    {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
    case 0x1c: case 0x1d: case 0x1e: case 0x1f: case 0x20:
    case 0x85: case 0xa0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
      return TRUE;
    default:
      return c >= 0x2000 && c <= 0x200a;
    }
}

void
ss__latin1_to_utf8 (GString *out, const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) s[i];

      if (c < 0x80)
        g_string_append_c (out, (char) c);
      else
        {
          g_string_append_c (out, (char) (0xc0 | (c >> 6)));
          g_string_append_c (out, (char) (0x80 | (c & 0x3f)));
        }
    }
}

void
ss__utf8_to_latin1 (GString *out, const char *s, gsize len)
{
  gsize start = out->len;
  const char *end = s + len;
  const char *p;

  /* The common case, ASCII, is the same in both. */
  for (p = s; p < end && (guchar) *p < 0x80; p++)
    ;
  if (p == end)
    {
      g_string_append_len (out, s, (gssize) len);
      return;
    }
  if (!g_utf8_validate (s, (gssize) len, NULL))
    goto unchanged;
  for (p = s; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c > 0xff)
        goto unchanged;
      g_string_append_c (out, (char) c);
    }
  return;

unchanged:
  g_string_truncate (out, start);
  g_string_append_len (out, s, (gssize) len);
}

/* Python's Py_UNICODE_ISPRINTABLE for Latin-1: everything but the C0 and
 * C1 controls, DEL, NO-BREAK SPACE (Zs other than space) and SOFT HYPHEN
 * (Cf). */
static gboolean
latin1_isprintable (guchar c)
{
  return (c >= 0x20 && c < 0x7f) || (c > 0xa0 && c != 0xad);
}

void
ss__py_repr_latin1 (GString *out, const char *s, gsize len)
{
  gboolean has_single = memchr (s, '\'', len) != NULL;
  gboolean has_double = memchr (s, '"', len) != NULL;
  char quote = has_single && !has_double ? '"' : '\'';

  g_string_append_c (out, quote);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) s[i];

      if (c == (guchar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (!latin1_isprintable (c))
        g_string_append_printf (out, "\\x%02x", c);
      else
        ss__latin1_to_utf8 (out, (const char *) &s[i], 1);
    }
  g_string_append_c (out, quote);
}

void
ss__html_escape (GString *out, const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      switch (s[i])
        {
        case '&':
          g_string_append (out, "&amp;");
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>':
          g_string_append (out, "&gt;");
          break;
        default:
          g_string_append_c (out, s[i]);
        }
    }
}

void
ss__py_repr (GString *out, const char *s)
{
  gsize len = strlen (s);
  g_autoptr (GString) latin1 = NULL;

  if (!g_utf8_validate (s, (gssize) len, NULL))
    {
      ss__py_repr_latin1 (out, s, len);
      return;
    }
  latin1 = g_string_sized_new (len);
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c > 0xff)
        {
          /* Beyond Latin-1 (never so from the wire): repr keeps what
           * prints and escapes the rest; the quote is always '. */
          g_string_append_c (out, '\'');
          for (p = s; *p != '\0'; p = g_utf8_next_char (p))
            {
              c = g_utf8_get_char (p);
              if (c > 0xff && g_unichar_isprint (c))
                g_string_append_unichar (out, c);
              else if (c > 0xff)
                g_string_append_printf (out, c <= 0xffff ? "\\u%04x" : "\\U%08x", c);
              else if (c == '\'')
                g_string_append (out, "\\'");
              else
                {
                  g_autoptr (GString) one = g_string_new (NULL);
                  char byte = (char) c;

                  ss__py_repr_latin1 (one, &byte, 1);
                  g_string_append_len (out, one->str + 1, (gssize) one->len - 2);
                }
            }
          g_string_append_c (out, '\'');
          return;
        }
      g_string_append_c (latin1, (char) c);
    }
  ss__py_repr_latin1 (out, latin1->str, latin1->len);
}
