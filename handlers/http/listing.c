/* listing.c: SimpleHTTPRequestHandler.list_directory, byte for byte.
 *
 *     list = os.listdir(path)                     # OSError: 404 "No permission
 *     list.sort(key=lambda a: a.lower())          #   to list directory"
 *     displaypath = html.escape(unquote(self.path, errors='surrogatepass'))
 *     ... '<li><a href="%s">%s</a></li>' % (quote(linkname, errors='surrogatepass'),
 *                                          html.escape(displayname, quote=False))
 *     encoded = '\n'.join(r).encode('utf-8', 'surrogateescape')
 *
 * Names are bytes here and str there, decoded with UTF-8 and
 * surrogateescape: a byte that is not part of valid UTF-8 is U+DC00 plus
 * the byte. That decides three things, each done as Python does it:
 * - the order: str.lower() of each name, compared code point by code
 *   point (so undecodable bytes sort between U+D7FF and U+E000), ties in
 *   the order the directory gave them (list.sort is stable);
 * - the link: quote() encodes the str with surrogatepass, so such a byte
 *   becomes the three bytes of its surrogate, %ED%B3%BF for 0xFF, which
 *   translate_path decodes back to the same byte;
 * - the text: the name's own bytes, HTML-escaped (& < > only).
 * A directory (followed through symbolic links) gets a "/" on both, a
 * symbolic link an "@" on its text.
 */
#include "http-private.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *name;
  GArray *key;  /* gunichar: name.lower() */
} Entry;

/* Python's "cased" and "case-ignorable", as Final_Sigma needs them. */
static gboolean
is_cased (gunichar c)
{
  GUnicodeType t = g_unichar_type (c);

  return t == G_UNICODE_UPPERCASE_LETTER || t == G_UNICODE_LOWERCASE_LETTER
         || t == G_UNICODE_TITLECASE_LETTER;
}

static gboolean
is_case_ignorable (gunichar c)
{
  GUnicodeType t = g_unichar_type (c);

  return t == G_UNICODE_NON_SPACING_MARK || t == G_UNICODE_ENCLOSING_MARK
         || t == G_UNICODE_FORMAT || t == G_UNICODE_MODIFIER_LETTER
         || t == G_UNICODE_MODIFIER_SYMBOL || c == '\'' || c == '.' || c == ':' || c == 0xb7
         || c == 0x2018 || c == 0x2019 || c == 0x2024 || c == 0x2027;
}

/* The code points of @name decoded with UTF-8 and surrogateescape. */
static GArray *
decode_name (const char *name)
{
  GArray *cps = g_array_new (FALSE, FALSE, sizeof (gunichar));
  const char *end = name + strlen (name);

  for (const char *p = name; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      /* GLib accepts what Python's strict decoder does, except that it
       * takes encoded surrogates, which Python escapes byte by byte. */
      if (c == (gunichar) -1 || c == (gunichar) -2 || (c >= 0xd800 && c <= 0xdfff))
        {
          gunichar escaped = 0xdc00 + (guchar) *p++;

          g_array_append_val (cps, escaped);
          continue;
        }
      g_array_append_val (cps, c);
      p = g_utf8_next_char (p);
    }
  return cps;
}

/* str.lower(): the simple mapping, plus the two cases Python's full
 * mapping adds for lower-casing: U+0130 -> "i\u0307" and a capital sigma
 * that ends a word -> final sigma. */
static GArray *
lower_key (const char *name)
{
  g_autoptr (GArray) cps = decode_name (name);
  GArray *key = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), cps->len);

  for (guint i = 0; i < cps->len; i++)
    {
      gunichar c = g_array_index (cps, gunichar, i);
      gunichar lc;

      if (c == 0x130)
        {
          static const gunichar dotted[2] = { 'i', 0x307 };

          g_array_append_vals (key, dotted, 2);
          continue;
        }
      if (c == 0x3a3)
        {
          gboolean before = FALSE, after = FALSE;

          for (guint j = i; j-- > 0;)
            if (!is_case_ignorable (g_array_index (cps, gunichar, j)))
              {
                before = is_cased (g_array_index (cps, gunichar, j));
                break;
              }
          for (guint j = i + 1; j < cps->len; j++)
            if (!is_case_ignorable (g_array_index (cps, gunichar, j)))
              {
                after = is_cased (g_array_index (cps, gunichar, j));
                break;
              }
          lc = before && !after ? 0x3c2 : 0x3c3;
        }
      else
        lc = (c >= 0xd800 && c <= 0xdfff) ? c : g_unichar_tolower (c);
      g_array_append_val (key, lc);
    }
  return key;
}

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  const GArray *ka = ((const Entry *) a)->key;
  const GArray *kb = ((const Entry *) b)->key;
  guint n = MIN (ka->len, kb->len);

  for (guint i = 0; i < n; i++)
    {
      gunichar ca = g_array_index (ka, gunichar, i);
      gunichar cb = g_array_index (kb, gunichar, i);

      if (ca != cb)
        return ca < cb ? -1 : 1;
    }
  return ka->len < kb->len ? -1 : ka->len > kb->len ? 1 : 0;
}

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_array_unref (e->key);
}

