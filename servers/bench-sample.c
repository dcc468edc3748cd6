/* bench-sample.c: the server sampled while it runs, about every 20 ms --
 * how many threads (or processes) it has, for the summary's peak, and with
 * --trace-pool a line of its stats, the picture in BENCHMARKS.md.
 *
 * An in-process server's threads are this process's minus the ones that
 * are not the server's (Sampler.own_threads); a forked or external server
 * is counted from /proc by its pid (bench-client.c).
 */
#include "config.h"
#include "ss-bench.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

static guint
ramp_clients (const Options *o, double t, double duration)
{
  if (!o->ramp)
    return (guint) o->n_clients;
  double level = 1.0 - fabs (2.0 * t / duration - 1.0);
  return level > 0 ? (guint) (level * o->n_clients + 0.5) : 0;
}

void
bench_sample (double t, gpointer data)
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

FILE *
bench_open_trace (const Options *o, GError **error)
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
