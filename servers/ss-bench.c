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
 *
 * This file is the benchmark's server and main; ss-bench.h maps the rest.
 */
#include "config.h"
#include "ss-bench.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define EXIT_USAGE 2

/* ---------------------------------------------------------------- the handler */

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

/* Binds and listens on 127.0.0.1:@port with the benchmark's handler. */
SsServer *
bench_server_new (const Options *o, const char *name, Packet *packet, GError **error)
{
  SsStrategy *strategy = bench_strategy_new (o, name, error);
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
      bench_sample ((g_get_monotonic_time () - start_us) / 1e6, &tt->sampler);
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

int
main (int argc, char **argv)
{
  Options o;
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, "");
  if (!bench_options_parse (argc, argv, &o, &error))
    {
      g_printerr ("ss-bench: %s\n", error->message);
      bench_options_clear (&o);
      return EXIT_USAGE;
    }

  FILE *trace = bench_open_trace (&o, &error);
  if (o.trace_pool != NULL && trace == NULL)
    {
      g_printerr ("ss-bench: %s\n", error->message);
      bench_options_clear (&o);
      return 1;
    }
  Packet packet = { .data = g_malloc (o.packet_size), .size = (gsize) o.packet_size,
                    .delay_us = (gulong) (o.handler_delay_ms * 1000) };
  memset (packet.data, 'x', packet.size);

  if (o.connect != NULL)
    {
      RunResult result = { 0 };
      double duration = o.duration > 0 ? o.duration : DEFAULT_DURATION;
      status = bench_run_connect (&o, duration, trace, &result, &error) ? 0 : 1;
      if (status == 0)
        bench_print_summary (&o, &result);
      else
        g_printerr ("ss-bench: %s\n", error->message);
    }
  else if (o.n_clients == 0)
    status = serve_only (&o, &packet, trace);
  else
    status = bench_run_load (&o, &packet, trace);

  if (trace != NULL)
    fclose (trace);
  g_free (packet.data);
  bench_options_clear (&o);
  return status;
}
