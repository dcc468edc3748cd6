/* mime.c: guess_type, Python's mimetypes and SimpleHTTPRequestHandler's.
 *
 * mimetypes.guess_type(path) (strict) splits off the extension, follows
 * suffix_map (.tgz -> .tar.gz), strips an encoding suffix (.gz, .Z, .bz2,
 * .xz, .br; case-sensitive) and looks the next extension up in types_map,
 * first as it is and then lower-cased. types_map starts as Python 3.11's
 * built-in table (copied below, generated from _types_map_default) and
 * the mime.types files Python reads (its knownfiles, /etc/mime.types
 * first) are read over it in order, a later entry replacing an earlier
 * one, once, the first time a type is guessed. SimpleHTTPRequestHandler
 * tries its own extensions_map before all that and falls back to
 * application/octet-stream.
 */
#include "http-private.h"

#include <string.h>

typedef struct {
  const char *ext;
  const char *type;
} Entry;

/* mimetypes._types_map_default, Python 3.11.7. */
static const Entry builtin_types[] = {
  { ".3g2", "audio/3gpp2" },
  { ".3gp", "audio/3gpp" },
  { ".3gpp", "audio/3gpp" },
  { ".3gpp2", "audio/3gpp2" },
  { ".a", "application/octet-stream" },
  { ".aac", "audio/aac" },
  { ".adts", "audio/aac" },
  { ".ai", "application/postscript" },
  { ".aif", "audio/x-aiff" },
  { ".aifc", "audio/x-aiff" },
  { ".aiff", "audio/x-aiff" },
  { ".ass", "audio/aac" },
  { ".au", "audio/basic" },
  { ".avi", "video/x-msvideo" },
  { ".avif", "image/avif" },
  { ".bat", "text/plain" },
  { ".bcpio", "application/x-bcpio" },
  { ".bin", "application/octet-stream" },
  { ".bmp", "image/bmp" },
  { ".c", "text/plain" },
  { ".cdf", "application/x-netcdf" },
  { ".cpio", "application/x-cpio" },
  { ".csh", "application/x-csh" },
  { ".css", "text/css" },
  { ".csv", "text/csv" },
  { ".dll", "application/octet-stream" },
  { ".doc", "application/msword" },
  { ".dot", "application/msword" },
  { ".dvi", "application/x-dvi" },
  { ".eml", "message/rfc822" },
  { ".eps", "application/postscript" },
  { ".etx", "text/x-setext" },
  { ".exe", "application/octet-stream" },
  { ".gif", "image/gif" },
  { ".gtar", "application/x-gtar" },
  { ".h", "text/plain" },
  { ".h5", "application/x-hdf5" },
  { ".hdf", "application/x-hdf" },
  { ".heic", "image/heic" },
  { ".heif", "image/heif" },
  { ".htm", "text/html" },
  { ".html", "text/html" },
  { ".ico", "image/vnd.microsoft.icon" },
  { ".ief", "image/ief" },
  { ".jpe", "image/jpeg" },
  { ".jpeg", "image/jpeg" },
  { ".jpg", "image/jpeg" },
  { ".js", "application/javascript" },
  { ".json", "application/json" },
  { ".ksh", "text/plain" },
  { ".latex", "application/x-latex" },
  { ".loas", "audio/aac" },
  { ".m1v", "video/mpeg" },
  { ".m3u", "application/vnd.apple.mpegurl" },
  { ".m3u8", "application/vnd.apple.mpegurl" },
  { ".man", "application/x-troff-man" },
  { ".me", "application/x-troff-me" },
  { ".mht", "message/rfc822" },
  { ".mhtml", "message/rfc822" },
  { ".mif", "application/x-mif" },
  { ".mjs", "application/javascript" },
  { ".mov", "video/quicktime" },
  { ".movie", "video/x-sgi-movie" },
  { ".mp2", "audio/mpeg" },
  { ".mp3", "audio/mpeg" },
  { ".mp4", "video/mp4" },
  { ".mpa", "video/mpeg" },
  { ".mpe", "video/mpeg" },
  { ".mpeg", "video/mpeg" },
  { ".mpg", "video/mpeg" },
  { ".ms", "application/x-troff-ms" },
  { ".n3", "text/n3" },
  { ".nc", "application/x-netcdf" },
  { ".nq", "application/n-quads" },
  { ".nt", "application/n-triples" },
  { ".nws", "message/rfc822" },
  { ".o", "application/octet-stream" },
  { ".obj", "application/octet-stream" },
  { ".oda", "application/oda" },
  { ".opus", "audio/opus" },
  { ".p12", "application/x-pkcs12" },
  { ".p7c", "application/pkcs7-mime" },
  { ".pbm", "image/x-portable-bitmap" },
  { ".pdf", "application/pdf" },
  { ".pfx", "application/x-pkcs12" },
  { ".pgm", "image/x-portable-graymap" },
  { ".pl", "text/plain" },
  { ".png", "image/png" },
  { ".pnm", "image/x-portable-anymap" },
  { ".pot", "application/vnd.ms-powerpoint" },
  { ".ppa", "application/vnd.ms-powerpoint" },
  { ".ppm", "image/x-portable-pixmap" },
  { ".pps", "application/vnd.ms-powerpoint" },
  { ".ppt", "application/vnd.ms-powerpoint" },
  { ".ps", "application/postscript" },
  { ".pwz", "application/vnd.ms-powerpoint" },
  { ".py", "text/x-python" },
  { ".pyc", "application/x-python-code" },
  { ".pyo", "application/x-python-code" },
  { ".qt", "video/quicktime" },
  { ".ra", "audio/x-pn-realaudio" },
  { ".ram", "application/x-pn-realaudio" },
  { ".ras", "image/x-cmu-raster" },
  { ".rdf", "application/xml" },
  { ".rgb", "image/x-rgb" },
  { ".roff", "application/x-troff" },
  { ".rtx", "text/richtext" },
  { ".sgm", "text/x-sgml" },
  { ".sgml", "text/x-sgml" },
  { ".sh", "application/x-sh" },
  { ".shar", "application/x-shar" },
  { ".snd", "audio/basic" },
  { ".so", "application/octet-stream" },
  { ".src", "application/x-wais-source" },
  { ".srt", "text/plain" },
  { ".sv4cpio", "application/x-sv4cpio" },
  { ".sv4crc", "application/x-sv4crc" },
  { ".svg", "image/svg+xml" },
  { ".swf", "application/x-shockwave-flash" },
  { ".t", "application/x-troff" },
  { ".tar", "application/x-tar" },
  { ".tcl", "application/x-tcl" },
  { ".tex", "application/x-tex" },
  { ".texi", "application/x-texinfo" },
  { ".texinfo", "application/x-texinfo" },
  { ".tif", "image/tiff" },
  { ".tiff", "image/tiff" },
  { ".tr", "application/x-troff" },
  { ".trig", "application/trig" },
  { ".tsv", "text/tab-separated-values" },
  { ".txt", "text/plain" },
  { ".ustar", "application/x-ustar" },
  { ".vcf", "text/x-vcard" },
  { ".vtt", "text/vtt" },
  { ".wasm", "application/wasm" },
  { ".wav", "audio/x-wav" },
  { ".webm", "video/webm" },
  { ".webmanifest", "application/manifest+json" },
  { ".wiz", "application/msword" },
  { ".wsdl", "application/xml" },
  { ".xbm", "image/x-xbitmap" },
  { ".xlb", "application/vnd.ms-excel" },
  { ".xls", "application/vnd.ms-excel" },
  { ".xml", "text/xml" },
  { ".xpdl", "application/xml" },
  { ".xpm", "image/x-xpixmap" },
  { ".xsl", "application/xml" },
  { ".xwd", "image/x-xwindowdump" },
  { ".zip", "application/zip" },
};

