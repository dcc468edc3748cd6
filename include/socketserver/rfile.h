/**
 * SECTION:rfile
 * @title: rfile.h
 * @short_description: a buffered reader, Python's rfile (`socket.makefile('rb')`)
 * @include: socketserver/socketserver.h
 *
 * Over a socket it reads with `recv` into a buffer of rbufsize bytes,
 * retrying EINTR; a socket timeout (SO_RCVTIMEO) gives SS_ERROR_TIMED_OUT.
 * Over memory (a datagram) it reads the bytes given.
 *
 * A reader belongs to its handler: one thread uses it at a time (no
 * lock). Failures are #GError<!-- -->s in %SS_ERROR: %SS_ERROR_TIMED_OUT,
 * %SS_ERROR_CLOSED (reset by the peer) or another errno's code.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "request.h"

G_BEGIN_DECLS

typedef struct _SsRFile SsRFile;

/**
 * SsRFile:
 *
 * An opaque buffered reader.
 */

/**
 * SS_RFILE_DEFAULT_BUFSIZE:
 *
 * The buffer size of a socket reader made with bufsize 0 (Python's
 * io.DEFAULT_BUFFER_SIZE, 8192).
 */
#define SS_RFILE_DEFAULT_BUFSIZE 8192

/**
 * ss_rfile_new_socket:
 * @fd: a connected socket (borrowed: not owned, not closed)
 * @bufsize: the buffer size; 0 = %SS_RFILE_DEFAULT_BUFSIZE
 *
 * A reader over a socket: Python's `connection.makefile('rb', rbufsize)`.
 *
 * Returns: (transfer full): free with ss_rfile_free()
 */
SS_API SsRFile *ss_rfile_new_socket (int fd, gsize bufsize);
/**
 * ss_rfile_new_for_request:
 * @request: a stream request (must outlive the reader)
 * @bufsize: the buffer size; 0 = %SS_RFILE_DEFAULT_BUFSIZE
 *
 * A reader over a stream request's connection: through its layer
 * (request->io: TLS) when it has one, else ss_rfile_new_socket() on
 * request->fd.
 *
 * Returns: (transfer full): free with ss_rfile_free()
 */
SS_API SsRFile *ss_rfile_new_for_request (SsRequest *request, gsize bufsize);
/**
 * ss_rfile_new_memory:
 * @data: (array length=len): the bytes to read (borrowed: must outlive the
 *   reader)
 * @len: their number
 *
 * A reader over memory: Python's `BytesIO(packet)`.
 *
 * Returns: (transfer full): free with ss_rfile_free()
 */
SS_API SsRFile *ss_rfile_new_memory (const guint8 *data, gsize len);
/**
 * ss_rfile_free:
 * @rfile: (transfer full) (nullable): a reader
 *
 * Frees the reader (not the socket). %NULL is ignored.
 */
SS_API void ss_rfile_free (SsRFile *rfile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsRFile, ss_rfile_free)

/**
 * ss_rfile_read:
 * @rfile: a reader
 * @buf: (out caller-allocates) (array length=n): where to put the bytes
 * @n: how many to read
 * @error: return location for a #GError, or %NULL
 *
 * Python's read(n): reads until @n bytes or EOF.
 *
 * Returns: the count (0 at EOF), or -1 with @error set
 */
SS_API gssize ss_rfile_read (SsRFile *rfile, void *buf, gsize n, GError **error);

/**
 * ss_rfile_read1:
 * @rfile: a reader
 * @buf: (out caller-allocates) (array length=n): where to put the bytes
 * @n: the most to read
 * @error: return location for a #GError, or %NULL
 *
 * Python's read1(n): at most one recv.
 *
 * Returns: what is available (0 at EOF), or -1 with @error set
 */
SS_API gssize ss_rfile_read1 (SsRFile *rfile, void *buf, gsize n, GError **error);

/**
 * ss_rfile_readline:
 * @rfile: a reader
 * @line: a string to append to
 * @limit: the most bytes to append; &lt; 0: no limit
 * @error: return location for a #GError, or %NULL
 *
 * Python's readline(limit): appends to @line up to and including '\n', or
 * @limit bytes, or up to EOF.
 *
 * Returns: the bytes appended (0 at EOF), or -1 with @error set
 */
SS_API gssize ss_rfile_readline (SsRFile *rfile, GString *line, gssize limit, GError **error);

