/* server.c: HTTPServer and ThreadingHTTPServer.
 *
 *     class HTTPServer(socketserver.TCPServer):
 *         allow_reuse_address = 1    # Seems to make sense in testing environment
 *         def server_bind(self):
 *             socketserver.TCPServer.server_bind(self)
 *             host, port = self.server_address[:2]
 *             self.server_name = socket.getfqdn(host)
 *             self.server_port = port
 *
 *     class ThreadingHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
 *         daemon_threads = True
 *
 * One difference: getfqdn is a reverse DNS lookup that can wait seconds
 * for an answer that never comes (no resolver reachable), and nothing in
 * http.server reads server_name; so server_bind records the host and
 * ss_http_server_get_server_name resolves it the first time it is asked,
 * with Python's rules. The same over the thread pool is
 * ss_thread_pooling_http_server_new; ss_http_server_new takes any strategy.
 */
#include "http-private.h"

#include <netdb.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct SsHTTPServerPrivate {
  pthread_mutex_t lock;  /* guards server_name */
  char *host;            /* the bound host, for getfqdn */
  char *server_name;     /* NULL until asked for */
};

static gboolean
http_server_bind (SsServer *server, GError **error)
{
  SsHTTPServer *self = (SsHTTPServer *) server;

  if (!ss_tcp_server_class.server_bind (server, error)) /* super() */
    return FALSE;
  if (self->priv == NULL)
    {
      self->priv = g_new0 (struct SsHTTPServerPrivate, 1);
      pthread_mutex_init (&self->priv->lock, NULL);
    }
  g_free (self->priv->host);
  self->priv->host = ss_address_host_string (&server->server_address);
  self->server_port = ss_server_port (server);
  return TRUE;
}

static void
http_server_close (SsServer *server)
{
  SsHTTPServer *self = (SsHTTPServer *) server;

  ss_tcp_server_class.server_close (server); /* super() */
  if (self->priv != NULL)
    {
      pthread_mutex_destroy (&self->priv->lock);
      g_free (self->priv->host);
      g_free (self->priv->server_name);
      g_clear_pointer (&self->priv, g_free);
    }
}

/* The slots HTTPServer inherits, filled by name (class.h: every slot of
 * an exported class is filled, so super() from a subclass is valid). The
 * TCP functions are the library's own; from here they are reached through
 * ss_tcp_server_class, as a user's class would reach them. */
static gboolean
http_server_activate (SsServer *server, GError **error)
{
  return ss_tcp_server_class.server_activate (server, error);
}

static SsRequest *
http_get_request (SsServer *server, GError **error)
{
  return ss_tcp_server_class.get_request (server, error);
}

static void
http_shutdown_request (SsServer *server, SsRequest *request)
{
  ss_tcp_server_class.shutdown_request (server, request);
}

static void
http_close_request (SsServer *server, SsRequest *request)
{
  ss_tcp_server_class.close_request (server, request);
}

static int
http_fileno (SsServer *server)
{
  return ss_tcp_server_class.fileno (server);
}

static gboolean
http_verify_request (SsServer *server, SsRequest *request)
{
  return ss_tcp_server_class.verify_request (server, request);
}

static void
http_process_request (SsServer *server, SsRequest *request)
{
  ss_tcp_server_class.process_request (server, request);
}

static gboolean
http_finish_request (SsServer *server, SsRequest *request, GError **error)
{
  return ss_tcp_server_class.finish_request (server, request, error);
}

static void
http_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  ss_tcp_server_class.handle_error (server, request, error);
}

static void
http_handle_timeout (SsServer *server)
{
  ss_tcp_server_class.handle_timeout (server);
}

static void
http_service_actions (SsServer *server)
{
  ss_tcp_server_class.service_actions (server);
}

