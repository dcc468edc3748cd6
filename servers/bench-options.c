/* bench-options.c: ss-bench's command line -- its options, their
 * defaults, and every check that makes a wrong one a usage error (exit 2,
 * one "ss-bench: ..." line) before anything is bound, forked or loaded.
 *
 * The command line is a contract (servers/README.md): options are added,
 * never changed, and each has its entry in docs/man/ss-bench.1
 * (tests/test-manpages.sh compares it with --help).
 */
#include "config.h"

#define SS_CLI_PROGRAM "ss-bench"
#include "cli.h"

#include "ss-bench.h"

#define DEFAULT_PORT         8123
#define DEFAULT_PACKET_SIZE  16384
#define DEFAULT_CONNECT_CLIENTS 100

static gboolean
parse_command_line (int argc, char **argv, Options *o, GError **error)
{
  GOptionEntry entries[] = {
    SS_CLI_VERSION_ENTRY,
    { "server", 0, 0, G_OPTION_ARG_STRING, &o->server,
      "sync, threading, threadpooling, forking, preforking, or all (default threadpooling)", "NAME" },
    { "n-clients", 0, 0, G_OPTION_ARG_INT, &o->n_clients, "concurrent clients; 0 = serve only (default)", "N" },
    { "port", 0, 0, G_OPTION_ARG_INT, &o->port, "TCP port on 127.0.0.1 (default 8123; 0 = a free one)", "P" },
    { "packet-size", 0, 0, G_OPTION_ARG_INT, &o->packet_size, "bytes per reply (default 16384)", "B" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &o->duration,
      "seconds of load (default 10; 3 per strategy with --server=all)", "S" },
    { "min-workers", 0, 0, G_OPTION_ARG_INT, &o->min_workers,
      "thread or process pool minimum (default 2)", "N" },
    { "max-workers", 0, 0, G_OPTION_ARG_INT, &o->max_workers,
      "thread or process pool maximum (default 200)", "N" },
    { "min-spare-workers", 0, 0, G_OPTION_ARG_INT, &o->min_spare_workers,
      "idle workers kept (default 20; preforking keeps at most min + this idle at rest)", "N" },
    { "max-children", 0, 0, G_OPTION_ARG_INT, &o->max_children,
      "forking: children alive at once before the server waits (default 40, Python's)", "N" },
    { "trace-pool", 0, 0, G_OPTION_ARG_FILENAME, &o->trace_pool,
      "write samples (time, clients, workers, busy, queued) to FILE (default none)", "FILE" },
    { "connect", 0, 0, G_OPTION_ARG_STRING, &o->connect,
      "client only: load the server at HOST:PORT with 100 clients unless --n-clients says "
      "(default: serve in this process)", "HOST:PORT" },
    { "server-pid", 0, 0, G_OPTION_ARG_INT, &o->server_pid,
      "with --connect: sample this process's threads and children (default none)", "PID" },
    { "ramp", 0, 0, G_OPTION_ARG_NONE, &o->ramp, "clients rise 0 -> N -> 0 over the run (default off: N from the start)", NULL },
    { "handler-delay", 0, 0, G_OPTION_ARG_DOUBLE, &o->handler_delay_ms,
      "the handler waits MS milliseconds before replying (simulated I/O; default 0)", "MS" },
    { "client-threads", 0, 0, G_OPTION_ARG_INT, &o->client_threads, "client epoll loops (default 2)", "N" },
    { "tls", 0, 0, G_OPTION_ARG_NONE, &o->tls,
      "serve over TLS (a full handshake per connection; needs --tls-cert; load it with bench/tls-load)", NULL },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert, "--tls: the certificate chain (PEM; default: none)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key,
      "--tls: its private key (PEM; default: in the --tls-cert file)", "FILE" },
    { "drain-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->drain_timeout,
      "serve only: on SIGINT/SIGTERM serve the open connections for at most S seconds more "
      "(default 10; -1 = as long as they take); SIGUSR1 prints a stats line on stderr", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- the 2008 post's socketserver benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Serves packet-size bytes per connection; with --n-clients also runs the\n"
    "load and prints replies/s, latency, errors and the server's peak workers.\n"
    "Example (the README's demo): ss-bench --server=all --n-clients=100 --port=0");
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;

#define CHECK(cond, ...) \
  if (!(cond)) { g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, __VA_ARGS__); return FALSE; }
  CHECK (argc == 1, "unexpected argument \"%s\"; see --help", argc > 1 ? argv[1] : "");
  CHECK (o->port >= 0 && o->port <= 65535, "--port=%d is out of range: use 0..65535", o->port);
  CHECK (o->n_clients >= 0 && o->n_clients <= 100000, "--n-clients=%d: use 0..100000", o->n_clients);
  CHECK (o->packet_size > 0 && o->packet_size <= 64 << 20, "--packet-size=%d: use 1..67108864", o->packet_size);
  CHECK (o->duration < 0 || (o->duration > 0 && o->duration <= 86400),
         "--duration=%g: use a number of seconds above 0", o->duration);
  CHECK (o->min_workers >= 0 && o->max_workers > 0 && o->min_spare_workers >= 0
         && o->min_workers <= o->max_workers,
         "--min-workers=%d --max-workers=%d --min-spare-workers=%d: need 0 <= min <= max and max > 0",
         o->min_workers, o->max_workers, o->min_spare_workers);
  CHECK (o->max_children > 0, "--max-children=%d: use 1 or more", o->max_children);
  CHECK (o->client_threads > 0 && o->client_threads <= 64, "--client-threads=%d: use 1..64", o->client_threads);
  CHECK (o->handler_delay_ms >= 0 && o->handler_delay_ms <= 60000,
         "--handler-delay=%g: use 0..60000 milliseconds", o->handler_delay_ms);
  CHECK (o->drain_timeout >= 0 || o->drain_timeout == -1,
         "--drain-timeout=%g: use 0 or more seconds, or -1 for no limit", o->drain_timeout);
  CHECK (o->server_pid >= 0, "--server-pid=%d is not a process id", o->server_pid);
  CHECK (o->server_pid == 0 || o->connect != NULL, "--server-pid needs --connect");
  CHECK (!o->tls || o->tls_cert != NULL, "--tls needs --tls-cert=FILE (and --tls-key=FILE)");
  CHECK ((o->tls_cert == NULL && o->tls_key == NULL) || o->tls, "--tls-cert and --tls-key need --tls");
  CHECK (!o->tls || (o->n_clients == 0 && o->connect == NULL),
         "--tls serves only: its clients are TLS clients (bench/tls-load, bench/tls-run.sh)");
