/* wfile.h: a writer, Python's wfile (_SocketWriter or a buffered writer).
 *
 * Over a socket, unbuffered (bufsize 0) each write is a sendall: partial
 * sends and EINTR are retried, MSG_NOSIGNAL keeps SIGPIPE away, a reset peer
 * gives SS_ERROR_CLOSED. With bufsize > 0 writes collect until the buffer
 * is full or ss_wfile_flush. In memory (datagram replies) it grows a buffer.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "request.h"

G_BEGIN_DECLS

typedef struct _SsWFile SsWFile;

/* Does not own @fd. Returns: (transfer full). */
SS_API SsWFile *ss_wfile_new_socket (int fd, gsize bufsize);
/* A writer over a stream request's connection: through its layer
 * (request->io: TLS) when it has one, else ss_wfile_new_socket on
 * request->fd. @request must outlive the writer. Returns: (transfer full). */
SS_API SsWFile *ss_wfile_new_for_request (SsRequest *request, gsize bufsize);
SS_API SsWFile *ss_wfile_new_memory (void);
SS_API void ss_wfile_free (SsWFile *wfile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsWFile, ss_wfile_free)

SS_API gboolean ss_wfile_write (SsWFile *wfile, const void *data, gsize len, GError **error);
SS_API gboolean ss_wfile_write_string (SsWFile *wfile, const char *text, GError **error);
SS_API gboolean ss_wfile_printf (SsWFile *wfile, GError **error, const char *format, ...) G_GNUC_PRINTF (3, 4);
SS_API gboolean ss_wfile_flush (SsWFile *wfile, GError **error);

/* Python's socket.sendfile(file, offset, count) through the writer: sends
 * @count bytes of the file @in_fd from @offset, after whatever the writer
 * buffered (which leaves with MSG_MORE, so headers and the start of the
 * body share a segment). On a socket it uses sendfile(2), retrying
 * partial sends and EINTR; where the kernel cannot, and for a memory
 * writer, it copies through a buffer. @in_fd's own offset is not moved.
 * Errors as ss_wfile_write; a file that ends before @count bytes fails
 * (the client got a short body: close the connection). Handlers send
 * files through this, never with sendfile on the fd, so a connection
 * whose bytes do not go straight to the socket (TLS) can take over. */
SS_API gboolean ss_wfile_sendfile (SsWFile *wfile, int in_fd, goffset offset, gsize count,
                                   GError **error);

/* Queues @len bytes to go out in front of the next write, sendfile or
 * flush, in the same send: what HTTP's end_headers does, so headers and
 * the start of a body are one segment (and a short file is read in behind
 * them: one send). A buffered or memory writer just adds them to its
 * buffer, without flushing. Cannot fail: nothing is sent yet. */
SS_API void ss_wfile_hold (SsWFile *wfile, const void *data, gsize len);

/* Memory writers: the bytes written so far (borrowed). */
SS_API const guint8 *ss_wfile_memory_data (SsWFile *wfile, gsize *len);

/* send() everything in @data on @fd: retries partial sends and EINTR, no
 * SIGPIPE. On failure sets @error naming @what. */
SS_API gboolean ss_sendall (int fd, const void *data, gsize len, GError **error);

G_END_DECLS