/**
 * ss_rfile_read_all:
 * @rfile: a reader
 * @out: an array to append to
 * @max: the most bytes to accept
 * @error: return location for a #GError, or %NULL
 *
 * Python's `read`: everything to EOF, appended to @out, at most @max bytes
 * (more than that fails with %SS_ERROR_INVALID_ARGUMENT, @out left as it
 * was). A #GByteArray holds at most %G_MAXUINT bytes (4 GiB - 1) whatever
 * @max says: a longer body fails the same way.
 *
 * Returns: the bytes appended, or -1 with @error set
 */
SS_API gssize ss_rfile_read_all (SsRFile *rfile, GByteArray *out, gsize max, GError **error);

/**
 * ss_rfile_buffered:
 * @rfile: a reader
 *
 * What a reader holds between two requests of a keep-alive connection.
 *
 * Returns: the bytes read off the connection and not yet returned,
 *   counting what the request's layer (TLS) holds decrypted (0: the next
 *   request, if any, is still in the socket)
 */
SS_API gsize ss_rfile_buffered (SsRFile *rfile);

/**
 * ss_rfile_set_deadline:
 * @rfile: a socket reader
 * @seconds: the most time, from the first byte that arrives, that every
 *   read may take in all; &lt; 0 (or 1e9 and more) for none (the default)
 *
 * Bounds how long a client may take to send something whole, however it
 * trickles it: a read that would wait past the deadline fails with
 * %SS_ERROR_TIMED_OUT. The clock starts at the first byte that arrives
 * after this call (at once when bytes are already buffered), so the wait
 * for a first byte stays the socket's timeout's (SO_RCVTIMEO) -- an idle
 * keep-alive connection is not cut short by it. Each call starts over;
 * BaseHTTPRequestHandler calls it around each request line and its
 * headers (header_timeout). A reader that must wait checks with poll()
 * first; one whose bytes arrive in a single read costs a clock read.
 * Through a layer (TLS) the deadline is checked before each read of the
 * layer; a read that has begun a record waits for the rest of it under
 * the socket's timeout alone, so a client trickling the bytes of one
 * record (at most 16 KiB) holds that read past the deadline until the
 * record is complete.
 * A memory reader never waits: it ignores this. No Python counterpart.
 */
SS_API void ss_rfile_set_deadline (SsRFile *rfile, double seconds);

/**
 * ss_rfile_readable_now:
 * @rfile: a reader
 *
 * A handler that would otherwise wait for its client checks this before
 * parking the connection (ss_server_park_request()):
 *
 * |[<!-- language="C" -->
 *     if (!ss_rfile_readable_now (self->rfile)
 *         && ss_server_park_request (handler->server, handler->request, timeout))
 *       return TRUE;   // run again when the client speaks
 * ]|
 *
 * In a run resumed from parking (ss_request_resumed()), before the reader
 * first reads, it asks with the read the run needs anyway: one recv(2)
 * that does not wait, into the reader's buffer (what it met, bytes, EOF
 * or an error, is what the next read returns). The strategy ran the
 * connection because its client most likely spoke, but a run can be
 * woken with nothing to read (a worker claimed it on a report its
 * previous run had already read), and must then park again rather than
 * wait. Elsewhere (a connection's first run, after a read, a reader
 * through a layer such as TLS) it asks poll(2). A handler that reads
 * through ss_request_recv() instead of the reader asks poll(2) itself.
 *
 * Returns: %TRUE when a read would not wait: bytes are buffered, or the
 *   socket has input (or EOF, or an error) right now
 */
SS_API gboolean ss_rfile_readable_now (SsRFile *rfile);

/**
 * ss_rfile_worth_parking:
 * @rfile: a reader
 *
 * The cheaper test a keep-alive handler makes before parking its
 * connection (ss_server_park_request()), in place of
 * ss_rfile_readable_now():
 *
 * |[<!-- language="C" -->
 *     if (ss_rfile_worth_parking (self->rfile)
 *         && ss_server_park_request (handler->server, handler->request, timeout))
 *       return TRUE;   // run again when the client speaks
 * ]|
 *
 * Before the reader's first read it is !ss_rfile_readable_now(): a new
 * connection is asked whether its client has spoken yet, and a run
 * resumed from parking reads what its client sent (and parks again when
 * it finds nothing), one recv(2) that is the run's first read. After a
 * read it only looks at what is buffered: the client of a request-reply
 * protocol is reading the reply and has sent nothing yet, and if it has,
 * the strategy's poller finds the connection readable at once and runs it
 * again. That saves a poll(2) per request.
 * A handler whose clients pipeline (send the next request before the
 * reply) asks ss_rfile_readable_now() instead. No Python counterpart.
 *
 * Returns: %TRUE when nothing is buffered and the connection is not known
 *   to have input waiting; %FALSE for a memory reader
 */
SS_API gboolean ss_rfile_worth_parking (SsRFile *rfile);

G_END_DECLS
