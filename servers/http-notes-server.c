/* http-notes-server: a small JSON API on BaseHTTPRequestHandler, ported
 * from the Python program a user would write (docs/http.md walks through
 * it):
 *
 *     import json, threading
 *     from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
 *
 *     notes, lock = {}, threading.Lock()
 *
 *     class NotesHandler(BaseHTTPRequestHandler):
 *         protocol_version = "HTTP/1.1"
 *
 *         def send_json(self, code, obj):
 *             body = json.dumps(obj).encode()
 *             self.send_response(code)
 *             self.send_header("Content-Type", "application/json")
 *             self.send_header("Content-Length", str(len(body)))
 *             self.end_headers()
 *             self.wfile.write(body)
 *
 *         def do_GET(self):
 *             if self.path == "/notes":
 *                 with lock: return self.send_json(200, {"notes": sorted(notes)})
 *             name = self.note_name()
 *             with lock: text = notes.get(name)
 *             if name is None or text is None:
 *                 return self.send_json(404, {"error": "no such note"})
 *             self.send_json(200, {"name": name, "text": text})
 *
 *         def do_PUT(self):
 *             name = self.note_name()
 *             length = int(self.headers.get("Content-Length", 0))
 *             text = self.rfile.read(length).decode()
 *             with lock: created = name not in notes; notes[name] = text
 *             self.send_json(201 if created else 200, {"name": name, "text": text})
 *
 *         def do_DELETE(self):
 *             with lock: found = notes.pop(self.note_name(), None) is not None
 *             self.send_json(200 if found else 404, {"deleted": found})
 *
 *         def note_name(self):       # "/notes/NAME" -> NAME
 *             prefix = "/notes/"
 *             rest = self.path[len(prefix):]
 *             return rest if self.path.startswith(prefix) and rest and "/" not in rest else None
 *
 *     ThreadingHTTPServer(("127.0.0.1", 8001), NotesHandler).serve_forever()
 *
 * The C keeps that shape: the handler struct embeds the base, each do_ is
 * a slot, send_json is a helper, the notes are a hash table behind a
 * pthread mutex. What C adds: a body that is too large or not UTF-8 is
 * refused with 413 or 400 (Python would raise), and the banner and
 * signals of ss-http-server.
 *
 *   http-notes-server [--bind ADDRESS] [PORT]     (default 127.0.0.1, 8001)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <socketserver/socketserver.h>
#include <socketserver/http.h>

#define MAX_NOTE 65536

static GHashTable *notes;  /* name -> text, both owned */
static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  SsBaseHTTPRequestHandler base;  /* first member */
} NotesHandler;

