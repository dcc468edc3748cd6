/* handlers-private.h: the slot functions the library's handler classes
 * name in one another's tables, so that every slot of every exported
 * handler class is filled (class.h). Internal: not exported; users reach
 * them as ss_stream_request_handler_class.setup and so on.
 *
 * The handlers are built on the public API alone: this header includes
 * nothing but it.
 */
#pragma once

#include "config.h"

#include <socketserver/socketserver.h>

/* BaseRequestHandler's (base.c): each does nothing, successfully. */
gboolean ss__base_request_handler_setup (SsRequestHandler *self, GError **error);
gboolean ss__base_request_handler_handle (SsRequestHandler *self, GError **error);
gboolean ss__base_request_handler_finish (SsRequestHandler *self, GError **error);
void ss__base_request_handler_dispose (SsRequestHandler *self);

/* StreamRequestHandler's (stream.c). */
gboolean ss__stream_request_handler_setup (SsRequestHandler *self, GError **error);
gboolean ss__stream_request_handler_finish (SsRequestHandler *self, GError **error);
void ss__stream_request_handler_dispose (SsRequestHandler *self);

/* DatagramRequestHandler's (datagram.c). */
gboolean ss__datagram_request_handler_setup (SsRequestHandler *self, GError **error);
gboolean ss__datagram_request_handler_finish (SsRequestHandler *self, GError **error);
void ss__datagram_request_handler_dispose (SsRequestHandler *self);
