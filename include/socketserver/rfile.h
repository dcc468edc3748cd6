/* rfile.h: a buffered reader, Python's rfile (socket.makefile('rb')).
 *
 * Over a socket it reads with recv() into a buffer of rbufsize bytes,
 * retrying EINTR; a socket timeout (SO_RCVTIMEO) gives SS_ERROR_TIMED_OUT.
 * Over memory (a datagram) it reads the bytes given.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "request.h"

G_BEGIN_DECLS

typedef struct _SsRFile SsRFile;

#define SS_RFILE_DEFAULT_BUFSIZE 8192

/* @bufsize 0 = default. Returns: (transfer full). Does not own @fd. */
SS_API SsRFile *ss_rfile_new_socket (int fd, gsize bufsize);
/* A reader over a stream request's connection: through its layer
 * (request->io: TLS) when it has one, else ss_rfile_new_socket on
 * request->fd. @request must outlive the reader. Returns: (transfer full). */
SS_API SsRFile *ss_rfile_new_for_request (SsRequest *request, gsize bufsize);
/* Reads @data (borrowed: must outlive the reader). Returns: (transfer full). */
SS_API SsRFile *ss_rfile_new_memory (const guint8 *data, gsize len);
SS_API void ss_rfile_free (SsRFile *rfile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsRFile, ss_rfile_free)

/* Python's read(n): reads until @n bytes or EOF. Returns the count (0 at
 * EOF), or -1 with @error set. */
SS_API gssize ss_rfile_read (SsRFile *rfile, void *buf, gsize n, GError **error);

/* Python's read1(n): at most one recv; returns what is available (0 at EOF). */
SS_API gssize ss_rfile_read1 (SsRFile *rfile, void *buf, gsize n, GError **error);

/* Python's readline(limit): appends to @line up to and including '\n', or
 * @limit bytes (limit < 0: no limit), or up to EOF. Returns the bytes
 * appended (0 at EOF), or -1 with @error set. */
SS_API gssize ss_rfile_readline (SsRFile *rfile, GString *line, gssize limit, GError **error);

/* Python's read(): everything to EOF, appended to @out, at most @max bytes
 * (more than that fails with SS_ERROR_INVALID_ARGUMENT, @out left as it
 * was). A GByteArray holds at most G_MAXUINT bytes (4 GiB - 1) whatever
 * @max says: a longer body fails the same way. Returns the bytes appended
 * or -1. */
SS_API gssize ss_rfile_read_all (SsRFile *rfile, GByteArray *out, gsize max, GError **error);

/* The bytes read off the connection and not yet returned, counting what
 * the request's layer (TLS) holds decrypted: what a reader holds between
 * two requests of a keep-alive connection (0: the next request, if any,
 * is still in the socket). */
SS_API gsize ss_rfile_buffered (SsRFile *rfile);

/* TRUE when a read would not wait: bytes are buffered, or the socket has
 * input (or EOF) right now. A handler that would otherwise wait for its
 * client checks this before parking the connection (ss_server_park_request):
 *
 *     if (!ss_rfile_readable_now (self->rfile)
 *         && ss_server_park_request (handler->server, handler->request, timeout))
 *       return TRUE;   // run again when the client speaks
 */
SS_API gboolean ss_rfile_readable_now (SsRFile *rfile);

G_END_DECLS
