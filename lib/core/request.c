/* request.c: the request record passed from get_request to the handler.
 *
 * A datagram's bytes live in the same allocation as the record, and so
 * does room for the server's handler instance when the server's transport
 * made the request: a request and its handler are one malloc whatever
 * their kind, and one free at the end.
 *
 * A datagram request replies on the server's own socket, and may still run
 * after server_close (daemon threads, block_on_close FALSE). Had the close
 * released the fd number, the program's next socket would get it and
 * receive the reply (seen: a TCP peer got a UDP client's bytes). So the
 * server and every datagram request it took share the socket through a
 * reference count, and the last one to let go closes it.
 */
#include "core/core.h"

#include <string.h>
#include <unistd.h>

/* The record, then @room bytes for a handler instance, then @len bytes of
 * datagram, each part 16-byte aligned, zeroed, in one allocation. */
static SsRequest *
request_alloc (const SsAddress *client, gsize room, gsize len)
{
  gsize head = (sizeof (SsRequest) + 15) & ~(gsize) 15;
  gsize room_aligned = (room + 15) & ~(gsize) 15;
  guint8 *block = g_malloc0 (head + room_aligned + len + 1);
  SsRequest *request = (SsRequest *) block;

  if (client != NULL)
    request->client_address = *client;
  if (room > 0)
    {
      request->handler_room = block + head;
      request->handler_room_size = room_aligned;
    }
  request->packet = block + head + room_aligned;
  return request;
}

SsRequest *
ss__request_new_stream_with_room (int fd, const SsAddress *client, gsize room)
{
  SsRequest *request = request_alloc (client, room, 0);

  request->fd = fd;
  request->packet = NULL;
  return request;
}

SsRequest *
ss__request_new_datagram_with_room (int server_fd, const SsAddress *client, const void *data,
                                    gsize len, gboolean truncated, gsize room)
{
  SsRequest *request = request_alloc (client, room, len);

  request->fd = server_fd;
  request->is_datagram = TRUE;
  if (len > 0)
    memcpy (request->packet, data, len);
  request->packet_len = len;
  request->truncated = truncated;
  return request;
}

SsRequest *
ss_request_new_stream (int fd, const SsAddress *client)
{
  return ss__request_new_stream_with_room (fd, client, 0);
}

SsRequest *
ss_request_new_datagram (int server_fd, const SsAddress *client,
                         const void *data, gsize len, gboolean truncated)
{
  return ss__request_new_datagram_with_room (server_fd, client, data, len, truncated, 0);
}

gboolean
ss_request_resumed (const SsRequest *request)
{
  g_return_val_if_fail (request != NULL, FALSE);
  return request->resumed;
}

void
ss_request_free (SsRequest *request)
{
  if (request == NULL)
    return;
  if (request->socket_hold != NULL)
    ss__socket_hold_release (request->socket_hold);
  if (request->io != NULL && request->io->free != NULL)
    request->io->free (request);
  g_free (request);
}

void
ss__socket_hold_release (SsSocketHold *hold)
{
  if (!g_atomic_int_dec_and_test (&hold->refs))
    return;
  close (hold->fd);
  g_free (hold);
}
