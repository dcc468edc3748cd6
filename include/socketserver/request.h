/* request.h: one request taken off a server socket.
 *
 * Python's get_request() returns (request, client_address); for stream
 * servers request is the connected socket, for datagram servers it is the
 * pair (data, socket). SsRequest holds both shapes. It is created by the
 * transport's get_request, handed to process_request (which takes
 * ownership), and freed with ss_request_free() once shutdown_request has run.
 *
 * A stream request's bytes may travel through a layer instead of going
 * straight to the socket: TLS (tls.h) sets request->io when the request is
 * made. rfile, wfile and ss_request_recv / ss_request_sendall (Python's
 * self.request.recv / sendall) go through it, so a handler reads and
 * writes the same way over either; request->fd stays the socket itself.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "address.h"

G_BEGIN_DECLS

typedef struct _SsRequest SsRequest;
typedef struct _SsRequestIO SsRequestIO;

/* How a layer over a stream connection (TLS) moves its bytes: a static
 * const table that lib/io and the core call. A request whose io is NULL
 * is the plain socket, and none of this is called for it. */
struct _SsRequestIO {
  const char *name;  /* "tls" */
  /* Runs once in the thread that runs the request, before its handler
   * (TLS: the handshake, with its own deadline); FALSE with @error closes
   * the connection without running the handler. NULL: nothing to do. */
  gboolean (*start) (SsRequest *request, GError **error);
  /* One read of at most @n bytes: the count, 0 at the end of the stream,
   * -1 with @error (SS_ERROR_TIMED_OUT after the socket's SO_RCVTIMEO,
   * SS_ERROR_CLOSED for a reset); EINTR retried. */
  gssize (*recv) (SsRequest *request, void *buf, gsize n, GError **error);
  /* Sends all of @a then all of @b (@b may be NULL): sendall semantics,
   * errors as recv (SO_SNDTIMEO). @more: more bytes follow at once. */
  gboolean (*send) (SsRequest *request, const void *a, gsize a_len, const void *b, gsize b_len,
                    gboolean more, GError **error);
  /* @count bytes of @in_fd from @offset, or NULL: ss_wfile_sendfile then
   * copies through send. */
  gboolean (*sendfile) (SsRequest *request, int in_fd, goffset offset, gsize count,
                        GError **error);
  /* Bytes read off the socket that a recv would return without reading
   * it again (TLS: decrypted or buffered record bytes). */
  gsize (*pending) (SsRequest *request);
  /* Ends the layer's stream cleanly before the socket is shut down (TLS:
   * close_notify); never blocks. Called by TCPServer's shutdown_request. */
  void (*shutdown) (SsRequest *request);
  /* Frees io_data (ss_request_free). */
  void (*free) (SsRequest *request);
};

struct _SsRequest {
  int fd;                    /* stream: the connected socket, owned by the request;
                              * datagram: the server's socket, borrowed (never closed here;
                              * open at least as long as the request) */
  gboolean is_datagram;
  SsAddress client_address;  /* the peer; for Unix sockets often unnamed */
  gboolean truncated;        /* datagram only: the packet was longer than max_packet_size */
  gsize packet_len;          /* datagram only: bytes in packet */
  guint8 *packet;            /* datagram only: points into this allocation (or NULL) */
  gpointer socket_hold;      /* private: a datagram request taken by the server keeps the
                              * server's socket open until it is freed, so a reply after
                              * server_close can never go out on a reused fd number */
  gpointer handler_room;     /* private: room in this allocation for the handler instance,
                              * so a request costs one malloc with its handler */
  gsize handler_room_size;   /* private */
  gboolean park_asked;       /* private: ss_server_park_request was called in this run */
  double park_timeout;       /* private: its timeout */
  const SsRequestIO *io;     /* the layer the stream's bytes go through (TLS), or NULL
                              * for the plain socket; set by whoever made the request */
  gpointer io_data;          /* the layer's state for this connection (io->free frees it) */
};

/* Allocates a stream request owning @fd. */
SS_API SsRequest *ss_request_new_stream (int fd, const SsAddress *client);

/* Allocates a datagram request holding a copy of @len bytes of @data. */
SS_API SsRequest *ss_request_new_datagram (int server_fd, const SsAddress *client,
                                    const void *data, gsize len, gboolean truncated);

/* Python's self.request.recv(n) on a stream request: one read through the
 * request's layer (or recv(2) on the socket), 0 at EOF, -1 with @error. */
SS_API gssize ss_request_recv (SsRequest *request, void *buf, gsize n, GError **error);

/* Python's self.request.sendall(data): all of @data through the request's
 * layer (or ss_sendall on the socket). */
SS_API gboolean ss_request_sendall (SsRequest *request, const void *data, gsize len,
                                    GError **error);

/* Frees the request struct and its layer's state (io->free); does not
 * close fd (shutdown_request does). */
SS_API void ss_request_free (SsRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsRequest, ss_request_free)

G_END_DECLS
