/**
 * SECTION:request
 * @title: request.h
 * @short_description: one request taken off a server socket
 * @include: socketserver/socketserver.h
 *
 * Python's `get_request` returns (request, client_address); for stream
 * servers request is the connected socket, for datagram servers it is the
 * pair (data, socket). #SsRequest holds both shapes. It is created by the
 * transport's get_request, handed to process_request (which takes
 * ownership), and freed with ss_request_free() once shutdown_request has run.
 *
 * A stream request's bytes may travel through a layer instead of going
 * straight to the socket: TLS (tls.h) sets request->io when the request is
 * made. rfile, wfile and ss_request_recv() / ss_request_sendall() (Python's
 * self.request.recv / sendall) go through it, so a handler reads and
 * writes the same way over either; request->fd stays the socket itself.
 *
 * A request belongs to one thread at a time: the one its strategy runs it
 * in.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "address.h"

G_BEGIN_DECLS

typedef struct _SsRequest SsRequest;
typedef struct _SsRequestIO SsRequestIO;

/**
 * SsRequestIO:
 * @name: "tls"
 * @start: runs once in the thread that runs the request, before its
 *   handler (TLS: the handshake, with its own deadline); %FALSE with the
 *   error closes the connection without running the handler. %NULL:
 *   nothing to do.
 * @recv: one read of at most n bytes: the count, 0 at the end of the
 *   stream, -1 with the error (%SS_ERROR_TIMED_OUT after the socket's
 *   SO_RCVTIMEO, %SS_ERROR_CLOSED for a reset); EINTR retried
 * @send: sends all of a then all of b (b may be %NULL): sendall
 *   semantics, errors as recv (SO_SNDTIMEO); more: more bytes follow at
 *   once
 * @sendfile: count bytes of in_fd from offset, or %NULL:
 *   ss_wfile_sendfile() then copies through send
 * @pending: bytes read off the socket and held by the layer (TLS:
 *   decrypted record bytes, and bytes read ahead, which may be the start
 *   of a record not yet whole): while there are any, the connection is
 *   not parked and a read does not wait for the socket first
 * @fill_now: optional: reads what the socket holds into the layer without
 *   waiting, and says whether a recv would return at once (bytes, the end
 *   of the stream or an error, kept for it); sets request->drained when
 *   the socket held nothing. ss_rfile_readable_now() asks it in a run
 *   resumed from parking, instead of polling the socket and then reading
 *   it again. %NULL: it polls.
 * @shutdown: ends the layer's stream cleanly before the socket is shut
 *   down (TLS: close_notify); never blocks. Called by TCPServer's
 *   shutdown_request.
 * @free: frees io_data (ss_request_free())
 *
 * How a layer over a stream connection (TLS) moves its bytes: a static
 * const table that lib/io and the core call. A request whose io is %NULL
 * is the plain socket, and none of this is called for it.
 */
struct _SsRequestIO {
  const char *name;
  gboolean (*start) (SsRequest *request, GError **error);
  gssize (*recv) (SsRequest *request, void *buf, gsize n, GError **error);
  gboolean (*send) (SsRequest *request, const void *a, gsize a_len, const void *b, gsize b_len,
                    gboolean more, GError **error);
  gboolean (*sendfile) (SsRequest *request, int in_fd, goffset offset, gsize count,
                        GError **error);
  gsize (*pending) (SsRequest *request);
  void (*shutdown) (SsRequest *request);
  void (*free) (SsRequest *request);
  gboolean (*fill_now) (SsRequest *request);
};

