/* ss-bench: the 2008 post's benchmark (its TestServer.py), ported.
 *
 * A TCP server whose handler writes packet-size bytes (16 KiB) and returns,
 * so the connection is shut down and closed; clients loop connect, read to
 * EOF, close. With --n-clients=0 (the default) it is only the server and
 * serves until SIGINT or SIGTERM, then drains (--drain-timeout=S, default
 * 10: the open connections are served for at most S seconds more), and
 * prints a stats line on stderr on SIGUSR1. With clients, the server runs in this
 * process on its own threads (forking: in a child process, so fork() never
 * copies the client threads) while bench-client.c drives the load, and one
 * summary line reports replies/s, latency, errors and the server's peak
 * threads or processes. --server=all runs every strategy in turn against
 * the same load and prints a comparison table: the README's demo.
 *
 * Extensions to the post's command line (the post's names keep their
 * meaning): --connect=HOST:PORT loads an external server instead (bench/
 * run.sh uses it for the reference servers), --server-pid=PID samples that
 * server's threads and child processes, --ramp varies the clients 0 -> N
 * -> 0 over the run (with --trace-pool: the picture in BENCHMARKS.md), and
 * --client-threads sets the number of client epoll loops (2), and
 * --handler-delay makes the handler wait before replying, as one that
 * waits on a database would (the pool then has a reason to grow).
 * --tls (with --tls-cert, --tls-key) serves the same workload over TLS: a
 * full handshake per connection, then the reply and close_notify; the
 * TLS load comes from bench/tls-load (bench/tls-run.sh), since the
 * built-in clients speak plain TCP.
 */
#include "config.h"

#define SS_CLI_PROGRAM "ss-bench"
#include "cli.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <socketserver/socketserver.h>
#include "bench-client.h"

#define DEFAULT_PORT         8123
#define DEFAULT_PACKET_SIZE  16384
#define DEFAULT_DURATION     10.0
#define DEFAULT_ALL_DURATION 3.0   /* per strategy with --server=all: the demo ends in < 1 min */
#define DEFAULT_CONNECT_CLIENTS 100
#define EXIT_USAGE 2
#define REST_WAIT  3.0  /* seconds to watch the pool shrink after the load */
#define TRACE_TAIL 2.0  /* seconds of samples after the load, for the picture */

typedef struct {
  char *server;
  int n_clients;
  int port;
  int packet_size;
  double duration;     /* < 0: not given */
  int min_workers, max_workers, min_spare_workers;
  int max_children;      /* forking: Python's max_children (40) */
  char *trace_pool;
  char *connect;
  int server_pid;
  gboolean ramp;
  int client_threads;
  double handler_delay_ms;
  gboolean tls;
  char *tls_cert;
  char *tls_key;
  double drain_timeout;  /* serve only: SIGINT/SIGTERM drain, at most this long */
} Options;

/* What a strategy run produced: the client's result plus the server's side. */
typedef struct {
  const char *name;
  BenchClientResult client;
  guint peak;            /* server threads, or processes for forking */
  const char *peak_what; /* "threads" or "processes" */
  guint64 listen_overflows;
  guint64 server_errors;
  /* threadpooling: workers once the load stopped and how long they took
   * to get down to min_workers + min_spare_workers (< 0: not within
   * REST_WAIT seconds). */
  gboolean has_rest;
  guint rest_workers;
  double rest_after;
} RunResult;

/* ---------------------------------------------------------------- the handler */

typedef struct {
  guint8 *data;
  gsize size;
  gulong delay_us;  /* --handler-delay: simulated wait before the reply */
} Packet;

/* The post's handler: self.request.send(data). */
typedef struct {
  SsRequestHandler base;  /* BaseRequestHandler, first member */
} BenchHandler;

static gboolean
bench_handle (SsRequestHandler *handler, GError **error)
{
  const Packet *packet = handler->server->user_data;
  if (packet->delay_us > 0)
    g_usleep (packet->delay_us);
  /* Python's self.request.sendall(data): through TLS with --tls. */
  return ss_request_sendall (handler->request, packet->data, packet->size, error);
}

SS_DEFINE_HANDLER_CLASS (BenchHandler, bench_handler_class, ss_base_request_handler_class,
                         .handle = bench_handle);

/* Clients closing at the end of a run make the last sends fail; the core
 * counts every error (stats.errors, in the summary), so only the first few
 * are printed. */
