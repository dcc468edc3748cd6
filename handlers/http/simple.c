/* simple.c: SimpleHTTPRequestHandler, Python's send_head and beyond.
 *
 *     path = self.translate_path(self.path)
 *     if os.path.isdir(path):
 *         if not urlsplit(self.path).path.endswith('/'): 301 to add it
 *         index.html or index.htm if one is a file, else list_directory(path)
 *     ctype = self.guess_type(path)
 *     if path.endswith("/"): 404 "File not found"        # Issue17324
 *     open(path, 'rb') or 404 "File not found"
 *     If-Modified-Since (and no If-None-Match) not older than the mtime: 304
 *     200, Content-type, Content-Length, Last-Modified
 *
 * Beyond Python (the class's `ranges`, on by default): Accept-Ranges:
 * bytes, and one range of Range: bytes=a-b, a- or -n answered 206 with
 * Content-Range, or 416 (its Content-Range "bytes *" and "/SIZE") when it starts past
 * the end; a range that does not parse, or several ranges, get the whole
 * file as RFC 9110 allows; If-Range with a date other than Last-Modified
 * (or an entity tag: there are none) gets the whole file too, and so does
 * an HTTP/0.9 request, whose answer has no status line to say 206. The body
 * goes out with sendfile(2) behind the held headers (wfile.h).
 *
 * Also beyond Python, where Python would fail with a traceback and drop
 * the connection: a path that cannot name a file (a NUL, a character the
 * file system encoding cannot hold) and anything that is not a regular
 * file (a FIFO would block the handler forever) are answered 404.
 */
#include "http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _SsHTTPFile {
  int fd;
  goffset offset;
  goffset length;
  GBytes *bytes;
};

SsHTTPFile *
ss_http_file_new_fd (int fd, goffset offset, goffset length)
{
  SsHTTPFile *file;

  g_return_val_if_fail (fd >= 0 && offset >= 0 && length >= 0, NULL);
  file = g_new0 (SsHTTPFile, 1);
  file->fd = fd;
  file->offset = offset;
  file->length = length;
  return file;
}

SsHTTPFile *
ss_http_file_new_bytes (GBytes *bytes)
{
  SsHTTPFile *file;

  g_return_val_if_fail (bytes != NULL, NULL);
  file = g_new0 (SsHTTPFile, 1);
  file->fd = -1;
  file->bytes = g_bytes_ref (bytes);
  file->length = (goffset) g_bytes_get_size (bytes);
  return file;
}

void
ss_http_file_free (SsHTTPFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  g_clear_pointer (&file->bytes, g_bytes_unref);
  g_free (file);
}

/* ------------------------------------------------------------ setup */

gboolean
ss__simple_setup (SsRequestHandler *handler, GError **error)
{
  SsSimpleHTTPRequestHandler *self = (SsSimpleHTTPRequestHandler *) handler;

  if (!ss__http_setup (handler, error)) /* super() */
    return FALSE;
  if (strcmp (SS__HTTP_VT (&self->parent)->directory, SS_HTTP_DIRECTORY_CWD) == 0)
    self->directory = g_get_current_dir ();
  else
    self->directory = g_strdup (SS__HTTP_VT (&self->parent)->directory);
  return TRUE;
}

void
ss__simple_dispose (SsRequestHandler *handler)
{
  SsSimpleHTTPRequestHandler *self = (SsSimpleHTTPRequestHandler *) handler;

  /* (An instance too small to have a directory was refused by setup.) */
  if (ss_handler_class_instance_size (handler->klass) >= sizeof *self)
    g_clear_pointer (&self->directory, g_free);
  ss__http_dispose (handler); /* super() */
}

/* ------------------------------------------------------------ translate_path, copyfile */

