/* wfile.c: the writer behind StreamRequestHandler.wfile and
 * DatagramRequestHandler.wfile, and ss_sendall.
 *
 * Three shapes share one struct, chosen at creation:
 * - unbuffered socket writer (bufsize 0, Python's _SocketWriter): every
 *   write is a sendall, so the bytes are on their way when write returns;
 * - buffered socket writer (bufsize > 0, socket.makefile('wb', bufsize)):
 *   small writes collect until the buffer would overflow or flush is
 *   called; a write larger than the buffer goes out directly;
 * - memory writer (BytesIO): grows a GByteArray that a datagram handler
 *   sends as one reply.
 *
 * All socket output goes through ss_sendall, which uses send(MSG_NOSIGNAL)
 * so that a vanished client is an SS_ERROR_CLOSED, never a SIGPIPE.
 */
#include "io/fd.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

typedef enum {
  WFILE_UNBUFFERED,
  WFILE_BUFFERED,
  WFILE_MEMORY,
} WFileKind;

struct _SsWFile {
  WFileKind kind;
  int fd;             /* socket writers; not owned */
  gsize bufsize;      /* buffered writers */
  GByteArray *buf;    /* buffered: pending bytes; memory: everything written */
};

SsWFile *
ss_wfile_new_socket (int fd, gsize bufsize)
{
  SsWFile *wfile;

  g_return_val_if_fail (fd >= 0, NULL);

  wfile = g_new0 (SsWFile, 1);
  wfile->fd = fd;
  wfile->bufsize = bufsize;
  if (bufsize > 0)
    {
      wfile->kind = WFILE_BUFFERED;
      wfile->buf = g_byte_array_sized_new ((guint) MIN (bufsize, G_MAXUINT));
    }
  else
    wfile->kind = WFILE_UNBUFFERED;
  return wfile;
}

SsWFile *
ss_wfile_new_memory (void)
{
  SsWFile *wfile = g_new0 (SsWFile, 1);

  wfile->kind = WFILE_MEMORY;
  wfile->fd = -1;
  wfile->buf = g_byte_array_new ();
  return wfile;
}

/* Frees without flushing: bytes still buffered are dropped (the stream
 * handler's finish flushes before its dispose frees). */
void
ss_wfile_free (SsWFile *wfile)
{
  if (wfile == NULL)
    return;
  if (wfile->buf != NULL)
    g_byte_array_unref (wfile->buf);
  g_free (wfile);
}

static void
set_send_error (GError **error, int errsv, int fd, gsize sent, gsize len)
{
  char *what;

  if (errsv == EAGAIN || errsv == EWOULDBLOCK)
    {
      double timeout = ss__socket_timeout (fd, SO_SNDTIMEO);

      if (timeout > 0)
        g_set_error (error, SS_ERROR, SS_ERROR_TIMED_OUT,
                     "Timed out writing to the client after %g s (the handler's timeout), "
                     "%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes sent; "
                     "the client is not reading",
                     timeout, sent, len);
      else
        g_set_error (error, SS_ERROR, SS_ERROR_WOULD_BLOCK,
                     "Writing to the client: the non-blocking socket is full "
                     "(%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes sent)",
                     sent, len);
      return;
    }
  what = g_strdup_printf ("Writing to the client (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                          " bytes sent)", sent, len);
  ss_set_error_from_errno (error, errsv, what,
                           errsv == EPIPE || errsv == ECONNRESET
                             ? "the client closed the connection before reading the reply"
                             : NULL);
  g_free (what);
}

gboolean
ss_sendall (int fd, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;
  gsize sent = 0;

  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  while (sent < len)
    {
      ssize_t n = send (fd, p + sent, len - sent, MSG_NOSIGNAL);

      if (n >= 0)
        {
          sent += (gsize) n;
          continue;
        }
      if (errno == EINTR)
        continue;
      set_send_error (error, errno, fd, sent, len);
      return FALSE;
    }
  return TRUE;
}

/* Sends what a buffered writer holds. The buffer is emptied either way: after
 * a failure nobody knows how much of it the client got, and resending the
 * start would corrupt the stream. */
static gboolean
wfile_flush_buffer (SsWFile *wfile, GError **error)
{
  gboolean ok;

  if (wfile->buf->len == 0)
    return TRUE;
  ok = ss_sendall (wfile->fd, wfile->buf->data, wfile->buf->len, error);
  g_byte_array_set_size (wfile->buf, 0);
  return ok;
}

gboolean
ss_wfile_write (SsWFile *wfile, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (wfile != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  switch (wfile->kind)
    {
    case WFILE_UNBUFFERED:
      return ss_sendall (wfile->fd, data, len, error);

    case WFILE_MEMORY:
      g_return_val_if_fail (len <= G_MAXUINT - wfile->buf->len, FALSE);
      g_byte_array_append (wfile->buf, data, (guint) len);
      return TRUE;

    case WFILE_BUFFERED:
      if (wfile->buf->len + len <= wfile->bufsize)
        {
          g_byte_array_append (wfile->buf, data, (guint) len);
          return TRUE;
        }
      if (!wfile_flush_buffer (wfile, error))
        return FALSE;
      if (len >= wfile->bufsize)
        return ss_sendall (wfile->fd, data, len, error); /* write-through */
      g_byte_array_append (wfile->buf, data, (guint) len);
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

gboolean
ss_wfile_write_string (SsWFile *wfile, const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  return ss_wfile_write (wfile, text, strlen (text), error);
}

gboolean
ss_wfile_printf (SsWFile *wfile, GError **error, const char *format, ...)
{
  va_list args;
  char *text;
  gboolean ok;

  g_return_val_if_fail (wfile != NULL, FALSE);
  g_return_val_if_fail (format != NULL, FALSE);

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  ok = ss_wfile_write (wfile, text, strlen (text), error);
  g_free (text);
  return ok;
}

gboolean
ss_wfile_flush (SsWFile *wfile, GError **error)
{
  g_return_val_if_fail (wfile != NULL, FALSE);

  if (wfile->kind != WFILE_BUFFERED)
    return TRUE;
  return wfile_flush_buffer (wfile, error);
}

const guint8 *
ss_wfile_memory_data (SsWFile *wfile, gsize *len)
{
  g_return_val_if_fail (wfile != NULL, NULL);
  g_return_val_if_fail (wfile->kind == WFILE_MEMORY, NULL);

  if (len != NULL)
    *len = wfile->buf->len;
  return wfile->buf->data;
}
