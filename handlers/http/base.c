/* base.c: BaseHTTPRequestHandler's request loop, Python's
 *
 *     def handle(self):
 *         self.close_connection = True
 *         self.handle_one_request()
 *         while not self.close_connection:
 *             self.handle_one_request()
 *
 *     def handle_one_request(self):
 *         try:
 *             self.raw_requestline = self.rfile.readline(65537)
 *             if len(self.raw_requestline) > 65536:  -> 414, with requestline,
 *                                                       request_version, command ''
 *             if not self.raw_requestline:           -> close_connection = True
 *             if not self.parse_request(): return    # an answer was sent
 *             mname = 'do_' + self.command; no such method -> 501
 *             method(); self.wfile.flush()
 *         except TimeoutError as e:
 *             self.log_error("Request timed out: %r", e); close_connection = True
 *
 * plus parse_request past the request line (request.c): the headers
 * (http.client's limits answered with 431), Connection, and Expect:
 * 100-continue.
 *
 * Beyond Python, keepalive_timeout: a connection that sends nothing of its
 * next request for that long is closed quietly. When the class has no
 * timeout (Python's None, the default) the keep-alive timeout simply is
 * the socket's receive timeout (SO_RCVTIMEO, set once per connection): a
 * read that times out before the first byte of a request is the idle
 * close, one that times out later in a request is Python's "Request timed
 * out". That costs nothing per request; a poll() before each request
 * instead, as a class with a timeout of its own needs (two different
 * timeouts), cost a syscall and a high-resolution timer per request.
 *
 * Before each request (the first too) is the one point where the
 * connection is idle and nothing lives but the socket and rfile's buffer.
 * There a class with park_idle hands the connection back to the strategy
 * when nothing of the request has arrived (park_now): the thread pool
 * keeps it in its poller and runs it again, in a new instance, when the
 * client speaks, so an idle connection holds no worker; where the strategy
 * cannot park, the handler waits as Python's does.
 */
#include "http-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Python's request_version '' after a 414. */
static const char empty[] = "";

/* The instance was allocated at the class's instance_size: if that is
 * smaller than an ancestor's, the ancestors' setup would write past its
 * end. */
static gboolean
check_instance_size (const SsHandlerClass *klass, GError **error)
{
  gsize size = ss_handler_class_instance_size (klass);

  for (const SsHandlerClass *k = klass; k != NULL; k = k->parent)
    if (k->instance_size > size)
      {
        g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                     "Handler class %s's instance (%" G_GSIZE_FORMAT " bytes) is smaller than its "
                     "parent %s's (%" G_GSIZE_FORMAT "): embed the parent's instance struct as its "
                     "first member",
                     klass->name != NULL ? klass->name : "(unnamed)", size,
                     k->name != NULL ? k->name : "(unnamed)", k->instance_size);
        return FALSE;
      }
  return TRUE;
}

