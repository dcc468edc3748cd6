/* http-client.h: what the http tests share -- a test folder, a server on
 * it in a thread, and a plain HTTP/1.x client over loopback.
 *
 * The client is deliberately dumb (one socket, blocking, 10 s timeouts,
 * responses cut by Content-Length or EOF) so that a failure points at the
 * server, not at a client library.
 */
#pragma once

#include "helpers.h"

#include <glib/gstdio.h>
#include <socketserver/http.h>

/* A parsed response. */
typedef struct {
  int status;
  char *status_line;      /* without CRLF */
  SsHTTPHeaders *headers;
  GString *body;
  gsize raw_len;          /* bytes this response took on the wire */
} HttpResponse;

void http_response_free (HttpResponse *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpResponse, http_response_free)

/* Opens a connection to 127.0.0.1:@port (10 s timeouts). */
int http_connect (guint16 port);

/* Reads one response from @fd: headers, then Content-Length bytes of body,
 * or to EOF when there is none (not for HEAD, 1xx, 204, 304: @head says
 * whether the request was a HEAD). NULL when the connection closed first. */
HttpResponse *http_read_response (int fd, gboolean head);

/* Sends @request on a new connection and reads one response, then closes. */
HttpResponse *http_request (guint16 port, const char *request);

/* GET @path over HTTP/1.0 with the extra header lines @headers ("" or
 * "Name: value\r\n..."). */
HttpResponse *http_get (guint16 port, const char *path, const char *headers);

/* TRUE when the server closed @fd (EOF within @timeout_s, no data). */
gboolean http_closed_within (int fd, double timeout_s);

/* A log_message that says nothing. */
void http_quiet_log (SsBaseHTTPRequestHandler *self, const char *message);

/* @klass: a SimpleHTTPRequestHandler named @name serving @directory with
 * @protocol, logging nothing. */
void http_simple_class_init (SsHTTPHandlerClass *klass, const char *name, const char *directory,
                             const char *protocol);

/* A fresh folder (transfer full); removed with everything in it by
 * http_remove_tree. */
char *http_make_tree (void);
void http_remove_tree (const char *path);
void http_write_file (const char *dir, const char *name, const char *data, gssize len);

/* What a request produced: the bytes sent back, the handler's view. */
typedef struct {
  GString *raw;
  GPtrArray *lines;     /* raw split after each "\n", as BytesIO.readlines() */
  gboolean ok;
  char *error;
} Exchange;

void exchange_free (Exchange *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Exchange, exchange_free)

/* Runs @klass on one connection (a Unix socketpair, no server) that
 * carries @len bytes of @request and then EOF, as Python's socketless
 * tests hand a handler a BytesIO; returns everything sent back. The peer
 * looks like 127.0.0.1 port 1337. */
Exchange *exchange_len (const SsHTTPHandlerClass *klass, const char *request, gsize len);
Exchange *exchange (const SsHTTPHandlerClass *klass, const char *request);
/* Line @i of the answer (asserted to exist), as BytesIO.readlines(). */
const char *line (const Exchange *x, guint i);
/* How many header lines from line @from up to the empty one start with @prefix. */
guint count_headers (const Exchange *x, guint from, const char *prefix);
/* Python's verify_expected_headers: one Server, one Date, one Content-Type. */
void assert_expected_headers (const Exchange *x, guint from);
/* The value of header @name in the first answer, or NULL (transfer full). */
char *header_value (const Exchange *x, const char *name);
/* What follows the first empty line. */
const char *body_of (const Exchange *x);

/* Points stderr at a temporary file until captured_stderr, which gives
 * what was written (transfer full). A forked check case ends it anyway. */
void capture_stderr (void);
char *captured_stderr (void);

/* Serves @klass (an HTTP handler class) on 127.0.0.1:0 with @strategy. */
TestServer *http_serve (const SsHTTPHandlerClass *klass, const char *strategy);
guint16 http_port (TestServer *ts);
