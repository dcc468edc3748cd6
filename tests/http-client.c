/* http-client.c: the http tests' client and fixtures (http-client.h). */
#include "config.h"
#include "http-client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <glib/gstdio.h>

void
http_response_free (HttpResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->status_line);
  ss_http_headers_free (r->headers);
  g_string_free (r->body, TRUE);
  g_free (r);
}

int
http_connect (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = 10 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ck_assert_msg (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0, "connect: %s", g_strerror (errno));
  return fd;
}

/* One byte at a time up to "\r\n\r\n": the rest stays in the socket for
 * the next response. */
static GString *
read_head (int fd)
{
  GString *head = g_string_new (NULL);
  char c;

  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      ssize_t n = recv (fd, &c, 1, 0);

      if (n < 0 && errno == EINTR)
        continue;
      ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
      if (n == 0)
        break;
      g_string_append_c (head, c);
    }
  return head;
}

HttpResponse *
http_read_response (int fd, gboolean head_request)
{
  g_autoptr (GString) head = read_head (fd);
  HttpResponse *r;
  const char *eol;
  const char *length;

  if (head->len == 0)
    return NULL;
  ck_assert_msg (g_str_has_suffix (head->str, "\r\n\r\n"), "cut off: %s", head->str);
  r = g_new0 (HttpResponse, 1);
  eol = strstr (head->str, "\r\n");
  r->status_line = g_strndup (head->str, (gsize) (eol - head->str));
  ck_assert_msg (g_str_has_prefix (r->status_line, "HTTP/1."), "status line: %s", r->status_line);
  r->status = atoi (r->status_line + 9);
  r->headers = ss_http_headers_new ();
  ss_http_headers_parse_bytes (r->headers, eol + 2, head->len - (gsize) (eol + 2 - head->str));
  r->body = g_string_new (NULL);
  r->raw_len = head->len;
  length = ss_http_headers_get (r->headers, "Content-Length");
  if (head_request || r->status < 200 || r->status == 204 || r->status == 304)
    return r;
  if (length != NULL)
    {
      gsize want = strtoull (length, NULL, 10);
      char buf[65536];

      while (r->body->len < want)
        {
          ssize_t n = recv (fd, buf, MIN (sizeof buf, want - r->body->len), 0);

          if (n < 0 && errno == EINTR)
            continue;
          ck_assert_msg (n > 0, "body cut off after %zu of %zu bytes", r->body->len, want);
          g_string_append_len (r->body, buf, n);
        }
    }
  else
    {
      GString *rest = test_recv_all (fd, 64 * 1024 * 1024);

      g_string_append_len (r->body, rest->str, (gssize) rest->len);
      g_string_free (rest, TRUE);
    }
  r->raw_len += r->body->len;
  return r;
}

HttpResponse *
http_request (guint16 port, const char *request)
{
  int fd = http_connect (port);
  HttpResponse *r;

  test_send_all (fd, request, strlen (request));
  r = http_read_response (fd, g_str_has_prefix (request, "HEAD "));
  close (fd);
  ck_assert_msg (r != NULL, "no response to %s", request);
  return r;
}

HttpResponse *
http_get (guint16 port, const char *path, const char *headers)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.0\r\n%s\r\n", path, headers);

  return http_request (port, request);
}

gboolean
http_closed_within (int fd, double timeout_s)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char c;

  if (poll (&pfd, 1, (int) (timeout_s * 1000)) <= 0)
    return FALSE;
  return recv (fd, &c, 1, MSG_DONTWAIT) == 0;
}

void
http_quiet_log (SsBaseHTTPRequestHandler *self, const char *message)
{
}

void
http_simple_class_init (SsHTTPHandlerClass *klass, const char *name, const char *directory,
                        const char *protocol)
{
  ss_http_handler_class_init (klass, name, &ss_simple_http_request_handler_class, 0);
  klass->directory = directory;
  klass->protocol_version = protocol;
  klass->log_message = http_quiet_log;
}

char *
http_make_tree (void)
{
  char *dir = g_dir_make_tmp ("ss-http-XXXXXX", NULL);

  ck_assert_ptr_nonnull (dir);
  return dir;
}