gboolean
ss__http_setup (SsRequestHandler *handler, GError **error)
{
  SsBaseHTTPRequestHandler *self = (SsBaseHTTPRequestHandler *) handler;
  const SsHTTPHandlerClass *klass = (const SsHTTPHandlerClass *) handler->klass;
  SsHTTPHandlerClass vt;

  if (!check_instance_size (handler->klass, error))
    return FALSE;
  if (!ss__http_class_resolve (klass, &vt))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Handler class %s is not an HTTP handler class: derive it from "
                   "ss_base_http_request_handler_class (SS_DEFINE_HTTP_HANDLER_CLASS)",
                   handler->klass->name != NULL ? handler->klass->name : "(unnamed)");
      return FALSE;
    }
  self->priv = g_new0 (struct SsBaseHTTPRequestHandlerPrivate, 1);
  self->priv->vt = vt;
  if (!ss_stream_request_handler_class.setup (handler, error)) /* super() */
    return FALSE;
  if (vt.keepalive_timeout >= 0 && ss_handler_class_timeout (handler->klass) < 0)
    {
      double t = vt.keepalive_timeout;
      struct timeval tv = { .tv_sec = (time_t) t, .tv_usec = (suseconds_t) ((t - (double) (time_t) t) * 1e6) };

      if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1; /* 0 would mean "wait forever" */
      /* A resumed run's socket has it from the first run (a system call
       * per request). */
      if (!ss_request_resumed (handler->request)
          && setsockopt (self->parent.connection, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        {
          ss_set_error_from_errno (error, errno, "Setting the keep-alive timeout", NULL);
          return FALSE;
        }
      self->priv->idle_by_timeout = TRUE;
    }
  self->rfile = self->parent.rfile;
  self->wfile = self->parent.wfile;
  self->klass = klass;
  self->priv->raw_requestline = g_string_sized_new (128);
  self->priv->headers_buffer = g_string_sized_new (256);
  self->raw_requestline = self->priv->raw_requestline;
  self->request_version = SS__HTTP_VT (self)->default_request_version;
  self->requestline = empty;
  self->close_connection = TRUE;
  return TRUE;
}

/* What the previous request left: nothing survives into the next. */
static void
clear_request (SsBaseHTTPRequestHandler *self)
{
  struct SsBaseHTTPRequestHandlerPrivate *priv = self->priv;

  ss__request_line_reset (&priv->line);
  if (self->headers != NULL)
    ss__http_headers_reset (self->headers); /* kept for the next request */
  g_string_truncate (priv->raw_requestline, 0);
  g_string_truncate (priv->headers_buffer, 0);
  self->command = NULL;
  self->path = NULL;
  self->requestline = empty;
  self->request_version = SS__HTTP_VT (self)->default_request_version;
}

void
ss__http_dispose (SsRequestHandler *handler)
{
  SsBaseHTTPRequestHandler *self = (SsBaseHTTPRequestHandler *) handler;

  /* (An instance too small to be one was refused by setup: nothing of it
   * to touch here.) */
  if (ss_handler_class_instance_size (handler->klass) >= sizeof *self && self->priv != NULL)
    {
      ss__request_line_clear (&self->priv->line);
      g_clear_pointer (&self->headers, ss_http_headers_free);
      if (self->priv->headers_scratch != NULL)
        g_string_free (self->priv->headers_scratch, TRUE);
      if (self->priv->raw_requestline != NULL)
        g_string_free (self->priv->raw_requestline, TRUE);
      if (self->priv->headers_buffer != NULL)
        g_string_free (self->priv->headers_buffer, TRUE);
      g_free (self->priv->address);
      g_free (self->priv->version);
      if (self->priv->log_line != NULL)
        g_string_free (self->priv->log_line, TRUE);
      if (self->priv->log_message != NULL)
        g_string_free (self->priv->log_message, TRUE);
      g_clear_pointer (&self->priv, g_free);
    }
  ss_stream_request_handler_class.dispose (handler); /* super() */
}

/* Waits for the next request (keepalive_timeout). FALSE: the connection
 * stayed idle (or broke) and is to be closed without an answer. */
static gboolean
wait_for_request (SsBaseHTTPRequestHandler *self)
{
  double timeout = SS__HTTP_VT (self)->keepalive_timeout;
  struct pollfd pfd = { .fd = self->parent.connection, .events = POLLIN };
  int ms, r;

  if (timeout < 0 || self->priv->idle_by_timeout || ss_rfile_buffered (self->rfile) > 0)
    return TRUE;
  ms = timeout > G_MAXINT / 1000.0 ? G_MAXINT : (int) (timeout * 1000.0 + 0.5);
  /* (Where the strategy can park, park_now has handed an idle connection
   * back before this wait.) */
  do
    r = poll (&pfd, 1, ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

/* TRUE when the connection was parked: this run of the handler is over,
 * the connection lives on in the strategy. Asked only where the strategy
 * can park, so that elsewhere it costs nothing (worth_parking polls a new
 * connection). After a request it parks without a poll: a client that
 * pipelined its next request is run again at once by the poller. */
static gboolean
park_now (SsBaseHTTPRequestHandler *self)
{
  SsRequestHandler *handler = &self->parent.parent;
  SsServer *server = handler->server;
  double timeout = SS__HTTP_VT (self)->keepalive_timeout;

  if (!SS__HTTP_VT (self)->park_idle || server == NULL || server->strategy->ops->can_park == NULL
      || !server->strategy->ops->can_park (server->strategy, server)
      || !ss_rfile_worth_parking (self->rfile))
    return FALSE;
  return ss_server_park_request (server, handler->request, timeout >= 0 ? timeout : -1);
}

gboolean
ss__http_handle (SsRequestHandler *handler, GError **error)
{
  SsBaseHTTPRequestHandler *self = (SsBaseHTTPRequestHandler *) handler;

  self->close_connection = TRUE;
  do
    {
      if (park_now (self))
        return TRUE;
      if (!wait_for_request (self))
        {
          self->close_connection = TRUE;
          break;
        }
      if (!ss_http_handle_one_request (self, error))
        return FALSE;
    }
  while (!self->close_connection);
  return TRUE;
}

/* The do_ slot or methods entry for @command, or NULL (Python: no such
 * attribute). */
static SsHTTPMethod
find_method (SsBaseHTTPRequestHandler *self, const char *command)
{
  static const struct { const char *name; gsize offset; } named[] = {
    { "GET", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_GET) },
    { "HEAD", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_HEAD) },
    { "POST", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_POST) },
    { "PUT", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_PUT) },
    { "DELETE", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_DELETE) },
    { "OPTIONS", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_OPTIONS) },
    { "PATCH", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_PATCH) },
    { "TRACE", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_TRACE) },
    { "CONNECT", G_STRUCT_OFFSET (SsHTTPHandlerClass, do_CONNECT) },
  };
  const SsHandlerClass *k;

  for (gsize i = 0; i < G_N_ELEMENTS (named); i++)
    if (strcmp (command, named[i].name) == 0)
      return G_STRUCT_MEMBER (SsHTTPMethod, SS__HTTP_VT (self), named[i].offset);
  for (k = &self->klass->parent_class; k != NULL; k = k->parent)
    {
      const SsHTTPMethodEntry *m = ((const SsHTTPHandlerClass *) k)->methods;

      for (; m != NULL && m->command != NULL; m++)
        if (strcmp (command, m->command) == 0)
          return m->method;
      if (k == &ss_base_http_request_handler_class.parent_class)
        break;
    }
  return NULL;
}