const SsServerClass ss_http_server_class = {
  .name = "HTTPServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (SsHTTPServer),
  .address_family = AF_INET,
  .socket_type = SOCK_STREAM,
  .server_bind = http_server_bind,
  .server_activate = http_server_activate,
  .get_request = http_get_request,
  .shutdown_request = http_shutdown_request,
  .close_request = http_close_request,
  .server_close = http_server_close,
  .fileno = http_fileno,
  .verify_request = http_verify_request,
  .process_request = http_process_request,
  .finish_request = http_finish_request,
  .handle_error = http_handle_error,
  .handle_timeout = http_handle_timeout,
  .service_actions = http_service_actions,
};

/* socket.getfqdn(name) */
static char *
getfqdn (const char *name)
{
  g_autofree char *host = g_strstrip (g_strdup (name));
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
  struct addrinfo *res = NULL;
  char *result;

  if (*host == '\0' || strcmp (host, "0.0.0.0") == 0 || strcmp (host, "::") == 0)
    {
      g_free (host);
      host = g_strdup (g_get_host_name ());
    }
  result = g_strdup (host);
  if (getaddrinfo (host, NULL, &hints, &res) == 0 && res != NULL)
    {
      struct hostent entry, *found = NULL;
      char buf[8192];
      int err = 0;
      const void *addr = res->ai_family == AF_INET6
                             ? (const void *) &((struct sockaddr_in6 *) res->ai_addr)->sin6_addr
                             : (const void *) &((struct sockaddr_in *) res->ai_addr)->sin_addr;
      socklen_t len = res->ai_family == AF_INET6 ? sizeof (struct in6_addr) : sizeof (struct in_addr);

      if (gethostbyaddr_r (addr, len, res->ai_family, &entry, buf, sizeof buf, &found, &err) == 0
          && found != NULL)
        {
          /* The first of the name and its aliases with a dot, else the name. */
          const char *pick = found->h_name;

          if (strchr (pick, '.') == NULL)
            for (char **alias = found->h_aliases; alias != NULL && *alias != NULL; alias++)
              if (strchr (*alias, '.') != NULL)
                {
                  pick = *alias;
                  break;
                }
          g_free (result);
          result = g_strdup (pick);
        }
      freeaddrinfo (res);
    }
  return result;
}

const char *
ss_http_server_get_server_name (SsServer *server)
{
  SsHTTPServer *self = (SsHTTPServer *) server;
  const char *name;

  g_return_val_if_fail (server != NULL, NULL);
  if (self->priv == NULL)
    return NULL;
  pthread_mutex_lock (&self->priv->lock);
  if (self->priv->server_name == NULL)
    self->priv->server_name = getfqdn (self->priv->host);
  name = self->priv->server_name;
  pthread_mutex_unlock (&self->priv->lock);
  return name;
}

SsServer *
ss_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                    SsStrategy *strategy, GError **error)
{
  SsServer *server;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (handler_class != NULL && ss_is_http_handler_class (&handler_class->parent_class),
                        NULL);

  server = ss_server_new (&ss_http_server_class, address, &handler_class->parent_class, strategy,
                          FALSE, error);
  if (server == NULL)
    return NULL;
  server->allow_reuse_address = TRUE;
  if (!ss_server_server_bind (server, error) || !ss_server_server_activate (server, error))
    {
      ss_server_free (server);
      return NULL;
    }
  return server;
}

SsServer *
ss_threading_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                              GError **error)
{
  SsStrategy *strategy = ss_threading_strategy_new ();

  ss_threading_strategy_set_daemon_threads (strategy, TRUE);
  return ss_http_server_new (address, handler_class, strategy, error);
}

SsServer *
ss_thread_pooling_http_server_new (const char *address, const SsHTTPHandlerClass *handler_class,
                                   GError **error)
{
  SsStrategy *strategy = ss_thread_pool_strategy_new (SS_THREAD_POOL_DEFAULT_MIN_WORKERS,
                                                      SS_THREAD_POOL_DEFAULT_MAX_WORKERS,
                                                      SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS, NULL);

  return ss_http_server_new (address, handler_class, strategy, error);
}