static const Entry suffix_map[] = {
  { ".svgz", ".svg.gz" }, { ".tgz", ".tar.gz" }, { ".taz", ".tar.gz" },
  { ".tz", ".tar.gz" }, { ".tbz2", ".tar.bz2" }, { ".txz", ".tar.xz" },
};

static const char *const encodings[] = { ".gz", ".Z", ".bz2", ".xz", ".br" };

/* mimetypes.knownfiles */
static const char *const knownfiles[] = {
  "/etc/mime.types",
  "/etc/httpd/mime.types",
  "/etc/httpd/conf/mime.types",
  "/etc/apache/mime.types",
  "/etc/apache2/mime.types",
  "/usr/local/etc/httpd/conf/mime.types",
  "/usr/local/lib/netscape/mime.types",
  "/usr/local/etc/httpd/conf/mime.types",
  "/usr/local/etc/mime.types",
};

const SsHTTPExtension ss__http_default_extensions_map[] = {
  { ".gz", "application/gzip" },
  { ".Z", "application/octet-stream" },
  { ".bz2", "application/x-bzip2" },
  { ".xz", "application/x-xz" },
  { NULL, NULL },
};

/* MimeTypes.readfp: each line is a type and its extensions, words split
 * on whitespace, '#' starting a comment word. */
static void
read_mime_types (GHashTable *types, const char *file)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR) || !g_file_get_contents (file, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) words = g_strsplit_set (*line, " \t\r\f\v", -1);
      const char *type = NULL;

      for (char **w = words; *w != NULL; w++)
        {
          if (**w == '\0')
            continue;
          if (**w == '#')
            break;
          if (type == NULL)
            type = *w;
          else
            g_hash_table_replace (types, g_strconcat (".", *w, NULL), g_strdup (type));
        }
    }
}