static gint errors_printed;

static void
bench_handle_error (SsServer *server, SsRequest *request, const GError *error)
{
  if (g_atomic_int_add (&errors_printed, 1) < 3)
    ss_tcp_server_class.handle_error (server, request, error); /* super() */
}

static const SsServerClass bench_server_class = {
  .name = "BenchServer",
  .parent = &ss_tcp_server_class,
  .handle_error = bench_handle_error,
};

/* ---------------------------------------------------------------- options */

static gboolean
parse_options (int argc, char **argv, Options *o, GError **error)
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

/* The strategy names --server=all runs, in the table's order. */
static GPtrArray *
all_strategy_names (void)
{
  static const char *const names[] = { "sync", "threading", "threadpooling", "forking", "preforking" };
  GPtrArray *list = g_ptr_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (list, (gpointer) names[i]);
  return list;
}

static SsStrategy *
strategy_new (const Options *o, const char *name, GError **error)
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

/* Binds and listens on 127.0.0.1:@port with the benchmark's handler. */
static SsServer *
bench_server_new (const Options *o, const char *name, Packet *packet, GError **error)
{
  SsStrategy *strategy = strategy_new (o, name, error);
  if (strategy == NULL)
    return NULL;
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%d", o->port);
  SsServer *server = ss_server_new (&bench_server_class, address, &bench_handler_class,
                                    strategy, FALSE, error);
  if (server == NULL)
    return NULL;
  server->allow_reuse_address = TRUE;
  server->request_queue_size = SOMAXCONN;
  server->user_data = packet;
  if (o->tls)
    {
      g_autoptr (SsTlsContext) context = ss_tls_context_new (error);

      if (context == NULL
          || !ss_tls_context_load_cert_chain (context, o->tls_cert, o->tls_key, NULL, error)
          || !ss_server_set_tls_context (server, context, error))
        {
          ss_server_free (server);
          return NULL;
        }
    }
  if (!ss_server_server_bind (server, error) || !ss_server_server_activate (server, error))
    {
      ss_server_free (server);
      return NULL;
    }
  return server;
}

/* ---------------------------------------------------------------- sampling */

typedef struct {
  const Options *o;
  SsServer *server;       /* in-process server, or NULL */
  pid_t pid;              /* a server process to count, or 0 */
  guint own_threads;      /* threads of this process that are not the server's */
  guint peak;
  FILE *trace;
  double duration;
} Sampler;

static guint
ramp_clients (const Options *o, double t, double duration)
{
  if (!o->ramp)
    return (guint) o->n_clients;
  double level = 1.0 - fabs (2.0 * t / duration - 1.0);
  return level > 0 ? (guint) (level * o->n_clients + 0.5) : 0;
}

static void
sample (double t, gpointer data)
{
  Sampler *s = data;
  SsServerStats stats = { 0 };
  guint count;

  if (s->pid != 0)
    count = bench_count_process_tree (s->pid);
  else if (s->server == NULL)
    count = 0; /* an external server whose pid we were not given */
  else
    {
      guint threads = bench_count_process_tree (getpid ());
      count = threads > s->own_threads ? threads - s->own_threads : 0;
    }
  s->peak = MAX (s->peak, count);
  if (s->server != NULL)
    ss_server_get_stats (s->server, &stats);
  else
    stats.workers = count; /* a server in another process: its threads or processes */
  if (s->trace != NULL)
    fprintf (s->trace, "%.3f %u %u %u %u %u\n", t, ramp_clients (s->o, t, s->duration),
             stats.workers, stats.busy, stats.queued, count);
}

static FILE *
open_trace (const Options *o, GError **error)
{
  if (o->trace_pool == NULL)
    return NULL;
  FILE *f = fopen (o->trace_pool, "w");
  if (f == NULL)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot write the trace file %s: %s", o->trace_pool, g_strerror (errsv));
      return NULL;
    }
  fprintf (f, "# ss-bench --trace-pool: one sample every 20 ms\n"
              "# time_s clients workers busy queued server_threads\n");
  return f;
}

/* ---------------------------------------------------------------- runs */

static guint
client_thread_count (const Options *o)
{
  if (o->ramp)
    return (guint) o->client_threads;
  return MAX (1u, MIN ((guint) o->client_threads, (guint) o->n_clients));
}