void
http_remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        http_remove_tree (child);
      else
        g_unlink (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

void
http_write_file (const char *dir, const char *name, const char *data, gssize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  ck_assert (g_file_set_contents (path, data, len, NULL));
}

TestServer *
http_serve (const SsHTTPHandlerClass *klass, const char *strategy)
{
  GError *error = NULL;
  SsServer *server = ss_http_server_new ("127.0.0.1:0", klass, test_strategy (strategy), &error);

  ck_assert_msg (server != NULL, "server: %s", error != NULL ? error->message : "?");
  return test_server_start (server);
}

guint16
http_port (TestServer *ts)
{
  return ((SsHTTPServer *) ts->server)->server_port;
}

/* ------------------------------------------------------------ socketless exchanges */

void
exchange_free (Exchange *x)
{
  g_string_free (x->raw, TRUE);
  g_ptr_array_unref (x->lines);
  g_free (x->error);
  g_free (x);
}

/* Runs @klass on one connection that carries @len bytes of @request and
 * then EOF; returns everything sent back. */
Exchange *
exchange_len (const SsHTTPHandlerClass *klass, const char *request, gsize len)
{
  Exchange *x = g_new0 (Exchange, 1);
  SsAddress client = { 0 };
  SsRequest *req;
  GError *error = NULL;
  int sv[2];
  gsize start = 0;

  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  /* A peer that looks like Python's ('127.0.0.1', 1337) in the log. */
  ((struct sockaddr_in *) &client.storage)->sin_family = AF_INET;
  ((struct sockaddr_in *) &client.storage)->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ((struct sockaddr_in *) &client.storage)->sin_port = htons (1337);
  client.len = sizeof (struct sockaddr_in);
  test_send_all (sv[1], request, len);
  shutdown (sv[1], SHUT_WR);
  req = ss_request_new_stream (sv[0], &client);
  x->ok = ss_handler_run (&klass->parent_class, NULL, req, &error);
  if (error != NULL)
    x->error = g_strdup (error->message);
  g_clear_error (&error);
  ss_request_free (req);
  close (sv[0]);
  x->raw = test_recv_all (sv[1], 16 * 1024 * 1024);
  close (sv[1]);
  x->lines = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < x->raw->len; i++)
    if (x->raw->str[i] == '\n' || i + 1 == x->raw->len)
      {
        g_ptr_array_add (x->lines, g_strndup (x->raw->str + start, i + 1 - start));
        start = i + 1;
      }
  return x;
}

Exchange *
exchange (const SsHTTPHandlerClass *klass, const char *request)
{
  return exchange_len (klass, request, strlen (request));
}

const char *
line (const Exchange *x, guint i)
{
  ck_assert_msg (i < x->lines->len, "line %u of an answer of %u lines:\n%s", i, x->lines->len, x->raw->str);
  return x->lines->pdata[i];
}

/* How many header lines from @from (up to the empty line) start with @prefix. */
guint
count_headers (const Exchange *x, guint from, const char *prefix)
{
  guint n = 0;

  for (guint i = from; i < x->lines->len && strcmp (line (x, i), "\r\n") != 0; i++)
    n += g_str_has_prefix (line (x, i), prefix);
  return n;
}

/* Python's verify_expected_headers: one Server, one Date, one Content-Type. */
void
assert_expected_headers (const Exchange *x, guint from)
{
  ck_assert_uint_eq (count_headers (x, from, "Server: "), 1);
  ck_assert_uint_eq (count_headers (x, from, "Date: "), 1);
  ck_assert_uint_eq (count_headers (x, from, "Content-Type: "), 1);
}

/* The value of header @name in the first response of @x, or NULL. */
char *
header_value (const Exchange *x, const char *name)
{
  g_autofree char *prefix = g_strdup_printf ("%s: ", name);

  for (guint i = 1; i < x->lines->len && strcmp (line (x, i), "\r\n") != 0; i++)
    if (g_ascii_strncasecmp (line (x, i), prefix, strlen (prefix)) == 0)
      return g_strndup (line (x, i) + strlen (prefix), strlen (line (x, i)) - strlen (prefix) - 2);
  return NULL;
}

const char *
body_of (const Exchange *x)
{
  const char *end = strstr (x->raw->str, "\r\n\r\n");

  return end != NULL ? end + 4 : "";
}

/* ------------------------------------------------------------ stderr */

static int saved_stderr = -1;
static char *stderr_path;

void
capture_stderr (void)
{
  int fd;

  stderr_path = test_tmp_path ("stderr");
  fd = open (stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge (fd, 0);
  saved_stderr = dup (STDERR_FILENO);
  dup2 (fd, STDERR_FILENO);
  close (fd);
}

char *
captured_stderr (void)
{
  char *text = NULL;

  dup2 (saved_stderr, STDERR_FILENO);
  close (saved_stderr);
  ck_assert (g_file_get_contents (stderr_path, &text, NULL, NULL));
  g_clear_pointer (&stderr_path, g_free);
  return text;
}