#undef CHECK
  return TRUE;
}

SsStrategy *
bench_strategy_new (const Options *o, const char *name, GError **error)
{
  if (g_str_equal (name, "threadpooling"))
    return ss_thread_pool_strategy_new ((guint) o->min_workers, (guint) o->max_workers,
                                        (guint) o->min_spare_workers, error);
  if (g_str_equal (name, "preforking"))
    return ss_preforking_strategy_new ((guint) o->min_workers, (guint) o->max_workers,
                                       (guint) o->min_spare_workers, error);
  if (g_str_equal (name, "forking"))
    {
      SsStrategy *forking = ss_forking_strategy_new ();

      ss_forking_strategy_set_max_children (forking, (guint) o->max_children);
      return forking;
    }
  return ss_strategy_new_by_name (name, error);
}

gboolean
bench_options_parse (int argc, char **argv, Options *o, GError **error)
{
  *o = (Options) {
    .server = NULL, .n_clients = 0, .port = DEFAULT_PORT, .packet_size = DEFAULT_PACKET_SIZE,
    .duration = -1, .min_workers = 2, .max_workers = 200, .min_spare_workers = 20,
    .max_children = SS_FORKING_DEFAULT_MAX_CHILDREN, .client_threads = 2,
    .drain_timeout = 10.0,
  };
  if (!parse_command_line (argc, argv, o, error))
    return FALSE;
  if (o->server == NULL)
    o->server = g_strdup ("threadpooling");
  if (o->connect != NULL && o->n_clients == 0)
    o->n_clients = DEFAULT_CONNECT_CLIENTS;
  if (g_str_equal (o->server, "all") && o->n_clients == 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--server=all compares strategies under load: add --n-clients=N (e.g. 100)");
      return FALSE;
    }
  if (!g_str_equal (o->server, "all"))
    {
      /* An unknown name or pool limits that do not fit: a usage error. */
      SsStrategy *check = bench_strategy_new (o, o->server, error);
      if (check == NULL)
        {
          g_prefix_error (error, "--server=%s: ", o->server);
          return FALSE;
        }
      ss_strategy_free (check);
    }
  return TRUE;
}

/* The strings GOptionContext gave us, on every way out of main. */
void
bench_options_clear (Options *o)
{
  g_clear_pointer (&o->server, g_free);
  g_clear_pointer (&o->trace_pool, g_free);
  g_clear_pointer (&o->connect, g_free);
  g_clear_pointer (&o->tls_cert, g_free);
  g_clear_pointer (&o->tls_key, g_free);
}