static gboolean
run_clients (const Options *o, const char *host, guint16 port, double duration,
             Sampler *sampler, RunResult *result, GError **error)
{
  BenchClientConfig config = {
    .host = host, .port = port, .n_clients = (guint) o->n_clients,
    .packet_size = (gsize) o->packet_size, .duration = duration,
    .n_threads = (guint) o->client_threads, .ramp = o->ramp, .progress = stdout,
    .sample = sample, .sample_data = sampler,
  };
  guint64 overflows = bench_listen_overflows ();

  sampler->o = o;
  sampler->duration = duration;
  if (!bench_client_run (&config, &result->client, error))
    return FALSE;
  result->listen_overflows = bench_listen_overflows () - overflows;
  result->peak = sampler->peak;
  return TRUE;
}

static gpointer
serve_main (gpointer data)
{
  SsServer *server = data;
  g_autoptr (GError) error = NULL;

  if (!ss_server_serve_forever (server, 0.5, &error))
    g_printerr ("ss-bench: serve_forever failed: %s\n", error->message);
  return NULL;
}

/* After the load: how fast the pool returns to min_workers +
 * min_spare_workers (the "at rest within a second"), and with
 * --trace-pool a tail of samples so the picture shows the shrinking. */
static void
watch_rest (const Options *o, const char *name, SsServer *server, Sampler *sampler,
            gint64 start_us, RunResult *result)
{
  gboolean pool = g_str_equal (name, "threadpooling");
  guint rest_level = (guint) (o->min_workers + o->min_spare_workers);
  /* The load stopped at the clients' deadline, before their results were
   * merged and sorted. */
  gint64 end_us = start_us + (gint64) (result->client.elapsed * 1e6);
  double wait = MAX (pool ? REST_WAIT : 0, sampler->trace != NULL ? TRACE_TAIL : 0);

  result->has_rest = pool;
  result->rest_after = -1;
  /* The client loops and their sampler have been joined. */
  sampler->own_threads -= MIN (sampler->own_threads, client_thread_count (o) + 1);
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      SsServerStats stats;
      ss_server_get_stats (server, &stats);
      result->rest_workers = stats.workers;
      if (pool && result->rest_after < 0 && stats.workers <= rest_level)
        result->rest_after = (now - end_us) / 1e6;
      if (sampler->trace != NULL)
        sample ((now - start_us) / 1e6, sampler);
      gboolean done_rest = !pool || result->rest_after >= 0;
      gboolean done_trace = sampler->trace == NULL || (now - end_us) / 1e6 >= TRACE_TAIL;
      if ((done_rest && done_trace) || (now - end_us) / 1e6 >= wait)
        break;
      g_usleep (20000);
    }
}

/* The process pool after the load: its children, counted from /proc, back
 * to min_workers + min_spare_workers (the "at rest within
 * max(2 s, 2 maintenance intervals)"). */
static void
watch_children_rest (const Options *o, pid_t pid, gint64 start_us, RunResult *result)
{
  guint rest_level = (guint) (o->min_workers + o->min_spare_workers);
  gint64 end_us = start_us + (gint64) (result->client.elapsed * 1e6);

  result->has_rest = TRUE;
  result->rest_after = -1;
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();

      result->rest_workers = bench_count_children (pid);
      if (result->rest_workers <= rest_level)
        {
          result->rest_after = MAX (0, now - end_us) / 1e6;
          return;
        }
      if ((now - end_us) / 1e6 >= REST_WAIT)
        return;
      g_usleep (20000);
    }
}

/* Threaded strategies: the server's threads live next to the clients'. */
static gboolean
run_in_process (const Options *o, const char *name, double duration, Packet *packet,
                FILE *trace, RunResult *result, GError **error)
{
  SsServer *server = bench_server_new (o, name, packet, error);
  if (server == NULL)
    return FALSE;
  Sampler sampler = { .server = server, .trace = trace, .peak = 0 };
  /* Everything but the server: this thread, the client loops, the sampler. */
  sampler.own_threads = bench_count_process_tree (getpid ()) + client_thread_count (o) + 1;

  GThread *thread = g_thread_new ("ss-bench-serve", serve_main, server);
  gint64 start_us = g_get_monotonic_time ();
  gboolean ok = run_clients (o, "127.0.0.1", ss_server_port (server), duration, &sampler, result, error);
  if (ok)
    watch_rest (o, name, server, &sampler, start_us, result);
  ss_server_shutdown (server);
  g_thread_join (thread);

  SsServerStats stats;
  ss_server_get_stats (server, &stats);
  result->server_errors = stats.errors;
  result->peak_what = "threads";
  ss_server_free (server);
  return ok;
}

