/* kv-server: a line-based key-value store with state shared across threads.
 *
 * The kind of server people write with socketserver once they outgrow the
 * echo examples: a ThreadingTCPServer whose handlers all read and write
 * one dictionary, guarded by a lock, as a Python user writes it:
 *
 *     import socketserver, threading
 *
 *     store = {}
 *     lock = threading.Lock()
 *
 *     class KVHandler(socketserver.StreamRequestHandler):
 *         def handle(self):
 *             for raw in self.rfile:
 *                 words = raw.decode('utf-8', 'replace').split(maxsplit=2)
 *                 if not words:
 *                     continue
 *                 cmd, args = words[0].upper(), words[1:]
 *                 with lock:
 *                     if cmd == 'SET' and len(args) == 2:
 *                         store[args[0]] = args[1]
 *                         reply = 'OK'
 *                     elif cmd == 'GET' and len(args) == 1:
 *                         reply = 'VALUE ' + store[args[0]] if args[0] in store else 'NOT_FOUND'
 *                     elif cmd == 'DEL' and len(args) == 1:
 *                         reply = 'DELETED' if store.pop(args[0], None) is not None else 'NOT_FOUND'
 *                     elif cmd == 'COUNT' and not args:
 *                         reply = str(len(store))
 *                     else:
 *                         reply = 'ERROR unknown command or wrong arguments'
 *                 self.wfile.write((reply + '\n').encode('utf-8'))
 *
 *     class KVServer(socketserver.ThreadingTCPServer):
 *         allow_reuse_address = True
 *         daemon_threads = True
 *
 *     with KVServer(('localhost', 7878), KVHandler) as server:
 *         server.serve_forever()
 *
 * Porting notes: the dictionary is a GHashTable and the lock a pthread
 * mutex, taken around each command exactly where Python's `with lock:`
 * is; the handler never holds it while it reads or writes the socket, so a
 * slow client never stalls the others. A line is read with a limit (4 KiB)
 * where Python's `for raw in self.rfile` has none, so a client cannot make
 * the server hold an endless line. daemon_threads maps to
 * ss_threading_strategy_set_daemon_threads.
 *
 * Usage: kv-server [HOST:PORT]   (default "localhost:7878"; tests pass
 * "127.0.0.1:0"). The first stdout line is the banner with the real port;
 * SIGINT or SIGTERM stop it.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <socketserver/socketserver.h>

#define KV_LINE_LIMIT 4096

static GHashTable *store;                 /* (lock) key -> value, both owned */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* One command, under the lock; returns the reply (transfer full). */
static char *
run_command (char **words)
{
  guint n = g_strv_length (words);
  g_autofree char *cmd = n > 0 ? g_ascii_strup (words[0], -1) : NULL;
  char *reply;

  pthread_mutex_lock (&lock);
  if (g_strcmp0 (cmd, "SET") == 0 && n == 3)
    {
      g_hash_table_replace (store, g_strdup (words[1]), g_strdup (words[2]));
      reply = g_strdup ("OK");
    }
  else if (g_strcmp0 (cmd, "GET") == 0 && n == 2)
    {
      const char *value = g_hash_table_lookup (store, words[1]);

      reply = value != NULL ? g_strconcat ("VALUE ", value, NULL) : g_strdup ("NOT_FOUND");
    }
  else if (g_strcmp0 (cmd, "DEL") == 0 && n == 2)
    reply = g_strdup (g_hash_table_remove (store, words[1]) ? "DELETED" : "NOT_FOUND");
  else if (g_strcmp0 (cmd, "COUNT") == 0 && n == 1)
    reply = g_strdup_printf ("%u", g_hash_table_size (store));
  else
    reply = g_strdup ("ERROR unknown command or wrong arguments");
  pthread_mutex_unlock (&lock);
  return reply;
}

/* str.split(maxsplit=2): at most three words, the last keeping its inner
 * spaces. Returns: (transfer full) a NULL-terminated vector. */
static char **
split_words (const char *line)
{
  GPtrArray *words = g_ptr_array_new ();
  const char *p = line;

  while (*p != '\0')
    {
      const char *start;

      while (g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;
      if (words->len == 2)
        {
          /* The rest, without its trailing whitespace. */
          const char *end = p + strlen (p);

          while (end > p && g_ascii_isspace (end[-1]))
            end--;
          g_ptr_array_add (words, g_strndup (p, (gsize) (end - p)));
          break;
        }
      start = p;
      while (*p != '\0' && !g_ascii_isspace (*p))
        p++;
      g_ptr_array_add (words, g_strndup (start, (gsize) (p - start)));
    }
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (words, FALSE);
}

static gboolean
kv_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) raw = g_string_new (NULL);

  for (;;)
    {
      g_auto (GStrv) words = NULL;
      g_autofree char *reply = NULL;
      gssize got;

      g_string_truncate (raw, 0);
      got = ss_rfile_readline (self->rfile, raw, KV_LINE_LIMIT, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        return TRUE;
      words = split_words (raw->str);
      if (words[0] == NULL)
        continue;
      reply = run_command (words);
      if (!ss_wfile_printf (self->wfile, error, "%s\n", reply))
        return FALSE;
    }
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, kv_handler_class,
                         ss_stream_request_handler_class,
                         .handle = kv_handle);

int
main (int argc, char **argv)
{
  const char *address = argc > 1 ? argv[1] : "localhost:7878";
  GError *error = NULL;
  SsStrategy *threading;
  SsServer *server;
  char *banner;
  gboolean ok;

  if (argc > 2)
    {
      fprintf (stderr, "usage: %s [HOST:PORT]\n", argv[0]);
      return 2;
    }
  store = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* class KVServer(ThreadingTCPServer): allow_reuse_address = True,
   * daemon_threads = True -- set before bind, as Python's class attributes are. */
  threading = ss_threading_strategy_new ();
  ss_threading_strategy_set_daemon_threads (threading, TRUE);
  server = ss_server_new (&ss_tcp_server_class, address, &kv_handler_class, threading, FALSE,
                          &error);
  if (server != NULL)
    {
      server->allow_reuse_address = TRUE;
      if (!ss_server_server_bind (server, &error) || !ss_server_server_activate (server, &error))
        g_clear_pointer (&server, ss_server_free);
    }
  if (server == NULL)
    {
      fprintf (stderr, "kv-server: %s\n", error->message);
      g_error_free (error);
      g_hash_table_unref (store);
      return 1;
    }
  banner = ss_server_banner (server);
  printf ("%s\n", banner);
  fflush (stdout);
  g_free (banner);

  ok = ss_server_serve_until_signalled (server, 0.5, &error);
  if (!ok)
    {
      fprintf (stderr, "kv-server: %s\n", error->message);
      g_error_free (error);
    }
  ss_server_free (server);
  g_hash_table_unref (store);
  return ok ? 0 : 1;
}