/**
 * SsRequest:
 * @fd: stream: the connected socket, owned by the request; datagram: the
 *   server's socket, borrowed (never closed here; open at least as long
 *   as the request)
 * @is_datagram: whether this is a datagram request
 * @client_address: the peer (Python's client_address); for Unix sockets
 *   often unnamed
 * @truncated: datagram only: the packet was longer than max_packet_size
 * @packet_len: datagram only: bytes in @packet
 * @packet: datagram only: points into this allocation (or %NULL)
 * @io: the layer the stream's bytes go through (TLS), or %NULL for the
 *   plain socket; set by whoever made the request
 * @io_data: the layer's state for this connection (io->free frees it)
 *
 * One request. The remaining fields are private: a datagram request taken
 * by the server keeps the server's socket open until it is freed, so a
 * reply after server_close can never go out on a reused fd number; the
 * allocation has room for the handler instance, so a request costs one
 * malloc with its handler; it records whether ss_server_park_request()
 * was called in this run, with its timeout, whether this run resumes
 * a connection its handler parked (what ss_rfile_worth_parking() needs),
 * the connection's place in the strategy's poller, and whether the run's
 * last read left the socket empty (the poller need not look again).
 */
struct _SsRequest {
  int fd;
  gboolean is_datagram;
  SsAddress client_address;
  gboolean truncated;
  gsize packet_len;
  guint8 *packet;
  /*< private >*/
  gpointer socket_hold;
  gpointer handler_room;
  gsize handler_room_size;
  gboolean park_asked;
  double park_timeout;
  /*< public >*/
  const SsRequestIO *io;
  gpointer io_data;
  /*< private >*/
  gboolean resumed;
  guint park_slot;   /* the strategy's poller: its slot + 1, or 0 */
  gboolean drained;  /* this run's last read came back short: the socket held no more */
};

/**
 * ss_request_new_stream:
 * @fd: a connected socket; the request owns it (transfer full)
 * @client: the peer's address, copied
 *
 * Allocates a stream request owning @fd (for a transport's get_request).
 *
 * Returns: (transfer full): free with ss_request_free() after
 *   shutdown_request
 */
SS_API SsRequest *ss_request_new_stream (int fd, const SsAddress *client);

/**
 * ss_request_new_datagram:
 * @server_fd: the server socket to reply on (borrowed)
 * @client: the sender's address, copied
 * @data: (array length=len): the datagram
 * @len: bytes in @data
 * @truncated: whether the datagram was longer than what was read
 *
 * Allocates a datagram request holding a copy of @len bytes of @data.
 *
 * Returns: (transfer full): free with ss_request_free()
 */
SS_API SsRequest *ss_request_new_datagram (int server_fd, const SsAddress *client,
                                    const void *data, gsize len, gboolean truncated);

/**
 * ss_request_recv:
 * @request: a stream request
 * @buf: (out caller-allocates) (array length=n): where to put the bytes
 * @n: the most to read
 * @error: return location for a #GError, or %NULL
 *
 * Python's self.request.recv(n) on a stream request: one read through
 * the request's layer (or recv(2) on the socket).
 *
 * Returns: the count, 0 at EOF, -1 with @error
 */
SS_API gssize ss_request_recv (SsRequest *request, void *buf, gsize n, GError **error);

/**
 * ss_request_sendall:
 * @request: a stream request
 * @data: (array length=len): the bytes
 * @len: their number
 * @error: return location for a #GError, or %NULL
 *
 * Python's self.request.sendall(data): all of @data through the
 * request's layer (or ss_sendall() on the socket).
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_request_sendall (SsRequest *request, const void *data, gsize len,
                                    GError **error);

/**
 * ss_request_resumed:
 * @request: a request
 *
 * Whether this run of @request continues a connection that its handler
 * parked (ss_server_park_request()) and that the strategy runs again
 * because its socket became readable. A handler's setup can skip what an
 * earlier run on the same socket already did (socket options). Its client
 * most likely spoke, but not surely: a handler reading through its rfile
 * asks ss_rfile_worth_parking() or ss_rfile_readable_now() before a read
 * that would wait; one reading with ss_request_recv() asks poll(2). No
 * Python counterpart.
 *
 * Returns: %TRUE for a resumed run, %FALSE for a connection's first run
 *   and for datagrams
 */
SS_API gboolean ss_request_resumed (const SsRequest *request);

/**
 * ss_request_free:
 * @request: (transfer full) (nullable): a request
 *
 * Frees the request struct and its layer's state (io->free); does not
 * close fd (shutdown_request does).
 * %NULL is ignored.
 */
SS_API void ss_request_free (SsRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsRequest, ss_request_free)

G_END_DECLS
