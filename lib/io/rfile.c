/* rfile.c: the buffered reader behind StreamRequestHandler.rfile and
 * DatagramRequestHandler.rfile (Python's socket.makefile('rb') / BytesIO).
 *
 * One struct serves both shapes: a socket reader owns a buffer of bufsize
 * bytes that recv() refills; a memory reader points at the caller's bytes
 * and never refills. The unread bytes are always data[pos, len), so every
 * read function first drains that window and only then asks the socket.
 *
 * Two properties matter for servers that face the internet:
 * - readline(limit) never copies more than limit bytes into the caller's
 *   line, and the reader itself holds at most bufsize bytes, so a client
 *   sending a 10 MiB line without a newline costs limit + bufsize, not 10 MiB;
 * - a read of at least bufsize bytes with nothing buffered goes straight
 *   from recv() into the caller's memory, without a second copy.
 *
 * A reader made for a request whose bytes go through a layer (TLS:
 * request->io) reads through the layer's recv instead of recv(2); the
 * layer's own buffered plaintext counts in ss_rfile_buffered, so a
 * keep-alive connection is parked only when neither holds anything.
 */
#include "io/fd.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

struct _SsRFile {
  int fd;              /* -1 for a memory reader; not owned */
  SsRequest *request;  /* a reader through request->io (not owned), or NULL */
  SsRequest *owner;    /* the request it reads for (not owned), or NULL: told
                        * after each read whether it left the socket empty */
  guint8 *buf;         /* socket readers: bufsize bytes, owned; made at the first
                        * refill, so a handler that never reads costs no buffer */
  gsize bufsize;
  const guint8 *data;  /* buf, or the caller's memory */
  gsize pos;           /* next unread byte in data */
  gsize len;           /* end of the valid bytes in data */
  gint64 deadline_span;  /* ss_rfile_set_deadline: microseconds, or 0 for none */
  gint64 deadline;       /* monotonic time it ends; 0 until the first byte came */
  gboolean resumed;      /* made for a run resumed from parking: input most likely waits */
  gboolean has_read;     /* the socket (or layer) was read since it was made */
  int pending_errno;     /* an error ss_rfile_readable_now's recv met, for the next read */
  gboolean ended;        /* a read met EOF or an error: nothing to park for */
};

SsRFile *
ss_rfile_new_socket (int fd, gsize bufsize)
{
  SsRFile *rfile;

  g_return_val_if_fail (fd >= 0, NULL);

  rfile = g_new0 (SsRFile, 1);
  rfile->fd = fd;
  rfile->bufsize = bufsize > 0 ? bufsize : SS_RFILE_DEFAULT_BUFSIZE;
  rfile->data = NULL;  /* pos == len == 0: nothing buffered yet */
  return rfile;
}

SsRFile *
ss_rfile_new_for_request (SsRequest *request, gsize bufsize)
{
  SsRFile *rfile;

  g_return_val_if_fail (request != NULL, NULL);

  rfile = ss_rfile_new_socket (request->fd, bufsize);
  if (rfile != NULL && request->io != NULL)
    rfile->request = request;
  if (rfile != NULL)
    rfile->owner = request;
  if (rfile != NULL)
    rfile->resumed = ss_request_resumed (request);
  return rfile;
}

SsRFile *
ss_rfile_new_memory (const guint8 *data, gsize len)
{
  SsRFile *rfile;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  rfile = g_new0 (SsRFile, 1);
  rfile->fd = -1;
  rfile->data = data;
  rfile->len = len;
  return rfile;
}

void
ss_rfile_free (SsRFile *rfile)
{
  if (rfile == NULL)
    return;
  g_free (rfile->buf);
  g_free (rfile);
}

/* One recv() into @dest: the count (0 at EOF) or -1 with @error set.
 * EINTR is retried: a signal is not the client's doing. */
gssize
ss__socket_recv (int fd, void *dest, gsize n, GError **error)
{
  for (;;)
    {
      ssize_t got = recv (fd, dest, n, 0);
      int errsv;

      if (got >= 0)
        return got;
      errsv = errno;
      if (errsv == EINTR)
        continue;
      ss__set_recv_error (error, errsv, fd);
      return -1;
    }
}

