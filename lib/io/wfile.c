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
 *
 * A writer can also hold bytes (ss_wfile_hold: HTTP's headers) to send in
 * front of the next write, in one sendmsg() with it, or in front of a
 * file: a short file is read in behind them and leaves in the same send
 * (no sendfile, no signal mask calls), a long one follows them by
 * sendfile(2) after a MSG_MORE send.
 *
 * A writer made for a request whose bytes go through a layer (TLS:
 * request->io) sends everything through the layer's send (which takes two
 * buffers and MSG_MORE's meaning, as sendall_two), and ss_wfile_sendfile
 * through its sendfile, or, where it has none, copies the file through
 * send; the plain path is the same code as before, one test further.
 */
#include "io/fd.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define COPY_CHUNK 65536

/* A file this short behind held or buffered bytes is read in behind them
 * and sent with them, rather than sendfile'd as a second call. */
#define COPY_BEHIND_MAX 16384

typedef enum {
  WFILE_UNBUFFERED,
  WFILE_BUFFERED,
  WFILE_MEMORY,
} WFileKind;

struct _SsWFile {
  WFileKind kind;
  int fd;             /* socket writers; not owned */
  SsRequest *request; /* a writer through request->io (not owned), or NULL */
  gsize bufsize;      /* buffered writers */
  GByteArray *buf;    /* buffered: pending bytes; memory: everything written */
  GByteArray *held;   /* unbuffered: bytes to send in front of the next write (ss_wfile_hold) */
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
ss_wfile_new_for_request (SsRequest *request, gsize bufsize)
{
  SsWFile *wfile;

  g_return_val_if_fail (request != NULL, NULL);

  wfile = ss_wfile_new_socket (request->fd, bufsize);
  if (wfile != NULL && request->io != NULL)
    wfile->request = request;
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
  if (wfile->held != NULL)
    g_byte_array_unref (wfile->held);
  g_free (wfile);
}

/* The file ended @missing bytes before what the caller asked to send. */
static gboolean
file_shrank (GError **error, gsize missing)
{
  g_set_error (error, SS_ERROR, SS_ERROR_FAILED,
               "The file to send ended %" G_GSIZE_FORMAT " bytes early (was it truncated while "
               "being sent?); the client got a short body: close the connection",
               missing);
  return FALSE;
}

void
ss__set_send_error (GError **error, int errsv, int fd, gsize sent, gsize len)
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

/* send() @a then @b as one stream, with sendmsg() so that the two share
 * a segment, retrying partial sends and EINTR; @flags are added to
 * MSG_NOSIGNAL (MSG_MORE). */
static gboolean
sendall_two (int fd, const void *a, gsize a_len, const void *b, gsize b_len, int flags,
             GError **error)
{
  gsize len = a_len + b_len;
  gsize sent = 0;

  while (sent < len)
    {
      struct iovec iov[2];
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
      ssize_t n;

      if (sent < a_len)
        {
          iov[0] = (struct iovec) { (guint8 *) a + sent, a_len - sent };
          iov[1] = (struct iovec) { (void *) b, b_len };
          msg.msg_iovlen = b_len > 0 ? 2 : 1;
        }
      else
        iov[0] = (struct iovec) { (guint8 *) b + (sent - a_len), len - sent };
      n = sendmsg (fd, &msg, MSG_NOSIGNAL | flags);
      if (n >= 0)
        {
          sent += (gsize) n;
          continue;
        }
      if (errno == EINTR)
        continue;
      ss__set_send_error (error, errno, fd, sent, len);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_sendall (int fd, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  return sendall_two (fd, data, len, NULL, 0, 0, error);
}

/* ss_sendall with send() @flags added (MSG_MORE). */
static gboolean
sendall_flags (int fd, const void *data, gsize len, int flags, GError **error)
{
  return sendall_two (fd, data, len, NULL, 0, flags, error);
}

/* Everything a socket writer sends goes through here: @a then @b, through
 * the request's layer when it has one, else sendmsg(2) with @flags
 * (MSG_MORE). */
static gboolean
wfile_send_two (SsWFile *wfile, const void *a, gsize a_len, const void *b, gsize b_len, int flags,
                GError **error)
{
  if (wfile->request != NULL)
    return wfile->request->io->send (wfile->request, a, a_len, b, b_len, (flags & MSG_MORE) != 0,
                                     error);
  return sendall_two (wfile->fd, a, a_len, b, b_len, flags, error);
}

/* An unbuffered writer's held bytes in front of @data, then none held
 * (after a failure too: nobody knows what the client got). */
static gboolean
send_held_then (SsWFile *wfile, const void *data, gsize len, GError **error)
{
  gboolean ok;

  if (wfile->held == NULL || wfile->held->len == 0)
    return wfile_send_two (wfile, data, len, NULL, 0, 0, error);
  ok = wfile_send_two (wfile, wfile->held->data, wfile->held->len, data, len, 0, error);
  g_byte_array_set_size (wfile->held, 0);
  return ok;
}

gboolean
ss_request_sendall (SsRequest *request, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (request->io != NULL)
    return request->io->send (request, data, len, NULL, 0, FALSE, error);
  return sendall_flags (request->fd, data, len, 0, error);
}


/* Sends what a buffered writer holds. The buffer is emptied either way: after
 * a failure nobody knows how much of it the client got, and resending the
 * start would corrupt the stream. */
static gboolean
wfile_flush_buffer (SsWFile *wfile, int flags, GError **error)
{
  gboolean ok;

  if (wfile->buf->len == 0)
    return TRUE;
  ok = wfile_send_two (wfile, wfile->buf->data, wfile->buf->len, NULL, 0, flags, error);
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
      return send_held_then (wfile, data, len, error);

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
      if (!wfile_flush_buffer (wfile, 0, error))
        return FALSE;
      if (len >= wfile->bufsize)
        return wfile_send_two (wfile, data, len, NULL, 0, 0, error); /* write-through */
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

  if (wfile->kind == WFILE_UNBUFFERED)
    return send_held_then (wfile, NULL, 0, error);
  if (wfile->kind != WFILE_BUFFERED)
    return TRUE;
  return wfile_flush_buffer (wfile, 0, error);
}

void
ss_wfile_hold (SsWFile *wfile, const void *data, gsize len)
{
  g_return_if_fail (wfile != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (wfile->kind == WFILE_UNBUFFERED)
    {
      if (wfile->held == NULL)
        wfile->held = g_byte_array_sized_new (512);
      g_byte_array_append (wfile->held, data, (guint) len);
    }
  else
    g_byte_array_append (wfile->buf, data, (guint) len); /* sent by the next flush */
}

/* A short file behind held or buffered bytes: read in behind them and sent
 * with them in one send. The pending bytes are gone either way. */
static gboolean
send_pending_with_file (SsWFile *wfile, GByteArray *pending, int in_fd, goffset offset,
                        gsize count, GError **error)
{
  guint start = pending->len;
  gsize got = 0;
  gboolean ok = TRUE;

  g_byte_array_set_size (pending, start + (guint) count);
  while (ok && got < count)
    {
      ssize_t n = pread (in_fd, pending->data + start + got, count - got, offset + (goffset) got);

      if (n > 0)
        got += (gsize) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n == 0)
        ok = file_shrank (error, count - got);
      else
        {
          ss_set_error_from_errno (error, errno, "Reading the file to send", NULL);
          ok = FALSE;
        }
    }
  if (ok)
    ok = wfile_send_two (wfile, pending->data, pending->len, NULL, 0, 0, error);
  g_byte_array_set_size (pending, 0);
  return ok;
}

/* Copies @count bytes of @in_fd from @offset through a buffer into
 * ss_wfile_write: where sendfile(2) cannot be used. */
static gboolean
copy_file (SsWFile *wfile, int in_fd, goffset offset, gsize count, GError **error)
{
  g_autofree guint8 *buf = g_malloc (MIN (count, COPY_CHUNK));

  while (count > 0)
    {
      ssize_t n = pread (in_fd, buf, MIN (count, COPY_CHUNK), offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          ss_set_error_from_errno (error, errno, "Reading the file to send", NULL);
          return FALSE;
        }
      if (n == 0)
        return file_shrank (error, count);
      if (!ss_wfile_write (wfile, buf, (gsize) n, error))
        return FALSE;
      offset += n;
      count -= (gsize) n;
    }
  return TRUE;
}

/* sendfile(2) has no MSG_NOSIGNAL: a vanished peer would raise SIGPIPE
 * and kill a program that did not ignore it. So SIGPIPE is blocked in this
 * thread around the call, and one it raised is taken off the pending set
 * before the mask is restored (unless one was pending already). */
static ssize_t
sendfile_nosignal (int out_fd, int in_fd, off_t *offset, gsize count)
{
  static const struct timespec no_wait = { 0, 0 };
  sigset_t pipe_set, old_mask, pending;
  gboolean was_pending;
  ssize_t n;
  int errsv;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_mask);
  n = sendfile (out_fd, in_fd, offset, count);
  errsv = errno;
  if (n < 0 && errsv == EPIPE && !was_pending)
    while (sigtimedwait (&pipe_set, NULL, &no_wait) < 0 && errno == EINTR)
      ;
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  errno = errsv;
  return n;
}

gboolean
ss_wfile_sendfile (SsWFile *wfile, int in_fd, goffset offset, gsize count, GError **error)
{
  GByteArray *pending;
  gsize sent = 0;

  g_return_val_if_fail (wfile != NULL, FALSE);
  g_return_val_if_fail (in_fd >= 0 && offset >= 0, FALSE);

  if (wfile->kind == WFILE_MEMORY)
    return copy_file (wfile, in_fd, offset, count, error);
  pending = wfile->kind == WFILE_BUFFERED ? wfile->buf : wfile->held;
  if (pending != NULL && pending->len > 0 && count <= COPY_BEHIND_MAX)
    return send_pending_with_file (wfile, pending, in_fd, offset, count, error);
  /* What was buffered or held (a response's headers) goes first, with
   * MSG_MORE so that it leaves in one segment with the start of the file. */
  if (pending != NULL && pending->len > 0)
    {
      gboolean ok = wfile_send_two (wfile, pending->data, pending->len, NULL, 0, MSG_MORE, error);

      g_byte_array_set_size (pending, 0);
      if (!ok)
        return FALSE;
    }
  /* Through a layer (TLS): its own sendfile (kernel TLS) or a copy. */
  if (wfile->request != NULL)
    {
      if (wfile->request->io->sendfile != NULL)
        return wfile->request->io->sendfile (wfile->request, in_fd, offset, count, error);
      return copy_file (wfile, in_fd, offset, count, error);
    }
  while (sent < count)
    {
      off_t off = (off_t) (offset + (goffset) sent);
      ssize_t n = sendfile_nosignal (wfile->fd, in_fd, &off, MIN (count - sent, (gsize) G_MAXSSIZE));

      if (n > 0)
        {
          sent += (gsize) n;
          continue;
        }
      if (n == 0)
        return file_shrank (error, count - sent);
      if (errno == EINTR)
        continue;
      /* Nothing sent yet and the kernel cannot do it for this pair of fds
       * (a file system without splice support, a socket type): copy. */
      if (sent == 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
        return copy_file (wfile, in_fd, offset, count, error);
      ss__set_send_error (error, errno, wfile->fd, sent, count);
      return FALSE;
    }
  return TRUE;
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