/* os.listdir(path), sorted by name.lower(); NULL when it cannot be read. */
static GArray *
sorted_names (const char *path)
{
  DIR *dir = opendir (path);
  GArray *entries;
  struct dirent *d;

  if (dir == NULL)
    return NULL;
  entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (entries, entry_clear);
  while ((d = readdir (dir)) != NULL)
    {
      Entry e;

      if (strcmp (d->d_name, ".") == 0 || strcmp (d->d_name, "..") == 0)
        continue;
      e.name = g_strdup (d->d_name);
      e.key = lower_key (e.name);
      g_array_append_val (entries, e);
    }
  closedir (dir);
  g_array_sort (entries, compare_entries); /* stable, as list.sort */
  return entries;
}

GBytes *
ss__listing_render (const char *path, const char *url_path)
{
  g_autoptr (GArray) entries = sorted_names (path);
  g_autoptr (GString) display = g_string_new (NULL);
  g_autoptr (GString) title = g_string_new ("Directory listing for ");
  GString *r;

  if (entries == NULL)
    return NULL;
  /* (Python would fail to encode a lone surrogate here: U+FFFD instead.) */
  ss__url_unquote_fs (display, url_path, strlen (url_path), "\357\277\275", 3);
  ss__html_escape (title, display->str, display->len);

  r = g_string_sized_new (512 + entries->len * 64);
  g_string_append (r, "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  g_string_append_printf (r, "<title>%s</title>\n</head>\n<body>\n<h1>%s</h1>\n<hr>\n<ul>\n",
                          title->str, title->str);
  for (guint i = 0; i < entries->len; i++)
    {
      const char *name = g_array_index (entries, Entry, i).name;
      g_autofree char *fullname = g_build_filename (path, name, NULL);
      g_autoptr (GString) link = g_string_new (name);
      g_autoptr (GString) shown = g_string_new (name);
      struct stat st;

      if (stat (fullname, &st) == 0 && S_ISDIR (st.st_mode))
        {
          g_string_append_c (link, '/');
          g_string_append_c (shown, '/');
        }
      if (lstat (fullname, &st) == 0 && S_ISLNK (st.st_mode))
        {
          g_string_assign (shown, name);
          g_string_append_c (shown, '@');
        }
      g_string_append (r, "<li><a href=\"");
      ss__url_quote_fs_name (r, link->str, link->len);
      g_string_append (r, "\">");
      ss__html_escape (r, shown->str, shown->len);
      g_string_append (r, "</a></li>\n");
    }
  g_string_append (r, "</ul>\n<hr>\n</body>\n</html>\n");
  return g_string_free_to_bytes (r);
}

gboolean
ss__simple_list_directory (SsBaseHTTPRequestHandler *self, const char *path, SsHTTPFile **file,
                           GError **error)
{
  g_autoptr (GBytes) body = ss__listing_render (path, self->path != NULL ? self->path : "/");

  *file = NULL;
  if (body == NULL)
    return ss_http_send_error (self, 404, "No permission to list directory", NULL, error);
  ss_http_send_response (self, 200, NULL);
  ss_http_send_header (self, "Content-type", "text/html; charset=utf-8");
  ss_http_send_header_printf (self, "Content-Length", "%" G_GSIZE_FORMAT, g_bytes_get_size (body));
  if (!ss_http_end_headers (self, error))
    return FALSE;
  *file = ss_http_file_new_bytes (body);
  return TRUE;
}

gboolean
ss_http_list_directory (SsBaseHTTPRequestHandler *self, const char *path, SsHTTPFile **file,
                        GError **error)
{
  return SS__HTTP_VT (self)->list_directory (self, path, file, error);
}