static void
stop_child (pid_t pid)
{
  int status;
  kill (pid, SIGTERM);
  for (int i = 0; i < 1000; i++) /* 10 s for block_on_close to finish */
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        return;
      g_usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
}

/* Forking strategies: the server runs in a child process, forked before any
 * client thread exists, so its own forks copy a single-threaded process. */
static gboolean
run_in_child (const Options *o, const char *name, double duration, Packet *packet,
              FILE *trace, RunResult *result, GError **error)
{
  SsServer *server = bench_server_new (o, name, packet, error);
  if (server == NULL)
    return FALSE;
  guint16 port = ss_server_port (server);
  sigset_t stop_signals, old_mask;
  sigemptyset (&stop_signals);
  sigaddset (&stop_signals, SIGINT);
  sigaddset (&stop_signals, SIGTERM);
  /* Blocked across fork, so a SIGTERM sent early waits for the watch. */
  pthread_sigmask (SIG_BLOCK, &stop_signals, &old_mask);
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid == 0)
    {
      SsSignalWatch *watch = ss_server_shutdown_on_signals (server, NULL);
      gboolean ok = ss_server_serve_forever (server, 0.5, NULL);
      ss_signal_watch_free (watch);
      ss_server_free (server);
      _exit (ok ? 0 : 1);
    }
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  ss_server_free (server); /* our copy of the socket; the child serves */
  if (pid < 0)
    {
      ss_set_error_from_errno (error, errno, "fork of the benchmark server", NULL);
      return FALSE;
    }

  Sampler sampler = { .pid = pid, .trace = trace };
  gint64 start_us = g_get_monotonic_time ();
  gboolean ok = run_clients (o, "127.0.0.1", port, duration, &sampler, result, error);
  if (ok && g_str_equal (name, "preforking"))
    watch_children_rest (o, pid, start_us, result);
  stop_child (pid);
  result->server_errors = G_MAXUINT64; /* counted in the child, not reported */
  result->peak_what = "processes";
  return ok;
}

static gboolean
run_strategy (const Options *o, const char *name, double duration, Packet *packet,
              FILE *trace, RunResult *result, GError **error)
{
  result->name = name;
  if (trace != NULL)
    fprintf (trace, "# server %s\n", name);
  if (strstr (name, "fork") != NULL)
    return run_in_child (o, name, duration, packet, trace, result, error);
  return run_in_process (o, name, duration, packet, trace, result, error);
}

static gboolean
run_connect (const Options *o, double duration, FILE *trace, RunResult *result, GError **error)
{
  SsAddress address;
  if (!ss_address_parse_inet (o->connect, SOCK_STREAM, &address, error))
    return FALSE;
  g_autofree char *host = ss_address_host_string (&address);
  Sampler sampler = { .pid = (pid_t) o->server_pid, .trace = trace };

  result->name = o->connect;
  result->peak_what = o->server_pid ? "threads+children" : "unknown";
  result->server_errors = G_MAXUINT64;
  return run_clients (o, host, ss_address_port (&address), duration, &sampler, result, error);
}

/* ---------------------------------------------------------------- output */

static void
print_summary (const Options *o, const RunResult *r)
{
  const BenchClientResult *c = &r->client;
  g_autofree char *server_errors = r->server_errors == G_MAXUINT64
    ? g_strdup ("n/a") : g_strdup_printf ("%" G_GUINT64_FORMAT, r->server_errors);

  printf ("summary: server=%s clients=%d%s duration=%.1fs replies=%" G_GUINT64_FORMAT
          " replies/s=%.0f p50=%.2fms p99=%.2fms max=%.2fms errors=%" G_GUINT64_FORMAT
          " (connect %" G_GUINT64_FORMAT ", reset %" G_GUINT64_FORMAT ", short %" G_GUINT64_FORMAT ")"
          " peak_%s=%u listen_overflows=%" G_GUINT64_FORMAT " server_errors=%s\n",
          r->name, o->n_clients, o->ramp ? "(ramp)" : "", c->elapsed, c->replies, c->rate,
          c->p50_ms, c->p99_ms, c->max_ms, c->errors, c->connect_errors, c->reset_errors,
          c->short_replies, r->peak_what, r->peak, r->listen_overflows, server_errors);
  if (r->has_rest && r->rest_after >= 0)
    printf ("rest: server=%s workers=%u (<= min %d + min_spare %d) %.2fs after the load stopped\n",
            r->name, r->rest_workers, o->min_workers, o->min_spare_workers, r->rest_after);
  else if (r->has_rest)
    printf ("rest: server=%s workers=%u still above min %d + min_spare %d %.0fs after the load stopped\n",
            r->name, r->rest_workers, o->min_workers, o->min_spare_workers, REST_WAIT);
  fflush (stdout);
}

