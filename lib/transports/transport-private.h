/* transport-private.h: what the transports in lib/transports may use of
 * the core besides the public API (the core implements it).
 */
#pragma once

#include "io/fd.h"

/* Per-server state of the transport class: @size zeroed bytes, allocated
 * at the first call and freed with the server; the same pointer after
 * that. Only the server's own transport class uses it. */
gpointer ss__server_transport_state (SsServer *server, gsize size);

/* Dispatch through a class chain: SS_SLOT (&ss_tcp_server_class, server_bind). */
#define SS_SLOT(klass, slot) \
  ((__typeof__ (((SsServerClass *) 0)->slot)) ss_server_class_lookup ((klass), G_STRUCT_OFFSET (SsServerClass, slot)))
