/* request.c: the request record passed from get_request to the handler.
 *
 * A datagram's bytes live in the same allocation as the record, so a
 * request is one malloc whatever its kind and one free at the end.
 */
#include "core/core.h"

#include <string.h>

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
  g_free (request);
}