/* Whether @self is a SimpleHTTPRequestHandler (has self.directory). */
static gboolean
is_simple_instance (SsBaseHTTPRequestHandler *self)
{
  for (const SsHandlerClass *k = &self->klass->parent_class; k != NULL; k = k->parent)
    if (k == &ss_simple_http_request_handler_class.parent_class)
      return TRUE;
  return FALSE;
}

char *
ss__simple_translate_path (SsBaseHTTPRequestHandler *self, const char *path)
{
  const SsSimpleHTTPRequestHandler *simple = (const SsSimpleHTTPRequestHandler *) self;
  const char *directory = SS__HTTP_VT (self)->directory;
  g_autofree char *cwd = NULL;

  /* A BaseHTTPRequestHandler subclass has no self.directory: its class's. */
  if (is_simple_instance (self))
    directory = simple->directory;
  else if (strcmp (directory, SS_HTTP_DIRECTORY_CWD) == 0)
    directory = cwd = g_get_current_dir ();
  return ss_http_translate_path_in (directory, path);
}

gboolean
ss__simple_copyfile (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error)
{
  if (source->bytes != NULL)
    return ss_wfile_write (self->wfile, g_bytes_get_data (source->bytes, NULL),
                           g_bytes_get_size (source->bytes), error);
  return ss_wfile_sendfile (self->wfile, source->fd, source->offset, (gsize) source->length, error);
}

/* ------------------------------------------------------------ ranges */

typedef enum { RANGE_NONE, RANGE_PARTIAL, RANGE_UNSATISFIABLE } RangeResult;