void
ss__set_recv_error (GError **error, int errsv, int fd)
{
  if (errsv == EAGAIN || errsv == EWOULDBLOCK)
    {
      double timeout = ss__socket_timeout (fd, SO_RCVTIMEO);

      if (timeout > 0)
        g_set_error (error, SS_ERROR, SS_ERROR_TIMED_OUT,
                     "Timed out reading from the client after %g s "
                     "(the handler's timeout); the client sent nothing in that time",
                     timeout);
      else
        g_set_error (error, SS_ERROR, SS_ERROR_WOULD_BLOCK,
                     "Reading from the client: nothing to read on a non-blocking socket");
      return;
    }
  ss_set_error_from_errno (error, errsv, "Reading from the client",
                           errsv == ECONNRESET ? "the client reset the connection" : NULL);
}

/* With a deadline running, waits until the socket has input or the
 * deadline passes (FALSE with SS_ERROR_TIMED_OUT). Before the first byte
 * the socket's own timeout governs (the idle wait); bytes a layer (TLS)
 * holds need no wait. */
static gboolean
rfile_wait_deadline (SsRFile *rfile, GError **error)
{
  /* The socket's timeout still bounds each wait (poll() ignores it). */
  double socket_timeout = ss__socket_timeout (rfile->fd, SO_RCVTIMEO);

  for (;;)
    {
      gint64 left = rfile->deadline - g_get_monotonic_time ();
      gint64 wait = left;
      struct pollfd pfd = { .fd = rfile->fd, .events = POLLIN };
      int r = 0;

      if (socket_timeout > 0 && socket_timeout * G_USEC_PER_SEC < (double) left)
        wait = (gint64) (socket_timeout * G_USEC_PER_SEC);
      if (wait > 0)
        r = poll (&pfd, 1, (int) MIN ((wait + 999) / 1000, G_MAXINT));
      if (r > 0)
        return TRUE;
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return TRUE; /* let the read itself report it */
      if (wait < left)
        {
          ss__set_recv_error (error, EAGAIN, rfile->fd); /* the socket's timeout */
          return FALSE;
        }
      g_set_error (error, SS_ERROR, SS_ERROR_TIMED_OUT,
                   "Timed out reading from the client: what it had to send did not arrive within "
                   "%.3g s of its first byte (the reader's deadline)",
                   (double) rfile->deadline_span / G_USEC_PER_SEC);
      return FALSE;
    }
}

/* After a recv of @n that got @got (-1: an error): tells the request
 * whether the socket is known empty now -- a short read on a plain
 * socket took all it held (ss__pool_park then needs no re-arm). A layer
 * (TLS) reads the socket its own way and tells the request itself. */
static void
rfile_note_drained (SsRFile *rfile, gssize got, gsize n)
{
  if (got <= 0)
    rfile->ended = TRUE;
  if (rfile->owner != NULL && rfile->request == NULL)
    rfile->owner->drained = got > 0 && (gsize) got < n;
}

static gssize
rfile_recv (SsRFile *rfile, void *dest, gsize n, GError **error)
{
  gssize got;

  if (G_UNLIKELY (rfile->pending_errno != 0))
    {
      ss__set_recv_error (error, rfile->pending_errno, rfile->fd);
      rfile->pending_errno = 0;
      return -1;
    }
  if (G_UNLIKELY (rfile->deadline != 0)
      && (rfile->request == NULL || rfile->request->io->pending == NULL
          || rfile->request->io->pending (rfile->request) == 0)
      && !rfile_wait_deadline (rfile, error))
    return -1;
  rfile->has_read = TRUE;
  if (rfile->request != NULL)
    got = rfile->request->io->recv (rfile->request, dest, n, error);
  else
    got = ss__socket_recv (rfile->fd, dest, n, error);
  rfile_note_drained (rfile, got, n);
  if (G_UNLIKELY (rfile->deadline_span != 0) && rfile->deadline == 0 && got > 0)
    rfile->deadline = g_get_monotonic_time () + rfile->deadline_span;
  return got;
}

void
ss_rfile_set_deadline (SsRFile *rfile, double seconds)
{
  g_return_if_fail (rfile != NULL);

  rfile->deadline = 0;
  rfile->deadline_span = 0;
  /* NaN, < 0 and beyond 1e9 s (where the microseconds would overflow):
   * no deadline. */
  if (!(seconds >= 0 && seconds < 1e9) || rfile->fd < 0)
    return;
  rfile->deadline_span = MAX ((gint64) (seconds * G_USEC_PER_SEC), 1);
  if (rfile->len > rfile->pos)
    rfile->deadline = g_get_monotonic_time () + rfile->deadline_span; /* the first byte is here */
}