static GHashTable *
types_map (void)
{
  static GHashTable *types;

  if (g_once_init_enter (&types))
    {
      GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      for (gsize i = 0; i < G_N_ELEMENTS (builtin_types); i++)
        g_hash_table_replace (t, g_strdup (builtin_types[i].ext), g_strdup (builtin_types[i].type));
      for (gsize i = 0; i < G_N_ELEMENTS (knownfiles); i++)
        read_mime_types (t, knownfiles[i]);
      g_once_init_leave (&types, t);
    }
  return types;
}

/* posixpath.splitext: the offset where the extension of @path starts
 * (strlen when it has none); leading dots of the last component do not
 * start one. */
static gsize
splitext (const char *path)
{
  const char *sep = strrchr (path, '/');
  const char *dot = strrchr (path, '.');
  const char *name = sep != NULL ? sep + 1 : path;

  if (dot != NULL && dot > name)
    for (const char *p = name; p < dot; p++)
      if (*p != '.')
        return (gsize) (dot - path);
  return strlen (path);
}

static char *
lower (const char *s)
{
  return g_utf8_validate (s, -1, NULL) ? g_utf8_strdown (s, -1) : g_ascii_strdown (s, -1);
}

/* str.lower() of a short ASCII extension into @buf; NULL when it is long
 * or not ASCII (then lower() it is). */
static const char *
lower_short (const char *ext, char buf[32])
{
  gsize i;

  for (i = 0; ext[i] != '\0'; i++)
    {
      if (i == 31 || (guchar) ext[i] >= 0x80)
        return NULL;
      buf[i] = g_ascii_tolower (ext[i]);
    }
  buf[i] = '\0';
  return buf;
}

static gboolean
in_table (const Entry *table, gsize n, const char *key)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (table[i].ext, key) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_encoding (const char *ext)
{
  for (gsize i = 0; i < G_N_ELEMENTS (encodings); i++)
    if (strcmp (ext, encodings[i]) == 0)
      return TRUE;
  return FALSE;
}

static const char *guess_type_slowly (const char *path);

const char *
ss_http_mimetypes_guess_type (const char *path)
{
  const char *ext = path + splitext (path);
  const char *ext_lower;
  char buf[32];

  g_return_val_if_fail (path != NULL, NULL);

  /* The common case -- an extension that is neither a suffix_map entry
   * nor an encoding -- without copying the path. */
  ext_lower = lower_short (ext, buf);
  if (ext_lower == NULL || in_table (suffix_map, G_N_ELEMENTS (suffix_map), ext_lower) || is_encoding (ext))
    return guess_type_slowly (path);
  return g_hash_table_lookup (types_map (), ext_lower);
}

static const char *
guess_type_slowly (const char *path)
{
  g_autofree char *base = g_strdup (path);
  g_autofree char *ext_lower = NULL;
  GHashTable *types = types_map ();
  const char *ext;
  const char *type;
  gsize cut = splitext (base);
  gboolean again = TRUE;

  while (again)
    {
      again = FALSE;
      g_free (ext_lower);
      ext_lower = lower (base + cut);
      for (gsize i = 0; i < G_N_ELEMENTS (suffix_map); i++)
        if (strcmp (ext_lower, suffix_map[i].ext) == 0)
          {
            char *next;

            base[cut] = '\0';
            next = g_strconcat (base, suffix_map[i].type, NULL);
            g_free (base);
            base = next;
            cut = splitext (base);
            again = TRUE;
            break;
          }
    }
  ext = base + cut;
  for (gsize i = 0; i < G_N_ELEMENTS (encodings); i++)
    if (strcmp (ext, encodings[i]) == 0)
      {
        base[cut] = '\0';
        cut = splitext (base);
        ext = base + cut;
        break;
      }
  g_free (ext_lower);
  ext_lower = lower (ext);
  type = g_hash_table_lookup (types, ext_lower);
  return type;
}

static const char *
extensions_lookup (const SsHTTPExtension *map, const char *ext)
{
  for (; map != NULL && map->extension != NULL; map++)
    if (strcmp (map->extension, ext) == 0)
      return map->type;
  return NULL;
}

const char *
ss__simple_guess_type (SsBaseHTTPRequestHandler *self, const char *path)
{
  const SsHTTPExtension *map = SS__HTTP_VT (self)->extensions_map;
  const char *ext = path + splitext (path);
  g_autofree char *heap_lower = NULL;
  const char *ext_lower;
  const char *type;
  char buf[32];

  if ((type = extensions_lookup (map, ext)) != NULL)
    return type;
  ext_lower = lower_short (ext, buf);
  if (ext_lower == NULL)
    ext_lower = heap_lower = lower (ext);
  if ((type = extensions_lookup (map, ext_lower)) != NULL)
    return type;
  if ((type = ss_http_mimetypes_guess_type (path)) != NULL)
    return type;
  return "application/octet-stream";
}

const char *
ss_http_guess_type (SsBaseHTTPRequestHandler *self, const char *path)
{
  return SS__HTTP_VT (self)->guess_type (self, path);
}