static gboolean
parse_offset (const char *s, gsize len, goffset *out)
{
  goffset v = 0;

  if (len == 0 || len > 18)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* One range of "bytes=..." over @size bytes. */
static RangeResult
parse_range (const char *header, goffset size, goffset *first, goffset *last)
{
  const char *spec, *dash, *end;
  goffset a, b;

  while (*header == ' ' || *header == '\t')
    header++;
  if (g_ascii_strncasecmp (header, "bytes", 5) != 0)
    return RANGE_NONE;
  spec = header + 5;
  while (*spec == ' ' || *spec == '\t')
    spec++;
  if (*spec++ != '=')
    return RANGE_NONE;
  while (*spec == ' ' || *spec == '\t')
    spec++;
  if (strchr (spec, ',') != NULL)
    return RANGE_NONE; /* several ranges: the whole file */
  end = spec + strlen (spec);
  while (end > spec && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  dash = memchr (spec, '-', (gsize) (end - spec));
  if (dash == NULL)
    return RANGE_NONE;
  if (dash == spec)
    {
      /* -n: the last n bytes */
      if (!parse_offset (dash + 1, (gsize) (end - dash - 1), &b))
        return RANGE_NONE;
      if (b == 0 || size == 0)
        return RANGE_UNSATISFIABLE;
      *first = size - MIN (b, size);
      *last = size - 1;
      return RANGE_PARTIAL;
    }
  if (!parse_offset (spec, (gsize) (dash - spec), &a))
    return RANGE_NONE;
  if (dash + 1 == end)
    b = G_MAXINT64;
  else if (!parse_offset (dash + 1, (gsize) (end - dash - 1), &b) || b < a)
    return RANGE_NONE;
  if (a >= size)
    return RANGE_UNSATISFIABLE;
  *first = a;
  *last = MIN (b, size - 1);
  return RANGE_PARTIAL;
}

/* ------------------------------------------------------------ send_head */

static gboolean
not_modified (SsBaseHTTPRequestHandler *self, const struct stat *st)
{
  const char *ims = ss_http_headers_get (self->headers, "If-Modified-Since");
  gint64 since;
  gint64 mtime = (gint64) st->st_mtim.tv_sec;

  if (ims == NULL || ss_http_headers_contains (self->headers, "If-None-Match"))
    return FALSE;
  if (!ss_http_parse_date_utc (ims, &since))
    return FALSE; /* ignore ill-formed values */
  /* fromtimestamp rounds to microseconds, then the microseconds go. */
  if (st->st_mtim.tv_nsec >= 999999500)
    mtime++;
  return mtime <= since;
}

/* The rest of send_head for a path that is not a directory: @fd is it
 * opened (taken), or -1 when it could not be. */
static gboolean
send_file_head (SsBaseHTTPRequestHandler *self, const char *path, int fd, const struct stat *st,
                SsHTTPFile **file, GError **error)
{
  const char *ctype = ss_http_guess_type (self, path);
  char last_modified[SS_HTTP_DATE_LEN];
  gboolean ranges = SS__HTTP_VT (self)->ranges;
  goffset first = 0, last = -1;
  RangeResult range = RANGE_NONE;
  char length[SS__HTTP_DECIMAL_LEN];

  /* A path ending in "/" is not a file (Issue17324); nor is what could not
   * be opened, nor anything but a regular file. */
  if (g_str_has_suffix (path, "/") || fd < 0 || !S_ISREG (st->st_mode))
    {
      if (fd >= 0)
        close (fd);
      return ss_http_send_error (self, 404, "File not found", NULL, error);
    }
  /* Use browser cache if possible. */
  if (self->headers != NULL && not_modified (self, st))
    {
      close (fd);
      ss_http_send_response (self, 304, NULL);
      return ss_http_end_headers (self, error);
    }
  ss_http_date_time_string ((gint64) st->st_mtim.tv_sec + (st->st_mtim.tv_nsec >= 999999500 ? 1 : 0),
                            last_modified);
  /* An HTTP/0.9 answer has no status line to say 206: the whole file. */
  if (ranges && self->headers != NULL && ss_http_headers_contains (self->headers, "Range")
      && strcmp (self->request_version, "HTTP/0.9") != 0)
    {
      const char *if_range = ss_http_headers_get (self->headers, "If-Range");

      if (if_range == NULL || strcmp (if_range, last_modified) == 0)
        range = parse_range (ss_http_headers_get (self->headers, "Range"), st->st_size, &first, &last);
    }
  if (range == RANGE_UNSATISFIABLE)
    {
      close (fd);
      ss_http_send_response (self, 416, NULL);
      ss_http_send_header_printf (self, "Content-Range", "bytes */%" G_GINT64_FORMAT,
                                  (gint64) st->st_size);
      ss_http_send_header (self, "Content-Length", "0");
      ss_http_send_header (self, "Accept-Ranges", "bytes");
      return ss_http_end_headers (self, error);
    }
  if (range == RANGE_NONE)
    {
      first = 0;
      last = st->st_size - 1;
    }
  ss_http_send_response (self, range == RANGE_PARTIAL ? 206 : 200, NULL);
  ss_http_send_header (self, "Content-type", ctype);
  ss_http_send_header (self, "Content-Length", ss__http_decimal (length, (gint64) (last - first + 1)));
  ss_http_send_header (self, "Last-Modified", last_modified);
  if (range == RANGE_PARTIAL)
    ss_http_send_header_printf (self, "Content-Range",
                                "bytes %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                (gint64) first, (gint64) last, (gint64) st->st_size);
  if (ranges)
    ss_http_send_header (self, "Accept-Ranges", "bytes");
  if (!ss_http_end_headers (self, error))
    {
      close (fd);
      return FALSE;
    }
  *file = ss_http_file_new_fd (fd, first, last - first + 1);
  return TRUE;
}

/* Opens @path and says what it is, with one open and one fstat where
 * Python makes a stat, then an open, then an fstat. What cannot be opened
 * (no read permission) is still what os.path.isdir and isfile say: stat
 * tells (st_mode 0: nothing there). Returns the fd (-1: not opened). */
static int
open_path (const char *path, struct stat *st, gboolean *is_dir)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  *is_dir = FALSE;
  if (fd >= 0 && fstat (fd, st) != 0)
    {
      close (fd);
      fd = -1;
    }
  if (fd < 0)
    {
      if (stat (path, st) != 0)
        st->st_mode = 0;
      *is_dir = S_ISDIR (st->st_mode);
    }
  else if (S_ISDIR (st->st_mode))
    {
      close (fd);
      fd = -1;
      *is_dir = TRUE;
    }
  return fd;
}

gboolean
ss__simple_send_head (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error)
{
  g_autofree char *path = ss_http_translate_path (self, self->path != NULL ? self->path : "/");
  struct stat st;
  gboolean is_dir;
  int fd;

  *file = NULL;
  if (path == NULL)
    return ss_http_send_error (self, 404, "File not found", NULL, error);
  fd = open_path (path, &st, &is_dir);
  if (is_dir)
    {
      static const char *const indexes[] = { "index.html", "index.htm" };
      g_autofree char *location = ss__url_directory_redirect (self->path);

      if (location != NULL)
        {
          /* redirect browser - doing basically what apache does */
          ss_http_send_response (self, 301, NULL);
          ss_http_send_header (self, "Location", location);
          ss_http_send_header (self, "Content-Length", "0");
          return ss_http_end_headers (self, error);
        }
      for (gsize i = 0; i < G_N_ELEMENTS (indexes); i++)
        {
          g_autofree char *index = g_build_filename (path, indexes[i], NULL);
          gboolean index_is_dir;
          int index_fd = open_path (index, &st, &index_is_dir);

          if (S_ISREG (st.st_mode)) /* os.path.isfile, opened or not */
            return send_file_head (self, index, index_fd, &st, file, error);
          if (index_fd >= 0)
            close (index_fd);
        }
      return ss_http_list_directory (self, path, file, error);
    }
  return send_file_head (self, path, fd, &st, file, error);
}

/* ------------------------------------------------------------ do_GET, do_HEAD */

gboolean
ss__simple_do_GET (SsBaseHTTPRequestHandler *self, GError **error)
{
  SsHTTPFile *file = NULL;
  gboolean ok = ss_http_send_head (self, &file, error);

  if (ok && file != NULL)
    ok = ss_http_copyfile (self, file, error);
  ss_http_file_free (file);
  return ok;
}

gboolean
ss__simple_do_HEAD (SsBaseHTTPRequestHandler *self, GError **error)
{
  SsHTTPFile *file = NULL;
  gboolean ok = ss_http_send_head (self, &file, error);

  ss_http_file_free (file);
  return ok;
}

/* ------------------------------------------------------------ dispatchers */

gboolean
ss_http_send_head (SsBaseHTTPRequestHandler *self, SsHTTPFile **file, GError **error)
{
  return SS__HTTP_VT (self)->send_head (self, file, error);
}

char *
ss_http_translate_path (SsBaseHTTPRequestHandler *self, const char *path)
{
  return SS__HTTP_VT (self)->translate_path (self, path);
}

gboolean
ss_http_copyfile (SsBaseHTTPRequestHandler *self, SsHTTPFile *source, GError **error)
{
  return SS__HTTP_VT (self)->copyfile (self, source, error);
}

/* ------------------------------------------------------------ the class */

const SsHTTPHandlerClass ss_simple_http_request_handler_class = {
  .parent_class.name = "SimpleHTTPRequestHandler",
  .parent_class.parent = &ss_base_http_request_handler_class.parent_class,
  .parent_class.instance_size = sizeof (SsSimpleHTTPRequestHandler),
  .parent_class.setup = ss__simple_setup,
  .parent_class.dispose = ss__simple_dispose,
  .do_GET = ss__simple_do_GET,
  .do_HEAD = ss__simple_do_HEAD,
  .server_version = "SimpleHTTP/0.6",
  /* Nothing of a connection lives in the instance but caches. */
  .park_idle = TRUE,
  SS__HTTP_CLASS_COMMON,
};
