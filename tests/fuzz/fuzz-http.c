/* fuzz-http.c: libFuzzer target for http.server's request parsing.
 *
 * Each input goes through four doors, each with its own invariants
 * (abort() on violation):
 * - the request line parser (handlers/http/request.c) on the bytes up to
 *   the first LF: an OK line has a command, a path that does not start
 *   with "//", a version; an error is 400 or 505 with a message; every
 *   string is valid UTF-8 (the Latin-1 reading of the bytes); the request
 *   line has no CR or LF at its end; translate_path of the path stays in
 *   the directory (it starts with it, and no component is "..");
 * - the header parser on the rest: every name is non-empty and made of
 *   the characters headerRE allows, every value valid UTF-8, every name
 *   found again by get();
 * - the whole input as a client's bytes to a SimpleHTTPRequestHandler
 *   (HTTP/1.1, keep-alive: pipelined requests all run) serving a small
 *   folder, over a Unix socketpair whose other end a thread drains: the
 *   handler must return, and what it sends must begin with a status line
 *   or be an HTTP/0.9 answer (a body alone).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <socketserver/socketserver.h>
#include <socketserver/http.h>
#include "http/http-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort (); } while (0)

static char *directory;
static SsHTTPHandlerClass handler_class;

static void
quiet_log (SsBaseHTTPRequestHandler *self, const char *message)
{
  CHECK (message != NULL);
}

static void
quiet_glib (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
}

static void
make_directory (void)
{
  g_autofree char *sub = NULL;

  directory = g_dir_make_tmp ("fuzz-http-XXXXXX", NULL);
  CHECK (directory != NULL);
  sub = g_build_filename (directory, "sub", NULL);
  CHECK (g_mkdir (sub, 0755) == 0);
  {
    g_autofree char *a = g_build_filename (directory, "a.txt", NULL);
    g_autofree char *b = g_build_filename (sub, "index.html", NULL);

    CHECK (g_file_set_contents (a, "0123456789abcdef", -1, NULL));
    CHECK (g_file_set_contents (b, "<p>index</p>", -1, NULL));
  }
  ss_http_handler_class_init (&handler_class, "FuzzHandler", &ss_simple_http_request_handler_class, 0);
  handler_class.directory = directory;
  handler_class.protocol_version = "HTTP/1.1";
  handler_class.log_message = quiet_log;
}

static void
check_request_line (const char *raw, gsize len)
{
  SsRequestLine line = { 0 };

  ss__request_line_parse (&line, raw, len, "HTTP/1.1");
  CHECK (g_utf8_validate (line.requestline, -1, NULL));
  /* (A NUL cuts the C string short: Python's requestline goes on.) */
  if (*line.requestline != '\0' && memchr (raw, '\0', len) == NULL)
    CHECK (!g_str_has_suffix (line.requestline, "\r") && !g_str_has_suffix (line.requestline, "\n"));
  switch (line.status)
    {
    case SS__REQUEST_LINE_OK:
      CHECK (line.command != NULL && line.path != NULL && *line.command != '\0');
      CHECK (g_utf8_validate (line.command, -1, NULL) && g_utf8_validate (line.path, -1, NULL));
      CHECK (!g_str_has_prefix (line.path, "//"));
      CHECK (line.error_message == NULL);
      if (line.version != NULL)
        CHECK (g_str_has_prefix (line.version, "HTTP/"));
      {
        g_autofree char *path = ss_http_translate_path_in ("/srv/dir", line.path);

        if (path != NULL)
          {
            CHECK (g_str_has_prefix (path, "/srv/dir"));
            CHECK (path[8] == '\0' || path[8] == '/');
            CHECK (strstr (path, "/../") == NULL && !g_str_has_suffix (path, "/.."));
          }
      }
      break;
    case SS__REQUEST_LINE_ERROR:
      CHECK (line.error_code == 400 || line.error_code == 505);
      CHECK (line.error_message != NULL && g_utf8_validate (line.error_message, -1, NULL));
      CHECK (line.command == NULL && line.path == NULL);
      break;
    case SS__REQUEST_LINE_EMPTY:
      CHECK (line.command == NULL && line.error_message == NULL);
      break;
    default:
      abort ();
    }
  ss__request_line_clear (&line);
}

