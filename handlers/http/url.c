/* url.c: the parts of urllib.parse, posixpath and the file system
 * encoding that SimpleHTTPRequestHandler's paths go through.
 *
 * translate_path is
 *
 *     path = path.split('?',1)[0].split('#',1)[0]
 *     trailing_slash = path.rstrip().endswith('/')
 *     path = unquote(path, errors='surrogatepass')   # or errors='replace'
 *     path = posixpath.normpath(path)                # if that fails
 *     for word in filter(None, path.split('/')):
 *         if word in ('.', '..'): continue           # (dirname(word) is '')
 *         path = os.path.join(path, word)            # from self.directory
 *
 * and open() then encodes the str with UTF-8 and surrogateescape. That is
 * done here on bytes, in one pass per step:
 *
 * - unquote percent-decodes only the ASCII runs of the str and decodes
 *   their bytes as UTF-8 -- 'surrogatepass' first (an encoded surrogate
 *   such as %ED%B3%BF decodes to U+DCFF, which the file system encoding
 *   turns back into the byte 0xFF: how a listing's link to an undecodable
 *   name finds the file again); when that fails anywhere, the whole path
 *   again with 'replace', where each maximal invalid subpart becomes
 *   U+FFFD as CPython's decoder makes it. Characters that were not ASCII in
 *   the str (the request's bytes 0x80..0xFF, read as Latin-1) stay what
 *   they are, so a raw byte 0xE9 names the file "é" in UTF-8, as in Python.
 * - a surrogate the file system encoding cannot hold (U+D800..U+DC7F,
 *   U+DD00..U+DFFF) or a NUL makes the path unusable: Python would raise
 *   in open() (a traceback, the connection dropped); here it is a 404.
 *
 * Whatever the input, the result is the directory plus plain names: no
 * component is "." or "..", none contains "/", so it cannot leave the
 * directory except through a symbolic link inside it (which Python follows
 * too).
 */
#include "http-private.h"

#include <string.h>

/* ------------------------------------------------------------ UTF-8, CPython's way */

/* The length of the valid UTF-8 sequence at @s, or 0 with *@bad set to
 * the length of the maximal invalid subpart (CPython's error range).
 * @surrogates: accept encoded surrogates (surrogatepass). */