gssize
ss_request_recv (SsRequest *request, void *buf, gsize n, GError **error)
{
  gssize got;

  g_return_val_if_fail (request != NULL, -1);
  g_return_val_if_fail (buf != NULL || n == 0, -1);

  if (request->io != NULL)
    {
      request->drained = FALSE;
      return request->io->recv (request, buf, n, error);
    }
  got = ss__socket_recv (request->fd, buf, n, error);
  request->drained = got > 0 && (gsize) got < n;
  return got;
}

/* Refills the buffer of a socket reader whose window is empty. Returns the
 * bytes now buffered (0 at EOF or for a drained memory reader) or -1. */
static gssize
rfile_fill (SsRFile *rfile, GError **error)
{
  gssize got;

  g_assert (rfile->pos == rfile->len);
  if (rfile->fd < 0)
    return 0;
  rfile->pos = rfile->len = 0;
  if (rfile->buf == NULL)
    rfile->data = rfile->buf = g_malloc (rfile->bufsize);
  got = rfile_recv (rfile, rfile->buf, rfile->bufsize, error);
  if (got > 0)
    rfile->len = (gsize) got;
  return got;
}

/* Copies up to @n buffered bytes into @dest; returns how many. */
static gsize
rfile_take (SsRFile *rfile, void *dest, gsize n)
{
  gsize take = MIN (n, rfile->len - rfile->pos);

  memcpy (dest, rfile->data + rfile->pos, take);
  rfile->pos += take;
  return take;
}

gssize
ss_rfile_read (SsRFile *rfile, void *buf, gsize n, GError **error)
{
  guint8 *dest = buf;
  gsize done = 0;

  g_return_val_if_fail (rfile != NULL, -1);
  g_return_val_if_fail (buf != NULL || n == 0, -1);
  g_return_val_if_fail (n <= G_MAXSSIZE, -1);

  while (done < n)
    {
      gssize got;

      if (rfile->pos < rfile->len)
        {
          done += rfile_take (rfile, dest + done, n - done);
          continue;
        }
      if (rfile->fd < 0)
        break;
      if (n - done >= rfile->bufsize)
        {
          /* Large read, empty buffer: straight into the caller's memory. */
          got = rfile_recv (rfile, dest + done, n - done, error);
          if (got > 0)
            done += (gsize) got;
        }
      else
        got = rfile_fill (rfile, error);
      if (got < 0)
        return -1;
      if (got == 0)
        break;
    }
  return (gssize) done;
}

gssize
ss_rfile_read1 (SsRFile *rfile, void *buf, gsize n, GError **error)
{
  gssize got;

  g_return_val_if_fail (rfile != NULL, -1);
  g_return_val_if_fail (buf != NULL || n == 0, -1);
  g_return_val_if_fail (n <= G_MAXSSIZE, -1);

  if (n == 0)
    return 0;
  if (rfile->pos < rfile->len)
    return (gssize) rfile_take (rfile, buf, n);
  if (rfile->fd < 0)
    return 0;
  if (n >= rfile->bufsize)
    return rfile_recv (rfile, buf, n, error);
  got = rfile_fill (rfile, error);
  if (got <= 0)
    return got;
  return (gssize) rfile_take (rfile, buf, n);
}

gssize
ss_rfile_readline (SsRFile *rfile, GString *line, gssize limit, GError **error)
{
  gsize appended = 0;

  g_return_val_if_fail (rfile != NULL, -1);
  g_return_val_if_fail (line != NULL, -1);

  /* Each pass appends at most what the limit still allows, so the line
   * never holds more than @limit new bytes whatever the client sends. */
  while (limit < 0 || appended < (gsize) limit)
    {
      const guint8 *start;
      const guint8 *newline;
      gsize avail;
      gsize take;

      if (rfile->pos == rfile->len)
        {
          gssize got = rfile_fill (rfile, error);

          if (got < 0)
            return -1;
          if (got == 0)
            break;
        }
      start = rfile->data + rfile->pos;
      avail = rfile->len - rfile->pos;
      if (limit >= 0)
        avail = MIN (avail, (gsize) limit - appended);
      newline = memchr (start, '\n', avail);
      take = newline != NULL ? (gsize) (newline - start) + 1 : avail;
      g_string_append_len (line, (const char *) start, (gssize) take);
      rfile->pos += take;
      appended += take;
      if (newline != NULL)
        break;
    }
  return (gssize) appended;
}