gboolean
ss__http_unsupported_method (SsBaseHTTPRequestHandler *self, GError **error)
{
  g_autoptr (GString) message = g_string_new ("Unsupported method (");

  ss__py_repr (message, self->command != NULL ? self->command : "");
  g_string_append_c (message, ')');
  return ss_http_send_error (self, 501, message->str, NULL, error);
}

/* The body of Python's try: block. */
static gboolean
one_request (SsBaseHTTPRequestHandler *self, GError **error)
{
  GString *raw = self->priv->raw_requestline;
  SsHTTPMethod method;
  gboolean proceed;
  gboolean parsed;

  /* The request line and headers, however trickled, within header_timeout
   * of their first byte; the body is the method's. */
  ss_rfile_set_deadline (self->rfile, SS__HTTP_VT (self)->header_timeout);
  if (ss_rfile_readline (self->rfile, raw, SS_HTTP_MAXLINE + 1, error) < 0)
    return FALSE;
  if (raw->len > SS_HTTP_MAXLINE)
    {
      self->requestline = empty;
      self->request_version = empty;
      self->command = empty;
      return ss_http_send_error (self, 414, NULL, NULL, error);
    }
  if (raw->len == 0)
    {
      self->close_connection = TRUE;
      return TRUE;
    }
  parsed = ss_http_parse_request (self, &proceed, error);
  ss_rfile_set_deadline (self->rfile, -1);
  if (!parsed)
    return FALSE;
  if (!proceed)
    return TRUE; /* an error code has been sent, just exit */
  method = find_method (self, self->command);
  if (method == NULL)
    return ss__http_unsupported_method (self, error);
  if (!method (self, error))
    return FALSE;
  return ss_wfile_flush (self->wfile, error); /* actually send the response if not already done */
}