static gsize
utf8_sequence (const guint8 *s, gsize len, gboolean surrogates, gunichar *out, gsize *bad)
{
  guint8 c = s[0];
  guint8 lo = 0x80, hi = 0xbf;
  gsize need, i;
  gunichar cp;

  if (c < 0x80)
    {
      *out = c;
      return 1;
    }
  if (c >= 0xc2 && c <= 0xdf)
    need = 1, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    {
      need = 2, cp = c & 0x0f;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed && !surrogates)
        hi = 0x9f;
    }
  else if (c >= 0xf0 && c <= 0xf4)
    {
      need = 3, cp = c & 0x07;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    }
  else
    {
      *bad = 1;
      return 0;
    }
  for (i = 1; i <= need; i++)
    {
      if (i >= len || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
        {
          *bad = i;
          return 0;
        }
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  *out = cp;
  return need + 1;
}

/* What to append for a character the file system encoding cannot hold. */
typedef struct {
  const char *bytes;
  gsize len;
} Unencodable;

/* Appends @c as the file system encoding (UTF-8, surrogateescape) does. */
static void
append_fs_char (GString *out, gunichar c, const Unencodable *bad)
{
  if (c >= 0xdc80 && c <= 0xdcff)
    g_string_append_c (out, (char) (c - 0xdc00));
  else if (c >= 0xd800 && c <= 0xdfff)
    g_string_append_len (out, bad->bytes, (gssize) bad->len);
  else
    g_string_append_unichar (out, c);
}

/* Decodes @len bytes as UTF-8 onto @out in the file system encoding:
 * surrogatepass (FALSE at the first invalid byte, with @out as it was)
 * or replace. */
static gboolean
decode_utf8 (GString *out, const guint8 *s, gsize len, gboolean replace, const Unencodable *unencodable)
{
  gsize start = out->len;
  gsize i = 0;

  while (i < len)
    {
      gunichar c;
      gsize bad = 0;
      gsize n = utf8_sequence (s + i, len - i, !replace, &c, &bad);

      if (n == 0)
        {
          if (!replace)
            {
              g_string_truncate (out, start);
              return FALSE;
            }
          g_string_append (out, "\357\277\275");
          i += bad;
          continue;
        }
      append_fs_char (out, c, unencodable);
      i += n;
    }
  return TRUE;
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* One pass of unquote: FALSE when surrogatepass failed. */
static gboolean
unquote_pass (GString *out, const char *s, gsize len, gboolean replace, const Unencodable *bad)
{
  g_autoptr (GByteArray) run = g_byte_array_new ();
  gsize i = 0;

  while (i < len)
    {
      if ((guchar) s[i] >= 0x80)
        {
          /* Not ASCII in the str: kept, and already in UTF-8. */
          g_string_append_c (out, s[i++]);
          continue;
        }
      g_byte_array_set_size (run, 0);
      while (i < len && (guchar) s[i] < 0x80)
        {
          guint8 byte = (guint8) s[i];

          if (s[i] == '%' && i + 2 < len && hex_value (s[i + 1]) >= 0 && hex_value (s[i + 2]) >= 0)
            {
              byte = (guint8) (hex_value (s[i + 1]) * 16 + hex_value (s[i + 2]));
              i += 3;
            }
          else
            i++;
          g_byte_array_append (run, &byte, 1);
        }
      if (!decode_utf8 (out, run->data, run->len, replace, bad))
        return FALSE;
    }
  return TRUE;
}

void
ss__url_unquote_fs (GString *out, const char *s, gsize len, const char *unencodable,
                    gsize unencodable_len)
{
  const Unencodable bad = { unencodable, unencodable_len };
  gsize start = out->len;

  if (memchr (s, '%', len) == NULL)
    {
      g_string_append_len (out, s, (gssize) len);
      return;
    }
  if (!unquote_pass (out, s, len, FALSE, &bad))
    {
      g_string_truncate (out, start);
      unquote_pass (out, s, len, TRUE, &bad);
    }
}

/* ------------------------------------------------------------ translate_path */

static gboolean
ends_with_slash_after_rstrip (const char *s, gsize len)
{
  const char *last = NULL;

  /* path.rstrip().endswith('/'): the last character that is not
   * whitespace. */
  for (const char *p = s; p < s + len; p = g_utf8_next_char (p))
    {
      gunichar c = (guchar) *p < 0x80 ? (gunichar) *p : g_utf8_get_char_validated (p, s + len - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          last = p;
          break;
        }
      if (!ss__py_isspace (c))
        last = p;
    }
  return last != NULL && *last == '/';
}

char *
ss_http_translate_path_in (const char *directory, const char *path)
{
  gsize len = strcspn (path, "?");
  gsize dir_len = strlen (directory);
  gsize stack_starts[64];
  gsize *starts = stack_starts;   /* where each kept word's separator begins */
  gsize n_words = 0, max_words = G_N_ELEMENTS (stack_starts);
  gboolean trailing_slash;
  gboolean usable = TRUE;
  GString *result;
  gsize r, w, end;

  g_return_val_if_fail (directory != NULL && path != NULL, NULL);

  len = MIN (len, strcspn (path, "#"));
  trailing_slash = ends_with_slash_after_rstrip (path, len);
  /* The decoded path goes right behind the directory and is normalised in
   * place (words only move left): one allocation for the whole result. A
   * character open() could not encode becomes a NUL, which no name holds:
   * checked on the words that survive normpath, as Python's open() would
   * meet only those. */
  result = g_string_sized_new (dir_len + len + 3);
  g_string_append_len (result, directory, (gssize) dir_len);
  g_string_append_c (result, '/');
  ss__url_unquote_fs (result, path, len, "", 1);

  /* posixpath.normpath, then the loop: '..' pops what came before and is
   * dropped at the top; '.' and empty components vanish; each word is
   * os.path.join'ed onto the directory. */
  end = result->len;
  w = dir_len;
  for (r = dir_len + 1; r <= end;)
    {
      const char *word = result->str + r;
      const char *slash = memchr (word, '/', end - r);
      gsize wlen = (gsize) ((slash != NULL ? slash : result->str + end) - word);

      if (wlen == 2 && word[0] == '.' && word[1] == '.')
        {
          if (n_words > 0)
            w = starts[--n_words];
        }
      else if (wlen > 0 && !(wlen == 1 && word[0] == '.'))
        {
          gboolean sep = w > 0 && result->str[w - 1] != '/';

          if (n_words == max_words)
            {
              gsize *more = g_new (gsize, max_words * 2);

              memcpy (more, starts, max_words * sizeof *starts);
              if (starts != stack_starts)
                g_free (starts);
              starts = more;
              max_words *= 2;
            }
          starts[n_words++] = w;
          /* (Nothing still to be read is overwritten: every word is
           * read from behind a slash at or after w.) */
          if (sep)
            result->str[w++] = '/';
          memmove (result->str + w, word, wlen);
          w += wlen;
        }
      r += wlen + 1;
    }
  for (gsize i = 0; i < n_words; i++)
    {
      gsize from = starts[i], to = i + 1 < n_words ? starts[i + 1] : w;

      if (memchr (result->str + from, '\0', to - from) != NULL)
        usable = FALSE; /* Python: ValueError or UnicodeEncodeError in open() */
    }
  if (starts != stack_starts)
    g_free (starts);
  if (!usable)
    {
      g_string_free (result, TRUE);
      return NULL;
    }
  g_string_truncate (result, w);
  if (trailing_slash)
    g_string_append_c (result, '/');
  return g_string_free (result, FALSE);
}

/* ------------------------------------------------------------ quote, for the listing */

void
ss__url_quote_fs_name (GString *out, const char *name, gsize len)
{
  static const char hex[] = "0123456789ABCDEF";
  const guint8 *s = (const guint8 *) name;
  gsize i = 0;

  /* The name decoded with surrogateescape, encoded with surrogatepass:
   * valid UTF-8 stays, an undecodable byte b becomes the three bytes of
   * U+DC00+b; then every byte outside A-Z a-z 0-9 _.-~/ is %XX. */
  while (i < len)
    {
      guint8 bytes[4];
      gunichar c;
      gsize bad = 0;
      gsize n = utf8_sequence (s + i, len - i, FALSE, &c, &bad);
      gsize nb;

      if (n == 0)
        {
          gunichar sur = 0xdc00 + s[i];

          bytes[0] = (guint8) (0xe0 | (sur >> 12));
          bytes[1] = (guint8) (0x80 | ((sur >> 6) & 0x3f));
          bytes[2] = (guint8) (0x80 | (sur & 0x3f));
          nb = 3;
          n = 1;
        }
      else
        {
          memcpy (bytes, s + i, n);
          nb = n;
        }
      for (gsize k = 0; k < nb; k++)
        {
          guint8 b = bytes[k];

          if (g_ascii_isalnum (b) || strchr ("_.-~/", b) != NULL)
            g_string_append_c (out, (char) b);
          else
            {
              g_string_append_c (out, '%');
              g_string_append_c (out, hex[b >> 4]);
              g_string_append_c (out, hex[b & 0xf]);
            }
        }
      i += n;
    }
}

/* ------------------------------------------------------------ urlsplit, urlunsplit */

static const char *const uses_netloc[] = {
  "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
  "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
  "git+ssh", "ws", "wss",
};

char *
ss__url_directory_redirect (const char *url)
{
  g_autofree char *scheme = NULL;
  g_autofree char *netloc = NULL;
  GString *rest = g_string_new (NULL);
  const char *query = NULL, *fragment = NULL;
  gsize colon;
  GString *out;
  gboolean netloc_scheme = FALSE;

  /* urlsplit: strip leading C0 controls and spaces; drop tab, CR, LF. */
  while (*url != '\0' && (guchar) *url <= 0x20)
    url++;
  for (const char *p = url; *p != '\0'; p++)
    if (*p != '\t' && *p != '\r' && *p != '\n')
      g_string_append_c (rest, *p);
  colon = strcspn (rest->str, ":");
  if (rest->str[colon] == ':' && colon > 0 && g_ascii_isalpha (rest->str[0])
      && strspn (rest->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") >= colon)
    {
      scheme = g_ascii_strdown (rest->str, (gssize) colon);
      g_string_erase (rest, 0, (gssize) colon + 1);
    }
  if (g_str_has_prefix (rest->str, "//"))
    {
      gsize end = 2 + strcspn (rest->str + 2, "/?#");

      netloc = g_strndup (rest->str + 2, end - 2);
      g_string_erase (rest, 0, (gssize) end);
    }
  if ((fragment = strchr (rest->str, '#')) != NULL)
    *(char *) fragment++ = '\0';
  if ((query = strchr (rest->str, '?')) != NULL)
    *(char *) query++ = '\0';

  if (g_str_has_suffix (rest->str, "/"))
    {
      g_string_free (rest, TRUE);
      return NULL;
    }

  /* urlunsplit((scheme, netloc, path + '/', query, fragment)) */
  out = g_string_new (NULL);
  g_string_append (out, rest->str);
  g_string_append_c (out, '/');
  for (gsize i = 0; scheme != NULL && i < G_N_ELEMENTS (uses_netloc); i++)
    netloc_scheme |= scheme[0] != '\0' && strcmp (scheme, uses_netloc[i]) == 0;
  if ((netloc != NULL && netloc[0] != '\0') || (netloc_scheme && !g_str_has_prefix (out->str, "//")))
    {
      if (out->len > 0 && out->str[0] != '/')
        g_string_prepend_c (out, '/');
      g_string_prepend (out, netloc != NULL ? netloc : "");
      g_string_prepend (out, "//");
    }
  if (scheme != NULL && scheme[0] != '\0')
    {
      g_string_prepend_c (out, ':');
      g_string_prepend (out, scheme);
    }
  if (query != NULL && *query != '\0')
    g_string_append_printf (out, "?%s", query);
  if (fragment != NULL && *fragment != '\0')
    g_string_append_printf (out, "#%s", fragment);
  g_string_free (rest, TRUE);
  return g_string_free (out, FALSE);
}
