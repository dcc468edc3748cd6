/* running.c: a request's run (ss_server_run_request, which every strategy
 * calls wherever its requests run) and what the core knows of the
 * requests running now.
 *
 * While a stream request's handler runs, the request is linked in
 * SsServerPrivate.running (core.h's SsRunningRequest says how), so that a
 * drain reaching its deadline can shut each connection down under its
 * handler (ss__server_force_running; ops/drain.c). running_lock guards the
 * list and `forcing`, and is held only to link, unlink and shut down,
 * never while user code runs.
 *
 * A thread-local says whose request this thread is running, so that
 * ss_server_free from inside one of the server's own handlers is refused
 * (ss__server_running_here).
 */
#include "core/core.h"

#include <sys/socket.h>

/* The server whose request this thread is running (ss_server_run_request),
 * so that ss_server_free from inside one of its own handlers is refused:
 * the handler's thread would go on using the freed server (and, in the
 * pool or threading, the freed strategy) as soon as the handler returns. */
static __thread SsServer *running_request_of;
/* The node of the stream request this thread's handler runs, so that a
 * handler closing its own connection (shutdown_request, close_request)
 * unlinks it before the fd number can go to another connection. */
static __thread SsRunningRequest *running_node;

gboolean
ss__server_running_here (SsServer *server)
{
  return server == running_request_of;
}

/* ------------------------------------------------------------ the running list */

/* Links @node for @request's connection while its handler runs (a stream
 * request only: a datagram request's fd is the server's). */
static void
running_add (SsServer *server, SsRunningRequest *node, const SsRequest *request)
{
  struct SsServerPrivate *priv = server->priv;

  if (request->is_datagram || request->fd < 0)
    return;
  node->server = server;
  node->fd = request->fd;
  pthread_mutex_lock (&priv->running_lock);
  node->prev = NULL;
  node->next = priv->running;
  if (priv->running != NULL)
    priv->running->prev = node;
  priv->running = node;
  if (priv->forcing)
    (void) shutdown (node->fd, SHUT_RDWR);
  pthread_mutex_unlock (&priv->running_lock);
}

/* Unlinks @node before the request's fd is closed or parked. */
static void
running_remove (SsServer *server, SsRunningRequest *node)
{
  struct SsServerPrivate *priv = server->priv;

  if (node->fd < 0)
    return;
  pthread_mutex_lock (&priv->running_lock);
  if (node->prev != NULL)
    node->prev->next = node->next;
  else
    priv->running = node->next;
  if (node->next != NULL)
    node->next->prev = node->prev;
  pthread_mutex_unlock (&priv->running_lock);
  node->fd = -1;
}

/* pthread_cleanup handler around the handler's run: unlinks the node on
 * any way out, pthread_exit included. */
static void
running_unwound (void *data)
{
  SsRunningRequest *node = data;

  if (node->fd >= 0)
    running_remove (node->server, node);
  /* On pthread_exit the frame that holds @node is gone next: nothing may
   * find it through the thread-local (a strategy's own cleanup closes the
   * connection after this, ss__server_running_closes). */
  running_node = NULL;
}

void
ss__server_running_closes (SsServer *server, int fd)
{
  SsRunningRequest *node = running_node;

  if (node != NULL && node->server == server && node->fd == fd && fd >= 0)
    running_remove (server, node);
}

guint
ss__server_force_running (SsServer *server)
{
  struct SsServerPrivate *priv = server->priv;
  SsRunningRequest *node;
  guint n = 0;

  pthread_mutex_lock (&priv->running_lock);
  priv->forcing = TRUE;
  for (node = priv->running; node != NULL; node = node->next, n++)
    (void) shutdown (node->fd, SHUT_RDWR);
  pthread_mutex_unlock (&priv->running_lock);
  return n;
}

/* ------------------------------------------------------------ a request's run */

/* A datagram cut to max_packet_size, on a server that wants it refused
 * rather than served: FALSE with the error handle_error gets. */
static gboolean
refuse_truncated (SsServer *server, const SsRequest *request, GError **error)
{
  g_autofree char *addr = ss_address_to_string (&server->server_address);

  g_set_error (error, SS_ERROR, SS_ERROR_TRUNCATED,
               "A datagram to %s was longer than max_packet_size (%" G_GSIZE_FORMAT
               " bytes) and was refused, not served cut short (refuse_truncated): "
               "raise max_packet_size to take datagrams that long",
               addr, request->packet_len);
  return FALSE;
}

gboolean
ss_server_run_request (SsServer *server, SsRequest *request)
{
  SsServer *outer = running_request_of;
  SsRunningRequest *outer_node = running_node;
  SsRunningRequest node = { .fd = -1 };
  GError *error = NULL;
  gboolean waiting;
  gboolean ok;

  running_request_of = server;
  request->park_asked = FALSE;
  request->drained = FALSE;
  running_add (server, &node, request);
  running_node = &node;
  pthread_cleanup_push (running_unwound, &node);
  /* A layer over the connection (TLS) starts here, in the thread that
   * runs the request, never in the one that accepts: a handshake that
   * waits for a slow client holds up no other client. It may park the
   * request until the client's first byte arrives (the handshake still
   * owed: start runs again then), and the handler does not run yet. */
  if (G_UNLIKELY (request->truncated) && server->refuse_truncated)
    ok = refuse_truncated (server, request, &error);
  else
    ok = request->io == NULL || request->io->start == NULL || request->io->start (request, &error);
  waiting = ok && request->park_asked;
  if (ok && !waiting)
    ok = ss_server_finish_request (server, request, &error);
  if (waiting)
    ; /* nothing was served yet */
  else if (ok)
    ss__server_count (server, SS__COUNT_SERVED);
  else
    {
      if (error == NULL)
        g_set_error_literal (&error, SS_ERROR, SS_ERROR_HANDLER,
                             "finish_request failed without saying why");
      ss_server_handle_error (server, request, error);
      g_error_free (error);
    }
  pthread_cleanup_pop (1); /* running_unwound: running_remove */
  running_node = outer_node;
  /* A handler that parked its connection hands it to the strategy, which
   * runs this again when the client speaks; a failed run is not parked. */
  if (ok && request->park_asked)
    {
      request->park_asked = FALSE;
      /* The next run starts with the client's input waiting -- unless
       * the layer parked before the handler ran (a handshake owes more). */
      request->resumed = !waiting;
      running_request_of = outer;
      server->strategy->ops->park_request (server->strategy, server, request,
                                           request->park_timeout);
      return ok;
    }
  ss_server_shutdown_request (server, request);
  ss_request_free (request);
  running_request_of = outer;
  return ok;
}

gboolean
ss_server_park_request (SsServer *server, SsRequest *request, double timeout)
{
  const SsStrategyOps *ops;

  g_return_val_if_fail (server != NULL && request != NULL, FALSE);
  g_return_val_if_fail (!request->is_datagram, FALSE);
  ops = server->strategy->ops;
  if (ops->can_park == NULL || ops->park_request == NULL
      || !ops->can_park (server->strategy, server))
    return FALSE;
  request->park_asked = TRUE;
  request->park_timeout = timeout;
  return TRUE;
}
