/* request.c: the request record passed from get_request to the handler.
 *
 * A datagram's bytes live in the same allocation as the record, so a
 * request is one malloc whatever its kind and one free at the end.
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

SsRequest *
ss_request_new_stream (int fd, const SsAddress *client)
{
  SsRequest *request = g_new0 (SsRequest, 1);

  request->fd = fd;
  if (client != NULL)
    request->client_address = *client;
  return request;
}

SsRequest *
ss_request_new_datagram (int server_fd, const SsAddress *client,
                         const void *data, gsize len, gboolean truncated)
{
  SsRequest *request = g_malloc0 (sizeof (SsRequest) + len + 1);

  request->fd = server_fd;
  request->is_datagram = TRUE;
  if (client != NULL)
    request->client_address = *client;
  request->packet = (guint8 *) (request + 1);
  if (len > 0)
    memcpy (request->packet, data, len);
  request->packet_len = len;
  request->truncated = truncated;
  return request;
}

void
ss_request_free (SsRequest *request)
{
  if (request == NULL)
    return;
  if (request->socket_hold != NULL)
    ss__socket_hold_release (request->socket_hold);
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