/* json.dumps of a str: quotes, backslashes and control characters escaped. */
static void
append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (; *s != '\0'; s++)
    {
      guchar c = (guchar) *s;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static gboolean
send_json (SsBaseHTTPRequestHandler *self, int code, const GString *body, GError **error)
{
  ss_http_send_response (self, code, NULL);
  ss_http_send_header (self, "Content-Type", "application/json");
  ss_http_send_header_printf (self, "Content-Length", "%" G_GSIZE_FORMAT, body->len);
  return ss_http_end_headers (self, error) && ss_wfile_write (self->wfile, body->str, body->len, error);
}

static gboolean
send_note (SsBaseHTTPRequestHandler *self, int code, const char *name, const char *text, GError **error)
{
  g_autoptr (GString) body = g_string_new ("{\"name\": ");

  append_json_string (body, name);
  g_string_append (body, ", \"text\": ");
  append_json_string (body, text);
  g_string_append_c (body, '}');
  return send_json (self, code, body, error);
}

static gboolean
send_message (SsBaseHTTPRequestHandler *self, int code, const char *key, const char *value,
              GError **error)
{
  g_autoptr (GString) body = g_string_new ("{");

  append_json_string (body, key);
  g_string_append_printf (body, ": %s}", value);
  return send_json (self, code, body, error);
}

/* "/notes/NAME" -> NAME (transfer full), or NULL. */
static char *
note_name (SsBaseHTTPRequestHandler *self)
{
  const char *prefix = "/notes/";
  const char *rest = self->path + strlen (prefix);

  if (!g_str_has_prefix (self->path, prefix) || *rest == '\0' || strchr (rest, '/') != NULL)
    return NULL;
  return g_strdup (rest);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
notes_do_GET (SsBaseHTTPRequestHandler *self, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;

  if (strcmp (self->path, "/notes") == 0)
    {
      g_autoptr (GString) body = g_string_new ("{\"notes\": [");
      g_autofree gpointer *names = NULL;
      guint n;

      pthread_mutex_lock (&notes_lock);
      names = g_hash_table_get_keys_as_array (notes, &n);
      qsort (names, n, sizeof *names, compare_names);
      for (guint i = 0; i < n; i++)
        {
          if (i > 0)
            g_string_append (body, ", ");
          append_json_string (body, names[i]);
        }
      pthread_mutex_unlock (&notes_lock);
      g_string_append (body, "]}");
      return send_json (self, 200, body, error);
    }
  name = note_name (self);
  pthread_mutex_lock (&notes_lock);
  text = name != NULL ? g_strdup (g_hash_table_lookup (notes, name)) : NULL;
  pthread_mutex_unlock (&notes_lock);
  if (text == NULL)
    return send_message (self, 404, "error", "\"no such note\"", error);
  return send_note (self, 200, name, text, error);
}

static gboolean
notes_do_PUT (SsBaseHTTPRequestHandler *self, GError **error)
{
  g_autofree char *name = note_name (self);
  const char *length_header = ss_http_headers_get (self->headers, "Content-Length");
  gsize length = length_header != NULL ? strtoul (length_header, NULL, 10) : 0;
  g_autofree char *text = NULL;
  gboolean created;
  gssize got;

  if (name == NULL)
    return send_message (self, 404, "error", "\"no such note\"", error);
  if (length > MAX_NOTE)
    return ss_http_send_error (self, 413, "A note holds at most 64 KiB", NULL, error);
  text = g_malloc (length + 1);
  got = ss_rfile_read (self->rfile, text, length, error);
  if (got < 0)
    return FALSE;
  if ((gsize) got != length)
    return ss_http_send_error (self, 400, "The body ended before Content-Length", NULL, error);
  text[length] = '\0';
  if (!g_utf8_validate (text, (gssize) length, NULL) || strlen (text) != length)
    return ss_http_send_error (self, 400, "A note is UTF-8 text", NULL, error);
  pthread_mutex_lock (&notes_lock);
  created = !g_hash_table_contains (notes, name);
  g_hash_table_replace (notes, g_strdup (name), g_strdup (text));
  pthread_mutex_unlock (&notes_lock);
  return send_note (self, created ? 201 : 200, name, text, error);
}

static gboolean
notes_do_DELETE (SsBaseHTTPRequestHandler *self, GError **error)
{
  g_autofree char *name = note_name (self);
  gboolean found;

  pthread_mutex_lock (&notes_lock);
  found = name != NULL && g_hash_table_remove (notes, name);
  pthread_mutex_unlock (&notes_lock);
  return send_message (self, found ? 200 : 404, "deleted", found ? "true" : "false", error);
}

SS_DEFINE_HTTP_HANDLER_CLASS (NotesHandler, notes_handler_class, ss_base_http_request_handler_class,
                              .do_GET = notes_do_GET, .do_PUT = notes_do_PUT,
                              .do_DELETE = notes_do_DELETE, .protocol_version = "HTTP/1.1",
                              .server_version = "NotesHTTP/1.0");

int
main (int argc, char **argv)
{
  g_autofree char *bind = NULL;
  int port = 8001;
  const GOptionEntry entries[] = {
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &bind, "address to bind (default 127.0.0.1)", "ADDRESS" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[PORT]");
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *host = NULL;
  SsServer *server;
  gboolean ok;

  g_option_context_set_summary (context, "A JSON notes API: GET /notes, GET/PUT/DELETE /notes/NAME.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 2
      || (argc == 2 && (port = atoi (argv[1])) < 0))
    {
      fprintf (stderr, "http-notes-server: %s\n", error != NULL ? error->message : "usage: [--bind ADDRESS] [PORT]");
      return 2;
    }
  address = g_strdup_printf (bind != NULL && strchr (bind, ':') != NULL ? "[%s]:%d" : "%s:%d",
                             bind != NULL ? bind : "127.0.0.1", port);
  notes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* ThreadingHTTPServer((host, port), NotesHandler) */
  server = ss_threading_http_server_new (address, &notes_handler_class, &error);
  if (server == NULL)
    {
      fprintf (stderr, "http-notes-server: %s\n", error->message);
      return 1;
    }
  host = ss_address_host_string (&server->server_address);
  printf ("Serving HTTP on %s port %u ...\n", host, ss_server_port (server));
  fflush (stdout);
  ok = ss_server_serve_until_signalled (server, 0.5, &error);
  ss_server_free (server);
  g_hash_table_destroy (notes);
  if (!ok)
    {
      fprintf (stderr, "http-notes-server: %s\n", error->message);
      return 1;
    }
  return 0;
}
