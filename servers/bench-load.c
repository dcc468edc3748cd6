/* bench-load.c: the runs under load -- for each strategy asked for, a
 * server on 127.0.0.1, bench-client.c's clients against it for the
 * duration, then the pool watched back to rest.
 *
 * Threaded strategies serve on threads of this process next to the
 * clients'; forking ones serve in a child forked before any client thread
 * exists, so that their own forks copy a single-threaded process. With
 * --connect the clients load an external server instead.
 */
#include "config.h"
#include "ss-bench.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_ALL_DURATION 3.0   /* per strategy with --server=all: the demo ends in < 1 min */
#define TRACE_TAIL 2.0  /* seconds of samples after the load, for the picture */

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
    .sample = bench_sample, .sample_data = sampler,
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
        bench_sample ((now - start_us) / 1e6, sampler);
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

gboolean
bench_run_connect (const Options *o, double duration, FILE *trace, RunResult *result, GError **error)
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

int
bench_run_load (const Options *o, Packet *packet, FILE *trace)
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
      bench_print_summary (o, &results[i]);
      replies += results[i].client.replies;
    }
  if (all && status == 0)
    bench_print_table (results, names->len, o, duration);
  g_free (results);
  return status != 0 ? status : replies > 0 ? 0 : 1;
}
