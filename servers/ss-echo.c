/* ss-echo: an echo server over any transport with any strategy.
 *
 *   ss-echo --transport=tcp|udp|unix|unix-dgram
 *           --strategy=sync|threading|threadpooling|forking|preforking
 *           --address=ADDR
 *           [--min-workers=N --max-workers=N --min-spare-workers=N]
 *           [--max-spare-workers=N --max-requests=N]   (preforking)
 *           [--max-children=N]
 *           [--park-idle] [--max-queue=N --overload=block|reject]   (threadpooling)
 *           [--drain-timeout=S]
 *           [--tls-cert=FILE [--tls-key=FILE]]
 *
 * Its command line and its first line of output are a contract that tests
 * outside this repository rely on: the first stdout line, flushed at once,
 * is "Serving on HOST port PORT ..." or "Serving on PATH ...", with the real
 * port when port 0 was asked for. Stream transports echo lines (readline
 * limit 64 KiB, so a longer line comes back in pieces), datagram transports
 * echo datagrams; with --tls-cert (tcp and unix) every connection is TLS,
 * the key in --tls-key or in the certificate file (Python's
 * load_cert_chain), the banner unchanged. SIGINT or SIGTERM drain the
 * server (ss_server_drain): new connections are refused at once, the open
 * ones are served until they end, for at most --drain-timeout seconds
 * (default 10; then they are cut off, with a log line), and ss-echo exits
 * 0; a second SIGINT or SIGTERM during the drain exits 1 at once with a
 * log line on stderr. SIGUSR1 prints the server's stats as one line on
 * stderr ("workers=N busy=N idle=N queued=N served=N rejected=N
 * spawned=N retired=N errors=N"). SIGHUP restarts without dropping a
 * connection: ss-echo runs itself again with the same arguments, handing
 * the listening socket over (socket activation, below); once the new
 * process is serving (it prints its own banner line on the same stdout)
 * this one drains and exits 0. A new process that fails leaves this one
 * serving, with a log line. TCP and UDP; not Unix sockets. A forked child
 * (forking strategy) ends on SIGTERM like any process.
 *
 * Every failure is one line on stderr, "ss-echo: <message>", and an exit
 * status: 2 for a usage error (bad flag, bad value, malformed address),
 * 1 for a runtime failure (unresolvable host, address in use, permission).
 *
 * Socket activation: when LISTEN_FDS/LISTEN_PID (systemd's protocol) pass
 * this process a socket, ss-echo serves on it instead of binding
 * --address (the banner shows the socket's address); a socket that does
 * not fit --transport is a usage error naming the fd. With NOTIFY_SOCKET
 * set (systemd's Type=notify) it sends READY=1 once serving and
 * STOPPING=1 when it begins to drain.
 *
 * The server is built in the steps Python lets a subclass interleave
 * (bind_and_activate = FALSE, set allow_reuse_address, server_bind,
 * server_activate) because a long-running server must be restartable at
 * once on the same port, as Python's own servers set allow_reuse_address.
 */
#include "config.h"

#define SS_CLI_PROGRAM "ss-echo"
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <socketserver/socketserver.h>

#define EXIT_USAGE   2
#define EXIT_RUNTIME 1

/* SIGHUP: how long the new process may take to say READY=1. */
#define RESTART_READY_TIMEOUT 30.0

#define DEFAULT_INET_ADDRESS       "127.0.0.1:9999"
#define DEFAULT_UNIX_ADDRESS       "/tmp/ss-echo.sock"
#define DEFAULT_UNIX_DGRAM_ADDRESS "/tmp/ss-echo-dgram.sock"

/* -1 = not given on the command line. */
typedef struct {
  char *transport;
  char *strategy;
  char *address;
  int min_workers;
  int max_workers;
  int min_spare_workers;
  int max_spare_workers;
  int max_requests;
  int max_children;
  gboolean park_idle;
  char *tls_cert;
  char *tls_key;
  int max_queue;
  char *overload;
  double drain_timeout;
  gboolean reuse_port;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->transport);
  g_free (o->strategy);
  g_free (o->address);
  g_free (o->tls_cert);
  g_free (o->tls_key);
  g_free (o->overload);
}