static void
print_table (const RunResult *results, guint n, const Options *o, double duration)
{
  double threading = 0;
  for (guint i = 0; i < n; i++)
    if (g_str_equal (results[i].name, "threading"))
      threading = results[i].client.rate;

  printf ("\n%d clients, %d-byte replies, %.0f s per server, 127.0.0.1:\n\n", o->n_clients,
          o->packet_size, duration);
  printf ("%-14s %10s %11s %8s %8s %8s %7s %16s\n", "server", "replies/s", "x threading",
          "p50 ms", "p99 ms", "max ms", "errors", "peak workers");
  for (guint i = 0; i < n; i++)
    {
      const RunResult *r = &results[i];
      g_autofree char *ratio = threading > 0 ? g_strdup_printf ("%.2f", r->client.rate / threading)
                                             : g_strdup ("-");
      g_autofree char *peak = g_strdup_printf ("%u %s", r->peak, r->peak_what);
      printf ("%-14s %10.0f %11s %8.2f %8.2f %8.2f %7" G_GUINT64_FORMAT " %16s\n", r->name,
              r->client.rate, ratio, r->client.p50_ms, r->client.p99_ms, r->client.max_ms,
              r->client.errors, peak);
    }
  fflush (stdout);
}

/* ---------------------------------------------------------------- modes */

typedef struct {
  Sampler sampler;
  gint stop;  /* atomic */
} TraceThread;

/* Server-only mode with --trace-pool: sample until the server stops. */
static gpointer
trace_main (gpointer data)
{
  TraceThread *tt = data;
  gint64 start_us = g_get_monotonic_time ();
  while (!g_atomic_int_get (&tt->stop))
    {
      sample ((g_get_monotonic_time () - start_us) / 1e6, &tt->sampler);
      g_usleep (20000);
    }
  return NULL;
}

static int
serve_only (const Options *o, Packet *packet, FILE *trace)
{
  g_autoptr (GError) error = NULL;
  SsServer *server = bench_server_new (o, o->server, packet, &error);
  if (server == NULL)
    {
      g_printerr ("ss-bench: %s\n", error->message);
      return 1;
    }
  SsSignalWatch *watch = ss_server_shutdown_on_signals (server, &error);
  if (watch == NULL)
    {
      g_printerr ("ss-bench: %s\n", error->message);
      ss_server_free (server);
      return 1;
    }
  SsOpsSignal *stats = ss_server_print_stats_on_signal (server, SIGUSR1, &error);
  if (stats == NULL)
    {
      g_printerr ("ss-bench: %s\n", error->message);
      ss_signal_watch_free (watch);
      ss_server_free (server);
      return 1;
    }
  g_autofree char *banner = ss_server_banner (server);
  printf ("%s\n", banner);
  fflush (stdout);

  /* The clients are elsewhere: the trace's clients column stays 0. */
  Options no_clients = *o;
  no_clients.n_clients = 0;
  TraceThread tt = { .sampler = { .o = &no_clients, .server = server, .trace = trace, .duration = 1 } };
  tt.sampler.own_threads = G_MAXUINT; /* no thread count: the stats say it */
  GThread *tracer = trace != NULL ? g_thread_new ("ss-bench-trace", trace_main, &tt) : NULL;

  gboolean ok = ss_server_serve_forever (server, 0.5, &error);
  if (!ok)
    g_printerr ("ss-bench: %s\n", error->message);
  if (tracer != NULL)
    {
      g_atomic_int_set (&tt.stop, 1);
      g_thread_join (tracer);
    }
  ss_server_drain (server, o->drain_timeout);
  ss_ops_signal_free (stats);
  ss_signal_watch_free (watch);
  ss_server_free (server);
  return ok ? 0 : 1;
}

