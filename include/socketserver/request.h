/* request.h: one request taken off a server socket.
 *
 * Python's get_request() returns (request, client_address); for stream
 * servers request is the connected socket, for datagram servers it is the
 * pair (data, socket). SsRequest holds both shapes. It is created by the
 * transport's get_request, handed to process_request (which takes
 * ownership), and freed with ss_request_free() once shutdown_request has run.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "address.h"

G_BEGIN_DECLS

typedef struct _SsRequest SsRequest;

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
};

/* Allocates a stream request owning @fd. */
SS_API SsRequest *ss_request_new_stream (int fd, const SsAddress *client);

/* Allocates a datagram request holding a copy of @len bytes of @data. */
SS_API SsRequest *ss_request_new_datagram (int server_fd, const SsAddress *client,
                                    const void *data, gsize len, gboolean truncated);

/* Frees the request struct; does not close fd (shutdown_request does). */
SS_API void ss_request_free (SsRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsRequest, ss_request_free)

G_END_DECLS
