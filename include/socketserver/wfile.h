/**
 * SECTION:wfile
 * @title: wfile.h
 * @short_description: a writer, Python's wfile (_SocketWriter or a buffered writer)
 * @include: socketserver/socketserver.h
 *
 * Over a socket, unbuffered (bufsize 0) each write is a sendall: partial
 * sends and EINTR are retried, MSG_NOSIGNAL keeps SIGPIPE away, a reset peer
 * gives SS_ERROR_CLOSED. With bufsize > 0 writes collect until the buffer
 * is full or ss_wfile_flush(). In memory (datagram replies) it grows a
 * buffer.
 *
 * A writer belongs to its handler: one thread uses it at a time (no
 * lock). Write failures are #GError<!-- -->s in %SS_ERROR: %SS_ERROR_CLOSED
 * (the client closed the connection), %SS_ERROR_TIMED_OUT (the handler's
 * timeout: the client is not reading), %SS_ERROR_WOULD_BLOCK (a
 * non-blocking socket is full), or another errno's code; the message
 * says how many bytes were sent.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "request.h"

G_BEGIN_DECLS

typedef struct _SsWFile SsWFile;

/**
 * SsWFile:
 *
 * An opaque writer.
 */

/**
 * ss_wfile_new_socket:
 * @fd: a connected socket (borrowed: not owned, not closed)
 * @bufsize: 0 = unbuffered (each write a sendall), else the buffer size
 *
 * A writer over a socket: Python's _SocketWriter (wbufsize 0) or
 * `connection.makefile('wb', wbufsize)`.
 *
 * Returns: (transfer full): free with ss_wfile_free()
 */
SS_API SsWFile *ss_wfile_new_socket (int fd, gsize bufsize);
/**
 * ss_wfile_new_for_request:
 * @request: a stream request (must outlive the writer)
 * @bufsize: 0 = unbuffered, else the buffer size
 *
 * A writer over a stream request's connection: through its layer
 * (request->io: TLS) when it has one, else ss_wfile_new_socket() on
 * request->fd.
 *
 * Returns: (transfer full): free with ss_wfile_free()
 */
SS_API SsWFile *ss_wfile_new_for_request (SsRequest *request, gsize bufsize);
/**
 * ss_wfile_new_memory:
 *
 * A writer into memory: Python's BytesIO, for datagram replies.
 *
 * Returns: (transfer full): free with ss_wfile_free()
 */
SS_API SsWFile *ss_wfile_new_memory (void);
/**
 * ss_wfile_free:
 * @wfile: (transfer full) (nullable): a writer
 *
 * Frees the writer (not the socket) without flushing it. %NULL is
 * ignored.
 */
SS_API void ss_wfile_free (SsWFile *wfile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsWFile, ss_wfile_free)

/**
 * ss_wfile_write:
 * @wfile: a writer
 * @data: (array length=len): the bytes
 * @len: their number
 * @error: return location for a #GError, or %NULL
 *
 * Python's wfile.write(data): all of @data (a sendall when unbuffered).
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_wfile_write (SsWFile *wfile, const void *data, gsize len, GError **error);
/**
 * ss_wfile_write_string:
 * @wfile: a writer
 * @text: a NUL-terminated string (the NUL is not written)
 * @error: return location for a #GError, or %NULL
 *
 * ss_wfile_write() of a string.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_wfile_write_string (SsWFile *wfile, const char *text, GError **error);
/**
 * ss_wfile_printf:
 * @wfile: a writer
 * @error: return location for a #GError, or %NULL
 * @format: a `printf` format
 * @...: its arguments
 *
 * ss_wfile_write() of formatted text: Python's `wfile.write(("..." %
 * args).encode())`.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_wfile_printf (SsWFile *wfile, GError **error, const char *format, ...) G_GNUC_PRINTF (3, 4);
/**
 * ss_wfile_flush:
 * @wfile: a writer
 * @error: return location for a #GError, or %NULL
 *
 * Python's `wfile.flush`: sends what is buffered. The buffer is emptied
 * either way.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_wfile_flush (SsWFile *wfile, GError **error);

/**
 * ss_wfile_sendfile:
 * @wfile: a writer
 * @in_fd: a file to read (borrowed)
 * @offset: where in it to start
 * @count: how many bytes to send
 * @error: return location for a #GError, or %NULL
 *
 * Python's socket.sendfile(file, offset, count) through the writer: sends
 * @count bytes of the file @in_fd from @offset, after whatever the writer
 * buffered (which leaves with MSG_MORE, so headers and the start of the
 * body share a segment). On a socket it uses sendfile(2), retrying
 * partial sends and EINTR; where the kernel cannot, and for a memory
 * writer, it copies through a buffer. @in_fd's own offset is not moved.
 * Errors as ss_wfile_write; a file that ends before @count bytes fails
 * (the client got a short body: close the connection). Handlers send
 * files through this, never with sendfile on the fd, so a connection
 * whose bytes do not go straight to the socket (TLS) can take over.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_wfile_sendfile (SsWFile *wfile, int in_fd, goffset offset, gsize count,
                                   GError **error);

/**
 * ss_wfile_hold:
 * @wfile: a writer
 * @data: (array length=len): the bytes (copied)
 * @len: their number
 *
 * Queues @len bytes to go out in front of the next write, sendfile or
 * flush, in the same send: what HTTP's end_headers does, so headers and
 * the start of a body are one segment (and a short file is read in behind
 * them: one send). A buffered or memory writer just adds them to its
 * buffer, without flushing. Cannot fail: nothing is sent yet.
 */
SS_API void ss_wfile_hold (SsWFile *wfile, const void *data, gsize len);

/**
 * ss_wfile_memory_data:
 * @wfile: a memory writer
 * @len: (out) (optional): the number of bytes, or %NULL
 *
 * The bytes written so far into a memory writer.
 *
 * Returns: (transfer none) (array length=len): borrowed, valid until the
 *   next write or ss_wfile_free()
 */
SS_API const guint8 *ss_wfile_memory_data (SsWFile *wfile, gsize *len);

/**
 * ss_sendall:
 * @fd: a connected socket (borrowed)
 * @data: (array length=len): the bytes
 * @len: their number
 * @error: return location for a #GError, or %NULL
 *
 * Python's socket.sendall(data): `send` everything in @data on @fd;
 * retries partial sends and EINTR, no SIGPIPE. Thread-safe as `send` is.
 *
 * Returns: %TRUE on success; %FALSE with @error set (the errors above,
 *   the message saying how many bytes were sent)
 */
SS_API gboolean ss_sendall (int fd, const void *data, gsize len, GError **error);

G_END_DECLS