gssize
ss_rfile_read_all (SsRFile *rfile, GByteArray *out, gsize max, GError **error)
{
  guint old_len;
  gsize appended = 0;
  gsize room;

  g_return_val_if_fail (rfile != NULL, -1);
  g_return_val_if_fail (out != NULL, -1);

  old_len = out->len;
  /* A GByteArray's length is a guint: beyond that GLib aborts. */
  room = MIN (max, (gsize) (G_MAXUINT - old_len));
  for (;;)
    {
      gsize avail;

      if (rfile->pos == rfile->len)
        {
          gssize got = rfile_fill (rfile, error);

          if (got < 0)
            goto undo_append;
          if (got == 0)
            break;
        }
      avail = rfile->len - rfile->pos;
      if (avail > room - appended)
        {
          if (room < max)
            g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                         "The client sent more than %" G_GSIZE_FORMAT " bytes, all that the "
                         "GByteArray could still hold (%u in all); read it in pieces", room, G_MAXUINT);
          else
            g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                         "The client sent more than %" G_GSIZE_FORMAT " bytes; "
                         "read it in pieces or raise the limit", max);
          goto undo_append;
        }
      g_byte_array_append (out, rfile->data + rfile->pos, (guint) avail);
      rfile->pos += avail;
      appended += avail;
    }
  return (gssize) appended;

undo_append:
  /* A call that fails leaves @out as it found it. */
  g_byte_array_set_size (out, old_len);
  return -1;
}

gsize
ss_rfile_buffered (SsRFile *rfile)
{
  gsize held;

  g_return_val_if_fail (rfile != NULL, 0);
  held = rfile->len - rfile->pos;
  if (rfile->request != NULL && rfile->request->io->pending != NULL)
    held += rfile->request->io->pending (rfile->request);
  return held;
}

/* A run resumed from parking most likely has its client's bytes waiting,
 * but not surely (park.c: an edge its previous run consumed may wake it):
 * the read it needs anyway, without waiting, answers. What it met (bytes,
 * EOF, an error) stays for the reads that follow. */
static gboolean
rfile_fill_now (SsRFile *rfile)
{
  ssize_t got;

  if (rfile->buf == NULL)
    rfile->data = rfile->buf = g_malloc (rfile->bufsize);
  do
    got = recv (rfile->fd, rfile->buf, rfile->bufsize, MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
      if (rfile->owner != NULL)
        rfile->owner->drained = TRUE;
      return FALSE;
    }
  rfile->has_read = TRUE;
  if (got < 0)
    rfile->pending_errno = errno;
  rfile_note_drained (rfile, got, rfile->bufsize);
  if (got < 0)
    return TRUE;
  rfile->pos = 0;
  rfile->len = (gsize) got;
  if (G_UNLIKELY (rfile->deadline_span != 0) && got > 0)
    rfile->deadline = g_get_monotonic_time () + rfile->deadline_span;
  return TRUE;
}

gboolean
ss_rfile_readable_now (SsRFile *rfile)
{
  struct pollfd pfd;
  int r;

  g_return_val_if_fail (rfile != NULL, FALSE);
  if (ss_rfile_buffered (rfile) > 0 || rfile->fd < 0)
    return TRUE;  /* buffered (here or in the layer: TLS), or a memory reader: never waits */
  if (rfile->resumed && !rfile->has_read)
    {
      /* Resumed: the read it needs anyway answers (a layer's own). */
      if (rfile->request == NULL)
        return rfile_fill_now (rfile);
      if (rfile->request->io->fill_now != NULL)
        return rfile->request->io->fill_now (rfile->request);
    }
  pfd.fd = rfile->fd;
  pfd.events = POLLIN;
  do
    r = poll (&pfd, 1, 0);
  while (r < 0 && errno == EINTR);
  /* An error or a hang-up is something a read reports at once, too. */
  return r != 0;
}

gboolean
ss_rfile_worth_parking (SsRFile *rfile)
{
  g_return_val_if_fail (rfile != NULL, FALSE);

  if (!rfile->has_read)
    return !ss_rfile_readable_now (rfile);
  if (rfile->ended)
    return FALSE;  /* EOF or an error waits: the next read says so at once */
  /* After an exchange the client is most likely reading our reply: park
   * without asking the socket (a poll per request was a fifth of the line
   * echo's system calls); if it has spoken already, the strategy's poller
   * reports it at once and the connection runs again. */
  return rfile->fd >= 0 && ss_rfile_buffered (rfile) == 0;
}