static void
check_headers (const char *text, gsize len)
{
  g_autoptr (SsHTTPHeaders) headers = ss_http_headers_new ();
  g_autoptr (SsRFile) rfile = ss_rfile_new_memory ((const guint8 *) text, len);
  g_autoptr (SsHTTPHeaders) read = NULL;
  GError *error = NULL;

  ss_http_headers_parse_bytes (headers, text, len);
  for (guint i = 0; i < ss_http_headers_size (headers); i++)
    {
      const char *name = ss_http_headers_nth_name (headers, i);
      const char *value = ss_http_headers_nth_value (headers, i);

      CHECK (*name != '\0');
      for (const char *p = name; *p != '\0'; p++)
        CHECK ((guchar) *p >= 0x21 && (guchar) *p <= 0x7e && *p != ':');
      CHECK (g_utf8_validate (value, -1, NULL));
      CHECK (ss_http_headers_get (headers, name) != NULL);
    }
  read = ss_http_parse_headers (rfile, &error);
  CHECK ((read == NULL) == (error != NULL));
  if (error != NULL)
    {
      CHECK (error->domain == SS_HTTP_ERROR);
      g_error_free (error);
    }
}

typedef struct {
  int fd;
  GString *got;
} Drain;

static gpointer
drain (gpointer data)
{
  Drain *d = data;
  char buf[65536];
  ssize_t n;

  while ((n = recv (d->fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (d->got, buf, n);
  return NULL;
}

static void
run_handler (const uint8_t *data, size_t size)
{
  SsAddress client = { .len = sizeof (sa_family_t) };
  Drain d;
  GThread *thread;
  SsRequest *request;
  GError *error = NULL;
  int sv[2];
  int big = 4 * 1024 * 1024;

  client.storage.ss_family = AF_UNIX;
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  setsockopt (sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  /* The request in first, then EOF: the handler never waits for more. */
  for (size_t sent = 0; sent < size;)
    {
      ssize_t n = send (sv[1], data + sent, size - sent, MSG_NOSIGNAL);

      CHECK (n > 0);
      sent += (size_t) n;
    }
  shutdown (sv[1], SHUT_WR);
  d.fd = sv[1];
  d.got = g_string_new (NULL);
  thread = g_thread_new ("drain", drain, &d);
  request = ss_request_new_stream (sv[0], &client);
  (void) ss_handler_run (&handler_class.parent_class, NULL, request, &error);
  g_clear_error (&error);
  ss_request_free (request);
  close (sv[0]);
  g_thread_join (thread);
  close (sv[1]);
  /* The first answer has a status line, or is an HTTP/0.9 one: a body
   * alone, which here is an error page or listing, a.txt or the index. */
  CHECK (d.got->len == 0 || g_str_has_prefix (d.got->str, "HTTP/1.1 ")
         || g_str_has_prefix (d.got->str, "<!DOCTYPE HTML>\n")
         || g_str_has_prefix (d.got->str, "0123456789abcdef") || g_str_has_prefix (d.got->str, "<p>index</p>"));
  g_string_free (d.got, TRUE);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  const char *lf;
  gsize line_len;

  if (directory == NULL)
    {
      g_log_set_default_handler (quiet_glib, NULL);
      make_directory ();
    }
  lf = memchr (text, '\n', size);
  line_len = lf != NULL ? (gsize) (lf - text) + 1 : size;
  check_request_line (text, line_len);
  check_headers (text + line_len, size - line_len);
  run_handler (data, size);
  return 0;
}