/* One line on stderr, then the status for main() to return. */
static int
fail (int status, const char *message)
{
  fprintf (stderr, "ss-echo: %s\n", message);
  return status;
}

static int
fail_error (int status, GError *error)
{
  fail (status, error->message);
  g_error_free (error);
  return status;
}

/* Malformed input is the user's to fix (usage); anything else happened at
 * run time (the host, the port, the file system). */
static int
status_for (const GError *error)
{
  if (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS)
      || g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT))
    return EXIT_USAGE;
  return EXIT_RUNTIME;
}

static gboolean
parse_options (int *argc, char ***argv, Options *o, GError **error)
{
  const GOptionEntry entries[] = {
    SS_CLI_VERSION_ENTRY,
    { "transport", 't', 0, G_OPTION_ARG_STRING, &o->transport,
      "tcp, udp, unix or unix-dgram (default tcp)", "NAME" },
    { "strategy", 's', 0, G_OPTION_ARG_STRING, &o->strategy,
      "sync, threading, threadpooling, forking or preforking (default sync)", "NAME" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &o->address,
      "HOST:PORT, [V6ADDR]:PORT (port 0 picks a free one) or a Unix socket path (default "
      DEFAULT_INET_ADDRESS ", " DEFAULT_UNIX_ADDRESS " for unix, "
      DEFAULT_UNIX_DGRAM_ADDRESS " for unix-dgram)", "ADDR" },
    { "min-workers", 0, 0, G_OPTION_ARG_INT, &o->min_workers,
      "threadpooling, preforking: workers always kept (default 5)", "N" },
    { "max-workers", 0, 0, G_OPTION_ARG_INT, &o->max_workers,
      "threadpooling, preforking: most workers at once (default 100; preforking 50)", "N" },
    { "min-spare-workers", 0, 0, G_OPTION_ARG_INT, &o->min_spare_workers,
      "threadpooling, preforking: idle workers kept after a burst (default 5; preforking 2)", "N" },
    { "max-spare-workers", 0, 0, G_OPTION_ARG_INT, &o->max_spare_workers,
      "preforking: idle processes above this are retired, one a second "
      "(default min-workers + min-spare-workers)", "N" },
    { "max-requests", 0, 0, G_OPTION_ARG_INT, &o->max_requests,
      "preforking: a process is replaced after N connections (default 0 = never)", "N" },
    { "park-idle", 0, 0, G_OPTION_ARG_NONE, &o->park_idle,
      "threadpooling, stream transports: park idle connections between lines in the pool's "
      "poller, so they hold no worker (default off: a worker per open connection)", NULL },
    { "max-queue", 0, 0, G_OPTION_ARG_INT, &o->max_queue,
      "threadpooling: most accepted requests waiting for a worker (default 0 = unbounded)", "N" },
    { "overload", 0, 0, G_OPTION_ARG_STRING, &o->overload,
      "threadpooling: what a full --max-queue does: block (stop accepting; the kernel's "
      "backlog holds the rest; the default) or reject (accept and close at once, counted)",
      "POLICY" },
    { "drain-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->drain_timeout,
      "on SIGINT/SIGTERM, serve the open connections for at most S seconds more, then cut "
      "them off (default 10; -1 = as long as they take)", "S" },
    { "reuse-port", 0, 0, G_OPTION_ARG_NONE, &o->reuse_port,
      "tcp, udp: SO_REUSEPORT, so that several ss-echo processes serve one port, the kernel "
      "spreading connections over them (default off: a second one gets \"address in use\")",
      NULL },
    { "max-children", 0, 0, G_OPTION_ARG_INT, &o->max_children,
      "forking: most child processes at once (default 40)", "N" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert,
      "tcp, unix: serve TLS with this certificate chain (PEM, the server's first; default: none, plain)",
      "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key,
      "the certificate's private key (PEM; default: in the --tls-cert file)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
      "Echo every line (stream transports) or datagram (datagram transports) back to its sender.\n"
      "The first line on stdout is \"Serving on HOST port PORT ...\" or \"Serving on PATH ...\".\n"
      "SIGINT or SIGTERM stop the server (exit status 0) when the open connections end,\n"
      "at most --drain-timeout seconds later; a second one exits at once (exit status 1).\n"
      "SIGUSR1 prints a stats line on stderr.");
  g_option_context_set_description (context,
      "Exit status: 0 after SIGINT/SIGTERM, 1 when the server cannot run (address in use,\n"
      "unresolvable host, permission) or after a second SIGINT/SIGTERM, 2 for a usage\n"
      "error (bad flag or value).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "unexpected argument \"%s\" (see --help)", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_count (const char *flag, int value, int minimum, GError **error)
{
  if (value != -1 && value < minimum)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--%s=%d: must be at least %d", flag, value, minimum);
      return FALSE;
    }
  return TRUE;
}

/* Pool and forking flags only mean something with their strategy; a flag
 * that would be silently ignored is refused instead. */
static gboolean
check_strategy_flags (const Options *o, GError **error)
{
  gboolean pool = g_strcmp0 (o->strategy, "threadpooling") == 0;
  gboolean forking = g_strcmp0 (o->strategy, "forking") == 0;
  gboolean preforking = g_strcmp0 (o->strategy, "preforking") == 0;

  if (!pool && !preforking
      && (o->min_workers != -1 || o->max_workers != -1 || o->min_spare_workers != -1))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--min-workers, --max-workers and --min-spare-workers need "
                   "--strategy=threadpooling or --strategy=preforking");
      return FALSE;
    }
  if (!preforking && (o->max_spare_workers != -1 || o->max_requests != -1))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-spare-workers and --max-requests need --strategy=preforking");
      return FALSE;
    }
  if (!pool && o->park_idle)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--park-idle needs --strategy=threadpooling");
      return FALSE;
    }
  if (!pool && (o->max_queue != -1 || o->overload != NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-queue and --overload need --strategy=threadpooling");
      return FALSE;
    }
  if (o->overload != NULL && !g_str_equal (o->overload, "block")
      && !g_str_equal (o->overload, "reject"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--overload=%s: must be block or reject", o->overload);
      return FALSE;
    }
  if (o->reuse_port && o->transport != NULL && !g_str_equal (o->transport, "tcp")
      && !g_str_equal (o->transport, "udp"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--reuse-port needs --transport=tcp or --transport=udp (a Unix socket's "
                   "path cannot be shared)");
      return FALSE;
    }
  if (!forking && o->max_children != -1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-children needs --strategy=forking");
      return FALSE;
    }
  if (o->tls_key != NULL && o->tls_cert == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--tls-key requires --tls-cert to be set");
      return FALSE;
    }
  if (o->tls_cert != NULL && g_strcmp0 (o->transport, "tcp") != 0 && g_strcmp0 (o->transport, "unix") != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert needs a stream transport (--transport=tcp or unix)");
      return FALSE;
    }
  if (!(o->drain_timeout >= 0) && o->drain_timeout != -1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--drain-timeout=%g: must be 0 or more seconds, or -1 for no limit",
                   o->drain_timeout);
      return FALSE;
    }
  return check_count ("min-workers", o->min_workers, 0, error)
      && check_count ("max-workers", o->max_workers, 1, error)
      && check_count ("min-spare-workers", o->min_spare_workers, 0, error)
      && check_count ("max-spare-workers", o->max_spare_workers, 0, error)
      && check_count ("max-requests", o->max_requests, 0, error)
      && check_count ("max-children", o->max_children, 1, error)
      && check_count ("max-queue", o->max_queue, 0, error);
}

static guint
or_default (int value, guint fallback)
{
  return value == -1 ? fallback : (guint) value;
}

/* The process pool with the limits given, Net::Server's defaults for the rest. */
static SsStrategy *
make_preforking (const Options *o, GError **error)
{
  guint min_workers = or_default (o->min_workers, SS_PREFORKING_DEFAULT_MIN_WORKERS);
  guint max_workers = or_default (o->max_workers, SS_PREFORKING_DEFAULT_MAX_WORKERS);
  guint min_spare = or_default (o->min_spare_workers, SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS);
  guint max_spare = or_default (o->max_spare_workers, SS_PREFORKING_MAX_SPARE_DEFAULT);
  SsStrategy *strategy = ss_preforking_strategy_new (min_workers, max_workers, min_spare, error);

  if (strategy == NULL)
    return NULL;
  if (!ss_preforking_strategy_set_limits (strategy, min_workers, max_workers, min_spare, max_spare, error))
    {
      ss_strategy_free (strategy);
      return NULL;
    }
  ss_preforking_strategy_set_max_requests (strategy, or_default (o->max_requests, 0));
  return strategy;
}

/* The thread pool with the post's defaults; --max-queue replaces the
 * datagram default only when given. */
static SsStrategy *
make_thread_pool (const Options *o, GError **error)
{
  SsStrategy *strategy = ss_thread_pool_strategy_new (
      or_default (o->min_workers, SS_THREAD_POOL_DEFAULT_MIN_WORKERS),
      or_default (o->max_workers, SS_THREAD_POOL_DEFAULT_MAX_WORKERS),
      or_default (o->min_spare_workers, SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS), error);

  if (strategy == NULL)
    return NULL;
  if (o->max_queue != -1)
    ss_thread_pool_strategy_set_max_queue (strategy, (guint) o->max_queue);
  if (g_strcmp0 (o->overload, "reject") == 0)
    ss_thread_pool_strategy_set_overload_policy (strategy, SS_OVERLOAD_REJECT);
  return strategy;
}

/* Returns: (transfer full) the strategy the options ask for, or NULL with
 * @error (a usage error: unknown name or pool limits that do not fit). */
static SsStrategy *
make_strategy (const Options *o, GError **error)
{
  SsStrategy *strategy;

  if (!check_strategy_flags (o, error))
    return NULL;
  if (g_strcmp0 (o->strategy, "threadpooling") == 0)
    return make_thread_pool (o, error);
  if (g_strcmp0 (o->strategy, "preforking") == 0)
    return make_preforking (o, error);
  strategy = ss_strategy_new_by_name (o->strategy, error);
  if (strategy != NULL && o->max_children != -1)
    ss_forking_strategy_set_max_children (strategy, (guint) o->max_children);
  return strategy;
}

static const char *
default_address (const char *transport)
{
  if (g_strcmp0 (transport, "unix") == 0)
    return DEFAULT_UNIX_ADDRESS;
  if (g_strcmp0 (transport, "unix-dgram") == 0)
    return DEFAULT_UNIX_DGRAM_ADDRESS;
  return DEFAULT_INET_ADDRESS;
}

/* Python: context.load_cert_chain(cert, key); context.wrap_socket(...). */
static gboolean
use_tls (SsServer *server, const Options *o, GError **error)
{
  g_autoptr (SsTlsContext) context = ss_tls_context_new (error);

  return context != NULL
      && ss_tls_context_load_cert_chain (context, o->tls_cert, o->tls_key, NULL, error)
      && ss_server_set_tls_context (server, context, error);
}

/* Creates, configures, binds and activates the server. On failure returns
 * NULL with @error and *@status set to the exit status to use. */
static SsServer *
make_server (const Options *o, int *status, GError **error)
{
  const SsServerClass *klass;
  const SsHandlerClass *handler;
  SsStrategy *strategy;
  SsServer *server;

  *status = EXIT_USAGE;
  klass = ss_server_class_by_transport_name (o->transport, error);
  if (klass == NULL)
    return NULL;
  strategy = make_strategy (o, error);
  if (strategy == NULL)
    return NULL;
  if (g_strcmp0 (o->transport, "udp") == 0 || g_strcmp0 (o->transport, "unix-dgram") == 0)
    {
      if (o->park_idle)
        {
          ss_strategy_free (strategy);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--park-idle needs a stream transport (tcp or unix)");
          return NULL;
        }
      handler = &ss_datagram_echo_handler_class;
    }
  else
    handler = o->park_idle ? &ss_stream_echo_parking_handler_class : &ss_stream_echo_handler_class;

  server = ss_server_new (klass, o->address, handler, strategy, FALSE, error);
  if (server == NULL)
    {
      *status = status_for (*error);
      return NULL;
    }
  if (ss_address_family (&server->server_address) != AF_UNIX)
    server->allow_reuse_address = TRUE;
  server->allow_reuse_port = o->reuse_port;
  if (o->tls_cert != NULL && !use_tls (server, o, error))
    {
      *status = EXIT_RUNTIME;
      ss_server_free (server);
      return NULL;
    }
  /* Socket activation (systemd, or ss-echo's own restart) passes the
   * listening socket; --address is then only the default. */
  if (!ss_server_bind_or_adopt (server, NULL, error))
    {
      *status = status_for (*error);
      ss_server_free (server);
      return NULL;
    }
  return server;
}

/* A service manager that cannot be told is worth a line, not an exit. */
static void
notify (const char *state)
{
  g_autoptr (GError) error = NULL;

  if (!ss_notify (state, &error))
    fail (EXIT_RUNTIME, error->message);
}

/* Signals are taken by the library's watches (signals.h, operations.h):
 * the first SIGINT/SIGTERM asks the server to stop, a second ends the
 * process with status 1 (also during the drain); SIGUSR1 prints stats. */
static int
serve (SsServer *server, double drain_timeout)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *banner = NULL;
  SsSignalWatch *watch;
  SsOpsSignal *stats;
  SsOpsSignal *restart;
  gboolean ok;

  watch = ss_server_shutdown_on_signals (server, &error);
  if (watch == NULL)
    return fail (EXIT_RUNTIME, error->message);
  stats = ss_server_print_stats_on_signal (server, SIGUSR1, &error);
  restart = stats != NULL ? ss_server_restart_on_signal (server, SIGHUP, NULL, RESTART_READY_TIMEOUT,
                                                         &error)
                          : NULL;
  if (restart == NULL)
    {
      ss_ops_signal_free (stats);
      ss_signal_watch_free (watch);
      return fail (EXIT_RUNTIME, error->message);
    }

  banner = ss_server_banner (server);
  fputs (banner, stdout);
  fputc ('\n', stdout);
  fflush (stdout);

  notify ("READY=1");
  ok = ss_server_serve_forever (server, 0.5, &error);
  notify ("STOPPING=1");
  ss_server_drain (server, drain_timeout);
  ss_ops_signal_free (restart);
  ss_ops_signal_free (stats);
  ss_signal_watch_free (watch);
  if (!ok)
    return fail (EXIT_RUNTIME, error->message);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  Options o = { .min_workers = -1, .max_workers = -1, .min_spare_workers = -1,
                .max_spare_workers = -1, .max_requests = -1, .max_children = -1, .max_queue = -1,
                .drain_timeout = 10.0 };
  GError *error = NULL;
  SsServer *server;
  double drain_timeout;
  int status;

  if (!parse_options (&argc, &argv, &o, &error))
    {
      options_clear (&o);
      return fail_error (EXIT_USAGE, error);
    }
  if (o.transport == NULL)
    o.transport = g_strdup ("tcp");
  if (o.strategy == NULL)
    o.strategy = g_strdup ("sync");
  if (o.address == NULL)
    o.address = g_strdup (default_address (o.transport));

  server = make_server (&o, &status, &error);
  drain_timeout = o.drain_timeout;
  options_clear (&o);
  if (server == NULL)
    return fail_error (status, error);

  status = serve (server, drain_timeout);
  ss_server_free (server);
  return status;
}