static int
run_load (const Options *o, Packet *packet, FILE *trace)
{
  g_autoptr (GError) error = NULL;
  gboolean all = g_str_equal (o->server, "all");
  double duration = o->duration > 0 ? o->duration : all ? DEFAULT_ALL_DURATION : DEFAULT_DURATION;
  g_autoptr (GPtrArray) names = all ? all_strategy_names () : g_ptr_array_new ();
  if (!all)
    g_ptr_array_add (names, o->server);
  RunResult *results = g_new0 (RunResult, names->len);
  guint64 replies = 0;
  int status = 0;

  for (guint i = 0; i < names->len; i++)
    {
      if (all)
        printf ("== %s: %d clients for %.0f s\n", (char *) names->pdata[i], o->n_clients, duration);
      if (!run_strategy (o, names->pdata[i], duration, packet, trace, &results[i], &error))
        {
          g_printerr ("ss-bench: %s\n", error->message);
          status = 1;
          break;
        }
      print_summary (o, &results[i]);
      replies += results[i].client.replies;
    }
  if (all && status == 0)
    print_table (results, names->len, o, duration);
  g_free (results);
  return status != 0 ? status : replies > 0 ? 0 : 1;
}

/* The strings GOptionContext gave us, on every way out of main. */
static void
options_clear (Options *o)
{
  g_clear_pointer (&o->server, g_free);
  g_clear_pointer (&o->trace_pool, g_free);
  g_clear_pointer (&o->connect, g_free);
  g_clear_pointer (&o->tls_cert, g_free);
  g_clear_pointer (&o->tls_key, g_free);
}

int
main (int argc, char **argv)
{
  Options o = {
    .server = NULL, .n_clients = 0, .port = DEFAULT_PORT, .packet_size = DEFAULT_PACKET_SIZE,
    .duration = -1, .min_workers = 2, .max_workers = 200, .min_spare_workers = 20,
    .max_children = SS_FORKING_DEFAULT_MAX_CHILDREN, .client_threads = 2,
    .drain_timeout = 10.0,
  };
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, "");
  if (!parse_options (argc, argv, &o, &error))
    {
      g_printerr ("ss-bench: %s\n", error->message);
      options_clear (&o);
      return EXIT_USAGE;
    }
  if (o.server == NULL)
    o.server = g_strdup ("threadpooling");
  if (o.connect != NULL && o.n_clients == 0)
    o.n_clients = DEFAULT_CONNECT_CLIENTS;
  if (g_str_equal (o.server, "all") && o.n_clients == 0)
    {
      g_printerr ("ss-bench: --server=all compares strategies under load: add --n-clients=N (e.g. 100)\n");
      options_clear (&o);
      return EXIT_USAGE;
    }
  if (!g_str_equal (o.server, "all"))
    {
      /* An unknown name or pool limits that do not fit: a usage error. */
      SsStrategy *check = strategy_new (&o, o.server, &error);
      if (check == NULL)
        {
          g_printerr ("ss-bench: --server=%s: %s\n", o.server, error->message);
          options_clear (&o);
          return EXIT_USAGE;
        }
      ss_strategy_free (check);
    }

  FILE *trace = open_trace (&o, &error);
  if (o.trace_pool != NULL && trace == NULL)
    {
      g_printerr ("ss-bench: %s\n", error->message);
      options_clear (&o);
      return 1;
    }
  Packet packet = { .data = g_malloc (o.packet_size), .size = (gsize) o.packet_size,
                    .delay_us = (gulong) (o.handler_delay_ms * 1000) };
  memset (packet.data, 'x', packet.size);

  if (o.connect != NULL)
    {
      RunResult result = { 0 };
      double duration = o.duration > 0 ? o.duration : DEFAULT_DURATION;
      status = run_connect (&o, duration, trace, &result, &error) ? 0 : 1;
      if (status == 0)
        print_summary (&o, &result);
      else
        g_printerr ("ss-bench: %s\n", error->message);
    }
  else if (o.n_clients == 0)
    status = serve_only (&o, &packet, trace);
  else
    status = run_load (&o, &packet, trace);

  if (trace != NULL)
    fclose (trace);
  g_free (packet.data);
  options_clear (&o);
  return status;
}