gboolean
ss__http_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error)
{
  GError *local = NULL;
  gboolean ok;

  clear_request (self);
  ok = one_request (self, &local);
  ss_rfile_set_deadline (self->rfile, -1); /* whichever way it ended */
  if (ok)
    return TRUE;
  if (g_error_matches (local, SS_ERROR, SS_ERROR_TIMED_OUT) && self->priv->idle_by_timeout
      && self->priv->raw_requestline->len == 0)
    {
      /* The keep-alive timeout: no request came. */
      self->close_connection = TRUE;
      g_error_free (local);
      return TRUE;
    }
  if (g_error_matches (local, SS_ERROR, SS_ERROR_TIMED_OUT))
    {
      /* A read or a write timed out: discard this connection. */
      ss_http_log_error (self, "Request timed out: %s", "TimeoutError('timed out')");
      self->close_connection = TRUE;
      g_error_free (local);
      return TRUE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

/* Python's conntype.lower() == 'close' on the Latin-1 str: only ASCII
 * letters lower-case into ASCII ones, so an ASCII comparison is the same. */
static gboolean
header_is (SsBaseHTTPRequestHandler *self, const char *name, const char *value)
{
  const char *got = ss_http_headers_get (self->headers, name);

  return got != NULL && g_ascii_strcasecmp (got, value) == 0;
}

gboolean
ss__http_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  struct SsBaseHTTPRequestHandlerPrivate *priv = self->priv;
  const char *protocol = SS__HTTP_VT (self)->protocol_version;
  GError *local = NULL;

  *proceed = FALSE;
  self->command = NULL;
  self->request_version = SS__HTTP_VT (self)->default_request_version;
  ss__request_line_parse (&priv->line, priv->raw_requestline->str, priv->raw_requestline->len,
                          protocol);
  self->requestline = priv->line.requestline;
  self->close_connection = priv->line.close_connection;
  if (priv->line.version != NULL)
    self->request_version = priv->line.version;
  if (priv->line.status == SS__REQUEST_LINE_EMPTY)
    return TRUE;
  if (priv->line.status == SS__REQUEST_LINE_ERROR)
    return ss_http_send_error (self, priv->line.error_code, priv->line.error_message, NULL, error);
  self->command = priv->line.command;
  self->path = priv->line.path;

  /* Examine the headers and look for a Connection directive. */
  if (self->headers == NULL)
    self->headers = ss_http_headers_new ();
  if (priv->headers_scratch == NULL)
    priv->headers_scratch = g_string_sized_new (512);
  if (!ss__http_parse_headers_into (self->headers, priv->headers_scratch, self->rfile, &local))
    {
      gboolean ok;

      if (local->domain != SS_HTTP_ERROR)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      ok = ss_http_send_error (self, 431,
                               local->code == SS_HTTP_ERROR_LINE_TOO_LONG ? "Line too long"
                                                                          : "Too many headers",
                               local->message, error);
      g_error_free (local);
      return ok;
    }
  if (header_is (self, "Connection", "close"))
    self->close_connection = TRUE;
  else if (header_is (self, "Connection", "keep-alive") && strcmp (protocol, "HTTP/1.1") >= 0)
    self->close_connection = FALSE;
  /* Examine the headers and look for an Expect directive. */
  if (header_is (self, "Expect", "100-continue") && strcmp (protocol, "HTTP/1.1") >= 0
      && strcmp (self->request_version, "HTTP/1.1") >= 0)
    return ss_http_handle_expect_100 (self, proceed, error);
  *proceed = TRUE;
  return TRUE;
}

/* Python's: send_response_only(100) and end_headers(). The headers are
 * held in wfile until the body's first write, and here no body follows
 * until the client sends its own: so they are flushed at once. */
gboolean
ss__http_handle_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  *proceed = FALSE;
  ss_http_send_response_only (self, 100, NULL);
  if (!ss_http_end_headers (self, error) || !ss_wfile_flush (self->wfile, error))
    return FALSE;
  *proceed = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------ dispatchers */

gboolean
ss_http_handle_one_request (SsBaseHTTPRequestHandler *self, GError **error)
{
  return SS__HTTP_VT (self)->handle_one_request (self, error);
}

gboolean
ss_http_parse_request (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  return SS__HTTP_VT (self)->parse_request (self, proceed, error);
}

gboolean
ss_http_handle_expect_100 (SsBaseHTTPRequestHandler *self, gboolean *proceed, GError **error)
{
  return SS__HTTP_VT (self)->handle_expect_100 (self, proceed, error);
}

const char *
ss_http_protocol_version (SsBaseHTTPRequestHandler *self)
{
  return SS__HTTP_VT (self)->protocol_version;
}

const char *
ss_http_server_version (SsBaseHTTPRequestHandler *self)
{
  return SS__HTTP_VT (self)->server_version;
}

/* ------------------------------------------------------------ the class */

const SsHTTPMethodEntry ss__http_no_methods[] = { { NULL, NULL } };

const SsHTTPHandlerClass ss_base_http_request_handler_class = {
  .parent_class.name = "BaseHTTPRequestHandler",
  .parent_class.parent = &ss_stream_request_handler_class,
  .parent_class.instance_size = sizeof (SsBaseHTTPRequestHandler),
  .parent_class.setup = ss__http_setup,
  .parent_class.dispose = ss__http_dispose,
  /* Python's class has no do_GET or do_HEAD: 501, as its getattr fails. */
  .do_GET = ss__http_unsupported_method,
  .do_HEAD = ss__http_unsupported_method,
  .server_version = "BaseHTTP/0.6",
  /* A Python handler instance lives as long as its connection. */
  .park_idle = FALSE,
  SS__HTTP_CLASS_COMMON,
};
